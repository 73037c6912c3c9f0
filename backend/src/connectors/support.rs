//! Plumbing shared by the engine connectors: reading the target's `options` map strictly,
//! bounding a blocking driver connect by the connect timeout, and handing rows to a sink while
//! keeping the [`ExecOutcome`] counters right.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::{Cell, DbError, Engine, ExecOutcome, RowSink};

/// Reject any option key the engine does not know, naming it (a typo must not be ignored silently).
pub(crate) fn check_known_options(
    engine: Engine,
    options: &serde_json::Map<String, serde_json::Value>,
    known: &[&str],
) -> Result<(), DbError> {
    for key in options.keys() {
        if !known.contains(&key.as_str()) {
            let hint = if known.is_empty() {
                "it takes no options".to_string()
            } else {
                format!("known: {}", known.join(", "))
            };
            return Err(DbError::config(format!(
                "unknown {engine} option {key:?} ({hint})"
            )));
        }
    }
    Ok(())
}

/// A string option, or None when absent; any other JSON type is a Config error.
pub(crate) fn string_option<'a>(
    options: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Result<Option<&'a str>, DbError> {
    match options.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(DbError::config(format!(
            "option {key:?} must be a string, not {other}"
        ))),
    }
}

/// Run a blocking driver connect on a helper thread and wait at most `timeout` (plus a small
/// grace so the driver's own timeout, when it has one, reports first with its better message).
///
/// Why: the MySQL and Oracle drivers bound only the TCP connect; a listener that accepts and
/// never speaks would block the caller forever in the handshake. On expiry the helper thread is
/// abandoned: it ends when the driver's read timeout fires or the peer closes, and whatever it
/// returns is dropped (a late connection is closed by its destructor).
pub(crate) fn connect_within<T, F>(
    host: &str,
    port: u16,
    timeout: Duration,
    connect: F,
) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, DbError> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = thread::Builder::new()
        .name("autodb-connect".into())
        .spawn(move || {
            // The receiver may be gone (timed out); then the result is simply dropped.
            let _ = tx.send(connect());
        });
    if let Err(e) = spawned {
        return Err(DbError::internal(format!(
            "cannot start a connect thread: {e}"
        )));
    }
    let grace = Duration::from_millis(250);
    match rx.recv_timeout(timeout + grace) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(DbError::connect_timeout(host, port, timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(DbError::internal(
            "the connect thread ended without an answer (it panicked)",
        )),
    }
}

/// Hand one row to the sink unless it already refused one; keeps counters and `truncated`.
/// Returns whether the caller should keep fetching rows.
pub(crate) fn offer_row(sink: &mut dyn RowSink, outcome: &mut ExecOutcome, row: Vec<Cell>) -> bool {
    if outcome.truncated {
        return false;
    }
    if sink.row(row) {
        outcome.rows_returned += 1;
        true
    } else {
        outcome.truncated = true;
        false
    }
}

/// ISO-8601 from a database's "YYYY-MM-DD hh:mm:ss[.f]" text: the date/time separator becomes
/// 'T'. Anything not shaped like that (BC dates, 'infinity', zero dates) is returned unchanged.
pub(crate) fn iso_datetime(text: &str) -> String {
    let b = text.as_bytes();
    let shaped = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[..4].iter().all(u8::is_ascii_digit);
    if shaped && !text.ends_with(" BC") {
        format!("{}T{}", &text[..10], &text[11..])
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::DbErrorKind;

    #[test]
    fn an_unknown_option_is_named_in_the_error() {
        let mut opts = serde_json::Map::new();
        opts.insert("sslmod".into(), "disable".into());
        let err = check_known_options(Engine::Postgres, &opts, &["sslmode"]);
        let err = err.err().map(|e| (e.kind, e.message));
        assert!(matches!(err, Some((DbErrorKind::Config, ref m)) if m.contains("\"sslmod\"")));
    }

    #[test]
    fn a_slow_connect_is_abandoned_at_the_deadline() {
        let started = std::time::Instant::now();
        let r: Result<(), DbError> = connect_within("h", 1, Duration::from_millis(100), || {
            thread::sleep(Duration::from_secs(2));
            Ok(())
        });
        assert_eq!(r.err().map(|e| e.kind), Some(DbErrorKind::Connect));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn datetimes_get_the_iso_separator() {
        assert_eq!(
            iso_datetime("2024-01-02 03:04:05.5"),
            "2024-01-02T03:04:05.5"
        );
        assert_eq!(iso_datetime("infinity"), "infinity");
        assert_eq!(
            iso_datetime("0044-03-15 00:00:00 BC"),
            "0044-03-15 00:00:00 BC"
        );
    }
}
