//! MySQL/MariaDB rules, as the mysql client applies them. Behaviours marked
//! "client" were checked against the MariaDB 10.11 client (`--verbose`).

mod support;

use sqlsplit::{split, Dialect::Mysql};
use support::{lines, skipped, sqls};

#[test]
fn a_delimiter_block_keeps_a_procedure_whole_and_delimiter_lines_are_skipped() {
    let script = "DELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\nDELIMITER ;\nSELECT 3;";
    let got = split(Mysql, script);
    assert_eq!(
        sqls(Mysql, script),
        [
            "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
            "SELECT 3"
        ]
    );
    assert_eq!(lines(&got), [2, 8]);
    assert_eq!(skipped(&got), ["DELIMITER //", "DELIMITER ;"]);
    assert_eq!(got.skipped[1].line, 7);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
}

#[test]
fn a_multi_character_delimiter_ends_statements_until_it_is_changed_back() {
    let script = "delimiter $$\nSELECT 3$$ SELECT 4 $$\ndelimiter ;\nSELECT 5;";
    assert_eq!(sqls(Mysql, script), ["SELECT 3", "SELECT 4", "SELECT 5"]);
}

#[test]
fn dash_dash_without_a_blank_after_it_is_not_a_comment() {
    // client: "SELECT 3 AS c --x" was sent, ended by the `;` on the next line.
    let script = "SELECT 1 --x;\nSELECT 3 AS c --x\n;\nSELECT 4 -- y;\n;";
    assert_eq!(
        sqls(Mysql, script),
        ["SELECT 1 --x", "SELECT 3 AS c --x", "SELECT 4 -- y;"]
    );
}

#[test]
fn hash_comments_hide_the_delimiter_and_leading_ones_are_dropped() {
    let script = "# setup;\nSELECT 1 # not yet;\n;";
    let got = split(Mysql, script);
    assert_eq!(sqls(Mysql, script), ["SELECT 1 # not yet;"]);
    assert_eq!(lines(&got), [2]);
}

#[test]
fn backslash_escapes_and_doubled_quotes_work_in_all_three_quote_kinds() {
    let script = r#"SELECT 'a\';b', "c"";d", `e``;f`; SELECT 2;"#;
    assert_eq!(
        sqls(Mysql, script),
        [r#"SELECT 'a\';b', "c"";d", `e``;f`"#, "SELECT 2"]
    );
}

#[test]
fn executable_comments_are_sql_and_plain_comments_before_a_statement_are_dropped() {
    let script = "/*!40101 SET NAMES utf8 */;\n/* note */ SELECT 1;";
    assert_eq!(
        sqls(Mysql, script),
        ["/*!40101 SET NAMES utf8 */", "SELECT 1"]
    );
}

#[test]
fn a_delimiter_inside_an_executable_comment_still_ends_the_statement() {
    // client: sent "SELECT '5;' /*! , 6" and then "*/".
    assert_eq!(
        sqls(Mysql, "SELECT '5;' /*! , 6 ; */ ;"),
        ["SELECT '5;' /*! , 6", "*/"]
    );
}

#[test]
fn backslash_g_and_backslash_upper_g_end_statements_anywhere() {
    // client: three statements.
    let script = "SELECT 7 AS g\\G\nSELECT 8 AS h\\g SELECT 9 AS i;";
    assert_eq!(
        sqls(Mysql, script),
        ["SELECT 7 AS g", "SELECT 8 AS h", "SELECT 9 AS i"]
    );
}

#[test]
fn backslash_c_clears_the_statement_being_typed() {
    let got = split(Mysql, "SELECT 8 \\c\nSELECT 9;");
    assert_eq!(sqls(Mysql, "SELECT 8 \\c\nSELECT 9;"), ["SELECT 9"]);
    assert_eq!(skipped(&got), ["SELECT 8 \\c"]);
}

#[test]
fn use_without_a_delimiter_ends_at_the_end_of_its_line() {
    // client: `use db` runs at the end of the line, then SELECT 14.
    assert_eq!(
        sqls(Mysql, "use sakila\nSELECT 14;"),
        ["use sakila", "SELECT 14"]
    );
}

#[test]
fn delimiter_is_a_command_only_at_the_start_of_a_statement() {
    // client: sent "SELECT 10\ndelimiter" and then SELECT 11.
    assert_eq!(
        sqls(Mysql, "SELECT 10\ndelimiter ;\nSELECT 11;"),
        ["SELECT 10\ndelimiter", "SELECT 11"]
    );
}

#[test]
fn other_client_commands_are_skipped_and_quit_ends_the_script() {
    let script = "source other.sql\nSELECT 1;\nquit\nSELECT 2;";
    let got = split(Mysql, script);
    assert_eq!(sqls(Mysql, script), ["SELECT 1"]);
    assert_eq!(skipped(&got), ["source other.sql", "quit"]);
    assert_eq!(got.warnings.len(), 1);
}

#[test]
fn a_delimiter_line_without_an_argument_keeps_the_old_delimiter_and_warns() {
    let got = split(Mysql, "DELIMITER\nSELECT 1;");
    assert_eq!(got.statements.len(), 1);
    assert_eq!(got.warnings.len(), 1);
    assert_eq!(got.warnings[0].line, 1);
}
