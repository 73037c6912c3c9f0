//! The names a target holds, read from its own catalog for the SQL editor's completion:
//! schemas, tables and views, and their columns with their types. One SQL text per engine and
//! part (pure, unit-tested: Oracle has no server here), each bounded by a `LIMIT` one past its
//! cap so a cut is seen and said (`truncated`). The engines' own schemas are left out.

use super::{Cell, DbError, Engine, TargetConnection, VecSink};

/// Most names of each kind one read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_schemas: usize,
    pub max_tables: usize,
    pub max_columns: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_schemas: 1_000,
            max_tables: 5_000,
            max_columns: 20_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Table,
    View,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CatalogTable {
    pub schema: String,
    pub name: String,
    pub kind: TableKind,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CatalogColumn {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// The database's own type name (`integer`, `varchar(20)`, `NUMBER`, `TEXT`…).
    #[serde(rename = "type")]
    pub type_name: String,
}

/// What one read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The schema unqualified names resolve in (PostgreSQL's current schema, the MySQL
    /// database, SQLite's `main`, the Oracle session's current schema).
    pub default_schema: Option<String>,
    pub schemas: Vec<String>,
    pub tables: Vec<CatalogTable>,
    pub columns: Vec<CatalogColumn>,
    /// A cap cut schemas, tables or columns.
    pub truncated: bool,
}

/// The statements one read runs, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSql {
    /// One row, one column: the default schema (may be NULL).
    pub default_schema: String,
    /// One column: the schema's name.
    pub schemas: String,
    /// Schema, name, and `table` or `view`.
    pub tables: String,
    /// Schema, table, column, type; in the table's column order.
    pub columns: String,
}

const PG_OWN: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";
const PG_KINDS: &str = "c.relkind IN ('r', 'p', 'v', 'm', 'f')";
const MYSQL_OWN: &str = "('mysql', 'sys', 'performance_schema', 'information_schema')";
const ORACLE_OWN: &str =
    "OWNER NOT IN (SELECT USERNAME FROM ALL_USERS WHERE ORACLE_MAINTAINED = 'Y')";
const SQLITE_OWN: &str = "m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/// The catalog SQL of `engine`, each part asking for one row more than its cap.
pub fn sql(engine: Engine, limits: Limits) -> CatalogSql {
    let (s, t, c) = (
        limits.max_schemas + 1,
        limits.max_tables + 1,
        limits.max_columns + 1,
    );
    match engine {
        Engine::Postgres => CatalogSql {
            default_schema: "SELECT pg_catalog.current_schema()".into(),
            schemas: format!(
                "SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE {PG_OWN} \
                 ORDER BY 1 LIMIT {s}"
            ),
            tables: format!(
                "SELECT n.nspname, c.relname, \
                 CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END \
                 FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {PG_KINDS} AND {PG_OWN} ORDER BY 1, 2 LIMIT {t}"
            ),
            columns: format!(
                "SELECT n.nspname, c.relname, a.attname, \
                 pg_catalog.format_type(a.atttypid, a.atttypmod) \
                 FROM pg_catalog.pg_attribute a \
                 JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE a.attnum > 0 AND NOT a.attisdropped AND {PG_KINDS} AND {PG_OWN} \
                 ORDER BY n.nspname, c.relname, a.attnum LIMIT {c}"
            ),
        },
        Engine::Mysql => CatalogSql {
            default_schema: "SELECT DATABASE()".into(),
            schemas: format!(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA \
                 WHERE SCHEMA_NAME NOT IN {MYSQL_OWN} ORDER BY 1 LIMIT {s}"
            ),
            tables: format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, \
                 CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END \
                 FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN {MYSQL_OWN} \
                 ORDER BY 1, 2 LIMIT {t}"
            ),
            columns: format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN {MYSQL_OWN} \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION LIMIT {c}"
            ),
        },
        // The one schema a target's connection reaches (no ATTACH: `sqlite_guard`).
        Engine::Sqlite => CatalogSql {
            default_schema: "SELECT 'main'".into(),
            schemas: "SELECT 'main'".into(),
            tables: format!(
                "SELECT 'main', m.name, m.type FROM sqlite_schema m WHERE {SQLITE_OWN} \
                 ORDER BY m.name LIMIT {t}"
            ),
            columns: format!(
                "SELECT 'main', m.name, p.name, p.type \
                 FROM sqlite_schema m JOIN pragma_table_info(m.name) p WHERE {SQLITE_OWN} \
                 ORDER BY m.name, p.cid LIMIT {c}"
            ),
        },
        Engine::Oracle => CatalogSql {
            default_schema: "SELECT SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM DUAL".into(),
            schemas: format!(
                "SELECT USERNAME FROM ALL_USERS WHERE ORACLE_MAINTAINED = 'N' \
                 ORDER BY 1 FETCH FIRST {s} ROWS ONLY"
            ),
            tables: format!(
                "SELECT OWNER, NAME, KIND FROM (\
                 SELECT OWNER, TABLE_NAME AS NAME, 'table' AS KIND FROM ALL_TABLES \
                 WHERE DROPPED = 'NO' AND {ORACLE_OWN} \
                 UNION ALL \
                 SELECT OWNER, VIEW_NAME, 'view' FROM ALL_VIEWS WHERE {ORACLE_OWN}) \
                 ORDER BY 1, 2 FETCH FIRST {t} ROWS ONLY"
            ),
            columns: format!(
                "SELECT OWNER, TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM ALL_TAB_COLUMNS \
                 WHERE TABLE_NAME NOT LIKE 'BIN$%' AND {ORACLE_OWN} \
                 ORDER BY OWNER, TABLE_NAME, COLUMN_ID FETCH FIRST {c} ROWS ONLY"
            ),
        },
    }
}

