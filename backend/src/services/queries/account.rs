//! The query account's escape check: what the account queries connect with may do beyond
//! reading inside its read-only transaction — run programs or read files on the server, signal
//! other sessions, reach other databases (dblink, database links), commit on its own (Oracle
//! autonomous transactions), or grant itself any of these. Each engine is asked through its own
//! catalog, in the session queries use, so roles held through other roles count.
//!
//! It runs when a target is saved (the answer is stored on the target and shown) and again
//! before every use, inside the read-only transaction: privileges can be granted after the save.
//! A target whose account has findings is refused for queries unless an admin marked it
//! `trusted_for_queries`.

use serde::{Deserialize, Serialize};

use crate::connectors::{
    self, Cell, ConnectSpec, DbError, DbErrorKind, Engine, TargetConnection, VecSink,
};
use crate::store::targets::{AccountCheckFields, TargetRow};

/// Most findings listed (one more row says the list was cut).
const MAX_FINDINGS: usize = 100;

/// The error code of a query refused because of its target's account.
pub const UNSAFE_CODE: &str = "query_account_unsafe";

/// One thing the account may do that a read-only query must not be able to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountFinding {
    /// Stable name: `superuser`, `pg_read_server_files`, `execute:dblink_exec(text)`, `FILE`,
    /// `role:DBA`, `privilege:CREATE DATABASE LINK`, `autonomous:APP.LOG_IT`…
    pub name: String,
    /// What it allows, for people.
    pub detail: String,
}

/// PostgreSQL: attributes of the role, membership (also through other roles, `MEMBER` so a
/// NOINHERIT chain counts: the session could `SET ROLE`) in the server-reaching built-in roles,
/// and EXECUTE on functions that reach files or other databases. `pg_monitor` and
/// `pg_read_all_*` only read; writing roles are stopped by the read-only transaction.
pub const PG_CHECK: &str = r"SELECT f.name, f.detail FROM (
  SELECT 'superuser'::text AS name, 'the account is a superuser'::text AS detail
    FROM pg_roles WHERE rolname = current_user AND rolsuper
  UNION ALL
  SELECT 'createrole', 'the account may create roles and grant itself theirs (CREATEROLE)'
    FROM pg_roles WHERE rolname = current_user AND rolcreaterole
  UNION ALL
  SELECT 'replication', 'the account may start replication and read the whole cluster (REPLICATION)'
    FROM pg_roles WHERE rolname = current_user AND rolreplication
  UNION ALL
  SELECT r.rolname::text, 'the account is a member of ' || r.rolname
    FROM pg_roles r
   WHERE r.rolname IN ('pg_execute_server_program', 'pg_read_server_files',
                       'pg_write_server_files', 'pg_signal_backend')
     AND pg_has_role(current_user, r.oid, 'MEMBER')
  UNION ALL
  SELECT 'execute:' || p.oid::regprocedure::text,
         'the account may EXECUTE ' || p.oid::regprocedure::text
    FROM pg_proc p
   WHERE (p.proname IN ('lo_import', 'lo_export', 'pg_read_file', 'pg_read_binary_file',
                        'pg_ls_dir', 'pg_stat_file', 'pg_file_write', 'pg_file_rename',
                        'pg_file_unlink')
          OR p.proname LIKE 'dblink%' OR p.proname LIKE 'postgres\_fdw%'
          OR p.oid IN (SELECT d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                        WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
                          AND e.extname IN ('dblink', 'postgres_fdw')))
     AND has_function_privilege(current_user, p.oid, 'EXECUTE')
     AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper)
) f ORDER BY f.name";

/// Oracle: roles and system privileges of the session (roles through roles included), code the
/// account can see that declares `PRAGMA AUTONOMOUS_TRANSACTION` (it commits inside a read-only
/// transaction) outside Oracle's own schemas, and the database links it may use. Package bodies
/// of other schemas are not visible in `ALL_SOURCE`: such packages are listed as unverifiable.
pub const ORACLE_CHECK: &str = r"SELECT 'role:' || role AS name,
       'the session holds the role ' || role AS detail
  FROM session_roles
 WHERE role IN ('DBA', 'IMP_FULL_DATABASE', 'EXP_FULL_DATABASE', 'DATAPUMP_IMP_FULL_DATABASE',
                'DATAPUMP_EXP_FULL_DATABASE', 'EXECUTE_CATALOG_ROLE', 'SCHEDULER_ADMIN')
