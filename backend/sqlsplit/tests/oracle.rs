//! Oracle rules, as SQL*Plus reads a script.

mod support;

use sqlsplit::{split, Dialect::Oracle, StatementKind};
use support::{kinds, lines, skipped, sqls};

#[test]
fn q_quotes_hide_apostrophes_and_semicolons_in_every_bracket_style() {
    let script = "SELECT q'[it's; here]', Q'{a;'}', q'(b;)', q'<c;>', q'!d;'!', nq'#it's;#' FROM dual;\nSELECT 2 FROM dual;";
    assert_eq!(
        sqls(Oracle, script),
        [
            "SELECT q'[it's; here]', Q'{a;'}', q'(b;)', q'<c;>', q'!d;'!', nq'#it's;#' FROM dual",
            "SELECT 2 FROM dual"
        ]
    );
}

#[test]
fn a_plsql_block_runs_to_the_slash_line_and_keeps_its_final_semicolon() {
    let script = "BEGIN\n  INSERT INTO t VALUES (1);\n  COMMIT;\nEND;\n  /  \nSELECT 1 FROM dual;";
    let got = split(Oracle, script);
    assert_eq!(
        sqls(Oracle, script),
        [
            "BEGIN\n  INSERT INTO t VALUES (1);\n  COMMIT;\nEND;",
            "SELECT 1 FROM dual"
        ]
    );
    assert_eq!(kinds(&got), [StatementKind::PlsqlBlock, StatementKind::Sql]);
    assert_eq!(lines(&got), [1, 6]);
}

#[test]
fn stored_units_in_all_their_spellings_are_plsql() {
    for head in [
        "DECLARE x NUMBER;",
        "CREATE PROCEDURE p IS",
        "create or replace function f return number is",
        "CREATE OR REPLACE EDITIONABLE PACKAGE BODY pk AS",
        "CREATE NONEDITIONABLE TRIGGER tr BEFORE INSERT ON t",
        "CREATE OR REPLACE TYPE BODY ty AS",
        "CREATE OR REPLACE AND COMPILE JAVA SOURCE NAMED j AS",
        "CREATE /* why */ OR REPLACE\nLIBRARY lib AS",
    ] {
        let script = format!("{head}\nBEGIN NULL; END;\n/\n");
        let got = split(Oracle, &script);
        assert_eq!(kinds(&got), [StatementKind::PlsqlBlock], "{head}");
        assert!(got.statements[0].sql.ends_with("END;"), "{head}");
    }
}

#[test]
fn create_type_as_object_waits_for_the_slash_like_sqlplus() {
    let script = "CREATE TYPE t AS OBJECT (a NUMBER);\n/\nCREATE TABLE x (a t);";
    let got = split(Oracle, script);
    assert_eq!(
        sqls(Oracle, script),
        [
            "CREATE TYPE t AS OBJECT (a NUMBER);",
            "CREATE TABLE x (a t)"
        ]
    );
    assert_eq!(kinds(&got), [StatementKind::PlsqlBlock, StatementKind::Sql]);
}

#[test]
fn set_serveroutput_is_skipped_with_its_reason() {
    let got = split(
        Oracle,
        "SET SERVEROUTPUT ON SIZE 1000000\nSELECT 1 FROM dual;",
    );
    assert_eq!(skipped(&got), ["SET SERVEROUTPUT ON SIZE 1000000"]);
    assert_eq!(
        got.skipped[0].reason,
        "SQL*Plus command SET is not sent to the server"
    );
    assert_eq!(lines(&got), [2]);
}

#[test]
fn set_transaction_role_and_constraints_are_sql_and_are_sent() {
    let script = "SET TRANSACTION READ ONLY;\nset role all;\nSET CONSTRAINTS ALL DEFERRED;";
    let got = split(Oracle, script);
    assert_eq!(
        sqls(Oracle, script),
        [
            "SET TRANSACTION READ ONLY",
            "set role all",
            "SET CONSTRAINTS ALL DEFERRED"
        ]
    );
    assert!(got.skipped.is_empty());
}

#[test]
fn sqlplus_commands_and_their_abbreviations_are_skipped_one_line_each() {
    let script = "set serverout on\nPRO hello; world\nDESC emp\n@setup.sql\n@@more.sql\nconn scott/tiger\nSPOOL out.log\nWHENEVER SQLERROR EXIT 1\nCOL name FORMAT a20\nDEFINE x = 1\nVAR n NUMBER\nSELECT 1 FROM dual;";
    let got = split(Oracle, script);
    assert_eq!(sqls(Oracle, script), ["SELECT 1 FROM dual"]);
    assert_eq!(got.skipped.len(), 11);
    assert!(
        got.skipped[3].reason.contains('@'),
        "{}",
        got.skipped[3].reason
    );
}

