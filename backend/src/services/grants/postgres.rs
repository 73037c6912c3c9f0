//! PostgreSQL statements of a grant. Generated text only here (unit-tested); `target.rs` runs
//! them. Names are quoted identifiers, values standard-conforming literals; the password is
//! never in any of them, only its SCRAM verifier.

pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A literal for `standard_conforming_strings = on` (the default since 9.1): only `'` doubles.
/// Refuses backslashes anyway, so the text means the same under either setting.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The account's verifier and state: `rolpassword` (needs superuser or a SECURITY DEFINER
/// helper), `rolvaliduntil`, `rolcanlogin`.
pub fn read(account: &str) -> String {
    format!(
        "SELECT rolpassword, rolvaliduntil::text, rolcanlogin FROM pg_authid WHERE rolname = {}",
        literal(account)
    )
}

/// The same row locked until the transaction ends: the compare-and-set of a restore.
pub fn read_for_update(account: &str) -> String {
    format!(
        "SELECT rolpassword FROM pg_authid WHERE rolname = {} FOR UPDATE",
        literal(account)
    )
}

/// Whether the least-privilege helper (docs/GRANTS.md) is installed and ours to call: then the
/// verifier is read and restored through it instead of `pg_authid`.
pub const HAS_HELPER: &str = "SELECT CASE WHEN to_regprocedure('autodb_grants.restore(name,text,text)') IS NULL \
     OR to_regprocedure('autodb_grants.verifier(name)') IS NULL THEN false \
     ELSE has_function_privilege(to_regprocedure('autodb_grants.restore(name,text,text)'), 'EXECUTE') \
     AND has_function_privilege(to_regprocedure('autodb_grants.verifier(name)'), 'EXECUTE') END";

/// [`read`] through the helper.
pub fn read_by_helper(account: &str) -> String {
    format!(
        "SELECT autodb_grants.verifier({a}), rolvaliduntil::text, rolcanlogin FROM pg_roles WHERE rolname = {a}",
        a = literal(account)
    )
}

/// The helper's compare-and-set: `restored` or `conflict`.
pub fn restore_by_helper(account: &str, expected: Option<&str>, original: Option<&str>) -> String {
    let lit = |v: Option<&str>| v.map(literal).unwrap_or_else(|| "NULL".into());
    format!(
        "SELECT autodb_grants.restore({}, {}, {})",
        literal(account),
        lit(expected),
        lit(original)
    )
}

/// The watermark sessions are matched against: the server's clock before the change.
pub const WATERMARK: &str = "SELECT now()::text";

/// Sets a verifier (`None`: no password). PostgreSQL stores a SCRAM or md5 verifier given as
/// the password as it is; `VALID UNTIL` is untouched.
pub fn set_verifier(account: &str, verifier: Option<&str>) -> String {
    match verifier {
        Some(v) => format!("ALTER ROLE {} PASSWORD {}", ident(account), literal(v)),
        None => format!("ALTER ROLE {} PASSWORD NULL", ident(account)),
    }
}

/// Ends the sessions of `login` opened after `since` (all of them with `None`), except ours.
pub fn kill(login: &str, since: Option<&str>) -> String {
    let after = since
        .map(|w| format!(" AND backend_start >= {}::timestamptz", literal(w)))
        .unwrap_or_default();
    format!(
        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity \
         WHERE usename = {}{after} AND pid <> pg_backend_pid()",
        literal(login)
    )
}

/// A throwaway login that the database itself refuses after `until` (UTC), acting as `account`.
pub fn create_personal(login: &str, verifier: &str, until: &str, account: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE ROLE {} LOGIN PASSWORD {} VALID UNTIL {} IN ROLE {} CONNECTION LIMIT 5",
            ident(login),
            literal(verifier),
            literal(&format!("{until}+00")),
            ident(account)
        ),
        format!(
            "ALTER ROLE {} SET role = {}",
            ident(login),
            literal(account)
        ),
    ]
}

