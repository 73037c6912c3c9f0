//! Oracle statements of a grant: generated and unit-tested only (no Oracle server here; the
//! sweeper refuses Oracle policies until they are tested live). From the manuals, see
//! docs/GRANTS.md.

pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.to_uppercase().replace('"', "\"\""))
}

pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Every verifier of the account (`S:` SHA-1, `T:` SHA-512 in spare4; 10g hash in password).
pub fn read(account: &str) -> String {
    format!(
        "SELECT spare4, password, astatus FROM sys.user$ WHERE name = {}",
        literal(&account.to_uppercase())
    )
}

/// Sets (or restores) the account by its verifiers, never by a password.
pub fn set_values(account: &str, values: &str) -> String {
    format!(
        "ALTER USER {} IDENTIFIED BY VALUES {}",
        ident(account),
        literal(values)
    )
}

pub fn unlock(account: &str) -> String {
    format!("ALTER USER {} ACCOUNT UNLOCK", ident(account))
}

/// Sessions of the account logged on since the watermark (a `DATE` in the database's time).
pub fn sessions(account: &str, since: &str) -> String {
    format!(
        "SELECT sid, serial#, inst_id FROM gv$session WHERE username = {} \
         AND logon_time >= TO_DATE({}, 'YYYY-MM-DD HH24:MI:SS')",
        literal(&account.to_uppercase()),
        literal(since)
    )
}

pub fn kill(sid: i64, serial: i64, inst: i64) -> String {
    format!("ALTER SYSTEM KILL SESSION '{sid},{serial},@{inst}' IMMEDIATE")
}

/// Personal mode: a proxy login allowed to connect as the account, and a one-off scheduler
/// job that revokes and drops it at the expiry even when AutoDB is down.
pub fn create_personal(login: &str, values: &str, account: &str, seconds: i64) -> Vec<String> {
    let job = format!("AUTODB_EXPIRE_{}", login.to_uppercase());
    vec![
        format!(
            "CREATE USER {} IDENTIFIED BY VALUES {}",
            ident(login),
            literal(values)
        ),
        format!("GRANT CREATE SESSION TO {}", ident(login)),
        format!(
            "ALTER USER {} GRANT CONNECT THROUGH {}",
            ident(account),
            ident(login)
        ),
        format!(
            "BEGIN DBMS_SCHEDULER.CREATE_JOB(job_name => {}, job_type => 'PLSQL_BLOCK', \
             job_action => {}, start_date => SYSTIMESTAMP + NUMTODSINTERVAL({seconds}, 'SECOND'), \
             enabled => TRUE, auto_drop => TRUE); END;",
            literal(&job),
            literal(&format!(
                "BEGIN EXECUTE IMMEDIATE 'ALTER USER {} REVOKE CONNECT THROUGH {}'; \
                 EXECUTE IMMEDIATE 'DROP USER {} CASCADE'; END;",
                ident(account).replace('\'', "''"),
                ident(login).replace('\'', "''"),
                ident(login).replace('\'', "''")
            ))
        ),
    ]
}

pub fn drop_personal(login: &str, account: &str) -> Vec<String> {
    vec![
        format!(
            "ALTER USER {} REVOKE CONNECT THROUGH {}",
            ident(account),
            ident(login)
        ),
        format!("DROP USER {} CASCADE", ident(login)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_accounts_are_restored_by_values_and_sessions_killed_by_sid_serial_and_instance() {
        assert_eq!(
            set_values("spt", "S:ABC;T:DEF"),
            "ALTER USER \"SPT\" IDENTIFIED BY VALUES 'S:ABC;T:DEF'"
        );
        assert_eq!(
            read("spt"),
            "SELECT spare4, password, astatus FROM sys.user$ WHERE name = 'SPT'"
        );
        assert_eq!(
            kill(12, 345, 1),
            "ALTER SYSTEM KILL SESSION '12,345,@1' IMMEDIATE"
        );
        assert!(sessions("spt", "2026-12-02 06:00:00")
            .contains("logon_time >= TO_DATE('2026-12-02 06:00:00'"));
    }

    #[test]
    fn an_oracle_personal_login_is_a_proxy_with_a_scheduler_job_that_drops_it() {
        let sql = create_personal("tmp1", "S:X", "app", 600);
        assert_eq!(sql[2], "ALTER USER \"APP\" GRANT CONNECT THROUGH \"TMP1\"");
        assert!(sql[3].contains("NUMTODSINTERVAL(600, 'SECOND')"));
        assert!(sql[3].contains("REVOKE CONNECT THROUGH"));
        assert_eq!(
            drop_personal("tmp1", "app")[1],
            "DROP USER \"TMP1\" CASCADE"
        );
    }
}
