//! The query classifier: decides, before anything is sent, whether SQL is made only of queries.
//! Pure (no I/O), one function, [`classify`].
//!
//! It is the first of two locks, and the weaker one: the second is the database's own read-only
//! transaction, which the runner always opens and always rolls back. The classifier exists to
//! answer clearly ("statement 2 is a DELETE, not a query") and to stop what a read-only
//! transaction does not (a `COMMIT` that would end it, `SET` that would lift the timeout, locking
//! reads, session-level side effects of well-known functions).
//!
//! Rules:
//! 1. The text is split as the engine's own client would (`sqlsplit`); client commands (psql
//!    `\…`, `DELIMITER`, SQL*Plus `SET`…) are refused, so what is classified is what is sent.
//! 2. Each piece is parsed by `sqlparser` with the engine's dialect and must be exactly ONE
//!    statement. A piece the parser cannot read is refused: unparseable never means allowed.
//! 3. Allowed statements: a query (`SELECT`, `WITH … SELECT`, `VALUES`, `TABLE t`, set
//!    operations); `EXPLAIN [ANALYZE]` of an allowed query (ANALYZE runs the query, which is
//!    exactly as safe as running it); `SHOW …` and `DESCRIBE t` (reads of settings and the
//!    catalog); on SQLite, the introspection pragmas in [`READ_PRAGMAS`] without `=`.
//! 4. Inside an allowed statement, anywhere (CTEs, subqueries, `EXPLAIN`'s inner statement):
//!    no data-modifying statement (`WITH d AS (DELETE …)`), no `SELECT … INTO`, no locking read
//!    (`FOR UPDATE/SHARE`, `LOCK IN SHARE MODE`), no call of a function in [`DENIED_FUNCTIONS`]
//!    (effects outside the transaction, or on the session's limits) or [`RUNS_SQL_TEXT`]
//!    (functions that run SQL they are given as text). Names are compared as the engine decodes
//!    them ([`super::names`]: PostgreSQL `U&"…"` escapes and `UESCAPE`, quoting, case, schema),
//!    and every call and relation is collected in [`Checked`] for the runner's function check
//!    on the target ([`super::functions`]), which is what holds when the name says nothing.
//! 5. MySQL/MariaDB: `/*! … */` executable comments are read as code (the parser expands them);
//!    MariaDB's `/*M! … */` ones are refused.
//!
//! 6. Oracle: `@` (a database link) is refused anywhere outside strings.
//!
//! What it cannot know: what a user-defined function does. The function check asks the target
//! (volatility, views, autonomous transactions); the read-only transaction stops writes made in
//! the same session; a least-privilege query account (`query_username`) bounds the rest.

use std::collections::BTreeSet;

use sqlparser::ast::{Expr, FunctionArguments, ObjectName, ObjectNamePart, Query, Select};
use sqlparser::ast::{SetExpr, Statement, TableFactor, Visit, Visitor};
use sqlparser::dialect::{Dialect, MySqlDialect, OracleDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use std::ops::ControlFlow;

use super::names::{self, ObjectRef};
use crate::connectors::Engine;
use crate::services::error::Msg;

/// One statement that passed, as it will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub sql: String,
    /// 1-based line of its first token in the submitted text.
    pub line: usize,
    /// Every function the text calls, named as the engine decodes it (PostgreSQL: U& escapes,
    /// quoting, case, schema). The runner asks the target what each one is before running.
    pub calls: Vec<ObjectRef>,
    /// Every relation the text names (tables, views, and CTE names, which match nothing): a
    /// view runs the functions in its definition.
    pub relations: Vec<ObjectRef>,
}

/// Functions that run SQL given as text or a name (`query_to_xml('select …')`,
/// `table_to_xml('a_view')`), where neither the classifier nor the function check can see what
/// runs. Refused by name in every schema, and again by the runner when a view calls them.
pub const RUNS_SQL_TEXT: &[&str] = &[
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "table_to_xml",
    "table_to_xmlschema",
    "table_to_xml_and_xmlschema",
    "schema_to_xml",
    "schema_to_xmlschema",
    "schema_to_xml_and_xmlschema",
    "database_to_xml",
    "database_to_xmlschema",
    "database_to_xml_and_xmlschema",
    "ts_stat",
    "ts_rewrite",
];

