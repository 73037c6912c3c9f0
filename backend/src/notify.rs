//! systemd's readiness protocol (sd_notify): `READY=1` once the store, migrations and listener
//! are up, `WATCHDOG=1` from the work engine's heartbeat. A datagram to `$NOTIFY_SOCKET`; a
//! no-op when it is unset (not started by a `Type=notify` unit).

use std::os::unix::net::UnixDatagram;

/// Sends `state` (e.g. `READY=1`) to the service manager. Errors are logged, never fatal: a
/// missing manager must not stop the service.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent = UnixDatagram::unbound().and_then(|sock| {
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            // An abstract socket (systemd uses these in containers).
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sock.send_to_addr(state.as_bytes(), &addr)
        } else {
            sock.send_to(state.as_bytes(), &path)
        }
    });
    if let Err(e) = sent {
        log::warn!("sd_notify {state:?} to {}: {e}", path.to_string_lossy());
    }
}

/// `READY=1`: the service is up.
pub fn ready() {
    notify("READY=1");
}

/// `WATCHDOG=1`: the engine is alive (sent from its heartbeat loop).
pub fn watchdog() {
    notify("WATCHDOG=1");
}

/// `STOPPING=1`: shutting down.
pub fn stopping() {
    notify("STOPPING=1");
}