pub fn extend_personal(login: &str, until: &str) -> String {
    format!(
        "ALTER ROLE {} VALID UNTIL {}",
        ident(login),
        literal(&format!("{until}+00"))
    )
}

pub fn role_exists(login: &str) -> String {
    format!(
        "SELECT count(*) FROM pg_roles WHERE rolname = {}",
        literal(login)
    )
}

pub fn nologin(login: &str) -> String {
    format!("ALTER ROLE {} NOLOGIN", ident(login))
}

pub fn drop_role(login: &str) -> String {
    format!("DROP ROLE IF EXISTS {}", ident(login))
}

/// Each right a grant needs, with a probe answering true/false and the SQL granting it.
pub fn rights(target_user: &str) -> Vec<(&'static str, String, String)> {
    let me = ident(target_user);
    vec![
        (
            "read the verifier",
            format!("SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') OR ({HAS_HELPER})"),
            format!("-- the SECURITY DEFINER helper autodb_grants.verifier/restore (docs/GRANTS.md), or:\nALTER ROLE {me} SUPERUSER"),
        ),
        (
            "change the password",
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user".into(),
            format!("ALTER ROLE {me} CREATEROLE"),
        ),
        (
            "create/drop a login",
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user".into(),
            format!("ALTER ROLE {me} CREATEROLE"),
        ),
        (
            "see sessions",
            "SELECT pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')".into(),
            format!("GRANT pg_read_all_stats TO {me}"),
        ),
        (
            "end sessions",
            "SELECT pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')".into(),
            format!("GRANT pg_signal_backend TO {me}"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_are_quoted_so_no_text_can_leave_them() {
        assert_eq!(ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(
            set_verifier("spt", Some("SCRAM-SHA-256$4096:c2FsdA==$a:b")),
            "ALTER ROLE \"spt\" PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'"
        );
        assert_eq!(
            set_verifier("spt", None),
            "ALTER ROLE \"spt\" PASSWORD NULL"
        );
        assert_eq!(
            read("o'x"),
            "SELECT rolpassword, rolvaliduntil::text, rolcanlogin FROM pg_authid WHERE rolname = 'o''x'"
        );
    }

    #[test]
    fn the_helper_is_called_with_quoted_values_and_null_for_no_password() {
        assert_eq!(
            restore_by_helper("o'x", Some("SCRAM-SHA-256$t"), None),
            "SELECT autodb_grants.restore('o''x', 'SCRAM-SHA-256$t', NULL)"
        );
        assert!(read_by_helper("spt").starts_with("SELECT autodb_grants.verifier('spt'),"));
    }

    #[test]
    fn sessions_are_matched_by_login_and_start_after_the_watermark() {
        let sql = kill("spt", Some("2026-12-02 06:00:00+00"));
        assert!(sql.contains("usename = 'spt'"));
        assert!(sql.contains("backend_start >= '2026-12-02 06:00:00+00'::timestamptz"));
        assert!(sql.contains("pid <> pg_backend_pid()"));
        assert!(!kill("tmp", None).contains("backend_start"));
    }

    #[test]
    fn a_personal_login_expires_in_the_database_and_acts_as_the_account() {
        let sql = create_personal("autodb_g1", "SCRAM-SHA-256$x", "2026-12-02 07:00:00", "app");
        assert_eq!(
            sql[0],
            "CREATE ROLE \"autodb_g1\" LOGIN PASSWORD 'SCRAM-SHA-256$x' \
             VALID UNTIL '2026-12-02 07:00:00+00' IN ROLE \"app\" CONNECTION LIMIT 5"
        );
        assert_eq!(sql[1], "ALTER ROLE \"autodb_g1\" SET role = 'app'");
        assert_eq!(drop_role("autodb_g1"), "DROP ROLE IF EXISTS \"autodb_g1\"");
    }
}
