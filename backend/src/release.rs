//! The release this process runs: the `VERSION` file next to the executable (written by
//! `scripts/release.sh`, so `/api/health` tells releases of one build apart), else the Cargo
//! version. Read once.

use std::sync::OnceLock;

pub fn release() -> &'static str {
    static RELEASE: OnceLock<String> = OnceLock::new();
    RELEASE.get_or_init(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| std::fs::read_to_string(exe.with_file_name("VERSION")).ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string())
    })
}
