//! PostgreSQL text-format values to [`Cell`]s. The PostgreSQL connector reads rows through the
//! simple query protocol, where every value arrives as the server's own text (so numeric keeps
//! its digits and arrays, intervals, ranges, inet… read exactly as psql shows them); the column
//! types come from a prior `prepare`. This module turns (type, text) into a typed cell.
//!
//! The session runs with `DateStyle = ISO` and `bytea_output = hex` (set at connect), which is
//! what the date and bytea parsing here relies on. If a script changes either, values still
//! arrive, just less typed (the server's text is kept as it is).

use tokio_postgres::types::{Kind, Type};

use super::support::iso_datetime;
use super::Cell;

/// The type's name as PostgreSQL spells it in `pg_type.typname` ("int4", "_text", "numeric").
pub(crate) fn type_name(ty: &Type) -> String {
    ty.name().to_string()
}

/// A cell from a value's text and its column type (None when the type is unknown: the
/// multi-command fallback, which reads everything as text).
pub(crate) fn cell(ty: Option<&Type>, text: Option<&str>) -> Cell {
    let Some(text) = text else {
        return Cell::Null;
    };
    let Some(ty) = ty else {
        return Cell::Text(text.to_string());
    };
    // A domain's values look like its base type's.
    if let Kind::Domain(base) = ty.kind() {
        return cell(Some(base), Some(text));
    }
    let owned = || text.to_string();
    match *ty {
        Type::BOOL => match text {
            "t" => Cell::Bool(true),
            "f" => Cell::Bool(false),
            _ => Cell::Text(owned()),
        },
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => text
            .parse()
            .map(Cell::Int)
            .unwrap_or_else(|_| Cell::Text(owned())),
        Type::FLOAT4 | Type::FLOAT8 => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Cell::Float(f),
            _ => Cell::Text(owned()),
        },
        Type::NUMERIC => Cell::Decimal(owned()),
        Type::BYTEA => match text.strip_prefix("\\x") {
            Some(hex) => Cell::Bytes(hex.to_string()),
            None => Cell::Text(owned()),
        },
        Type::DATE => Cell::Date(owned()),
        Type::TIME => Cell::Time(owned()),
        Type::TIMETZ => Cell::Time(with_full_offset(text, 8)),
        Type::TIMESTAMP => Cell::Timestamp(iso_datetime(text)),
        Type::TIMESTAMPTZ => Cell::TimestampTz(iso_datetime(&with_full_offset(text, 19))),
        Type::JSON | Type::JSONB => Cell::json(owned()),
        _ => Cell::Text(owned()),
    }
}

/// PostgreSQL prints whole-hour offsets as "+00"; ISO-8601 readers expect "+00:00". The sign is
/// searched only after `min_pos` so the date's own dashes are never taken for it.
fn with_full_offset(text: &str, min_pos: usize) -> String {
    let Some(sign) = text.rfind(['+', '-']) else {
        return text.to_string();
    };
    let tail = &text[sign + 1..];
    if sign >= min_pos && tail.len() == 2 && tail.bytes().all(|b| b.is_ascii_digit()) {
        format!("{text}:00")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(ty: Type, text: &str) -> Cell {
        cell(Some(&ty), Some(text))
    }

    #[test]
    fn null_is_not_empty_text() {
        assert_eq!(cell(Some(&Type::TEXT), None), Cell::Null);
        assert_eq!(c(Type::TEXT, ""), Cell::Text(String::new()));
    }

    #[test]
    fn numbers_stay_numbers_and_decimals_keep_their_digits() {
        assert_eq!(c(Type::INT8, "-9223372036854775808"), Cell::Int(i64::MIN));
        assert_eq!(c(Type::FLOAT8, "1.5"), Cell::Float(1.5));
        assert_eq!(c(Type::FLOAT8, "NaN"), Cell::Text("NaN".into()));
        assert_eq!(
            c(Type::NUMERIC, "12345678901234567890.000100"),
            Cell::Decimal("12345678901234567890.000100".into())
        );
    }

    #[test]
    fn time_zones_get_a_full_iso_offset() {
        assert_eq!(
            c(Type::TIMESTAMPTZ, "2024-02-29 13:14:15.5+00"),
            Cell::TimestampTz("2024-02-29T13:14:15.5+00:00".into())
        );
        assert_eq!(
            c(Type::TIMESTAMPTZ, "2024-02-29 13:14:15-03:30"),
            Cell::TimestampTz("2024-02-29T13:14:15-03:30".into())
        );
        assert_eq!(
            c(Type::TIMETZ, "10:00:00+02"),
            Cell::Time("10:00:00+02:00".into())
        );
        assert_eq!(c(Type::DATE, "2024-02-29"), Cell::Date("2024-02-29".into()));
    }

    #[test]
    fn bytea_is_hex_and_json_is_json() {
        assert_eq!(
            c(Type::BYTEA, "\\xdeadbeef"),
            Cell::Bytes("deadbeef".into())
        );
        // Kept as the server's text, so a number no double holds keeps its digits.
        let big =
            r#"{"a": [1, null], "id": 12345678901234567890123, "x": 0.1000000000000000055511}"#;
        assert_eq!(c(Type::JSONB, big), Cell::Json(big.into()));
        assert_eq!(
            serde_json::to_value(Cell::Json(big.into())).unwrap_or_default(),
            serde_json::json!({"t": "json", "v": big})
        );
        // Not JSON after all (a text cast, say): text.
        assert_eq!(c(Type::JSON, "{oops"), Cell::Text("{oops".into()));
        assert_eq!(c(Type::BOOL, "t"), Cell::Bool(true));
        assert_eq!(c(Type::INT4_ARRAY, "{1,2}"), Cell::Text("{1,2}".into()));
    }
}