UNION ALL
SELECT 'privilege:' || privilege, 'the session holds the system privilege ' || privilege
  FROM session_privs
 WHERE privilege IN ('CREATE DATABASE LINK', 'CREATE PUBLIC DATABASE LINK', 'ALTER SYSTEM',
                     'ALTER DATABASE', 'BECOME USER', 'CREATE EXTERNAL JOB', 'CREATE USER',
                     'ALTER USER', 'CREATE JOB')
    OR (privilege LIKE '% ANY %'
        AND privilege NOT IN ('SELECT ANY TABLE', 'READ ANY TABLE', 'SELECT ANY DICTIONARY'))
UNION ALL
SELECT 'autonomous:' || s.owner || '.' || s.name,
       'the account may run ' || LOWER(s.type) || ' ' || s.owner || '.' || s.name
       || ', which commits on its own (PRAGMA AUTONOMOUS_TRANSACTION)'
  FROM (SELECT DISTINCT owner, name, type FROM all_source
         WHERE UPPER(text) LIKE '%AUTONOMOUS\_TRANSACTION%' ESCAPE '\'
           AND type IN ('FUNCTION', 'PROCEDURE', 'PACKAGE BODY', 'TYPE BODY')
           AND owner NOT IN (SELECT username FROM all_users WHERE oracle_maintained = 'Y')) s
UNION ALL
SELECT 'unverifiable:' || o.owner || '.' || o.object_name,
       'the account may run package ' || o.owner || '.' || o.object_name
       || ' whose body it cannot see (it may commit on its own)'
  FROM all_objects o
 WHERE o.object_type = 'PACKAGE' AND o.owner <> USER
   AND o.owner NOT IN (SELECT username FROM all_users WHERE oracle_maintained = 'Y')
   AND NOT EXISTS (SELECT 1 FROM all_source b WHERE b.owner = o.owner
                     AND b.name = o.object_name AND b.type = 'PACKAGE BODY')
UNION ALL
SELECT 'db_link:' || owner || '.' || db_link, 'the account may use the database link ' || db_link
  FROM all_db_links";

/// MySQL/MariaDB: `SHOW GRANTS` in the session lists the user's grants and those of its
/// current roles (through roles, too). Global privileges that reach beyond the transaction.
pub const MYSQL_CHECK: &str = "SHOW GRANTS";

/// Global MySQL/MariaDB privileges (spaces for underscores, upper case) an account used for
/// queries must not hold.
const MYSQL_ESCAPES: &[(&str, &str)] = &[
    ("ALL PRIVILEGES", "every privilege on every database"),
    (
        "SUPER",
        "ends other sessions, changes the server's settings, bypasses read_only",
    ),
    (
        "FILE",
        "reads and writes the server's files (LOAD_FILE, INTO OUTFILE)",
    ),
    (
        "PROCESS",
        "sees every session's statements, other users' SQL and secrets included",
    ),
    ("SHUTDOWN", "stops the server"),
    ("CREATE USER", "creates and changes accounts"),
    ("RELOAD", "flushes and reloads the server's state"),
    ("CONNECTION ADMIN", "ends other sessions"),
    ("READ ONLY ADMIN", "writes despite read_only"),
    ("FEDERATED ADMIN", "defines links to other servers"),
    ("SET USER", "runs code as other accounts (DEFINER)"),
    ("SYSTEM VARIABLES ADMIN", "changes the server's settings"),
    ("SYSTEM USER", "acts on every account's sessions"),
];

/// Runs the check on an open connection (inside its read-only transaction). SQLite has no
/// accounts (its file confinement is the connection's own).
pub fn check(conn: &mut dyn TargetConnection) -> Result<Vec<AccountFinding>, DbError> {
    let sql = match conn.engine() {
        Engine::Postgres => PG_CHECK,
        Engine::Oracle => ORACLE_CHECK,
        Engine::Mysql => MYSQL_CHECK,
        Engine::Sqlite => return Ok(vec![]),
    };
    let mut sink = VecSink::new(MAX_FINDINGS);
    let out = conn.execute(sql, &mut sink)?;
    let mut findings = match conn.engine() {
        Engine::Mysql => mysql_findings(sink.rows.iter().filter_map(|r| text(r.first()))),
        _ => rows_to_findings(&sink.rows),
    };
    if out.truncated {
        findings.push(AccountFinding {
            name: "more".into(),
            detail: format!("more than {MAX_FINDINGS} findings; the rest are not listed"),
        });
    }
    Ok(findings)
}