/// Reads the catalog on an open connection (the caller opens it read-only, and ends it).
pub fn read(conn: &mut dyn TargetConnection, limits: Limits) -> Result<Catalog, DbError> {
    let sql = sql(conn.engine(), limits);
    let mut out = Catalog {
        default_schema: rows(conn, &sql.default_schema, 1)?
            .0
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten(),
        ..Catalog::default()
    };
    let (schemas, cut_s) = rows(conn, &sql.schemas, limits.max_schemas)?;
    out.schemas = schemas.into_iter().filter_map(|r| field(&r, 0)).collect();
    let (tables, cut_t) = rows(conn, &sql.tables, limits.max_tables)?;
    out.tables = tables
        .iter()
        .filter_map(|r| {
            Some(CatalogTable {
                schema: field(r, 0)?,
                name: field(r, 1)?,
                kind: match field(r, 2).as_deref() {
                    Some("view") => TableKind::View,
                    _ => TableKind::Table,
                },
            })
        })
        .collect();
    let (columns, cut_c) = rows(conn, &sql.columns, limits.max_columns)?;
    out.columns = columns
        .iter()
        .filter_map(|r| {
            Some(CatalogColumn {
                schema: field(r, 0)?,
                table: field(r, 1)?,
                name: field(r, 2)?,
                type_name: field(r, 3).unwrap_or_default(),
            })
        })
        .collect();
    out.truncated = cut_s || cut_t || cut_c;
    Ok(out)
}

/// Rows of catalog text, NULL as `None`.
type TextRows = Vec<Vec<Option<String>>>;

/// At most `cap` rows of `sql` as text, and whether there were more.
fn rows(
    conn: &mut dyn TargetConnection,
    sql: &str,
    cap: usize,
) -> Result<(TextRows, bool), DbError> {
    let mut sink = VecSink::new(cap + 1);
    conn.execute(sql, &mut sink)?;
    let cut = sink.rows.len() > cap;
    let out = sink
        .rows
        .into_iter()
        .take(cap)
        .map(|r| r.into_iter().map(text).collect())
        .collect();
    Ok((out, cut))
}

