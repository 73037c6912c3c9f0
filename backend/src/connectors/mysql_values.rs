//! MySQL/MariaDB text-protocol values to [`Cell`]s, typed by the column metadata the server
//! sends with each result set (type, flags, character set).
//!
//! The text protocol (`query_iter`) carries every value as the server's own text, so DECIMAL
//! keeps its digits. MariaDB sends JSON columns as LONGTEXT (JSON is an alias there and the
//! extended metadata that marks it is not requested by the `mysql` crate), so MariaDB JSON
//! arrives as `Text`; MySQL's real JSON type becomes `Json`.

use mysql::consts::{ColumnFlags, ColumnType};
use mysql::Value;

use super::support::iso_datetime;
use super::Cell;

/// The `binary` character set: BINARY/VARBINARY/BLOB columns and binary expressions.
const BINARY_CHARSET: u16 = 63;

/// The column's type as MySQL names it in DDL ("INT", "DECIMAL", "VARCHAR", "BIGINT UNSIGNED").
pub(crate) fn type_name(ty: ColumnType, flags: ColumnFlags, charset: u16) -> String {
    use ColumnType::*;
    let binary = charset == BINARY_CHARSET;
    let base = match ty {
        MYSQL_TYPE_TINY => "TINYINT",
        MYSQL_TYPE_SHORT => "SMALLINT",
        MYSQL_TYPE_INT24 => "MEDIUMINT",
        MYSQL_TYPE_LONG => "INT",
        MYSQL_TYPE_LONGLONG => "BIGINT",
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => "DECIMAL",
        MYSQL_TYPE_FLOAT => "FLOAT",
        MYSQL_TYPE_DOUBLE => "DOUBLE",
        MYSQL_TYPE_NULL => "NULL",
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => "TIMESTAMP",
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => "DATE",
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => "TIME",
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => "DATETIME",
        MYSQL_TYPE_YEAR => "YEAR",
        MYSQL_TYPE_BIT => "BIT",
        MYSQL_TYPE_JSON => "JSON",
        MYSQL_TYPE_ENUM => "ENUM",
        MYSQL_TYPE_SET => "SET",
        MYSQL_TYPE_GEOMETRY => "GEOMETRY",
        MYSQL_TYPE_VECTOR => "VECTOR",
        MYSQL_TYPE_STRING if flags.contains(ColumnFlags::ENUM_FLAG) => "ENUM",
        MYSQL_TYPE_STRING if flags.contains(ColumnFlags::SET_FLAG) => "SET",
        MYSQL_TYPE_STRING if binary => "BINARY",
        MYSQL_TYPE_STRING => "CHAR",
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING if binary => "VARBINARY",
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => "VARCHAR",
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB
            if binary =>
        {
            "BLOB"
        }
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB => {
            "TEXT"
        }
        MYSQL_TYPE_TYPED_ARRAY | MYSQL_TYPE_UNKNOWN => "UNKNOWN",
    };
    let integer = matches!(
        ty,
        MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_LONGLONG
    );
    if integer && flags.contains(ColumnFlags::UNSIGNED_FLAG) {
        format!("{base} UNSIGNED")
    } else {
        base.to_string()
    }
}

