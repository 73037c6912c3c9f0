//! The temporary password and the verifiers computed from it on AutoDB's side, so the
//! plaintext never reaches a database that accepts a verifier (and so never its logs).

use rand::seq::SliceRandom;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha1::{Digest, Sha1};

use crate::config::GrantSettings;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGIT: &[u8] = b"23456789";
/// No quotes, backslash, `$`, `@` or `%`: nothing any engine's client or a shell treats specially.
const SYMBOL: &[u8] = b"-_.+=!^*~";

/// A password of `grants.password_length` characters with at least one of each class in
/// `grants.password_classes` (what engines' password rules ask for).
pub fn generate(settings: &GrantSettings) -> SecretString {
    let classes: Vec<&[u8]> = settings
        .password_classes
        .iter()
        .filter_map(|c| match c.as_str() {
            "lower" => Some(LOWER),
            "upper" => Some(UPPER),
            "digit" => Some(DIGIT),
            "symbol" => Some(SYMBOL),
            _ => None,
        })
        .collect();
    let classes = if classes.is_empty() {
        vec![LOWER, UPPER, DIGIT]
    } else {
        classes
    };
    let len = settings.password_length.max(classes.len());
    let mut rng = rand::rngs::OsRng;
    let all: Vec<u8> = classes.iter().flat_map(|c| c.iter().copied()).collect();
    let mut out: Vec<u8> = classes
        .iter()
        .map(|c| c[rng.gen_range(0..c.len())])
        .collect();
    while out.len() < len {
        out.push(all[rng.gen_range(0..all.len())]);
    }
    out.shuffle(&mut rng);
    SecretString::from(String::from_utf8_lossy(&out).into_owned())
}

/// PostgreSQL's SCRAM-SHA-256 verifier (RFC 5802/7677: 16-byte random salt, 4096 iterations),
/// computed as libpq's `PQencryptPasswordConn` does: `SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>`.
pub fn scram_sha256(password: &SecretString) -> String {
    postgres_protocol::password::scram_sha_256(password.expose_secret().as_bytes())
}

/// MySQL/MariaDB `mysql_native_password`: `*` and the upper-case hex of SHA1(SHA1(password)).
pub fn mysql_native(password: &SecretString) -> String {
    let once = Sha1::digest(password.expose_secret().as_bytes());
    let twice = Sha1::digest(once);
    format!("*{}", hex::encode_upper(twice))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(len: usize, classes: &[&str]) -> GrantSettings {
        GrantSettings {
            password_length: len,
            password_classes: classes.iter().map(|s| s.to_string()).collect(),
            ..GrantSettings::default()
        }
    }

    #[test]
    fn a_generated_password_has_the_length_and_every_class_asked_for() {
        for _ in 0..200 {
            let p = generate(&settings(12, &["lower", "upper", "digit", "symbol"]));
            let p = p.expose_secret();
            assert_eq!(p.len(), 12);
            for class in [LOWER, UPPER, DIGIT, SYMBOL] {
                assert!(p.bytes().any(|b| class.contains(&b)), "{p}");
            }
            assert!(!p.contains(['\'', '"', '\\', '$', '@', '%']));
        }
        let digits = generate(&settings(30, &["digit"]));
        assert!(digits.expose_secret().bytes().all(|b| DIGIT.contains(&b)));
        assert_ne!(
            generate(&settings(24, &[])).expose_secret(),
            generate(&settings(24, &[])).expose_secret()
        );
    }

    #[test]
    fn the_mysql_native_hash_matches_the_servers_password_function() {
        // SELECT PASSWORD('pencil') on MariaDB 10.11.
        let h = mysql_native(&SecretString::from("pencil"));
        assert_eq!(h.len(), 41);
        assert!(h.starts_with('*'));
        // SELECT PASSWORD('password') — the well-known value.
        assert_eq!(
            mysql_native(&SecretString::from("password")),
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
    }

    #[test]
    fn the_scram_verifier_has_postgresqls_shape_and_a_fresh_salt_each_time() {
        let p = SecretString::from("pencil");
        let v = scram_sha256(&p);
        let (head, keys) = v.split_once('$').expect("$");
        assert_eq!(head, "SCRAM-SHA-256");
        let (iter_salt, stored_server) = keys.split_once('$').expect("second $");
        let (iter, salt) = iter_salt.split_once(':').expect(":");
        assert_eq!(iter, "4096");
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        assert_eq!(b64.decode(salt).expect("salt").len(), 16);
        let (stored, server) = stored_server.split_once(':').expect("keys");
        assert_eq!(b64.decode(stored).expect("stored").len(), 32);
        assert_eq!(b64.decode(server).expect("server").len(), 32);
        assert!(!v.contains("pencil"));
        assert_ne!(scram_sha256(&p), v, "a new salt every time");
    }
}