fn text(cell: Option<&Cell>) -> Option<&str> {
    match cell {
        Some(Cell::Text(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Rows of `(name, detail)` text, as PostgreSQL and Oracle answer.
pub fn rows_to_findings(rows: &[Vec<Cell>]) -> Vec<AccountFinding> {
    rows.iter()
        .filter_map(|r| {
            let name = text(r.first())?;
            Some(AccountFinding {
                name: name.to_string(),
                detail: text(r.get(1)).unwrap_or(name).to_string(),
            })
        })
        .collect()
}

/// Global privileges from `SHOW GRANTS` lines that are escapes. Only privilege names are kept
/// (a line may carry a password hash: it is never copied).
pub fn mysql_findings<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<AccountFinding> {
    let mut out: Vec<AccountFinding> = vec![];
    for line in lines {
        for privilege in global_privileges(line) {
            let found = MYSQL_ESCAPES.iter().find(|(name, _)| {
                *name == privilege || (privilege == "ALL" && *name == "ALL PRIVILEGES")
            });
            if let Some((name, what)) = found {
                if !out.iter().any(|f| f.name == *name) {
                    out.push(AccountFinding {
                        name: (*name).to_string(),
                        detail: format!("the account holds {name} on *.*: {what}"),
                    });
                }
            }
        }
    }
    out
}

/// The privileges of one `GRANT … ON *.* TO …` line, normalised (upper case, `_` as space);
/// nothing for grants on a database, table or routine, or of a role.
fn global_privileges(line: &str) -> Vec<String> {
    let Some(rest) = strip_prefix_ci(line.trim_start(), "GRANT ") else {
        return vec![];
    };
    // The privilege list ends at the first " ON " outside parentheses (column lists) and quotes.
    let (mut depth, mut quote) = (0i32, None::<char>);
    let mut end = None;
    for (i, ch) in rest.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '`' | '\'' | '"') => quote = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, _) if depth == 0 && strip_prefix_ci(&rest[i..], " ON ").is_some() => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(end) = end else {
        return vec![]; // GRANT `role` TO …
    };
    let object = rest[end + 4..].trim_start();
    if !object.starts_with("*.*") {
        return vec![];
    }
    split_top_level(&rest[..end])
        .into_iter()
        .map(|p| {
            let name = p.split('(').next().unwrap_or("");
            name.trim().replace('_', " ").to_uppercase()
        })
        .collect()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn split_top_level(list: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, vec![]);
    for (i, ch) in list.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out
}

/// Before use: inside the read-only transaction, the account must have no findings, unless the
/// target is trusted for queries. The refusal is the target's result error, naming them.
pub fn guard(conn: &mut dyn TargetConnection, trusted: bool) -> Result<(), DbError> {
    if trusted {
        return Ok(());
    }
    let findings = check(conn).map_err(|e| {
        DbError::new(
            e.kind,
            e.code.clone(),
            format!("AutoDB could not check what the query account may do: {e}"),
        )
    })?;
    if findings.is_empty() {
        Ok(())
    } else {
        Err(DbError::new(
            DbErrorKind::Config,
            Some(UNSAFE_CODE.into()),
            refusal(&findings),
        ))
    }
}

/// "the query account can reach beyond a read-only query: superuser, pg_signal_backend; …"
pub fn refusal(findings: &[AccountFinding]) -> String {
    let names: Vec<&str> = findings.iter().map(|f| f.name.as_str()).collect();
    format!(
        "the query account can reach beyond a read-only query ({}); give the target a \
         least-privilege query account, or an admin may mark it trusted for queries",
        names.join(", ")
    )
}

/// At save: connects with the account queries will use, checks it inside a read-only
/// transaction, and says what to store. A target that cannot be reached is saved unchecked (it
/// is checked before use anyway). Blocking: run it on a target thread.
pub fn check_at_save(spec: &ConnectSpec) -> AccountCheckFields {
    let outcome = connectors::connect(spec).and_then(|mut conn| {
        conn.begin_read_only()?;
        let findings = check(conn.as_mut());
        let _ = conn.rollback();
        findings
    });
    match outcome {
        Ok(findings) => AccountCheckFields {
            query_account_findings: Some(
                serde_json::to_string(&findings).unwrap_or_else(|_| "[]".into()),
            ),
            query_account_checked_at: Some(crate::store::now()),
            query_account_check_error: None,
        },
        Err(e) => AccountCheckFields {
            query_account_findings: None,
            query_account_checked_at: None,
            query_account_check_error: Some(e.to_string()),
        },
    }
}

/// The findings stored on a target (`None`: not checked yet).
pub fn stored(row: &TargetRow) -> Option<Vec<AccountFinding>> {
    row.query_account_findings
        .as_deref()
        .map(|j| serde_json::from_str(j).unwrap_or_default())
}

/// At submission: the stored findings of a target not trusted for queries, if any.
pub fn unsafe_findings(row: &TargetRow) -> Option<Vec<AccountFinding>> {
    if row.trusted_for_queries {
        return None;
    }
    stored(row).filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: &[AccountFinding]) -> Vec<&str> {
        f.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn mysql_global_escapes_are_found_and_passwords_never_copied() {
        let lines = [
            "GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*2B60229'",
            "GRANT SELECT, FILE, PROCESS ON *.* TO `u`@`%`",
            "GRANT `r1` TO `u`@`%`",
            "GRANT SUPER ON *.* TO `r1`",
        ];
        let f = mysql_findings(lines.into_iter());
        assert_eq!(names(&f), ["FILE", "PROCESS", "SUPER"]);
        assert!(!serde_json::to_string(&f)
            .unwrap_or_default()
            .contains("2B60229"));
    }

    #[test]
    fn mysql_all_privileges_and_dynamic_privileges_count_in_any_spelling() {
        let lines = [
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
            "GRANT CONNECTION_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `a`@`%`",
            "grant all on *.* to 'b'@'%'",
        ];
        let f = mysql_findings(lines.into_iter());
        assert_eq!(
            names(&f),
            [
                "ALL PRIVILEGES",
                "CONNECTION ADMIN",
                "SYSTEM VARIABLES ADMIN"
            ]
        );
    }

    #[test]
    fn mysql_grants_on_a_database_table_or_routine_are_not_global() {
        let lines = [
            "GRANT ALL PRIVILEGES ON `app`.* TO `u`@`%`",
            "GRANT SELECT (a, `b,c`), INSERT ON `app`.`t` TO `u`@`%`",
            "GRANT EXECUTE ON PROCEDURE `app`.`p` TO `u`@`%`",
            "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
        ];
        assert!(mysql_findings(lines.into_iter()).is_empty());
    }

    #[test]
    fn a_column_list_with_on_in_a_name_does_not_end_the_privilege_list() {
        let line = "GRANT SELECT (`x ON y`), FILE ON *.* TO `u`@`%`";
        assert_eq!(names(&mysql_findings([line].into_iter())), ["FILE"]);
    }

    #[test]
    fn oracle_and_postgres_rows_become_named_findings() {
        let rows = vec![
            vec![
                Cell::Text("role:DBA".into()),
                Cell::Text("the session holds the role DBA".into()),
            ],
            vec![
                Cell::Text("privilege:CREATE DATABASE LINK".into()),
                Cell::Null,
            ],
            vec![Cell::Null, Cell::Text("ignored".into())],
        ];
        let f = rows_to_findings(&rows);
        assert_eq!(names(&f), ["role:DBA", "privilege:CREATE DATABASE LINK"]);
        assert_eq!(f[1].detail, "privilege:CREATE DATABASE LINK");
    }

    #[test]
    fn the_oracle_check_asks_for_dba_links_any_privileges_and_autonomous_code() {
        let sql = ORACLE_CHECK;
        for needle in [
            "FROM session_roles",
            "'DBA'",
            "FROM session_privs",
            "'CREATE DATABASE LINK'",
            "'CREATE PUBLIC DATABASE LINK'",
            "privilege LIKE '% ANY %'",
            "FROM all_source",
            "LIKE '%AUTONOMOUS\\_TRANSACTION%' ESCAPE '\\'",
            "oracle_maintained = 'Y'",
            "FROM all_db_links",
        ] {
            assert!(sql.contains(needle), "missing {needle}");
        }
        // One statement without terminator, sent as is; and a plain query by AutoDB's own rules
        // for Oracle (it runs inside the read-only transaction, as a user's query would).
        assert!(!sql.trim_end().ends_with(';'));
        let split = sqlsplit::split(sqlsplit::Dialect::Oracle, sql);
        assert_eq!(split.statements.len(), 1, "{split:?}");
        let classified = crate::services::queries::classify::classify(Engine::Oracle, sql);
        assert!(
            matches!(&classified, Ok(s) if s.len() == 1),
            "{classified:?}"
        );
    }

    #[test]
    fn the_postgres_check_counts_membership_through_roles_and_dblink() {
        for needle in [
            "rolsuper",
            "rolcreaterole",
            "pg_has_role(current_user, r.oid, 'MEMBER')",
            "'pg_execute_server_program'",
            "'pg_read_server_files'",
            "'pg_write_server_files'",
            "'pg_signal_backend'",
            "'dblink'",
            "'postgres_fdw'",
            "has_function_privilege",
        ] {
            assert!(PG_CHECK.contains(needle), "missing {needle}");
        }
    }

    #[test]
    fn a_refusal_names_every_finding() {
        let f = vec![
            AccountFinding {
                name: "superuser".into(),
                detail: String::new(),
            },
            AccountFinding {
                name: "pg_signal_backend".into(),
                detail: String::new(),
            },
        ];
        let msg = refusal(&f);
        assert!(msg.contains("superuser, pg_signal_backend"), "{msg}");
        assert!(msg.contains("trusted for queries"));
    }
}
