//! Secrets at rest and on the wire: the AES-256-GCM key that seals target passwords,
//! argon2id password hashes, and random bearer tokens stored only as SHA-256 digests.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const SEALED_PREFIX: &str = "v1:";
/// Binds ciphertexts to their purpose, so a sealed value cannot be replayed elsewhere.
const AAD: &[u8] = b"autodb:target-credential";
/// The purpose of a sealed job script (it may hold passwords: `CREATE ROLE … PASSWORD`).
const SCRIPT_AAD: &[u8] = b"autodb:job-script";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("secret key file {path}: {message}")]
    Io { path: String, message: String },
    #[error("secret key file {path} is not a base64 32-byte key")]
    Malformed { path: String },
}

/// The key that encrypts target credentials. Losing it makes stored passwords unreadable.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// Reads the key file, or creates it (mode 0600, new random key) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| KeyError::Io {
            path: shown.clone(),
            message: e.to_string(),
        };
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let key = Aes256Gcm::generate_key(OsRng);
            let mut file = open_private(path).map_err(io)?;
            writeln!(file, "{}", STANDARD.encode(key)).map_err(io)?;
            file.sync_all().map_err(io)?;
            log::info!("created a new secret key file at {shown}; back it up");
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::Malformed {
                path: shown.clone(),
            })?;
        if bytes.len() != 32 {
            return Err(KeyError::Malformed { path: shown });
        }
        Ok(Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
        })
    }

    pub fn seal(&self, plain: &SecretString) -> String {
        self.seal_bytes(plain.expose_secret().as_bytes(), AAD)
    }

    pub fn open(&self, sealed: &str) -> Result<SecretString, String> {
        let plain = self.open_bytes(sealed, AAD, "stored credential")?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| "stored credential is not UTF-8".to_string())
    }

    /// Seals a job script for execution; only [`SecretBox::open_script`] opens it (a target
    /// credential and a script cannot be swapped for each other).
    pub fn seal_script(&self, script: &str) -> String {
        self.seal_bytes(script.as_bytes(), SCRIPT_AAD)
    }

    pub fn open_script(&self, sealed: &str) -> Result<String, String> {
        let plain = self.open_bytes(sealed, SCRIPT_AAD, "the stored script")?;
        String::from_utf8(plain).map_err(|_| "the stored script is not UTF-8".to_string())
    }

    /// Seals `text` for one purpose (`aad`, e.g. `autodb:grant-original`); only
    /// [`SecretBox::open_for`] with the same purpose opens it.
    pub fn seal_for(&self, aad: &str, text: &str) -> Result<String, String> {
        if aad == std::str::from_utf8(AAD).unwrap_or_default()
            || aad == std::str::from_utf8(SCRIPT_AAD).unwrap_or_default()
        {
            return Err(format!("the purpose {aad} is reserved"));
        }
        Ok(self.seal_bytes(text.as_bytes(), aad.as_bytes()))
    }

    pub fn open_for(&self, aad: &str, sealed: &str) -> Result<String, String> {
        let plain = self.open_bytes(sealed, aad.as_bytes(), "a sealed value")?;
        String::from_utf8(plain).map_err(|_| "a sealed value is not UTF-8".to_string())
    }

    /// `v1:` + base64(nonce ‖ ciphertext), bound to its purpose by `aad`.
    fn seal_bytes(&self, msg: &[u8], aad: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and a fresh nonce cannot fail for in-memory inputs.
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg, aad })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// Opens what [`SecretBox::seal_bytes`] sealed with the same `aad`; `what` names it in errors.
    fn open_bytes(&self, sealed: &str, aad: &[u8], what: &str) -> Result<Vec<u8>, String> {
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > 12)
            .ok_or_else(|| format!("{what} is malformed"))?;
        let (nonce, msg) = raw.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg, aad })
            .map_err(|_| format!("{what} cannot be decrypted with the configured secret key"))
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// argon2id with the crate's defaults (19 MiB, 2 passes): tens of milliseconds — call it on a
/// blocking thread.
pub fn hash_password(password: &SecretString) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

pub fn verify_password(password: &SecretString, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new bearer token: `prefix` + 32 random bytes. Only its digest is stored.
pub fn new_token(prefix: &str) -> SecretString {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    SecretString::from(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A password for first-run accounts (scripts/run.sh prints it once).
pub fn random_password() -> SecretString {
    let mut bytes = [0u8; 18];
    OsRng.fill_bytes(&mut bytes);
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_sealed_for_one_purpose_opens_for_that_purpose_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = SecretBox::load_or_create(&dir.path().join("k.key")).expect("key");
        let sealed = k.seal_for("autodb:grant-temp", "SCRAM-x").expect("seal");
        assert!(!sealed.contains("SCRAM"));
        assert_eq!(
            k.open_for("autodb:grant-temp", &sealed).expect("opens"),
            "SCRAM-x"
        );
        assert!(k.open_for("autodb:grant-original", &sealed).is_err());
        assert!(k.open(&sealed).is_err(), "not a target credential");
        assert!(
            k.seal_for("autodb:target-credential", "x").is_err(),
            "reserved"
        );
    }

    #[test]
    fn a_sealed_credential_opens_with_the_same_key_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = SecretBox::load_or_create(&dir.path().join("a.key")).expect("key a");
        let b = SecretBox::load_or_create(&dir.path().join("b.key")).expect("key b");
        let sealed = a.seal(&SecretString::from("hunter2-secret"));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(
            a.open(&sealed).expect("opens").expose_secret(),
            "hunter2-secret"
        );
        assert!(b.open(&sealed).is_err());
        assert_ne!(
            sealed,
            a.seal(&SecretString::from("hunter2-secret")),
            "fresh nonce"
        );
    }

    #[test]
    fn a_sealed_script_opens_only_as_a_script_and_only_with_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = SecretBox::load_or_create(&dir.path().join("a.key")).expect("key a");
        let b = SecretBox::load_or_create(&dir.path().join("b.key")).expect("key b");
        let script = "CREATE ROLE x PASSWORD 'S3cret'";
        let sealed = a.seal_script(script);
        assert!(!sealed.contains("S3cret"));
        assert_eq!(a.open_script(&sealed).as_deref(), Ok(script));
        assert!(b.open_script(&sealed).is_err());
        // Purpose-bound: neither opens as the other.
        assert!(a.open(&sealed).is_err());
        let credential = a.seal(&SecretString::from("pw".to_string()));
        assert!(a.open_script(&credential).is_err());
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/secret.key");
        let first = SecretBox::load_or_create(&path).expect("create");
        let sealed = first.seal(&SecretString::from("x"));
        let again = SecretBox::load_or_create(&path).expect("reload");
        assert!(again.open(&sealed).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.key");
        std::fs::write(&path, "not a key").expect("write");
        assert!(matches!(
            SecretBox::load_or_create(&path),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password(&SecretString::from("correct horse"));
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&SecretString::from("correct horse"), &h));
        assert!(!verify_password(&SecretString::from("wrong"), &h));
        assert!(!verify_password(&SecretString::from("x"), "garbage"));
    }
}