fn field(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

fn text(cell: Cell) -> Option<String> {
    match cell {
        Cell::Null => None,
        Cell::Text(s) => Some(s),
        // MySQL answers some catalog columns as binary strings (hex here).
        Cell::Bytes(hex_text) => hex::decode(&hex_text)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .or(Some(hex_text)),
        Cell::Int(i) => Some(i.to_string()),
        other => serde_json::to_value(&other)
            .ok()
            .and_then(|v| v.get("v").map(|v| v.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        max_schemas: 3,
        max_tables: 10,
        max_columns: 20,
    };

    #[test]
    fn oracle_reads_the_all_views_without_oracle_maintained_schemas_one_past_each_cap() {
        let q = sql(Engine::Oracle, SMALL);
        assert_eq!(
            q.default_schema,
            "SELECT SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM DUAL"
        );
        assert!(q
            .schemas
            .contains("FROM ALL_USERS WHERE ORACLE_MAINTAINED = 'N'"));
        assert!(
            q.schemas.ends_with("FETCH FIRST 4 ROWS ONLY"),
            "{}",
            q.schemas
        );
        for part in [
            "FROM ALL_TABLES",
            "FROM ALL_VIEWS",
            "DROPPED = 'NO'",
            "UNION ALL",
        ] {
            assert!(q.tables.contains(part), "{part}: {}", q.tables);
        }
        // Both halves of the union leave Oracle's own schemas out.
        assert_eq!(q.tables.matches(ORACLE_OWN).count(), 2, "{}", q.tables);
        assert!(q.tables.ends_with("ORDER BY 1, 2 FETCH FIRST 11 ROWS ONLY"));
        assert!(q.columns.contains("FROM ALL_TAB_COLUMNS"));
        assert!(q.columns.contains(ORACLE_OWN));
        assert!(q
            .columns
            .ends_with("ORDER BY OWNER, TABLE_NAME, COLUMN_ID FETCH FIRST 21 ROWS ONLY"));
        // Oracle takes neither LIMIT nor a trailing semicolon.
        for text in [&q.schemas, &q.tables, &q.columns] {
            assert!(!text.contains("LIMIT") && !text.contains(';'), "{text}");
        }
    }

    #[test]
    fn oracle_sql_splits_as_one_statement_each_and_is_a_query() {
        let q = sql(Engine::Oracle, Limits::default());
        for text in [&q.default_schema, &q.schemas, &q.tables, &q.columns] {
            let split = sqlsplit::split(Engine::Oracle.dialect(), text);
            assert_eq!(split.statements.len(), 1, "{text}");
            let parsed =
                sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::OracleDialect {}, text);
            let parsed = parsed.unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(
                matches!(parsed.as_slice(), [sqlparser::ast::Statement::Query(_)]),
                "{text}"
            );
        }
    }

    #[test]
    fn the_engines_own_schemas_are_left_out() {
        let pg = sql(Engine::Postgres, SMALL);
        for text in [&pg.schemas, &pg.tables, &pg.columns] {
            assert!(text.contains("NOT IN ('pg_catalog', 'information_schema')"));
            assert!(text.contains("NOT LIKE 'pg\\_toast%'"), "{text}");
        }
        assert!(pg.columns.contains("NOT a.attisdropped"));
        assert!(pg.columns.ends_with("LIMIT 21"));
        let my = sql(Engine::Mysql, SMALL);
        for text in [&my.schemas, &my.tables, &my.columns] {
            assert!(text
                .contains("NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema')"));
        }
        let lite = sql(Engine::Sqlite, SMALL);
        assert!(lite.tables.contains("NOT LIKE 'sqlite\\_%' ESCAPE '\\'"));
        assert!(lite.columns.contains("pragma_table_info(m.name)"));
    }

    #[test]
    fn binary_catalog_text_reads_as_its_characters() {
        assert_eq!(
            text(Cell::Bytes(hex::encode("orders"))),
            Some("orders".into())
        );
        assert_eq!(text(Cell::Null), None);
        assert_eq!(text(Cell::Text("a".into())), Some("a".into()));
    }
}