/// A cell from one text-protocol value. The text protocol sends `Bytes` or `NULL` only; the
/// other `Value` variants are handled anyway so a driver change cannot make us lie.
pub(crate) fn cell(ty: ColumnType, charset: u16, value: Value) -> Cell {
    let bytes = match value {
        Value::NULL => return Cell::Null,
        Value::Bytes(b) => b,
        Value::Int(i) => return Cell::Int(i),
        Value::UInt(u) => {
            return i64::try_from(u).map_or_else(|_| Cell::Decimal(u.to_string()), Cell::Int)
        }
        Value::Float(f) => return float(f64::from(f)),
        Value::Double(f) => return float(f),
        // Not sent by the text protocol; keep the driver's own SQL rendering.
        other @ (Value::Date(..) | Value::Time(..)) => return Cell::Text(other.as_sql(false)),
    };
    use ColumnType::*;
    if ty == MYSQL_TYPE_BIT {
        // BIT(n) arrives as n bits big-endian; up to 64 bits it is a number.
        if bytes.len() <= 8 {
            let n = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            return i64::try_from(n).map_or_else(|_| Cell::Decimal(n.to_string()), Cell::Int);
        }
        return Cell::Bytes(hex::encode(bytes));
    }
    if ty == MYSQL_TYPE_GEOMETRY || (charset == BINARY_CHARSET && is_stringish(ty)) {
        return Cell::Bytes(hex::encode(bytes));
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match ty {
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG
        | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => match text.parse::<i64>() {
            Ok(i) => Cell::Int(i),
            // BIGINT UNSIGNED above i64::MAX keeps its digits.
            Err(_) => Cell::Decimal(text),
        },
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => Cell::Decimal(text),
        MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => match text.parse::<f64>() {
            Ok(f) => float(f),
            Err(_) => Cell::Text(text),
        },
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE if !is_zero_date(&text) => Cell::Date(text),
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Cell::Time(text),
        MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2
            if !is_zero_date(&text) =>
        {
            Cell::Timestamp(iso_datetime(&text))
        }
        MYSQL_TYPE_JSON => Cell::json(text),
        _ => Cell::Text(text),
    }
}

fn float(f: f64) -> Cell {
    if f.is_finite() {
        Cell::Float(f)
    } else {
        Cell::Text(f.to_string())
    }
}

fn is_stringish(ty: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        ty,
        MYSQL_TYPE_STRING
            | MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_VARCHAR
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_BLOB
    )
}

/// MySQL's "zero" dates ('0000-00-00') are not ISO dates; they stay plain text.
fn is_zero_date(text: &str) -> bool {
    text.starts_with("0000-00-00")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType::*;

    fn b(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn decimals_keep_digits_and_big_unsigned_do_not_overflow() {
        assert_eq!(
            cell(MYSQL_TYPE_NEWDECIMAL, 63, b("10.500")),
            Cell::Decimal("10.500".into())
        );
        assert_eq!(
            cell(MYSQL_TYPE_LONGLONG, 63, b("18446744073709551615")),
            Cell::Decimal("18446744073709551615".into())
        );
        assert_eq!(cell(MYSQL_TYPE_LONG, 63, b("-7")), Cell::Int(-7));
    }

    #[test]
    fn binary_charset_means_hex_and_text_charset_means_text() {
        assert_eq!(
            cell(MYSQL_TYPE_BLOB, 63, Value::Bytes(vec![1, 0xff])),
            Cell::Bytes("01ff".into())
        );
        assert_eq!(cell(MYSQL_TYPE_BLOB, 45, b("hi")), Cell::Text("hi".into()));
        assert_eq!(type_name(MYSQL_TYPE_BLOB, ColumnFlags::empty(), 45), "TEXT");
        assert_eq!(
            type_name(MYSQL_TYPE_LONGLONG, ColumnFlags::UNSIGNED_FLAG, 63),
            "BIGINT UNSIGNED"
        );
    }

    #[test]
    fn dates_are_iso_and_zero_dates_stay_text() {
        assert_eq!(
            cell(MYSQL_TYPE_DATETIME, 63, b("2024-02-29 13:14:15.250000")),
            Cell::Timestamp("2024-02-29T13:14:15.250000".into())
        );
        assert_eq!(
            cell(MYSQL_TYPE_DATETIME, 63, b("0000-00-00 00:00:00")),
            Cell::Text("0000-00-00 00:00:00".into())
        );
        assert_eq!(
            cell(MYSQL_TYPE_BIT, 63, Value::Bytes(vec![1, 0])),
            Cell::Int(256)
        );
        assert_eq!(cell(MYSQL_TYPE_VARCHAR, 45, Value::NULL), Cell::Null);
    }
}
