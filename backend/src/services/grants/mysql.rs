//! MySQL/MariaDB statements of a grant. Generated text only here (unit-tested); `target.rs`
//! runs them. The password is never in any of them, only its `mysql_native_password` hash.

/// `user` or `user@host` (host `%` when not given), as the policy names the account.
pub fn split_account(account: &str) -> (String, String) {
    match account.rsplit_once('@') {
        Some((u, h)) if !h.is_empty() => (u.to_string(), h.to_string()),
        _ => (account.to_string(), "%".to_string()),
    }
}

/// A string literal, backslashes and quotes escaped as the default `sql_mode` reads them.
/// Policies refuse account names with a backslash, and hashes have none, so
/// `NO_BACKSLASH_ESCAPES` cannot change what a literal here means.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

pub fn user(account: &str) -> String {
    let (u, h) = split_account(account);
    format!("{}@{}", literal(&u), literal(&h))
}

/// Plugin, authentication string, locked, expired (MariaDB's `mysql.global_priv`).
pub fn read(account: &str) -> String {
    let (u, h) = split_account(account);
    format!(
        "SELECT JSON_VALUE(Priv, '$.plugin'), JSON_VALUE(Priv, '$.authentication_string'), \
         COALESCE(JSON_VALUE(Priv, '$.account_locked'), 'false'), \
         COALESCE(JSON_VALUE(Priv, '$.password_last_changed'), '1'), \
         JSON_LENGTH(Priv, '$.auth_or') \
         FROM mysql.global_priv WHERE User = {} AND Host = {}",
        literal(&u),
        literal(&h)
    )
}

pub const WATERMARK: &str = "SELECT CONNECTION_ID()";

/// Sets a native-password hash (`*` + 40 hex).
pub fn set_native(account: &str, hash: &str) -> String {
    format!(
        "ALTER USER {} IDENTIFIED BY PASSWORD {}",
        user(account),
        literal(hash)
    )
}

/// Puts back an authentication exactly as it was, by plugin and stored string.
pub fn set_auth(account: &str, plugin: &str, auth: &str) -> String {
    format!(
        "ALTER USER {} IDENTIFIED VIA {} USING {}",
        user(account),
        plugin_name(plugin),
        literal(auth)
    )
}

/// Plugin names are identifiers of a short known set; anything else is not put in SQL.
fn plugin_name(p: &str) -> &str {
    if !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        p
    } else {
        "mysql_native_password"
    }
}

pub fn lock(account: &str, locked: bool) -> String {
    let what = if locked { "LOCK" } else { "UNLOCK" };
    format!("ALTER USER {} ACCOUNT {what}", user(account))
}

pub fn expire(account: &str) -> String {
    format!("ALTER USER {} PASSWORD EXPIRE", user(account))
}

/// Connection ids of `user`'s sessions opened after the watermark (all with `None`), not ours.
pub fn sessions(account: &str, after: Option<i64>) -> String {
    let (u, _) = split_account(account);
    let since = after.map(|w| format!(" AND ID > {w}")).unwrap_or_default();
    format!(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = {}{since} AND ID <> CONNECTION_ID()",
        literal(&u)
    )
}

pub fn kill(id: i64) -> String {
    format!("KILL CONNECTION {id}")
}

pub fn create_user(login: &str, hash: &str) -> String {
    format!(
        "CREATE USER {} IDENTIFIED BY PASSWORD {}",
        user(login),
        literal(hash)
    )
}

pub fn drop_user(login: &str) -> String {
    format!("DROP USER IF EXISTS {}", user(login))
}

pub fn user_exists(login: &str) -> String {
    let (u, h) = split_account(login);
    format!(
        "SELECT count(*) FROM mysql.global_priv WHERE User = {} AND Host = {}",
        literal(&u),
        literal(&h)
    )
}

pub fn show_grants(account: &str) -> String {
    format!("SHOW GRANTS FOR {}", user(account))
}

/// The account's grants (as `SHOW GRANTS` prints them) re-aimed at the personal login, without
/// the account's own authentication. The grantee is the exact text MariaDB prints for it.
pub fn copy_grants(lines: &[String], account: &str, login: &str) -> Vec<String> {
    let (u, h) = split_account(account);
    let grantee = format!("`{}`@`{}`", u.replace('`', "``"), h.replace('`', "``"));
    let to = user(login);
    lines
        .iter()
        .filter(|l| l.starts_with("GRANT "))
        .map(|l| {
            let l = match l.find(" IDENTIFIED ") {
                Some(i) => match l[i..].find(" WITH ") {
                    Some(j) => format!("{}{}", &l[..i], &l[i + j..]),
                    None => l[..i].to_string(),
                },
                None => l.clone(),
            };
            l.replace(&format!(" TO {grantee}"), &format!(" TO {to}"))
        })
        .filter(|l| l.contains(&format!(" TO {to}")))
        .collect()
}

