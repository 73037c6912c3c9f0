//! The Oracle connector's pure logic, kept apart so it is tested without a server (none runs
//! here): the Easy Connect string, how each Oracle type becomes a [`Cell`], timestamp text, and
//! how an ORA-/DPI- error is classified.

use oracle::sql_type::{OracleType, Timestamp};

use super::{Cell, DbError, DbErrorKind};

/// `//host:port/service`, with IPv6 literals bracketed as Easy Connect requires.
pub(crate) fn easy_connect(host: &str, port: u16, service: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("//[{host}]:{port}/{service}")
    } else {
        format!("//{host}:{port}/{service}")
    }
}

/// How a column's values are read and typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CellKind {
    /// NUMBER with a scale: (scale). Scale 0 -> Int when it fits; unconstrained NUMBER (scale
    /// -127, e.g. COUNT(*)) -> Int when the value is whole and fits; else Decimal text.
    Number(i8),
    Float,
    Text,
    Bytes,
    /// DATE and TIMESTAMP: no zone. `true` when DATE (no fractional seconds).
    Timestamp(bool),
    TimestampTz,
    Bool,
    Json,
}

pub(crate) fn cell_kind(t: &OracleType) -> CellKind {
    match t {
        OracleType::Number(_, scale) => CellKind::Number(*scale),
        OracleType::Int64 | OracleType::UInt64 => CellKind::Number(0),
        OracleType::Float(_) | OracleType::BinaryFloat | OracleType::BinaryDouble => {
            CellKind::Float
        }
        OracleType::Date => CellKind::Timestamp(true),
        OracleType::Timestamp(_) => CellKind::Timestamp(false),
        OracleType::TimestampTZ(_) | OracleType::TimestampLTZ(_) => CellKind::TimestampTz,
        OracleType::Raw(_) | OracleType::BLOB | OracleType::LongRaw | OracleType::BFILE => {
            CellKind::Bytes
        }
        OracleType::Boolean => CellKind::Bool,
        OracleType::Json => CellKind::Json,
        // VARCHAR2, CHAR, CLOB, LONG, ROWID, intervals, XML, objects: their text form.
        _ => CellKind::Text,
    }
}

/// A NUMBER's text (as the client renders it) as a cell.
pub(crate) fn number_cell(text: &str, scale: i8) -> Cell {
    // Oracle renders 0.5 as ".5"; give readers the leading zero.
    let text = if let Some(rest) = text.strip_prefix("-.") {
        format!("-0.{rest}")
    } else if let Some(rest) = text.strip_prefix('.') {
        format!("0.{rest}")
    } else {
        text.to_string()
    };
    let whole = !text.contains(['.', 'e', 'E']);
    if whole && (scale == 0 || scale == -127) {
        if let Ok(i) = text.parse::<i64>() {
            return Cell::Int(i);
        }
    }
    Cell::Decimal(text)
}

/// ISO-8601 text: `YYYY-MM-DDThh:mm:ss[.fffffffff][±hh:mm]`. DATE has no fraction; TIMESTAMP
/// shows nanoseconds only when there are any (trailing zeros trimmed).
pub(crate) fn timestamp_text(ts: &Timestamp, is_date: bool, with_tz: bool) -> String {
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        ts.year(),
        ts.month(),
        ts.day(),
        ts.hour(),
        ts.minute(),
        ts.second()
    );
    if !is_date && ts.nanosecond() > 0 {
        let frac = format!("{:09}", ts.nanosecond());
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    if with_tz {
        let off = ts.tz_offset();
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.unsigned_abs();
        s.push_str(&format!("{sign}{:02}:{:02}", off / 3600, off % 3600 / 60));
    }
    s
}

/// Split "ORA-01017: invalid username/password" into ("ORA-01017", "invalid username/password").
pub(crate) fn split_code(message: &str) -> (Option<String>, String) {
    let first = message.split(": ").next().unwrap_or("");
    let shaped = |prefix: &str, digits: usize| {
        first
            .strip_prefix(prefix)
            .is_some_and(|d| d.len() == digits && d.bytes().all(|b| b.is_ascii_digit()))
    };
    if (shaped("ORA-", 5) || shaped("DPI-", 4)) && message.len() > first.len() + 2 {
        (
            Some(first.to_string()),
            message[first.len() + 2..].to_string(),
        )
    } else {
        (None, message.to_string())
    }
}

/// Whether the failure happened while connecting (anything unknown is then a Connect error).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Phase {
    Connect,
    Statement,
}

const INSTALL_HINT: &str = "the Oracle client library is missing: install Oracle Instant Client \
(basic or basic-light) and make it findable via LD_LIBRARY_PATH or a file in /etc/ld.so.conf.d \
(then run ldconfig). Original error: ";

