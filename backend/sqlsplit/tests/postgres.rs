//! PostgreSQL rules, as psql applies them. Behaviours marked "psql 15" were
//! checked against the real client and server (log_statement = all).

mod support;

use sqlsplit::{split, Dialect::Postgres};
use support::{lines, skipped, sqls};

#[test]
fn nested_block_comments_hide_semicolons_until_the_outer_one_closes() {
    let script = "/* outer /* inner */ still; comment */ SELECT 1;\nSELECT /* a /* b */ c; */ 2;";
    assert_eq!(
        sqls(Postgres, script),
        ["SELECT 1", "SELECT /* a /* b */ c; */ 2"]
    );
}

#[test]
fn an_escape_string_may_contain_a_backslash_quote_and_a_semicolon() {
    let script = r"SELECT E'it\'s; fine', e'\\'; SELECT 2;";
    assert_eq!(
        sqls(Postgres, script),
        [r"SELECT E'it\'s; fine', e'\\'", "SELECT 2"]
    );
}

#[test]
fn a_plain_string_ends_at_a_quote_even_after_a_backslash() {
    let script = r"SELECT 'a\'; SELECT 'b''c;d';";
    assert_eq!(sqls(Postgres, script), [r"SELECT 'a\'", "SELECT 'b''c;d'"]);
}

#[test]
fn an_identifier_ending_in_e_does_not_make_an_escape_string() {
    let script = r"SELECT some'\'; SELECT 2;";
    assert_eq!(sqls(Postgres, script), [r"SELECT some'\'", "SELECT 2"]);
}

#[test]
fn turning_standard_conforming_strings_off_makes_backslashes_escape_like_psql_does() {
    // psql 15 sent `SELECT 'a\';b'` as one statement after the SET, and split
    // it at the `;` again once the setting was back on.
    let script = "SET standard_conforming_strings = off;\nSELECT 'a\\';b';\nSET standard_conforming_strings TO 'on';\nSELECT 'c\\'; SELECT 3;";
    assert_eq!(
        sqls(Postgres, script),
        [
            "SET standard_conforming_strings = off",
            "SELECT 'a\\';b'",
            "SET standard_conforming_strings TO 'on'",
            "SELECT 'c\\'",
            "SELECT 3"
        ]
    );
}

#[test]
fn a_tagged_dollar_quote_keeps_inner_double_dollars_and_semicolons() {
    let script = "CREATE FUNCTION f() RETURNS text AS $fn$\n  SELECT $$a;b$$;\n$fn$ LANGUAGE sql;\nSELECT f();";
    let got = split(Postgres, script);
    assert_eq!(got.statements.len(), 2);
    assert!(got.statements[0].sql.ends_with("$fn$ LANGUAGE sql"));
    assert_eq!(lines(&got), [1, 4]);
}

#[test]
fn a_positional_parameter_and_a_dollar_inside_a_name_are_not_dollar_quotes() {
    let script = "PREPARE p(int) AS SELECT $1 + a$b$c FROM t; EXECUTE p(1);";
    assert_eq!(
        sqls(Postgres, script),
        ["PREPARE p(int) AS SELECT $1 + a$b$c FROM t", "EXECUTE p(1)"]
    );
}

#[test]
fn a_semicolon_inside_parentheses_does_not_end_the_statement() {
    // psql 15 sent "SELECT (1;\n2)" to the server as one statement.
    assert_eq!(
        sqls(Postgres, "SELECT (1;\n2);\nSELECT 3;"),
        ["SELECT (1;\n2)", "SELECT 3"]
    );
}

#[test]
fn a_sql_standard_function_body_keeps_its_semicolons_and_case_ends() {
    // psql 15 sent this CREATE FUNCTION as a single statement.
    let script = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND;\nSELECT f();";
    let got = sqls(Postgres, script);
    assert_eq!(got.len(), 2);
    assert!(got[0].ends_with("THEN 2 END;\nEND"));
    assert_eq!(got[1], "SELECT f()");
}

#[test]
fn begin_and_end_outside_a_routine_body_do_not_nest() {
    assert_eq!(
        sqls(Postgres, "BEGIN;\nSELECT 1;\nEND;"),
        ["BEGIN", "SELECT 1", "END"]
    );
}

#[test]
fn meta_commands_are_skipped_with_their_reason_and_not_sent() {
    let script = "\\set ON_ERROR_STOP on\nSELECT 1;\n  \\connect other\nSELECT 2;";
    let got = split(Postgres, script);
    assert_eq!(sqls(Postgres, script), ["SELECT 1", "SELECT 2"]);
    assert_eq!(skipped(&got), ["\\set ON_ERROR_STOP on", "\\connect other"]);
    assert_eq!(got.skipped[1].line, 3);
    assert!(
        got.skipped[0].reason.contains("\\set"),
        "{}",
        got.skipped[0].reason
    );
}

#[test]
fn backslash_g_sends_the_statement_and_backslash_semicolon_does_not() {
    let script = "SELECT 1 \\g\nSELECT 2 \\; SELECT 3;";
    assert_eq!(
        sqls(Postgres, script),
        ["SELECT 1", "SELECT 2 \\; SELECT 3"]
    );
}

#[test]
fn a_meta_command_inside_a_statement_is_left_out_of_it_and_the_statement_goes_on() {
    let script = "SELECT 1,\n\\echo hi\n2;";
    let got = split(Postgres, script);
    assert_eq!(sqls(Postgres, script), ["SELECT 1,\n\n2"]);
    assert_eq!(skipped(&got), ["\\echo hi"]);
}

#[test]
fn backslash_q_ends_the_script_with_a_warning_about_what_follows() {
    let got = split(Postgres, "SELECT 1;\n\\q\nSELECT 2;");
    assert_eq!(got.statements.len(), 1);
    assert_eq!(got.warnings.len(), 1);
    assert_eq!(got.warnings[0].line, 2);
}

#[test]
fn copy_from_stdin_data_is_skipped_up_to_the_end_marker() {
    let script = "COPY t (a, b) FROM stdin;\n1\tx;y\n2\tz\n\\.\nSELECT 1;";
    let got = split(Postgres, script);
    assert_eq!(
        sqls(Postgres, script),
        ["COPY t (a, b) FROM stdin", "SELECT 1"]
    );
    assert_eq!(got.statements[1].line, 5);
    assert_eq!(got.skipped.len(), 1);
    assert!(
        got.skipped[0].reason.contains("2 lines"),
        "{}",
        got.skipped[0].reason
    );
    assert_eq!(got.warnings.len(), 1);
}

#[test]
fn an_unterminated_dollar_quote_is_reported_where_it_opens() {
    let got = split(Postgres, "SELECT 1;\nDO $body$\nBEGIN\n  NULL;\nEND;\n");
    assert_eq!(got.statements.len(), 2);
    assert!(
        got.warnings
            .iter()
            .any(|w| w.line == 2 && w.message.contains("dollar")),
        "{:?}",
        got.warnings
    );
}
