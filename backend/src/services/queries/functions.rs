//! The function check: before a query's first statement runs, inside its read-only transaction,
//! the runner asks the target what every function the text calls (as the classifier decoded
//! them) really is, and refuses the query when one could act outside the transaction.
//!
//! PostgreSQL — a call is allowed only when every function of that name (every overload; in any
//! schema when the name is unqualified, so `search_path` cannot pick another) is one the target
//! reports as not VOLATILE (`pg_proc.provolatile`), or is in the reviewed [`PG_VOLATILE_ALLOWED`]
//! list in `pg_catalog`. A name the target does not know (neither function nor type) is refused.
//! Also checked, because they call functions the text does not name:
//! - views the text reads (and the views they read, recursively), and the row-security policies
//!   of every relation reached: the function ids in their stored trees (`:funcid`, `:opfuncid`,
//!   `:aggfnoid`, `:winfnoid`), builtins included;
//! - aggregates' step/final/combine functions (an aggregate's own row says IMMUTABLE), and
//!   functions' default argument expressions;
//! - database-wide, since any query may reach them implicitly: operators, casts, operator class
//!   support functions, type I/O functions and domain constraints bound to a VOLATILE function.
//!
//! Functions that run SQL given as text or a relation name ([`classify::RUNS_SQL_TEXT`]) are
//! refused even when the target marks them STABLE (`table_to_xml` of a view runs the view).
//! The rule rests on the volatility the function's author declared: a function marked STABLE
//! that calls `dblink` anyway is out of its reach (that is the query account's job).
//!
//! MySQL/MariaDB — stored functions the text calls (in the current database when unqualified)
//! must be declared `NO SQL` or `READS SQL DATA`; `CONTAINS SQL` (the default) and
//! `MODIFIES SQL DATA` ones are refused. Built-ins are the classifier's (`GET_LOCK`, `LOAD_FILE`).
//!
//! Oracle — a call of a function or package owned by a schema that is not Oracle-maintained is
//! refused when its source (package body included) contains `PRAGMA AUTONOMOUS_TRANSACTION`
//! (it would commit inside the read-only transaction), or when that source cannot be read here.

use super::classify::{Checked, RUNS_SQL_TEXT};
use super::names::ObjectRef;
use crate::connectors::{Cell, DbError, Engine, TargetConnection, VecSink};

/// VOLATILE built-ins (`pg_catalog` only) a query may call: they read clocks, sizes, WAL
/// positions or random numbers, or sleep (bounded by the statement's time limit).
pub const PG_VOLATILE_ALLOWED: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "clock_timestamp",
    "timeofday",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_relation_size",
    "pg_total_relation_size",
    "pg_table_size",
    "pg_indexes_size",
    "pg_database_size",
    "pg_tablespace_size",
    "pg_is_in_recovery",
    "pg_is_wal_replay_paused",
    "pg_current_wal_lsn",
    "pg_current_wal_insert_lsn",
    "pg_current_wal_flush_lsn",
    "pg_last_wal_receive_lsn",
    "pg_last_wal_replay_lsn",
    "pg_last_xact_replay_timestamp",
];

/// Error code of a refusal by this check, in the result (`error_code`).
pub const REFUSED_CODE: &str = "function_check";

/// Runs the check for `statements` on `conn` (inside the read-only transaction). `Err` is the
/// message for the user; a check that cannot run refuses too.
pub fn check(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    statements: &[Checked],
) -> Result<(), String> {
    let mut calls: Vec<ObjectRef> = statements.iter().flat_map(|s| s.calls.clone()).collect();
    let mut relations: Vec<ObjectRef> = statements
        .iter()
        .flat_map(|s| s.relations.clone())
        .collect();
    calls.sort();
    calls.dedup();
    relations.sort();
    relations.dedup();
    let sql = match engine {
        Engine::Postgres => postgres_sql(&calls, &relations),
        Engine::Mysql if !calls.is_empty() => mysql_sql(&calls),
        Engine::Oracle if !calls.is_empty() => oracle_sql(&calls),
        _ => return Ok(()),
    };
    let mut sink = VecSink::new(10);
    conn.execute(&sql, &mut sink).map_err(|e: DbError| {
        format!("AutoDB could not check the functions this query calls, so it was not run: {e}")
    })?;
    let found: Vec<(String, String)> = sink
        .rows
        .iter()
        .map(|r| (text(r.first()), text(r.get(1))))
        .collect();
    match found.first() {
        None => Ok(()),
        Some((kind, what)) => Err(explain(kind, what, found.len())),
    }
}