/// PostgreSQL expressions that look like calls but are grammar, not functions in `pg_proc`
/// (only when written unquoted and unqualified: `"coalesce"(x)` is a function call).
const PG_SYNTAX: &[&str] = &[
    "coalesce", "nullif", "greatest", "least", "grouping", "row", "array",
];

/// SQL value keywords, written without parentheses (`CURRENT_TIMESTAMP`, `current_user`).
const VALUE_KEYWORDS: &[&str] = &[
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "current_role",
    "session_user",
    "system_user",
    "user",
    "current_catalog",
    "current_schema",
    "sysdate",
    "systimestamp",
];

/// Functions refused wherever they appear: their effects escape the read-only transaction
/// (other sessions, other servers, the file system, the server's configuration) or change the
/// session's own limits (`set_config('statement_timeout', …)`). Compared case-insensitively on
/// the last part of the name, so `pg_catalog.PG_TERMINATE_BACKEND` is caught too. Not a complete
/// list: a least-privilege query account is the real boundary.
pub const DENIED_FUNCTIONS: &[&str] = &[
    // PostgreSQL: other sessions, server, configuration.
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_log_backend_memory_contexts",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_replication_origin_create",
    "set_config",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_notify",
    // PostgreSQL: sequences and large objects (the read-only transaction refuses them too).
    "nextval",
    "setval",
    "lo_import",
    "lo_export",
    "lo_unlink",
    "lo_create",
    "lo_creat",
    "lo_put",
    "lo_from_bytea",
    // PostgreSQL extensions that reach other servers or the file system.
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_send_query",
    "dblink_open",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "dblink_exec_u",
    "dblink_get_result",
    "dblink_fetch",
    "dblink_close",
    "dblink_disconnect",
    "dblink_cancel_query",
    // PostgreSQL: the server's files and programs, transaction-level locks, other backends.
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_all",
    "pg_signal_backend",
    "pg_logical_emit_message",
    "lo_open",
    "lowrite",
    "loread",
    "lo_get",
    "lo_truncate",
    // MySQL/MariaDB: session-level locks, server files, well-known shell UDFs.
    "get_lock",
    "release_lock",
    "release_all_locks",
    "load_file",
    "sys_exec",
    "sys_eval",
    // SQLite: native code.
    "load_extension",
    "fts3_tokenizer",
];

/// SQLite pragmas that only read (introspection); any other pragma, and any `PRAGMA x = v`, is
/// refused (`PRAGMA query_only = OFF` would lift the read-only guard).
pub const READ_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "database_list",
    "collation_list",
    "compile_options",
    "function_list",
    "module_list",
    "pragma_list",
];

