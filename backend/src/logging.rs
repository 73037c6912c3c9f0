//! Log lines: `log.format` text or JSON, and the request id on every line logged while a request
//! is served — on its async task (a task-local, set by `api::observe`) and on the blocking
//! threads its store calls run on (a thread-local, set by [`with_request_id`]). Text has no
//! colour; under journald (`JOURNAL_STREAM` set) it carries a `<N>` priority instead of a
//! timestamp, which journald adds. Imports nothing else of AutoDB: every layer may use it.

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// `log.format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `[ts LEVEL target] [request id] message`
    #[default]
    Text,
    /// One JSON object a line: `ts`, `level`, `target`, `msg`, `request_id` (when there is one).
    Json,
}

static FORMAT: AtomicU8 = AtomicU8::new(0);
static JOURNAL: AtomicBool = AtomicBool::new(false);

tokio::task_local! {
    static TASK_REQUEST: Arc<str>;
}

thread_local! {
    static THREAD_REQUEST: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// Installs the logger (before the configuration is read: text until [`set_format`]).
/// Target drivers log each statement's text at debug level, and a job script may hold a
/// password (`CREATE ROLE … PASSWORD`): never below info for them, whatever RUST_LOG says.
pub fn init() {
    JOURNAL.store(
        std::env::var_os("JOURNAL_STREAM").is_some(),
        Ordering::Relaxed,
    );
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .filter_module("tokio_postgres", log::LevelFilter::Info)
        .filter_module("postgres", log::LevelFilter::Info)
        .filter_module("mysql", log::LevelFilter::Info)
        .filter_module("mysql_common", log::LevelFilter::Info)
        .filter_module("oracle", log::LevelFilter::Info)
        .filter_module("rusqlite", log::LevelFilter::Info)
        .write_style(env_logger::WriteStyle::Never)
        .format(|buf, record| {
            let request = request_id();
            let line = Line {
                ts: now(),
                level: record.level(),
                target: record.target(),
                msg: &record.args().to_string(),
                request_id: request.as_deref(),
            };
            writeln!(
                buf,
                "{}",
                line.render(format(), JOURNAL.load(Ordering::Relaxed))
            )
        })
        .init();
}

/// Applies `log.format` from the loaded configuration.
pub fn set_format(f: LogFormat) {
    FORMAT.store(
        match f {
            LogFormat::Text => 0,
            LogFormat::Json => 1,
        },
        Ordering::Relaxed,
    );
}

fn format() -> LogFormat {
    match FORMAT.load(Ordering::Relaxed) {
        1 => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The id of the request being served here: the async task's, else this thread's.
pub fn request_id() -> Option<Arc<str>> {
    TASK_REQUEST
        .try_with(Arc::clone)
        .ok()
        .or_else(|| THREAD_REQUEST.with(|r| r.borrow().clone()))
}

/// Runs `f` with `id` as this thread's request id (for work handed to a blocking thread).
pub fn with_request_id<T>(id: Option<Arc<str>>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<str>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            THREAD_REQUEST.with(|r| *r.borrow_mut() = before);
        }
    }
    let before = THREAD_REQUEST.with(|r| std::mem::replace(&mut *r.borrow_mut(), id));
    let _restore = Restore(before);
    f()
}

/// Runs a request's future with `id` as its request id.
pub async fn in_request<F: Future>(id: Arc<str>, fut: F) -> F::Output {
    TASK_REQUEST.scope(id, fut).await
}

/// Longest `X-Request-Id` taken from a client or proxy.
pub const MAX_REQUEST_ID: usize = 64;

/// A request id as received, if it is one we keep: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn accept_request_id(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s.len() <= MAX_REQUEST_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(s)
}

/// A new request id: 32 hex digits, the shape of nginx's `$request_id`.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// One log line's parts.
#[derive(Serialize)]
struct Line<'a> {
    ts: String,
    #[serde(serialize_with = "level_name")]
    level: log::Level,
    target: &'a str,
    msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

fn level_name<S: serde::Serializer>(l: &log::Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(l.as_str())
}

impl Line<'_> {
    fn render(&self, format: LogFormat, journal: bool) -> String {
        if format == LogFormat::Json {
            return serde_json::to_string(self).unwrap_or_else(|_| self.msg.to_string());
        }
        let rid = self
            .request_id
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        if journal {
            // sd-daemon priority prefixes: journald reads them from a service's stderr.
            let prio = match self.level {
                log::Level::Error => 3,
                log::Level::Warn => 4,
                log::Level::Info => 6,
                log::Level::Debug | log::Level::Trace => 7,
            };
            format!("<{prio}>[{} {}]{rid} {}", self.level, self.target, self.msg)
        } else {
            format!(
                "[{} {:<5} {}]{rid} {}",
                self.ts, self.level, self.target, self.msg
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(request_id: Option<&str>) -> Line<'_> {
        Line {
            ts: "2026-12-02T10:00:00.000Z".into(),
            level: log::Level::Warn,
            target: "autodb::access",
            msg: "say \"hi\"",
            request_id,
        }
    }

    #[test]
    fn a_json_line_is_one_object_with_the_request_id_when_there_is_one() {
        let v: serde_json::Value =
            serde_json::from_str(&line(Some("abc")).render(LogFormat::Json, false)).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"ts": "2026-12-02T10:00:00.000Z", "level": "WARN",
                "target": "autodb::access", "msg": "say \"hi\"", "request_id": "abc"})
        );
        let v: serde_json::Value =
            serde_json::from_str(&line(None).render(LogFormat::Json, false)).expect("json");
        assert!(v.get("request_id").is_none(), "{v}");
    }

    #[test]
    fn a_text_line_has_no_colour_and_under_journald_a_priority_instead_of_a_time() {
        assert_eq!(
            line(Some("abc")).render(LogFormat::Text, false),
            "[2026-12-02T10:00:00.000Z WARN  autodb::access] [abc] say \"hi\""
        );
        assert_eq!(
            line(None).render(LogFormat::Text, true),
            "<4>[WARN autodb::access] say \"hi\""
        );
    }

    #[test]
    fn only_short_plain_request_ids_are_taken() {
        assert_eq!(accept_request_id("abc-1.2_3"), Some("abc-1.2_3"));
        assert_eq!(accept_request_id(&"a".repeat(64)).map(str::len), Some(64));
        for bad in ["", "a b", "a\nb", "ä", "x;y", &"a".repeat(65)] {
            assert_eq!(accept_request_id(bad), None, "{bad:?}");
        }
        let id = new_request_id();
        assert_eq!(accept_request_id(&id), Some(id.as_str()));
    }

    #[tokio::test]
    async fn the_request_id_follows_the_task_and_the_blocking_thread_it_hands_work_to() {
        assert_eq!(request_id(), None);
        let seen = in_request("r1".into(), async {
            let id = request_id();
            tokio::task::spawn_blocking(move || with_request_id(id, request_id))
                .await
                .expect("join")
        })
        .await;
        assert_eq!(seen.as_deref(), Some("r1"));
        assert_eq!(request_id(), None);
        // The thread's id is put back, however the closure ends.
        with_request_id(Some("outer".into()), || {
            with_request_id(Some("inner".into()), || ());
            assert_eq!(request_id().as_deref(), Some("outer"));
        });
        assert_eq!(request_id(), None);
    }
}
