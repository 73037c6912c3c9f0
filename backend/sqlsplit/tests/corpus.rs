//! The Sakila scripts in `shared/corpus/sakila/`, split as the engines' own
//! clients run them. Every expected count was taken from the real client,
//! not from this splitter; the comment next to it says how.

mod support;

use sqlsplit::{split, Dialect, Split, StatementKind};
use support::{kinds, skipped};

/// Reads a corpus file; the repository is cloned beside `shared/`.
fn corpus(name: &str) -> String {
    let path = format!(
        "{}/../../../shared/corpus/sakila/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Checks what must hold for any split and returns it.
fn split_clean(dialect: Dialect, name: &str) -> Split {
    let got = split(dialect, &corpus(name));
    for s in &got.statements {
        let first = s.sql.trim_start();
        assert!(
            !first.is_empty(),
            "{name}: empty statement at line {}",
            s.line
        );
        assert_eq!(
            first.len(),
            s.sql.len(),
            "{name}: leading blanks at line {}",
            s.line
        );
        assert!(
            !first.starts_with("--") && !first.starts_with("/*") && !first.starts_with('#'),
            "{name}: statement at line {} starts with a comment",
            s.line
        );
    }
    got
}

/// (line, first line of text) of the first and the last statement.
fn ends(got: &Split) -> [(usize, &str); 2] {
    let head = |i: usize| {
        let s = &got.statements[i];
        (s.line, s.sql.lines().next().unwrap_or_default())
    };
    [head(0), head(got.statements.len() - 1)]
}

fn starting_with<'a>(got: &'a Split, prefix: &str) -> Vec<&'a str> {
    got.statements
        .iter()
        .map(|s| s.sql.as_str())
        .filter(|s| s.starts_with(prefix))
        .collect()
}

#[test]
fn the_postgres_schema_splits_into_the_225_statements_psql_sends() {
    // 225: psql -X -v ON_ERROR_STOP=0 -f on a fresh database with
    // log_statement = 'all'; the server log had 225 "statement:" lines, and
    // each one's text equals ours plus its ';'.
    let got = split_clean(Dialect::Postgres, "postgres-sakila-schema.sql");
    assert_eq!(got.statements.len(), 225);
    assert!(got.skipped.is_empty() && got.warnings.is_empty(), "{got:?}");
    assert_eq!(
        ends(&got),
        [
            (5, "SET client_encoding = 'UTF8'"),
            (1705, "GRANT ALL ON SCHEMA public TO PUBLIC")
        ]
    );
    // Every function, with its dollar-quoted body, is one statement.
    let functions = starting_with(&got, "CREATE FUNCTION");
    assert_eq!(functions.len(), 9);
    for f in functions {
        let tag = if f.contains("$_$") { "$_$" } else { "$$" };
        assert_eq!(f.matches(tag).count(), 2, "{f}");
        assert!(f.contains("LANGUAGE"), "{f}");
    }
    assert_eq!(starting_with(&got, "CREATE TRIGGER").len(), 15);
}

#[test]
fn the_postgres_drop_script_splits_into_the_45_statements_psql_sends() {
    // 45: same method as the schema (log_statement = 'all').
    let got = split_clean(Dialect::Postgres, "postgres-sakila-drop-objects.sql");
    assert_eq!(got.statements.len(), 45);
    assert_eq!(
        ends(&got),
        [
            (3, "DROP VIEW customer_list"),
            (59, "DROP TYPE mpaa_rating")
        ]
    );
}

#[test]
fn the_mysql_schema_splits_into_the_41_statements_the_client_runs() {
    // 41: `mariadb --force --verbose` (10.11) echoed 40 statements; it also
    // ran `USE sakila;` as its own client command (COM_INIT_DB, not echoed),
    // which we return as SQL because the server runs `USE` the same way.
    let got = split_clean(Dialect::Mysql, "mysql-sakila-schema.sql");
    assert_eq!(got.statements.len(), 41);
    assert_eq!(got.statements[5].sql, "USE sakila");
    assert_eq!(
        ends(&got),
        [
            (
                17,
                "SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0"
            ),
            (642, "SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS")
        ]
    );
    // The 14 DELIMITER lines are client commands.
    assert_eq!(got.skipped.len(), 14);
    assert!(skipped(&got).iter().all(|t| t.starts_with("DELIMITER")));
    // Triggers and routines are single statements ending with their END.
    let triggers = starting_with(&got, "CREATE TRIGGER");
    assert_eq!(triggers.len(), 3);
    let routines = [
        starting_with(&got, "CREATE PROCEDURE"),
        starting_with(&got, "CREATE FUNCTION"),
    ]
    .concat();
    assert_eq!(routines.len(), 6);
    for unit in triggers.iter().chain(&routines) {
        assert!(unit.ends_with("END"), "{unit}");
        assert!(unit.contains(";\n"), "{unit}");
    }
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
}