fn dialect(engine: Engine) -> Box<dyn Dialect> {
    match engine {
        Engine::Postgres => Box::new(PostgreSqlDialect {}),
        Engine::Mysql => Box::new(MySqlDialect {}),
        Engine::Oracle => Box::new(OracleDialect {}),
        Engine::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// Splits and classifies `sql` for `engine`. `Err` is the message for the user (a 400 on `sql`).
/// Each statement is parsed as the server will read its names: on PostgreSQL, `U&"…"`
/// identifiers are decoded first; on Oracle, `@` (a database link) is refused.
pub fn classify(engine: Engine, sql: &str) -> Result<Vec<Checked>, Msg> {
    let split = sqlsplit::split(engine.dialect(), sql);
    if let Some(skipped) = split.skipped.first() {
        let command = crate::services::truncate(&skipped.text, 60);
        return Err(Msg::new(
            "client_command",
            format!(
                "line {}: `{command}` is a client command ({}); only SQL queries can run here",
                skipped.line, skipped.reason
            ),
        )
        .with("line", skipped.line)
        .with("command", command));
    }
    if split.statements.is_empty() {
        return Err(Msg::new("no_statement_to_run", "has no statement to run"));
    }
    let dialect = dialect(engine);
    let mut out = Vec::with_capacity(split.statements.len());
    for (i, stmt) in split.statements.iter().enumerate() {
        let n = i + 1;
        // The refusal of statement `n`: "is a DELETE, not a query" is catalogued by its kind;
        // the others carry their English detail.
        let at = |what: Msg| {
            let text = format!("statement {n} (line {}) {what}", stmt.line);
            let msg = match what.params.get("kind") {
                Some(kind) if what.reason == Some("not_query") => {
                    Msg::new("statement_not_query", text).with("kind", kind.clone())
                }
                _ => Msg::new("statement_refused", text).with("detail", what.text),
            };
            msg.with("n", n).with("line", stmt.line)
        };
        if stmt.kind != sqlsplit::StatementKind::Sql {
            return Err(at(
                Msg::new("not_query", "is a PL/SQL block, not a query").with("kind", "PL/SQL")
            ));
        }
        check_comments(engine, dialect.as_ref(), &stmt.sql).map_err(|e| at(e.into()))?;
        check_db_links(engine, dialect.as_ref(), &stmt.sql).map_err(|e| at(e.into()))?;
        let text = if engine == Engine::Postgres {
            names::decode_unicode_identifiers(dialect.as_ref(), &stmt.sql)
                .map_err(|e| at(e.into()))?
        } else {
            std::borrow::Cow::Borrowed(stmt.sql.as_str())
        };
        let parsed = Parser::parse_sql(dialect.as_ref(), &text).map_err(|e| {
            at(format!(
                "could not be parsed as a query ({e}); statements that are not recognisably \
                 queries are not run"
            )
            .into())
        })?;
        let [only] = parsed.as_slice() else {
            return Err(at(format!(
                "reads as {} statements to the SQL parser; send one statement at a time",
                parsed.len()
            )
            .into()));
        };
        let inner = check_statement(engine, only).map_err(at)?;
        out.push(Checked {
            sql: stmt.sql.clone(),
            line: stmt.line,
            calls: inner.calls.into_iter().collect(),
            relations: inner.relations.into_iter().collect(),
        });
    }
    Ok(out)
}

/// MariaDB runs the text of `/*M! … */` comments; the parser would not see it.
fn check_comments(engine: Engine, dialect: &dyn Dialect, sql: &str) -> Result<(), String> {
    if engine != Engine::Mysql {
        return Ok(());
    }
    let tokens = Tokenizer::new(dialect, sql)
        .tokenize()
        .map_err(|e| format!("could not be read ({e})"))?;
    let executable = tokens.iter().any(|t| {
        matches!(t, Token::Whitespace(Whitespace::MultiLineComment(c))
            if c.starts_with("M!") || c.starts_with('!'))
    });
    if executable {
        return Err(
            "has an executable comment (/*! … */ or /*M! … */), which is not allowed here".into(),
        );
    }
    Ok(())
}

/// Oracle reaches another database through `name@link`; no query may.
fn check_db_links(engine: Engine, dialect: &dyn Dialect, sql: &str) -> Result<(), String> {
    if engine != Engine::Oracle {
        return Ok(());
    }
    let tokens = Tokenizer::new(dialect, sql)
        .tokenize()
        .map_err(|e| format!("could not be read ({e})"))?;
    let link = tokens.iter().any(|t| match t {
        Token::AtSign => true,
        Token::Word(w) => w.quote_style.is_none() && w.value.contains('@'),
        _ => false,
    });
    if link {
        return Err(
            "names a database link (@), which reaches another database; not allowed here".into(),
        );
    }
    Ok(())
}

/// Whether the top-level statement is an allowed kind, then whether anything inside it is not.
/// Returns what the statement calls and reads, for the runner's check on the target.
fn check_statement(engine: Engine, stmt: &Statement) -> Result<Inner, Msg> {
    match stmt {
        Statement::Query(_) => {}
        Statement::Explain { statement, .. } => {
            if !matches!(**statement, Statement::Query(_)) {
                return Err(format!(
                    "is an EXPLAIN of {}, not of a query",
                    article(&kind_of(statement))
                )
                .into());
            }
        }
        Statement::ExplainTable { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowCharset(_)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. }
        | Statement::ShowProcessList { .. } => {}
        Statement::Pragma { name, is_eq, .. } if engine == Engine::Sqlite => {
            let pragma = last_name(name);
            if *is_eq || !READ_PRAGMAS.contains(&pragma.as_str()) {
                return Err(format!(
                    "is PRAGMA {pragma}, which can change the connection; only the \
                     introspection pragmas ({}) are allowed",
                    READ_PRAGMAS.join(", ")
                )
                .into());
            }
            return Ok(Inner::new(engine));
        }
        other => {
            let kind = kind_of(other);
            return Err(
                Msg::new("not_query", format!("is {}, not a query", article(&kind)))
                    .with("kind", kind),
            );
        }
    }
    let mut inner = Inner::new(engine);
    match stmt.visit(&mut inner) {
        ControlFlow::Break(why) => Err(why.into()),
        ControlFlow::Continue(()) => Ok(inner),
    }
}

/// Walks everything inside an allowed statement, collecting what it calls and reads.
struct Inner {
    engine: Engine,
    depth: usize,
    calls: BTreeSet<ObjectRef>,
    relations: BTreeSet<ObjectRef>,
}

impl Inner {
    fn new(engine: Engine) -> Self {
        Self {
            engine,
            depth: 0,
            calls: BTreeSet::new(),
            relations: BTreeSet::new(),
        }
    }

    /// Records a call after the name checks: denied names (case-insensitively, in any schema)
    /// and names that are not identifiers are refused.
    fn call(&mut self, name: &ObjectName) -> ControlFlow<String> {
        denied(name)?;
        let Some(called) = names::object(self.engine, name) else {
            return ControlFlow::Break(format!(
                "calls {name}, whose name is computed; only plain function names are allowed"
            ));
        };
        let lower = called.name.to_lowercase();
        if DENIED_FUNCTIONS.contains(&lower.as_str()) || RUNS_SQL_TEXT.contains(&lower.as_str()) {
            return ControlFlow::Break(refusal(&called.to_string()));
        }
        self.calls.insert(called);
        ControlFlow::Continue(())
    }

    /// Whether `f` is grammar that looks like a call (`COALESCE(…)`, `CURRENT_TIMESTAMP`).
    fn is_syntax(&self, f: &sqlparser::ast::Function) -> bool {
        let [ObjectNamePart::Identifier(i)] = f.name.0.as_slice() else {
            return false;
        };
        if i.quote_style.is_some() {
            return false;
        }
        let lower = i.value.to_lowercase();
        let value_keyword =
            matches!(f.args, FunctionArguments::None) && VALUE_KEYWORDS.contains(&lower.as_str());
        value_keyword || (self.engine == Engine::Postgres && PG_SYNTAX.contains(&lower.as_str()))
    }

    fn relation(&mut self, name: &ObjectName) {
        if let Some(r) = names::object(self.engine, name) {
            self.relations.insert(r);
        }
    }

    /// `TABLE t` (anywhere in a set operation) reads `t`.
    fn table_commands(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Table(t) => {
                if let Some(name) = &t.table_name {
                    self.relations.insert(ObjectRef {
                        schema: t.schema_name.as_ref().map(|s| names::ident(self.engine, s)),
                        name: names::ident(self.engine, name),
                    });
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.table_commands(left);
                self.table_commands(right);
            }
            _ => {}
        }
    }
}

impl Visitor for Inner {
    type Break = String;

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<String> {
        self.depth += 1;
        // The top level was checked; a nested statement may only be a query (EXPLAIN's).
        if self.depth > 1 && !matches!(s, Statement::Query(_)) {
            return ControlFlow::Break(format!(
                "contains {} (a data-modifying statement inside a query)",
                article(&kind_of(s))
            ));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, _: &Statement) -> ControlFlow<String> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<String> {
        self.table_commands(&q.body);
        if let Some(lock) = q.locks.first() {
            return ControlFlow::Break(format!(
                "is a locking read (FOR {}), which takes row locks; remove the locking clause",
                lock.lock_type.to_string().to_uppercase()
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<String> {
        if s.into.is_some() {
            return ControlFlow::Break(
                "is a SELECT … INTO, which writes (a new table, variables or a file), not a query"
                    .into(),
            );
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<String> {
        match e {
            Expr::Function(f) if self.is_syntax(f) => ControlFlow::Continue(()),
            Expr::Function(f) => self.call(&f.name),
            // Plain functions on PostgreSQL (found through search_path), not grammar; the
            // comma forms of SUBSTRING and OVERLAY are too.
            Expr::Ceil { .. } => self.call(&plain("ceil")),
            Expr::Floor { .. } => self.call(&plain("floor")),
            Expr::Substring { .. } => self.call(&plain("substring")),
            Expr::Overlay { .. } => self.call(&plain("overlay")),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<String> {
        match t {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.call(name),
            TableFactor::Table {
                name, args: None, ..
            } => {
                self.relation(name);
                ControlFlow::Continue(())
            }
            // `FROM unnest(…)`: a plain function on PostgreSQL (found through search_path).
            TableFactor::UNNEST { .. } => {
                self.call(&ObjectName::from(vec![sqlparser::ast::Ident::new(
                    "unnest",
                )]))
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// An unqualified, unquoted function name.
fn plain(name: &str) -> ObjectName {
    ObjectName::from(vec![sqlparser::ast::Ident::new(name)])
}

fn refusal(f: &str) -> String {
    format!(
        "calls {f}(), which has effects outside a read-only transaction or on the session, \
         or runs SQL it is given as text; it is not allowed in queries"
    )
}

fn denied(name: &ObjectName) -> ControlFlow<String> {
    let f = last_name(name);
    if DENIED_FUNCTIONS.contains(&f.as_str()) || RUNS_SQL_TEXT.contains(&f.as_str()) {
        return ControlFlow::Break(refusal(&f));
    }
    ControlFlow::Continue(())
}

fn last_name(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.to_lowercase(),
        Some(ObjectNamePart::Function(f)) => f.name.value.to_lowercase(),
        None => String::new(),
    }
}

/// Modifiers skipped when naming a statement: `CREATE OR REPLACE TEMPORARY VIEW` is a CREATE VIEW.
const MODIFIERS: &[&str] = &[
    "OR",
    "REPLACE",
    "TEMPORARY",
    "TEMP",
    "UNIQUE",
    "GLOBAL",
    "LOCAL",
    "UNLOGGED",
    "EXTERNAL",
    "MATERIALIZED",
    "RECURSIVE",
    "IF",
    "NOT",
    "EXISTS",
];

/// The statement's kind as its leading keywords: "DELETE", "CREATE TABLE", "SET".
fn kind_of(s: &Statement) -> String {
    let text = s.to_string();
    let mut words = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase);
    let Some(first) = words.next() else {
        return "an empty statement".into();
    };
    if matches!(
        first.as_str(),
        "CREATE" | "ALTER" | "DROP" | "TRUNCATE" | "LOCK"
    ) {
        if let Some(object) = words.find(|w| !MODIFIERS.contains(&w.as_str())) {
            return format!("{first} {object}");
        }
    }
    first
}

fn article(kind: &str) -> String {
    let vowel = kind
        .chars()
        .next()
        .is_some_and(|c| "AEIOU".contains(c.to_ascii_uppercase()));
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(engine: Engine, sql: &str) -> String {
        match classify(engine, sql) {
            Ok(ok) => format!("ALLOWED: {ok:?}"),
            Err(e) => e.text,
        }
    }

    fn allowed(engine: Engine, sql: &str) -> Vec<Checked> {
        match classify(engine, sql) {
            Ok(ok) => ok,
            Err(e) => panic!("{sql:?} was refused: {e}"),
        }
    }

    #[test]
    fn plain_queries_pass_on_every_engine() {
        for engine in [
            Engine::Postgres,
            Engine::Mysql,
            Engine::Sqlite,
            Engine::Oracle,
        ] {
            allowed(engine, "SELECT 1");
            allowed(
                engine,
                "select a, count(*) from t where b > 2 group by a order by 2",
            );
            allowed(engine, "WITH x AS (SELECT 1 AS a) SELECT a FROM x");
            allowed(engine, "SELECT 1 UNION ALL SELECT 2");
        }
        allowed(
            Engine::Postgres,
            "SELECT g, md5(g::text) FROM generate_series(1, 10) g",
        );
        allowed(Engine::Postgres, "VALUES (1), (2)");
        allowed(Engine::Oracle, "SELECT * FROM dual");
    }

    #[test]
    fn several_queries_pass_each_with_its_line() {
        let ok = allowed(Engine::Postgres, "SELECT 1;\n\n-- two\nSELECT 2;");
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].line, 4);
        assert_eq!(ok[1].sql, "SELECT 2");
    }

    #[test]
    fn a_write_is_named_by_its_kind_and_position() {
        let e = rejected(Engine::Postgres, "SELECT 1;\nDELETE FROM t");
        assert_eq!(e, "statement 2 (line 2) is a DELETE, not a query");
        let e = rejected(Engine::Postgres, "insert into t values (1)");
        assert!(e.contains("is an INSERT, not a query"), "{e}");
        let e = rejected(Engine::Mysql, "CREATE TEMPORARY TABLE x (a int)");
        assert!(e.contains("a CREATE TABLE"), "{e}");
        let e = rejected(Engine::Postgres, "DROP TABLE IF EXISTS t");
        assert!(e.contains("a DROP TABLE"), "{e}");
    }

    #[test]
    fn attacks_dressed_as_queries_are_refused() {
        let pg = [
            (
                "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
                "DELETE",
            ),
            (
                "WITH u AS (UPDATE t SET a = 1 RETURNING a) SELECT 1",
                "UPDATE",
            ),
            ("SELECT * INTO t2 FROM t", "INTO"),
            ("SELECT * FROM t FOR UPDATE", "locking read"),
            ("SELECT * FROM t FOR SHARE", "locking read"),
            ("COPY t TO '/tmp/x'", "COPY"),
            ("COPY t FROM PROGRAM 'id'", "COPY"),
            ("SELECT 1; DELETE FROM t", "DELETE"),
            ("SELECT 1 /* ; */; UPDATE t SET a = 2", "UPDATE"),
            ("SELECT 1 -- comment\n; TRUNCATE t", "TRUNCATE"),
            ("EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN of a DELETE"),
            ("EXPLAIN UPDATE t SET a = 1", "EXPLAIN of an UPDATE"),
            ("SET statement_timeout = 0", "SET"),
            ("SET TRANSACTION READ WRITE", "SET"),
            ("CALL p()", "CALL"),
            ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "LOCK TABLE"),
            ("DO $$ BEGIN DELETE FROM t; END $$", "parsed"),
            ("COMMIT", "COMMIT"),
            ("ROLLBACK", "ROLLBACK"),
            ("BEGIN", "BEGIN"),
            ("SELECT nextval('s')", "nextval"),
            ("SELECT setval('s', 100)", "setval"),
            ("SELECT pg_terminate_backend(123)", "pg_terminate_backend"),
            (
                "SELECT pg_catalog.PG_CANCEL_BACKEND(1)",
                "pg_cancel_backend",
            ),
            ("SELECT lo_import('/etc/passwd')", "lo_import"),
            (
                "SELECT dblink_exec('dbname=x', 'DELETE FROM t')",
                "dblink_exec",
            ),
            (
                "SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)",
                "dblink",
            ),
            (
                "SELECT set_config('statement_timeout', '0', false)",
                "set_config",
            ),
            ("SELECT (SELECT nextval('s'))", "nextval"),
            ("VACUUM t", "VACUUM"),
            ("GRANT SELECT ON t TO public", "GRANT"),
            ("PREPARE p AS DELETE FROM t", "PREPARE"),
            ("\\! rm -rf /\nSELECT 1", "client command"),
        ];
        let mut wrong = vec![];
        let mut check = |engine: Engine, sql: &str, needle: &str| {
            let e = rejected(engine, sql);
            if e.starts_with("ALLOWED") || !e.contains(needle) {
                wrong.push(format!("{engine} {sql:?}: {e}"));
            }
        };
        for (sql, needle) in pg {
            check(Engine::Postgres, sql, needle);
        }
        let my = [
            ("SELECT * FROM t INTO OUTFILE '/tmp/x'", "parsed"),
            ("SELECT a INTO @v FROM t", "INTO"),
            ("SELECT * FROM t LOCK IN SHARE MODE", ""),
            ("SELECT * FROM t FOR UPDATE", "locking read"),
            ("HANDLER t OPEN", "parsed"),
            ("LOAD DATA INFILE '/tmp/x' INTO TABLE t", ""),
            ("SELECT 1 /*!, (DELETE FROM t) */", ""),
            ("SELECT 1 /*M! ; DELETE FROM t */", "executable comment"),
            ("REPLACE INTO t VALUES (1)", "REPLACE"),
            ("SELECT GET_LOCK('x', 10)", "get_lock"),
            ("SELECT LOAD_FILE('/etc/passwd')", "load_file"),
            ("START TRANSACTION", ""),
            ("SET SESSION TRANSACTION READ WRITE", "SET"),
            ("DELIMITER //\nSELECT 1//", "client command"),
        ];
        for (sql, needle) in my {
            check(Engine::Mysql, sql, needle);
        }
        let lite = [
            ("PRAGMA query_only = OFF", ""),
            ("PRAGMA query_only = 0", "PRAGMA query_only"),
            ("PRAGMA query_only(0)", "PRAGMA query_only"),
            ("PRAGMA writable_schema = 1", "PRAGMA writable_schema"),
            ("ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH"),
            ("SELECT load_extension('/tmp/evil')", "load_extension"),
            ("INSERT INTO t VALUES (1) RETURNING *", "INSERT"),
            ("VACUUM INTO '/tmp/copy.db'", ""),
            (".shell rm -rf /\nSELECT 1", "client command"),
        ];
        for (sql, needle) in lite {
            check(Engine::Sqlite, sql, needle);
        }
        let ora = [
            ("BEGIN DELETE FROM t; END;", "PL/SQL"),
            ("SELECT * FROM t FOR UPDATE", "locking read"),
            ("SET TRANSACTION READ WRITE", ""),
            ("DELETE FROM t", "DELETE"),
        ];
        for (sql, needle) in ora {
            check(Engine::Oracle, sql, needle);
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn unparseable_text_is_refused_never_allowed() {
        let e = rejected(Engine::Postgres, "SELEC 1");
        assert!(e.contains("could not be parsed"), "{e}");
        let e = rejected(Engine::Postgres, "   -- nothing but a comment");
        assert!(e.contains("no statement"), "{e}");
    }

    #[test]
    fn explain_show_describe_and_read_pragmas_pass() {
        allowed(Engine::Postgres, "EXPLAIN SELECT * FROM t");
        allowed(Engine::Postgres, "EXPLAIN ANALYZE SELECT * FROM t");
        allowed(Engine::Postgres, "SHOW search_path");
        allowed(Engine::Mysql, "SHOW TABLES");
        allowed(Engine::Mysql, "SHOW CREATE TABLE t");
        allowed(Engine::Mysql, "DESCRIBE t");
        allowed(Engine::Mysql, "EXPLAIN SELECT 1");
        allowed(Engine::Sqlite, "PRAGMA table_info('t')");
        allowed(Engine::Sqlite, "EXPLAIN QUERY PLAN SELECT * FROM t");
    }

    #[test]
    fn function_names_in_strings_or_columns_are_not_calls() {
        allowed(Engine::Postgres, "SELECT 'nextval(1)' AS nextval");
        allowed(Engine::Mysql, "SELECT `get_lock` FROM t");
    }

    fn calls(engine: Engine, sql: &str) -> Vec<String> {
        allowed(engine, sql)
            .iter()
            .flat_map(|c| c.calls.iter().map(ToString::to_string))
            .collect()
    }

    #[test]
    fn denied_names_are_refused_however_they_are_spelled() {
        for sql in [
            r#"SELECT U&"dblink\005fexec"('a', 'b')"#,
            r#"SELECT u&"dblink!005Fexec" UESCAPE '!' ('a', 'b')"#,
            r#"SELECT U&"\0064blink_exec"('a', 'b')"#,
            r#"SELECT "DBLINK_EXEC"('a', 'b')"#,
            r#"SELECT "public"."dblink_exec"('a', 'b')"#,
            r#"SELECT "PG_CATALOG"."query_to_xml"('select 1', true, true, '')"#,
            "SELECT pg_catalog.query_to_xml('select 1', true, true, '')",
            "SELECT x FROM mydb.public.dblink('c', 'select 1') AS t(x int)",
            "SELECT table_to_xml('t', true, true, '')",
            "SELECT ts_stat('select v from t')",
            "SELECT cursor_to_xml('c', 1, true, true, '')",
            "SELECT database_to_xml(true, true, '')",
            "SELECT pg_read_file('/etc/hostname')",
            "SELECT PG_ADVISORY_XACT_LOCK(1)",
            r#"SELECT U&"set\005Fconfig"('statement_timeout', '0', false)"#,
            r#"SELECT * FROM U&"query\005fto\005fxml"('select 1', true, true, '') x"#,
        ] {
            let e = rejected(Engine::Postgres, sql);
            assert!(e.contains("it is not allowed in queries"), "{sql}: {e}");
        }
        let e = rejected(Engine::Postgres, r#"SELECT U&"\D800"()"#);
        assert!(e.contains("invalid Unicode escape"), "{e}");
    }

    #[test]
    fn every_call_is_collected_with_its_decoded_name_and_schema() {
        assert_eq!(
            calls(
                Engine::Postgres,
                r#"SELECT Evil(1), "Evil"(2), public.f(3), "PG_CATALOG"."now"(), U&"\0066\0031"(4),
                   coalesce(1, 2), CURRENT_TIMESTAMP, current_user, ceil(1.5), substring('ab', 1, 1),
                   (SELECT max(x) FROM g(1) AS t(x))
                   FROM generate_series(1, 2) s WHERE lower(v) = 'a'"#
            ),
            vec![
                "Evil",
                "ceil",
                "evil",
                "f1",
                "g",
                "generate_series",
                "lower",
                "max",
                "substring",
                "PG_CATALOG.now",
                "public.f"
            ]
        );
        assert_eq!(
            calls(Engine::Postgres, "SELECT * FROM unnest(ARRAY[1]) AS u(x)"),
            vec!["unnest"]
        );
        let long = format!("SELECT {}x()", "f".repeat(63));
        assert_eq!(calls(Engine::Postgres, &long), vec!["f".repeat(63)]);
        assert_eq!(
            calls(Engine::Oracle, "SELECT Pkg.Fn(1) FROM dual"),
            vec!["PKG.FN"]
        );
        assert_eq!(calls(Engine::Mysql, "SELECT `MyFn`(1)"), vec!["myfn"]);
    }

    #[test]
    fn every_relation_is_collected_views_included() {
        let ok = allowed(
            Engine::Postgres,
            r#"WITH c AS (SELECT 1) SELECT * FROM "V", s.t JOIN c ON true
               WHERE EXISTS (SELECT 1 FROM u)"#,
        );
        let rels: Vec<String> = ok
            .iter()
            .flat_map(|c| c.relations.iter().map(ToString::to_string))
            .collect();
        assert_eq!(rels, vec!["V", "c", "u", "s.t"]);
    }

    #[test]
    fn oracle_database_links_are_refused() {
        for sql in [
            "SELECT * FROM t@remote",
            "SELECT f@remote(1) FROM dual",
            "SELECT * FROM \"T\"@\"REMOTE\"",
        ] {
            let e = rejected(Engine::Oracle, sql);
            assert!(e.contains("database link"), "{sql}: {e}");
        }
        allowed(Engine::Oracle, "SELECT 'a@b' FROM dual");
    }
}