/// The one-shot event that locks, ends and drops the personal login at its expiry even when
/// AutoDB is down (MariaDB with `event_scheduler = ON`).
pub fn event_name(login: &str) -> String {
    let safe: String = login
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("`autodb_expire_{safe}`")
}

pub fn create_event(login: &str, seconds: i64) -> String {
    let who = user(login);
    let (u, _) = split_account(login);
    format!(
        "CREATE OR REPLACE EVENT {} ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL {seconds} SECOND \
         ON COMPLETION NOT PRESERVE DO BEGIN ALTER USER {who} ACCOUNT LOCK; \
         KILL CONNECTION USER {}; DROP USER IF EXISTS {who}; END",
        event_name(login),
        literal(&u)
    )
}

pub fn drop_event(login: &str) -> String {
    format!("DROP EVENT IF EXISTS {}", event_name(login))
}

pub const EVENT_SCHEDULER: &str = "SELECT @@event_scheduler";

/// Each right a grant needs: the privilege names `SHOW GRANTS` must show (any of them; `ALL
/// PRIVILEGES ON *.*` covers all), and the SQL granting it.
pub fn rights(target_user: &str) -> Vec<(&'static str, &'static [&'static str], String)> {
    let me = user(target_user);
    vec![
        (
            "read the verifier",
            &[
                "SELECT ON `mysql`.*",
                "SELECT ON `mysql`.`global_priv`",
                "SELECT ON *.*",
            ],
            format!("GRANT SELECT ON mysql.global_priv TO {me}"),
        ),
        (
            "change the password",
            &["CREATE USER", "UPDATE ON *.*"],
            format!("GRANT CREATE USER ON *.* TO {me}"),
        ),
        (
            "create/drop a login",
            &["CREATE USER"],
            format!("GRANT CREATE USER ON *.* TO {me} WITH GRANT OPTION"),
        ),
        (
            "see sessions",
            &["PROCESS", "SUPER"],
            format!("GRANT PROCESS ON *.* TO {me}"),
        ),
        (
            "end sessions",
            &["CONNECTION ADMIN", "SUPER"],
            format!("GRANT CONNECTION ADMIN ON *.* TO {me}"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_user_at_host_with_host_percent_by_default() {
        assert_eq!(split_account("spt"), ("spt".into(), "%".into()));
        assert_eq!(split_account("spt@10.%"), ("spt".into(), "10.%".into()));
        assert_eq!(user("o'x@h"), "'o''x'@'h'");
        assert_eq!(literal(r"a\b"), r"'a\\b'");
    }

    #[test]
    fn the_password_goes_as_a_hash_and_comes_back_by_plugin_and_string() {
        assert_eq!(
            set_native("spt", "*ABC"),
            "ALTER USER 'spt'@'%' IDENTIFIED BY PASSWORD '*ABC'"
        );
        assert_eq!(
            set_auth("spt", "ed25519", "xyz"),
            "ALTER USER 'spt'@'%' IDENTIFIED VIA ed25519 USING 'xyz'"
        );
        assert_eq!(
            set_auth("spt", "x; DROP", "y"),
            "ALTER USER 'spt'@'%' IDENTIFIED VIA mysql_native_password USING 'y'"
        );
        assert_eq!(lock("spt", true), "ALTER USER 'spt'@'%' ACCOUNT LOCK");
    }

    #[test]
    fn sessions_after_the_connection_id_watermark_are_found() {
        assert_eq!(
            sessions("spt@%", Some(41)),
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'spt' AND ID > 41 AND ID <> CONNECTION_ID()"
        );
    }

    #[test]
    fn the_accounts_grants_are_re_aimed_at_the_personal_login_without_its_password() {
        let lines = vec![
            "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*AAA'".to_string(),
            "GRANT SELECT, INSERT ON `shop`.* TO `app`@`%` WITH GRANT OPTION".to_string(),
            "GRANT `reader` TO `app`@`%`".to_string(),
        ];
        let got = copy_grants(&lines, "app", "autodb_g1");
        assert_eq!(
            got,
            [
                "GRANT USAGE ON *.* TO 'autodb_g1'@'%'",
                "GRANT SELECT, INSERT ON `shop`.* TO 'autodb_g1'@'%' WITH GRANT OPTION",
                "GRANT `reader` TO 'autodb_g1'@'%'",
            ]
        );
        assert!(create_event("autodb_g1", 60).contains("AT CURRENT_TIMESTAMP + INTERVAL 60 SECOND"));
    }
}
