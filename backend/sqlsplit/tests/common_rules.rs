//! Rules every dialect shares: line numbers, line endings, leading comments,
//! missing terminators, unterminated quotes, empty input, the BOM, serde.

mod support;

use sqlsplit::{split, Dialect, StatementKind};
use support::{lines, sqls, ALL};

#[test]
fn line_numbers_point_at_the_first_token_after_multi_line_comments() {
    let script = "/* header\n   spans\n   lines */\n\n-- note\nSELECT 1;\n/* a\n b */ SELECT\n 2;";
    for dialect in ALL {
        let got = split(dialect, script);
        assert_eq!(lines(&got), [6, 8], "{dialect:?}");
        assert_eq!(got.statements[1].sql, "SELECT\n 2", "{dialect:?}");
    }
}

#[test]
fn crlf_line_endings_split_the_same_and_leave_no_trailing_carriage_return() {
    let script = "-- c\r\nSELECT 1\r\nFROM t;\r\n\r\nSELECT 2;\r\n";
    for dialect in ALL {
        let got = split(dialect, script);
        assert_eq!(
            sqls(dialect, script),
            ["SELECT 1\r\nFROM t", "SELECT 2"],
            "{dialect:?}"
        );
        assert_eq!(lines(&got), [2, 5], "{dialect:?}");
    }
}

#[test]
fn crlf_does_not_hide_an_oracle_slash_line_or_a_mysql_delimiter_line() {
    let oracle = split(
        Dialect::Oracle,
        "BEGIN\r\n  NULL;\r\nEND;\r\n/\r\nSELECT 1 FROM dual;\r\n",
    );
    assert_eq!(oracle.statements.len(), 2);
    assert_eq!(oracle.statements[0].sql, "BEGIN\r\n  NULL;\r\nEND;");
    let mysql = sqls(
        Dialect::Mysql,
        "DELIMITER //\r\nSELECT 1//\r\nDELIMITER ;\r\nSELECT 2;\r\n",
    );
    assert_eq!(mysql, ["SELECT 1", "SELECT 2"]);
}

#[test]
fn a_last_statement_without_terminator_is_returned_with_a_warning() {
    for dialect in ALL {
        let got = split(dialect, "SELECT 1;\nSELECT 2\n");
        assert_eq!(
            sqls(dialect, "SELECT 1;\nSELECT 2\n"),
            ["SELECT 1", "SELECT 2"],
            "{dialect:?}"
        );
        assert_eq!(got.warnings.len(), 1, "{dialect:?}");
        assert_eq!(got.warnings[0].line, 2, "{dialect:?}");
    }
}

#[test]
fn an_unterminated_quote_is_reported_at_its_line_and_swallows_the_rest() {
    for dialect in ALL {
        let got = split(dialect, "SELECT 1;\nSELECT 'oops;\nSELECT 3;\n");
        assert_eq!(got.statements.len(), 2, "{dialect:?}");
        assert_eq!(
            got.statements[1].sql, "SELECT 'oops;\nSELECT 3;",
            "{dialect:?}"
        );
        let quote = got
            .warnings
            .iter()
            .find(|w| w.message.contains("unterminated"));
        assert_eq!(
            quote.map(|w| w.line),
            Some(2),
            "{dialect:?}: {:?}",
            got.warnings
        );
    }
}

#[test]
fn an_unterminated_comment_after_the_last_statement_only_warns() {
    for dialect in ALL {
        let got = split(dialect, "SELECT 1;\n/* never closed ;\n");
        assert_eq!(got.statements.len(), 1, "{dialect:?}");
        assert_eq!(got.warnings.len(), 1, "{dialect:?}");
        assert_eq!(got.warnings[0].line, 2, "{dialect:?}");
    }
}

#[test]
fn empty_blank_and_comment_only_scripts_give_nothing() {
    for dialect in ALL {
        for script in [
            "",
            "   \n\t\n",
            "-- just a note\n/* and a block */\n",
            ";\n;;",
        ] {
            let got = split(dialect, script);
            assert!(got.statements.is_empty(), "{dialect:?} {script:?}: {got:?}");
            assert!(got.warnings.is_empty(), "{dialect:?} {script:?}: {got:?}");
        }
    }
}

#[test]
fn a_utf8_byte_order_mark_at_the_start_is_ignored() {
    for dialect in ALL {
        let got = split(dialect, "\u{feff}SELECT 'é';\nSELECT 2;");
        assert_eq!(
            sqls(dialect, "\u{feff}SELECT 'é';\nSELECT 2;"),
            ["SELECT 'é'", "SELECT 2"],
            "{dialect:?}"
        );
        assert_eq!(lines(&got), [1, 2], "{dialect:?}");
    }
}

#[test]
fn comments_inside_a_statement_are_kept_and_hints_survive() {
    let script = "-- leading\nSELECT /*+ INDEX(t i) */ a -- trailing; no split\nFROM t;";
    for dialect in ALL {
        assert_eq!(
            sqls(dialect, script),
            ["SELECT /*+ INDEX(t i) */ a -- trailing; no split\nFROM t"],
            "{dialect:?}"
        );
    }
}

#[test]
fn dialects_and_kinds_use_snake_case_names_in_json() -> Result<(), serde_json::Error> {
    let dialect: Dialect = serde_json::from_str("\"postgres\"")?;
    assert_eq!(dialect, Dialect::Postgres);
    let oracle: Dialect = serde_json::from_str("\"oracle\"")?;
    assert_eq!(oracle, Dialect::Oracle);
    let got = split(Dialect::Oracle, "BEGIN NULL; END;\n/\n");
    let json = serde_json::to_value(&got)?;
    assert_eq!(json["statements"][0]["kind"], "plsql_block");
    assert_eq!(json["statements"][0]["line"], 1);
    assert_eq!(
        serde_json::to_value(StatementKind::ClientCommand)?,
        "client_command"
    );
    Ok(())
}
