//! The domain error: what every service returns and the API maps, once, to HTTP.

use serde_json::{Map, Value};

use crate::store::StoreError;

/// A message for a person: `text` in English, and, when it is one of the catalogued messages,
/// `reason`, its stable code, with the `params` it names, so a client can say it in its user's
/// language (the UI's `serverErrors`). A plain string has no reason: the client shows the text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Msg {
    pub reason: Option<&'static str>,
    pub params: Map<String, Value>,
    pub text: String,
}

impl Msg {
    pub fn new(reason: &'static str, text: impl Into<String>) -> Self {
        Self {
            reason: Some(reason),
            params: Map::new(),
            text: text.into(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.insert(name.to_string(), value.into());
        self
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `must be {min} to {max} characters`
    pub fn chars(min: usize, max: usize) -> Self {
        Self::new("chars", format!("must be {min} to {max} characters"))
            .with("min", min)
            .with("max", max)
    }

    /// `must be {min} to {max} characters without leading or trailing spaces`
    pub fn chars_trimmed(min: usize, max: usize) -> Self {
        Self::new(
            "chars_trimmed",
            format!("must be {min} to {max} characters without leading or trailing spaces"),
        )
        .with("min", min)
        .with("max", max)
    }

    /// `must be at most {max} characters`
    pub fn at_most_chars(max: usize) -> Self {
        Self::new("at_most_chars", format!("must be at most {max} characters")).with("max", max)
    }

    /// `must be between {min} and {max}`; `setting` names the configured bound, if one is.
    pub fn between(min: i64, max: i64) -> Self {
        Self::new("between", format!("must be between {min} and {max}"))
            .with("min", min)
            .with("max", max)
    }

    /// `must be {min} or more`
    pub fn at_least(min: i64) -> Self {
        Self::new("at_least", format!("must be {min} or more")).with("min", min)
    }

    /// `must be at most {max}`
    pub fn at_most(max: i64) -> Self {
        Self::new("at_most", format!("must be at most {max}")).with("max", max)
    }

    pub fn empty() -> Self {
        Self::new("empty", "is empty")
    }

    pub fn required() -> Self {
        Self::new("required", "is required")
    }

    /// `no such {what}`: an id that names nothing.
    pub fn no_such(what: &'static str) -> Self {
        Self::new("no_such", format!("no such {what}")).with("what", what)
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<String> for Msg {
    fn from(text: String) -> Self {
        Self {
            text,
            ..Self::default()
        }
    }
}

impl From<&str> for Msg {
    fn from(text: &str) -> Self {
        text.to_string().into()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; `field` names it (dotted path for nested fields). The API document
    /// describes the rule (a length, a range, a pattern), so a client can check it first.
    #[error("{field}: {message}")]
    Validation { field: String, message: Msg },
    /// Input the API document allows but the content refuses: SQL that does not parse or is
    /// not a query, a cron expression out of range, an id of nothing, a value over a record's
    /// limit, a field another field makes required. `field` names it.
    #[error("{field}: {message}")]
    Unprocessable { field: String, message: Msg },
    /// A change would send a stored password somewhere new; `field` names the change.
    #[error("{field}: {message}")]
    PasswordRequired { field: String, message: Msg },
    #[error("authentication required")]
    Unauthenticated,
    /// Deliberately does not say whether the name or the password was wrong.
    #[error("invalid user name or password")]
    InvalidCredentials,
    /// A signed-in user's proof of their current password was wrong (403, not 401: the
    /// session itself is valid).
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("too many failed attempts; try again in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: u64 },
    #[error("{0}")]
    Forbidden(Msg),
    /// Queries refused on a target whose query account can reach beyond a read-only query.
    #[error("{0}")]
    QueryAccountUnsafe(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(Msg),
    /// A target database failed where there is no run to record it in (an export's re-run).
    #[error("the target database failed: {0}")]
    TargetFailed(String),
    /// A target database failed or refused AutoDB (down, a refused login), said as a
    /// catalogued message that carries the database's own words (e.g. reading its schema).
    #[error("{0}")]
    TargetError(Msg),
    #[error("the metadata store is unavailable: {0}")]
    StoreUnavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<Msg>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<Msg>) -> Self {
        Self::Unprocessable {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    pub fn forbidden(message: impl Into<Msg>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<Msg>) -> Self {
        Self::Conflict(message.into())
    }

    /// The catalogued message of this error, if it has one (see [`Msg`]).
    pub fn reason(&self) -> Option<(&'static str, Map<String, Value>)> {
        let fixed = |r: &'static str| Some((r, Map::new()));
        match self {
            Error::Validation { message, .. }
            | Error::Unprocessable { message, .. }
            | Error::PasswordRequired { message, .. }
            | Error::Forbidden(message)
            | Error::TargetError(message)
            | Error::Conflict(message) => message.reason.map(|r| (r, message.params.clone())),
            Error::Unauthenticated => fixed("unauthenticated"),
            Error::InvalidCredentials => fixed("invalid_credentials"),
            Error::WrongPassword => fixed("wrong_password"),
            Error::TooManyAttempts { retry_after_s } => Some((
                "too_many_attempts",
                Map::from_iter([("retry_after_s".to_string(), Value::from(*retry_after_s))]),
            )),
            Error::NotFound(what) => Some((
                "not_found",
                Map::from_iter([("what".to_string(), Value::from(*what))]),
            )),
            Error::StoreUnavailable(_) => fixed("store_unavailable"),
            // Carries a reference (internal) or the database's own words: shown as sent.
            Error::Internal(_) | Error::QueryAccountUnsafe(_) | Error::TargetFailed(_) => None,
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Duplicate(info) => Self::conflict(format!("already exists ({info})")),
            StoreError::Unavailable(why) => Self::StoreUnavailable(why),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