#[test]
fn the_mysql_drop_script_splits_into_the_29_statements_the_client_runs() {
    // 29: `mariadb --force --verbose` echoed 29 statements.
    let got = split_clean(Dialect::Mysql, "mysql-sakila-drop-objects.sql");
    assert_eq!(got.statements.len(), 29);
    assert_eq!(
        ends(&got),
        [
            (3, "DROP VIEW customer_list"),
            (36, "drop procedure rewards_report")
        ]
    );
}

#[test]
fn the_oracle_schema_splits_into_95_statements_and_skips_49_repeat_slashes() {
    // No Oracle server here; counted by reading, with grep as a check: 16
    // CREATE TABLE + 24 CREATE [UNIQUE] INDEX + 13 CREATE SEQUENCE + 7 ALTER
    // TABLE + 5 CREATE VIEW (the actor_info view is inside /* */) = 65 SQL
    // statements ended by ';', and 30 CREATE OR REPLACE TRIGGER units ended
    // by '/'. The file has 79 '/' lines: 30 end the triggers and 49 follow a
    // statement that already ran at its ';'. SQL*Plus would run those 49 a
    // second time (ORA-00955 and the like); we report them as skipped.
    let got = split_clean(Dialect::Oracle, "oracle-sakila-schema.sql");
    assert_eq!(got.statements.len(), 95);
    let plsql = kinds(&got)
        .iter()
        .filter(|k| **k == StatementKind::PlsqlBlock)
        .count();
    assert_eq!(plsql, 30);
    assert_eq!(got.skipped.len(), 49);
    assert!(skipped(&got).iter().all(|t| *t == "/"));
    assert_eq!(
        ends(&got),
        [
            (19, "CREATE TABLE actor ("),
            (745, "CREATE OR REPLACE VIEW sales_by_film_category")
        ]
    );
    for s in &got.statements {
        match s.kind {
            StatementKind::PlsqlBlock => assert!(s.sql.ends_with("END;"), "{}", s.sql),
            _ => assert!(!s.sql.ends_with(';'), "{}", s.sql),
        }
    }
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
}

#[test]
fn the_oracle_plsql_schema_splits_into_its_20_slash_terminated_units() {
    // Counted by reading: one anonymous BEGIN block, 15 CREATE TYPE (which
    // SQL*Plus reads as PL/SQL, up to '/') and 4 package specs and bodies;
    // the file has exactly 20 '/' lines, the last without a newline.
    let got = split_clean(Dialect::Oracle, "oracle-sakila-schema-pl-sql.sql");
    assert_eq!(got.statements.len(), 20);
    assert!(kinds(&got).iter().all(|k| *k == StatementKind::PlsqlBlock));
    assert_eq!(
        ends(&got),
        [(1, "BEGIN"), (399, "CREATE PACKAGE BODY customers AS")]
    );
    assert_eq!(starting_with(&got, "CREATE TYPE").len(), 15);
    let body = starting_with(&got, "CREATE OR REPLACE PACKAGE BODY RENTALS");
    assert_eq!(body.len(), 1);
    assert!(body[0].ends_with("END RENTALS;"));
    assert!(got.skipped.is_empty() && got.warnings.is_empty(), "{got:?}");
}

#[test]
fn the_oracle_drop_script_splits_into_37_statements() {
    // Counted by reading: 5 DROP VIEW (one is commented out), 16 DROP TABLE,
    // 3 ALTER TABLE and 13 DROP SEQUENCE, each ended by ';'.
    let got = split_clean(Dialect::Oracle, "oracle-sakila-drop-objects.sql");
    assert_eq!(got.statements.len(), 37);
    assert_eq!(
        ends(&got),
        [
            (15, "DROP VIEW customer_list"),
            (66, "DROP SEQUENCE STORE_SEQUENCE")
        ]
    );
}

#[test]
fn the_sqlite_schema_splits_into_the_75_statements_the_shell_runs() {
    // 75: sqlite3 3.40 with `.timer on` printed 75 "Run Time" lines, and the
    // database then held 16 tables + 24 indexes + 30 triggers + 5 views = 75
    // objects in sqlite_master (each statement creates one).
    let got = split_clean(Dialect::Sqlite, "sqlite-sakila-schema.sql");
    assert_eq!(got.statements.len(), 75);
    assert_eq!(
        ends(&got),
        [
            (18, "CREATE TABLE actor ("),
            (595, "CREATE VIEW sales_by_film_category")
        ]
    );
    let triggers = starting_with(&got, "CREATE TRIGGER");
    assert_eq!(triggers.len(), 30);
    assert!(triggers.iter().all(|t| t.ends_with("END")), "{triggers:?}");
    assert!(got.skipped.is_empty() && got.warnings.is_empty(), "{got:?}");
}

#[test]
fn the_sqlite_drop_script_splits_into_the_21_statements_the_shell_runs() {
    // 21: `.timer on` printed 21 "Run Time" lines and sqlite_master was empty.
    let got = split_clean(Dialect::Sqlite, "sqlite-sakila-drop-objects.sql");
    assert_eq!(got.statements.len(), 21);
    assert_eq!(
        ends(&got),
        [(15, "DROP VIEW customer_list"), (59, "DROP TABLE country")]
    );
}
