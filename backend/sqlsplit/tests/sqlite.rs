//! SQLite rules, as the sqlite3 shell applies them. Behaviours marked
//! "shell" were checked against sqlite3 3.40.

mod support;

use sqlsplit::{split, Dialect::Sqlite};
use support::{lines, skipped, sqls};

#[test]
fn a_trigger_body_with_case_end_is_one_statement() {
    let script = "CREATE TRIGGER tr AFTER INSERT ON t\nBEGIN\n  UPDATE t SET a = CASE WHEN new.a > 0 THEN 1 ELSE 0 END;\n  SELECT CASE 1 WHEN 1 THEN 'x' END;\nEND;\nSELECT 1;";
    let got = sqls(Sqlite, script);
    assert_eq!(got.len(), 2);
    assert!(
        got[0].starts_with("CREATE TRIGGER tr") && got[0].ends_with("THEN 'x' END;\nEND"),
        "{}",
        got[0]
    );
    assert_eq!(got[1], "SELECT 1");
}

#[test]
fn temporary_and_explained_triggers_are_recognised_too() {
    let script = "CREATE TEMP TRIGGER a AFTER DELETE ON t BEGIN DELETE FROM u; END;\nEXPLAIN CREATE TEMPORARY TRIGGER b AFTER DELETE ON t BEGIN SELECT 1; END;";
    assert_eq!(sqls(Sqlite, script).len(), 2);
}

#[test]
fn end_in_an_ordinary_statement_does_not_change_anything() {
    assert_eq!(
        sqls(Sqlite, "SELECT CASE WHEN 1 THEN 2 END; SELECT 3;"),
        ["SELECT CASE WHEN 1 THEN 2 END", "SELECT 3"]
    );
}

#[test]
fn all_four_quote_styles_hide_semicolons() {
    let script = "SELECT 'a;''b', \"c;\", `d;`, [e;] FROM t; SELECT 2;";
    assert_eq!(
        sqls(Sqlite, script),
        ["SELECT 'a;''b', \"c;\", `d;`, [e;] FROM t", "SELECT 2"]
    );
}

#[test]
fn dot_commands_in_the_first_column_are_skipped_and_indented_ones_are_sql() {
    // shell: "  .print hi" went to the SQL parser and failed.
    let script = ".headers on\n.mode column\nSELECT 1;\n  .print hi\n;";
    let got = split(Sqlite, script);
    assert_eq!(skipped(&got), [".headers on", ".mode column"]);
    assert_eq!(sqls(Sqlite, script), ["SELECT 1", ".print hi"]);
    assert_eq!(lines(&got), [3, 4]);
}

#[test]
fn dot_quit_ends_the_script() {
    let got = split(Sqlite, "SELECT 1;\n.quit\nSELECT 2;");
    assert_eq!(got.statements.len(), 1);
    assert_eq!(got.warnings.len(), 1);
}

#[test]
fn a_hash_line_in_the_first_column_is_a_comment() {
    // shell: "# comment line ;" was ignored.
    let got = split(Sqlite, "# comment line ;\nSELECT 1;");
    assert_eq!(lines(&got), [2]);
    assert!(got.skipped.is_empty());
}

#[test]
fn a_slash_or_go_line_ends_a_statement_like_the_shell_does() {
    // shell: ran SELECT 1 and SELECT 2.
    let script = "SELECT 1\n/\nSELECT 2\nGO\nSELECT 3;";
    assert_eq!(sqls(Sqlite, script), ["SELECT 1", "SELECT 2", "SELECT 3"]);
}

#[test]
fn a_slash_line_inside_a_trigger_body_is_not_a_terminator() {
    let script = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\n/\n  SELECT 2;\nEND;";
    let got = sqls(Sqlite, script);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("SELECT 1;\n/\n  SELECT 2;\nEND"),
        "{}",
        got[0]
    );
}