#[test]
fn sql_keywords_that_look_like_abbreviations_are_still_sql() {
    let script = "SAVEPOINT a;\nRENAME t TO u;\nCOMMENT ON TABLE u IS 'x';\nCOMMIT;";
    assert_eq!(split(Oracle, script).statements.len(), 4);
}

#[test]
fn a_hyphen_at_the_end_of_a_command_line_continues_it() {
    let got = split(Oracle, "COLUMN name -\n  FORMAT a20\nSELECT 1 FROM dual;");
    assert_eq!(skipped(&got), ["COLUMN name -\n  FORMAT a20"]);
    assert_eq!(lines(&got), [3]);
}

#[test]
fn rem_lines_are_comments() {
    let got = split(
        Oracle,
        "REM setup; really\nREMARK more\nSELECT 1 FROM dual;",
    );
    assert_eq!(lines(&got), [3]);
    assert!(got.skipped.is_empty());
}

#[test]
fn exec_is_sent_as_an_anonymous_block() {
    let got = split(
        Oracle,
        "EXEC dbms_stats.gather_schema_stats('HR');\nexecute p(1, -\n  2)",
    );
    assert_eq!(
        sqls(
            Oracle,
            "EXEC dbms_stats.gather_schema_stats('HR');\nexecute p(1, -\n  2)"
        ),
        [
            "BEGIN dbms_stats.gather_schema_stats('HR'); END;",
            "BEGIN p(1,\n  2); END;"
        ]
    );
    assert_eq!(
        kinds(&got),
        [StatementKind::PlsqlBlock, StatementKind::PlsqlBlock]
    );
}

#[test]
fn plain_sql_may_end_with_a_slash_line_instead_of_a_semicolon() {
    assert_eq!(
        sqls(Oracle, "SELECT 1\nFROM dual\n/\nSELECT 2 FROM dual;"),
        ["SELECT 1\nFROM dual", "SELECT 2 FROM dual"]
    );
}

#[test]
fn a_slash_after_a_statement_that_already_ran_is_not_sent_twice() {
    let got = split(Oracle, "CREATE INDEX i ON t(a);\n/\n");
    assert_eq!(got.statements.len(), 1);
    assert_eq!(skipped(&got), ["/"]);
    assert_eq!(got.skipped[0].line, 2);
}

#[test]
fn a_dot_line_holds_a_statement_until_a_slash_runs_it() {
    let got = split(
        Oracle,
        "BEGIN\n  NULL;\nEND;\n.\n/\nUPDATE t SET a = 1\n.\nSELECT 1 FROM dual;",
    );
    assert_eq!(
        sqls(
            Oracle,
            "BEGIN\n  NULL;\nEND;\n.\n/\nUPDATE t SET a = 1\n.\nSELECT 1 FROM dual;"
        ),
        ["BEGIN\n  NULL;\nEND;", "SELECT 1 FROM dual"]
    );
    assert_eq!(skipped(&got), ["UPDATE t SET a = 1"]);
    assert_eq!(got.skipped[0].line, 6);
}

#[test]
fn exit_ends_the_script_and_what_follows_is_reported() {
    let got = split(Oracle, "SELECT 1 FROM dual;\nEXIT\nSELECT 2 FROM dual;");
    assert_eq!(got.statements.len(), 1);
    assert_eq!(got.warnings.len(), 1);
    assert_eq!(got.warnings[0].line, 2);
}

#[test]
fn a_plsql_block_without_its_slash_is_returned_with_a_warning() {
    let got = split(Oracle, "BEGIN\n  NULL;\nEND;\n");
    assert_eq!(
        sqls(Oracle, "BEGIN\n  NULL;\nEND;\n"),
        ["BEGIN\n  NULL;\nEND;"]
    );
    assert_eq!(got.warnings.len(), 1);
    assert!(
        got.warnings[0].message.contains("'/'"),
        "{}",
        got.warnings[0].message
    );
}

#[test]
fn a_slash_inside_a_multi_line_string_is_part_of_it() {
    assert_eq!(
        sqls(Oracle, "SELECT 'a\n/\nb' FROM dual;"),
        ["SELECT 'a\n/\nb' FROM dual"]
    );
}
