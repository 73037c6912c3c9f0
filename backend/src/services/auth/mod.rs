//! Who is calling: logins and sessions (`sessions`), changing one's own password (`password`),
//! API tokens (`tokens`), the cache of secrets verified moments ago (`cache`) and the brake on
//! password guessing (`throttle`).
//! This file is only the public surface; each concern lives in its own module.

mod cache;
mod password;
mod sessions;
mod throttle;
mod tokens;

pub use cache::{AuthCache, AUTH_CACHE_TTL};
pub use password::change_password;
pub use sessions::{
    authenticate, login, logout, LoginOutcome, MAX_LOGIN_NAME_BYTES, MAX_LOGIN_PASSWORD_CHARS,
};
pub use throttle::{LoginThrottle, Refused, ThrottleReport};
pub use tokens::{create_api_token, list_api_tokens, revoke_api_token, ApiToken, MAX_TOKEN_DAYS};

/// `last_seen_at` / `last_used_at` are refreshed at most this often, not on every request.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