/// Classify an Oracle error message (which carries its ORA-/DPI- code).
pub(crate) fn classify_message(message: &str, phase: Phase, cancel_requested: bool) -> DbError {
    if message.contains("DPI-1047") {
        return DbError::new(
            DbErrorKind::ClientMissing,
            Some("DPI-1047".into()),
            format!("{INSTALL_HINT}{message}"),
        );
    }
    let (code, rest) = split_code(message);
    let kind = match code.as_deref() {
        // Invalid credentials, account locked, password expired, no CREATE SESSION, null password.
        Some("ORA-01017" | "ORA-28000" | "ORA-28001" | "ORA-01045" | "ORA-01005" | "ORA-28009") => {
            DbErrorKind::Auth
        }
        Some("ORA-01013") if cancel_requested || phase == Phase::Statement => {
            DbErrorKind::Cancelled
        }
        // ODPI-C call timeout, OCI call timed out.
        Some("DPI-1067" | "ORA-03156") if phase == Phase::Statement => DbErrorKind::Timeout,
        // Listener/connect failures and lost connections.
        Some(
            "ORA-12170" | "ORA-12541" | "ORA-12514" | "ORA-12505" | "ORA-12154" | "ORA-12545"
            | "ORA-12543" | "ORA-12535" | "ORA-12537" | "ORA-03113" | "ORA-03114" | "ORA-03135"
            | "DPI-1010" | "DPI-1080",
        ) => DbErrorKind::Connect,
        _ if phase == Phase::Connect => DbErrorKind::Connect,
        _ => DbErrorKind::Statement,
    };
    DbError::new(kind, code, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_strings_are_easy_connect() {
        assert_eq!(easy_connect("db1", 1521, "ORCLPDB1"), "//db1:1521/ORCLPDB1");
        assert_eq!(easy_connect("::1", 1521, "XE"), "//[::1]:1521/XE");
    }

    #[test]
    fn numbers_are_ints_only_when_whole_and_small() {
        assert_eq!(number_cell("42", 0), Cell::Int(42));
        assert_eq!(number_cell("42", -127), Cell::Int(42));
        assert_eq!(number_cell("42", 2), Cell::Decimal("42".into()));
        assert_eq!(number_cell(".5", -127), Cell::Decimal("0.5".into()));
        assert_eq!(
            number_cell("123456789012345678901234567890", 0),
            Cell::Decimal("123456789012345678901234567890".into())
        );
    }

    #[test]
    fn number_types_map_by_scale_and_lobs_by_kind() {
        assert_eq!(cell_kind(&OracleType::Number(10, 0)), CellKind::Number(0));
        assert_eq!(cell_kind(&OracleType::BLOB), CellKind::Bytes);
        assert_eq!(cell_kind(&OracleType::CLOB), CellKind::Text);
        assert_eq!(
            cell_kind(&OracleType::TimestampTZ(6)),
            CellKind::TimestampTz
        );
        assert_eq!(cell_kind(&OracleType::Date), CellKind::Timestamp(true));
    }

    #[test]
    fn timestamps_are_iso_with_offsets_when_zoned() -> Result<(), oracle::Error> {
        let ts = Timestamp::new(2024, 2, 29, 13, 14, 15, 250_000_000)?;
        assert_eq!(timestamp_text(&ts, false, false), "2024-02-29T13:14:15.25");
        assert_eq!(timestamp_text(&ts, true, false), "2024-02-29T13:14:15");
        let zoned = ts.and_tz_hm_offset(-3, -30)?;
        assert_eq!(
            timestamp_text(&zoned, false, true),
            "2024-02-29T13:14:15.25-03:30"
        );
        Ok(())
    }

    #[test]
    fn errors_are_classified_by_their_code() {
        let e = classify_message(
            "ORA-01017: invalid username/password; logon denied",
            Phase::Connect,
            false,
        );
        assert_eq!(
            (e.kind, e.code.as_deref()),
            (DbErrorKind::Auth, Some("ORA-01017"))
        );
        assert_eq!(e.message, "invalid username/password; logon denied");
        let e = classify_message(
            "DPI-1047: Cannot locate a 64-bit Oracle Client library",
            Phase::Connect,
            false,
        );
        assert_eq!(e.kind, DbErrorKind::ClientMissing);
        assert!(
            e.message.contains("Instant Client") && e.message.ends_with("Oracle Client library")
        );
        let e = classify_message(
            "ORA-01013: user requested cancel of current operation",
            Phase::Statement,
            true,
        );
        assert_eq!(e.kind, DbErrorKind::Cancelled);
        let e = classify_message(
            "DPI-1067: call timeout of 1000 ms exceeded with ORA-3156",
            Phase::Statement,
            false,
        );
        assert_eq!(e.kind, DbErrorKind::Timeout);
        let e = classify_message(
            "ORA-00942: table or view does not exist",
            Phase::Statement,
            false,
        );
        assert_eq!(
            (e.kind, e.code.as_deref()),
            (DbErrorKind::Statement, Some("ORA-00942"))
        );
        assert_eq!(
            classify_message("ORA-12541: TNS:no listener", Phase::Statement, false).kind,
            DbErrorKind::Connect
        );
    }
}
