//! The one error type of the connectors layer: a target database's failure, classified by
//! [`DbErrorKind`] so callers can decide (retry a connect, report a timeout, blame the SQL)
//! without parsing messages, and carrying the database's own code and message for people.

use std::fmt;
use std::time::Duration;

/// What kind of failure a [`DbError`] is.
///
/// - `Config`: the target's settings are wrong before anything was sent (unknown option, bad value).
/// - `Connect`: the target could not be reached or refused the session for a reason other than
///   credentials: connection refused, no answer within the connect timeout, unknown database,
///   connection lost mid-statement.
/// - `Auth`: the server rejected the credentials.
/// - `Timeout`: the statement timeout expired (the database aborted the statement).
/// - `Cancelled`: the statement was cancelled through a [`super::Canceller`].
/// - `Statement`: the database rejected or failed the statement (syntax, constraint, permission…).
/// - `ClientMissing`: a client library the engine needs is not installed (Oracle Instant Client).
/// - `Internal`: a bug or an unexpected driver state on our side.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DbErrorKind {
    Config,
    Connect,
    Auth,
    Timeout,
    Cancelled,
    Statement,
    ClientMissing,
    Internal,
}

/// A target database's failure, with the database's own code and message (SQLSTATE for PG, the
/// MySQL error number, ORA-nnnnn, the SQLite result code name). Display = "<code>: <message>",
/// or just the message when there is no code (network failures, our own checks).
#[derive(
    Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct DbError {
    pub kind: DbErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl DbError {
    pub fn new(kind: DbErrorKind, code: Option<String>, message: impl Into<String>) -> Self {
        DbError {
            kind,
            code,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(DbErrorKind::Config, None, message)
    }

    pub fn connect(message: impl Into<String>) -> Self {
        Self::new(DbErrorKind::Connect, None, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(DbErrorKind::Internal, None, message)
    }

    /// The target accepted no session within the connect timeout (a silent listener, a dropped
    /// SYN). Kind `Connect`, not `Timeout`: for callers this is "target unreachable", and
    /// `Timeout` is kept for statements that the database aborted.
    pub fn connect_timeout(host: &str, port: u16, after: Duration) -> Self {
        Self::connect(format!(
            "no answer from {host}:{port} within the connect timeout of {}",
            human_duration(after)
        ))
    }
}

/// "2s", "1.5s", "250ms": short and exact enough for messages.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.3}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_the_code_before_the_message() {
        let e = DbError::new(DbErrorKind::Statement, Some("42601".into()), "syntax error");
        assert_eq!(e.to_string(), "42601: syntax error");
        assert_eq!(DbError::connect("refused").to_string(), "refused");
    }

    #[test]
    fn serializes_kind_as_snake_case() {
        let e = DbError::new(DbErrorKind::ClientMissing, None, "x");
        let json = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(json["kind"], "client_missing");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(2)), "2s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.500s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
    }
}
