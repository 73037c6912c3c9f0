//! The domain error: what every service returns and the API maps, once, to HTTP.

use std::borrow::Cow;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; `field` names it (dotted path for nested fields). The API document
    /// describes the rule (a length, a range, a pattern), so a client can check it first.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// Input the API document allows but the content refuses: SQL that does not parse or is
    /// not a query, a cron expression out of range, an id of nothing, a value over a record's
    /// limit, a field another field makes required. `field` names it.
    #[error("{field}: {message}")]
    Unprocessable { field: String, message: String },
    /// A change would send a stored password somewhere new; `field` names the change.
    #[error("{field}: {message}")]
    PasswordRequired { field: String, message: String },
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
    Forbidden(Cow<'static, str>),
    /// Queries refused on a target whose query account can reach beyond a read-only query.
    #[error("{0}")]
    QueryAccountUnsafe(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A target database failed where there is no run to record it in (an export's re-run).
    #[error("the target database failed: {0}")]
    TargetFailed(String),
    #[error("the metadata store is unavailable: {0}")]
    StoreUnavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    pub fn forbidden(message: &'static str) -> Self {
        Self::Forbidden(Cow::Borrowed(message))
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Duplicate(info) => Self::Conflict(format!("already exists ({info})")),
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
