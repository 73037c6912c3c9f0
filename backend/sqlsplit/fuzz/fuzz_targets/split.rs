//! Fuzzes `sqlsplit::split` in every dialect: any bytes (made valid UTF-8)
//! must split without panicking, into non-empty trimmed statements whose
//! lines never go backwards and stay inside the script.
//!
//! Run from `backend/sqlsplit/fuzz`: `cargo +nightly fuzz run split`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqlsplit::{split, Dialect};

fuzz_target!(|data: &[u8]| {
    let script = String::from_utf8_lossy(data);
    let last_line = script.matches('\n').count() + 1;
    for dialect in [
        Dialect::Postgres,
        Dialect::Mysql,
        Dialect::Oracle,
        Dialect::Sqlite,
    ] {
        let got = split(dialect, &script);
        let mut previous = 1;
        for s in &got.statements {
            assert!(!s.sql.trim().is_empty(), "empty statement");
            assert_eq!(s.sql.trim_end().len(), s.sql.len(), "untrimmed statement");
            assert!(s.line >= previous, "lines go backwards");
            assert!(s.line <= last_line, "line past the end");
            previous = s.line;
        }
        for line in got
            .skipped
            .iter()
            .map(|s| s.line)
            .chain(got.warnings.iter().map(|w| w.line))
        {
            assert!((1..=last_line).contains(&line), "line out of range");
        }
    }
});
