//! The domain error: what every service returns and the API maps, once, to HTTP.

use std::borrow::Cow;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; `field` names it (dotted path for nested fields).
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// A change would send a stored password somewhere new; `field` names the change.
    #[error("{field}: {message}")]
    PasswordRequired { field: String, message: String },
    #[error("authentication required")]
    Unauthenticated,
    /// Deliberately does not say whether the name or the password was wrong.
    #[error("invalid user name or password")]
    InvalidCredentials,
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

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    pub fn forbidden(message: &'static str) -> Self {
        Self::Forbidden(Cow::Borrowed(message))
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as D};
        match e {
            D::NotFound => Self::NotFound("record"),
            D::DatabaseError(K::UniqueViolation, info) => {
                Self::Conflict(format!("already exists ({})", info.message()))
            }
            D::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, info) => {
                Self::StoreUnavailable(info.message().to_string())
            }
            D::BrokenTransactionManager => Self::StoreUnavailable(e.to_string()),
            other => Self::Internal(format!("store: {other}")),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
