//! Answers that outlive their request (event streams, CSV exports) keep the credential they
//! were opened with and check it again while they last: when the session or token has ended
//! (logout, revocation, expiry), the user was disabled, or their role no longer allows the
//! action, the answer ends. Checks go through [`auth::authenticate`], so they cost a store round
//! trip at most once per auth-cache period; changes made in this process are seen at the next
//! check, changes made elsewhere within [`auth::AUTH_CACHE_TTL`].

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::error::{Error, Result};
use super::{auth, Action, Actor, Ctx};

/// How often a long-lived answer checks its credential.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// The secret a request presented (session or API token) and where it came from.
#[derive(Clone)]
pub struct Credential {
    token: SecretString,
    client_addr: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("client_addr", &self.client_addr)
            .finish_non_exhaustive()
    }
}

impl Credential {
    pub fn new(token: String, client_addr: Option<String>) -> Self {
        Self {
            token: token.into(),
            client_addr,
        }
    }

    /// The acting user, as of now.
    pub async fn verify(&self, ctx: &Ctx) -> Result<Actor> {
        auth::authenticate(
            ctx,
            self.token.expose_secret().to_string(),
            self.client_addr.clone(),
        )
        .await
    }
}

/// Why a long-lived answer was ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lapse {
    /// The session or token ended, or the user was disabled.
    Unauthenticated,
    /// The user's role no longer allows the action.
    Forbidden,
    /// The credential could not be checked (store unavailable) for a whole auth-cache period.
    Unverified,
}

impl Lapse {
    pub fn reason(self) -> &'static str {
        match self {
            Lapse::Unauthenticated => "unauthenticated",
            Lapse::Forbidden => "forbidden",
            Lapse::Unverified => "unverified",
        }
    }
}

/// Re-checks one answer's credential for one action, at most every [`RECHECK_EVERY`].
#[derive(Debug)]
pub struct Watch {
    credential: Credential,
    action: Action,
    actor: Actor,
    checked: Instant,
}

impl Watch {
    /// Starts watching for an actor that was just authenticated with `credential`.
    pub fn new(credential: Credential, actor: Actor, action: Action) -> Self {
        Self {
            credential,
            action,
            actor,
            checked: Instant::now(),
        }
    }

    /// The actor as of the last check.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The current actor, checked again when the last check is older than [`RECHECK_EVERY`].
    /// A store that cannot answer is a lapse only once no check has passed for a whole
    /// auth-cache period (as long as a cached verification would be trusted).
    pub async fn check(&mut self, ctx: &Ctx) -> std::result::Result<&Actor, Lapse> {
        if self.checked.elapsed() >= RECHECK_EVERY {
            match self.credential.verify(ctx).await {
                Ok(actor) => {
                    self.actor = actor;
                    self.checked = Instant::now();
                }
                Err(Error::Unauthenticated | Error::InvalidCredentials) => {
                    return Err(Lapse::Unauthenticated)
                }
                Err(e) => {
                    log::warn!("re-checking a live answer's credential: {e}");
                    if self.checked.elapsed() >= auth::AUTH_CACHE_TTL {
                        return Err(Lapse::Unverified);
                    }
                }
            }
        }
        if self.actor.may(self.action) {
            Ok(&self.actor)
        } else {
            Err(Lapse::Forbidden)
        }
    }
}
