//! The store's own error: what every function in `store/` returns. The domain maps it once
//! (`services::error`); the store knows nothing of HTTP or of domain rules.

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The pool timed out or the connection was lost: worth retrying later (503).
    #[error("the metadata store is unavailable: {0}")]
    Unavailable(String),
    /// A row the caller named does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique constraint refused the row.
    #[error("already exists ({0})")]
    Duplicate(String),
    /// `Store::write` was called while this thread already holds a write transaction: it would
    /// wait on itself (SQLite's one writer). A programming error, refused instead of a deadlock.
    #[error("a write transaction was opened inside another on the same thread")]
    NestedWrite,
    /// The stored data breaks an invariant the migrations set up (e.g. the audit chain head).
    #[error("{0}")]
    Integrity(String),
    /// Anything else the database said.
    #[error("store: {0}")]
    Query(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as D};
        match e {
            D::NotFound => Self::NotFound("record"),
            D::DatabaseError(K::UniqueViolation, info) => Self::Duplicate(info.message().into()),
            D::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, info) => {
                Self::Unavailable(info.message().to_string())
            }
            D::BrokenTransactionManager => Self::Unavailable(e.to_string()),
            other => Self::Query(other),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
