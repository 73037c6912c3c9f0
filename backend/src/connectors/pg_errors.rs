//! PostgreSQL failures as [`DbError`]s, and the statements the connector refuses up front
//! because the protocol path it uses cannot carry them.

use super::{DbError, DbErrorKind};

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Phase {
    Connect,
    Statement,
}

pub(crate) fn is_multi_command(e: &tokio_postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|db| db.code().code() == "42601" && db.message().contains("multiple commands"))
}

/// A tokio-postgres error as a DbError: the SQLSTATE and the server's message (with its DETAIL
/// and HINT), or the client's own text for network failures.
pub(crate) fn classify(e: &tokio_postgres::Error, phase: Phase, cancel_requested: bool) -> DbError {
    let Some(db) = e.as_db_error() else {
        // No server message: the network or the client library failed.
        // "authentication error": the server wants a password we do not have, or the like.
        let kind = if e.to_string() == "authentication error" {
            DbErrorKind::Auth
        } else if e.is_closed() || phase == Phase::Connect {
            DbErrorKind::Connect
        } else {
            DbErrorKind::Internal
        };
        return DbError::new(kind, None, with_causes(e));
    };
    let code = db.code().code();
    let kind = match code {
        "57014" if cancel_requested => DbErrorKind::Cancelled,
        "57014" => DbErrorKind::Timeout,
        c if c.starts_with("28") => DbErrorKind::Auth,
        c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => DbErrorKind::Connect,
        _ if phase == Phase::Connect => DbErrorKind::Connect,
        _ => DbErrorKind::Statement,
    };
    let mut message = db.message().to_string();
    if let Some(detail) = db.detail() {
        message.push_str("\nDETAIL: ");
        message.push_str(detail);
    }
    if let Some(hint) = db.hint() {
        message.push_str("\nHINT: ");
        message.push_str(hint);
    }
    DbError::new(kind, Some(code.to_string()), message)
}

/// Whether an error leaves the session in an unknown protocol state: a client-side failure that
/// is neither a server error nor a closed connection ("unexpected message from server").
pub(crate) fn breaks_protocol(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_none() && !e.is_closed()
}

/// `COPY … FROM STDIN` / `COPY … TO STDOUT` need a client data stream that the simple query
/// stream cannot carry (the server would wait for COPY data forever). Refused before sending.
pub(crate) fn refuse_client_copy(sql: &str) -> Result<(), DbError> {
    let body = skip_leading_comments(sql);
    let mut words = body
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .map(|w| {
            w.trim_matches(|c: char| c == ';' || c == '(' || c == ')')
                .to_ascii_lowercase()
        });
    let is_copy = words.next().is_some_and(|w| w == "copy");
    if is_copy && words.any(|w| w == "stdin" || w == "stdout") {
        return Err(DbError::new(
            DbErrorKind::Statement,
            None,
            "COPY FROM STDIN / TO STDOUT needs a client-side data stream, which AutoDB does not \
             provide: copy from or to a file on the database server, or use INSERT / SELECT",
        ));
    }
    Ok(())
}

/// The statement without the whitespace and comments in front of its first keyword.
fn skip_leading_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start();
        if let Some(rest) = sql.strip_prefix("--") {
            sql = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = sql.strip_prefix("/*") {
            sql = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return sql;
        }
    }
}

/// "error connecting to server: Connection refused (os error 111)": the client's top-level
/// text says little without the causes under it.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_with_a_client_stream_is_refused_and_server_files_are_not() {
        assert!(refuse_client_copy("COPY t FROM STDIN").is_err());
        assert!(refuse_client_copy("-- export\ncopy (select 1) to stdout with csv;").is_err());
        assert!(refuse_client_copy("/* a */ /* b */ COPY t FROM stdin").is_err());
        assert!(refuse_client_copy("COPY t FROM '/tmp/stdin.csv'").is_ok());
        assert!(refuse_client_copy("SELECT 'copy from stdin'").is_ok());
    }
}