fn text(c: Option<&Cell>) -> String {
    match c {
        Some(Cell::Text(s)) => s.clone(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn explain(kind: &str, what: &str, n: usize) -> String {
    let why = match kind {
        "unknown" => format!("calls {what}(), which the target does not know as a function"),
        "volatile" => format!(
            "calls {what}(), which the target reports as VOLATILE (it may act outside the \
             read-only transaction); queries may call only STABLE or IMMUTABLE functions"
        ),
        "runs_sql" => format!("calls {what}(), which runs SQL given as text or a relation name"),
        "operator" | "cast" | "opclass" | "type" | "domain" => format!(
            "cannot run on this target: its {kind} {what} is bound to a VOLATILE function, which \
             any query could call without naming it"
        ),
        "modifies" => format!(
            "calls the stored function {what}(), which is not declared NO SQL or READS SQL DATA"
        ),
        "autonomous" => format!(
            "calls {what}, whose code has PRAGMA AUTONOMOUS_TRANSACTION (it commits inside \
             the read-only transaction)"
        ),
        "unreadable" => {
            format!("calls {what}, whose source cannot be read here to check it")
        }
        other => format!("was refused by the function check ({other} {what})"),
    };
    let more = if n > 1 {
        format!(" (and {} more)", n - 1)
    } else {
        String::new()
    };
    format!("{why}{more}; not run")
}

/// A PostgreSQL string literal that means the same whatever `standard_conforming_strings` is.
fn pg_literal(s: &str) -> String {
    format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn pg_array<'a>(items: impl Iterator<Item = Option<&'a str>>) -> String {
    let items: Vec<String> = items
        .map(|i| i.map_or_else(|| "NULL".to_string(), pg_literal))
        .collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

fn pg_names(refs: &[ObjectRef]) -> String {
    format!(
        "SELECT * FROM ROWS FROM (pg_catalog.unnest({}), pg_catalog.unnest({})) AS w(nsp, name)",
        pg_array(refs.iter().map(|r| r.schema.as_deref())),
        pg_array(refs.iter().map(|r| Some(r.name.as_str())))
    )
}

/// Function ids in a stored expression tree (`pg_node_tree` as text).
const NODE_FUNCS: &str = r"':(?:funcid|opfuncid|aggfnoid|winfnoid) (\d+)'";

/// The PostgreSQL check: one row (kind, what) per problem, none when the query may run.
pub fn postgres_sql(calls: &[ObjectRef], relations: &[ObjectRef]) -> String {
    let allowed = pg_array(PG_VOLATILE_ALLOWED.iter().map(|s| Some(*s)));
    let runs_sql = pg_array(RUNS_SQL_TEXT.iter().map(|s| Some(*s)));
    let called = pg_names(calls);
    let named = pg_names(relations);
    let same = |col: &str, nsp: &str| {
        format!(
            "pg_catalog.lower({col}) = pg_catalog.lower(w.name) \
             AND (w.nsp IS NULL OR pg_catalog.lower({nsp}) = pg_catalog.lower(w.nsp))"
        )
    };
    let proc_match = same("p.proname", "n.nspname");
    let rel_match = same("c.relname", "n.nspname");
    let type_match = same("t.typname", "n.nspname");
    let volatile = format!(
        "p.provolatile = 'v' AND NOT (p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace \
         AND p.proname = ANY ({allowed}))"
    );
    format!(
        "WITH RECURSIVE called AS ({called}), named AS ({named}),
rel(oid) AS (
  SELECT c.oid FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN named w ON {rel_match}
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION
  SELECT c.oid FROM rel
    JOIN pg_catalog.pg_rewrite r ON r.ev_class = rel.oid
    CROSS JOIN LATERAL pg_catalog.regexp_matches(r.ev_action::text, ':relid (\\d+)', 'g') m
    JOIN pg_catalog.pg_class c ON c.oid = m[1]::oid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
),
fn(oid) AS (
  SELECT p.oid FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    JOIN called w ON {proc_match}
  UNION
  SELECT m[1]::oid FROM rel
    JOIN pg_catalog.pg_rewrite r ON r.ev_class = rel.oid
    CROSS JOIN LATERAL pg_catalog.regexp_matches(r.ev_action::text, {NODE_FUNCS}, 'g') m
  UNION
  SELECT m[1]::oid FROM rel
    JOIN pg_catalog.pg_policy po ON po.polrelid = rel.oid
    CROSS JOIN LATERAL pg_catalog.regexp_matches(
      coalesce(po.polqual::text, '') || ' ' || coalesce(po.polwithcheck::text, ''),
      {NODE_FUNCS}, 'g') m
),
fn_all(oid) AS (
  SELECT oid FROM fn
  UNION
  SELECT s.f::oid FROM fn
    JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = fn.oid
    CROSS JOIN LATERAL (VALUES (a.aggtransfn), (a.aggfinalfn), (a.aggcombinefn),
      (a.aggserialfn), (a.aggdeserialfn), (a.aggmtransfn), (a.aggminvtransfn),
      (a.aggmfinalfn)) s(f)
  UNION
  SELECT m[1]::oid FROM fn
    JOIN pg_catalog.pg_proc p ON p.oid = fn.oid
    CROSS JOIN LATERAL pg_catalog.regexp_matches(coalesce(p.proargdefaults::text, ''),
      {NODE_FUNCS}, 'g') m
)
SELECT kind, what FROM (
  SELECT 1 AS o, 'unknown' AS kind, coalesce(w.nsp || '.', '') || w.name AS what FROM called w
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE {proc_match})
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE {type_match})
  UNION ALL
  SELECT 2, 'runs_sql', n.nspname || '.' || p.proname FROM fn_all f
    JOIN pg_catalog.pg_proc p ON p.oid = f.oid
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE p.proname = ANY ({runs_sql})
  UNION ALL
  SELECT 3, 'volatile', n.nspname || '.' || p.proname FROM fn_all f
    JOIN pg_catalog.pg_proc p ON p.oid = f.oid
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE {volatile}
  UNION ALL
  SELECT 4, 'operator', o.oprnamespace::pg_catalog.regnamespace::text || '.' || o.oprname
    FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode WHERE {volatile}
  UNION ALL
  SELECT 5, 'cast', pg_catalog.format_type(c.castsource, NULL) || ' AS '
      || pg_catalog.format_type(c.casttarget, NULL)
    FROM pg_catalog.pg_cast c JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc WHERE {volatile}
  UNION ALL
  SELECT 6, 'opclass', a.amprocfamily::text
    FROM pg_catalog.pg_amproc a JOIN pg_catalog.pg_proc p ON p.oid = a.amproc WHERE {volatile}
  UNION ALL
  SELECT 7, 'type', pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_proc p ON p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend,
      t.typmodin, t.typmodout, t.typanalyze, t.typsubscript)
  WHERE {volatile}
  UNION ALL
  SELECT 8, 'domain', pg_catalog.format_type(con.contypid, NULL)
    FROM pg_catalog.pg_constraint con
    CROSS JOIN LATERAL pg_catalog.regexp_matches(coalesce(con.conbin::text, ''), {NODE_FUNCS}, 'g') m
    JOIN pg_catalog.pg_proc p ON p.oid = m[1]::oid
  WHERE con.contypid <> 0 AND {volatile}
) problems ORDER BY o, what LIMIT 10"
    )
}

/// A MySQL/MariaDB string literal (backslashes escape unless NO_BACKSLASH_ESCAPES; doubling
/// quotes and escaping backslashes is right both ways only without that mode, so names with
/// either character are refused before they get here).
fn my_literal(s: &str) -> Option<String> {
    (!s.contains('\\') && !s.contains('\'')).then(|| format!("'{s}'"))
}

/// The MySQL/MariaDB check: stored functions called that may write or act on the session.
pub fn mysql_sql(calls: &[ObjectRef]) -> String {
    let mut ors = vec![];
    for c in calls {
        let (Some(name), schema) = (my_literal(&c.name), c.schema.as_deref().map(my_literal))
        else {
            ors.push("TRUE".to_string());
            continue;
        };
        ors.push(match schema {
            None => format!("(LOWER(ROUTINE_NAME) = {name} AND ROUTINE_SCHEMA = DATABASE())"),
            Some(Some(s)) => {
                format!("(LOWER(ROUTINE_NAME) = {name} AND LOWER(ROUTINE_SCHEMA) = {s})")
            }
            Some(None) => "TRUE".to_string(),
        });
    }
    format!(
        "SELECT 'modifies', CONCAT(ROUTINE_SCHEMA, '.', ROUTINE_NAME) \
         FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'FUNCTION' \
         AND SQL_DATA_ACCESS NOT IN ('NO SQL', 'READS SQL DATA') AND ({}) LIMIT 10",
        ors.join(" OR ")
    )
}

/// An Oracle string literal (quotes doubled; no other escapes exist).
fn ora_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The Oracle check: user code called that has an autonomous transaction, or cannot be read.
/// `f` may be a function in any schema (through a synonym); `a.f` the function `f` of schema
/// `a` or the function `f` of package `a`.
pub fn oracle_sql(calls: &[ObjectRef]) -> String {
    let mut ors = vec![];
    for c in calls {
        let name = ora_literal(&c.name);
        ors.push(match &c.schema {
            None => format!(
                "(p.object_name = {name} AND p.procedure_name IS NULL) \
                 OR p.object_name IN (SELECT s.table_name FROM all_synonyms s \
                 WHERE s.synonym_name = {name})"
            ),
            Some(s) => {
                let s = ora_literal(s);
                format!(
                    "(p.owner = {s} AND p.object_name = {name} AND p.procedure_name IS NULL) \
                     OR (p.object_name = {s} AND p.procedure_name = {name})"
                )
            }
        });
    }
    format!(
        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM all_source b WHERE b.owner = p.owner \
         AND b.name = p.object_name AND b.type IN ('FUNCTION', 'PACKAGE BODY', 'TYPE BODY')) \
         OR EXISTS (SELECT 1 FROM all_source w WHERE w.owner = p.owner \
         AND w.name = p.object_name AND w.line = 1 AND REGEXP_LIKE(w.text, '\\swrapped', 'i')) \
         THEN 'unreadable' ELSE 'autonomous' END, \
         p.owner || '.' || p.object_name || NVL2(p.procedure_name, '.' || p.procedure_name, '') \
         FROM all_procedures p JOIN all_users u ON u.username = p.owner \
         WHERE u.oracle_maintained = 'N' AND p.object_type IN ('FUNCTION', 'PACKAGE', 'TYPE') \
         AND ({}) \
         AND (NOT EXISTS (SELECT 1 FROM all_source b WHERE b.owner = p.owner \
         AND b.name = p.object_name AND b.type IN ('FUNCTION', 'PACKAGE BODY', 'TYPE BODY')) \
         OR EXISTS (SELECT 1 FROM all_source a WHERE a.owner = p.owner \
         AND a.name = p.object_name \
         AND REGEXP_LIKE(a.text, 'PRAGMA\\s+AUTONOMOUS_TRANSACTION', 'i')) \
         OR EXISTS (SELECT 1 FROM all_source w WHERE w.owner = p.owner \
         AND w.name = p.object_name AND w.line = 1 AND REGEXP_LIKE(w.text, '\\swrapped', 'i'))) \
         FETCH FIRST 10 ROWS ONLY",
        ors.join(" OR ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(schema: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            schema: schema.map(str::to_string),
            name: name.into(),
        }
    }

    #[test]
    fn postgresql_names_reach_the_check_as_literals_whatever_they_contain() {
        let sql = postgres_sql(&[r(Some("s'x"), "f\\'; DROP")], &[]);
        assert!(
            sql.contains(r"pg_catalog.unnest(ARRAY[E's''x']::text[]), pg_catalog.unnest(ARRAY[E'f\\''; DROP']::text[])"),
            "{sql}"
        );
        let empty = postgres_sql(&[], &[r(None, "v")]);
        assert!(
            empty.contains("unnest(ARRAY[]::text[]), pg_catalog.unnest(ARRAY[]::text[])"),
            "{empty}"
        );
        assert!(
            empty.contains("unnest(ARRAY[NULL]::text[]), pg_catalog.unnest(ARRAY[E'v']::text[])")
        );
        // Every catalog object is schema-qualified: a user's own pg_proc cannot stand in.
        for table in [
            "pg_proc",
            "pg_class",
            "pg_rewrite",
            "pg_operator",
            "pg_cast",
        ] {
            let bare = format!(" {table} ");
            assert!(!sql.contains(&bare), "{table} is not qualified");
        }
    }

    #[test]
    fn mysql_check_asks_for_stored_functions_not_declared_read_only() {
        let sql = mysql_sql(&[r(None, "f"), r(Some("other"), "g")]);
        assert_eq!(
            sql,
            "SELECT 'modifies', CONCAT(ROUTINE_SCHEMA, '.', ROUTINE_NAME) \
             FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'FUNCTION' \
             AND SQL_DATA_ACCESS NOT IN ('NO SQL', 'READS SQL DATA') AND \
             ((LOWER(ROUTINE_NAME) = 'f' AND ROUTINE_SCHEMA = DATABASE()) OR \
             (LOWER(ROUTINE_NAME) = 'g' AND LOWER(ROUTINE_SCHEMA) = 'other')) LIMIT 10"
        );
        // A name the literal cannot carry safely matches every stored function: refused if any.
        assert!(mysql_sql(&[r(None, "a'b")]).contains("AND (TRUE)"));
    }

    #[test]
    fn oracle_check_looks_for_autonomous_transactions_in_user_code() {
        let sql = oracle_sql(&[r(None, "F'X"), r(Some("PKG"), "FN")]);
        assert!(sql.contains("p.object_name = 'F''X' AND p.procedure_name IS NULL"));
        assert!(sql.contains("s.synonym_name = 'F''X'"));
        assert!(sql.contains("(p.owner = 'PKG' AND p.object_name = 'FN' AND p.procedure_name IS NULL) OR (p.object_name = 'PKG' AND p.procedure_name = 'FN')"));
        assert!(sql.contains("REGEXP_LIKE(a.text, 'PRAGMA\\s+AUTONOMOUS_TRANSACTION', 'i')"));
        assert!(sql.contains("u.oracle_maintained = 'N'"));
        assert!(sql.ends_with("FETCH FIRST 10 ROWS ONLY"));
    }

    #[test]
    fn a_refusal_names_the_function_and_why() {
        let e = explain("volatile", "public.evil", 3);
        assert!(e.contains("public.evil()"), "{e}");
        assert!(e.contains("VOLATILE"), "{e}");
        assert!(e.contains("(and 2 more)"), "{e}");
        assert!(explain("unknown", "nope", 1).contains("does not know"));
    }
}
