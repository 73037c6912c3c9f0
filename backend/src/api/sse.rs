//! Server-Sent Events, the one place: a service's [`Source`] of typed events becomes an
//! `text/event-stream` answer. Framing (`event: name\ndata: json\n\n`), the headers, keep-alive
//! comments, the wait between reads (woken by the source's change notices, with a poll for
//! changes made by another AutoDB process) and the credential re-check before every read
//! ([`Watch::check`]) live here.
//!
//! The stream ends after the source's last event, with the source's `end` event (and a
//! `reason`) once the credential lapses, or with `stream_error` `{"message": ...}` when a read
//! fails on the server (not `error`: EventSource reports a dropped connection under that name).

use std::convert::Infallible;
use std::time::{Duration, Instant};

use actix_web::http::header::{ContentEncoding, CACHE_CONTROL};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures_util::Stream;
use serde::Serialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::services::live::{LiveEvent, Source, Watch};
use crate::services::Ctx;

/// The longest wait between reads: changes made by another process send no notice here.
const POLL: Duration = Duration::from_secs(1);
/// A comment is sent after this long without an event, so proxies keep the connection open.
const KEEPALIVE: Duration = Duration::from_secs(15);
const KEEPALIVE_FRAME: &str = ": keep-alive\n\n";
/// The event a failed read ends the stream with.
pub const STREAM_ERROR: &str = "stream_error";

/// One event on the wire. Compact JSON has no raw line break (those inside strings are
/// escaped), so the payload is always a single `data:` line.
pub fn frame(name: &str, data: &impl Serialize) -> String {
    let data = serde_json::to_string(data).unwrap_or_else(|e| {
        log::error!("serializing a {name} event: {e}");
        "null".into()
    });
    format!("event: {name}\ndata: {data}\n\n")
}

fn frame_event(event: &impl LiveEvent) -> String {
    frame(event.name(), event)
}

/// The answer that follows `source` for the holder of `watch` (checked again before every
/// read while the stream lasts).
pub fn response<S: Source + 'static>(ctx: Ctx, watch: Watch, source: S) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((CACHE_CONTROL, "no-cache"))
        // nginx: pass each event on at once.
        .insert_header(("X-Accel-Buffering", "no"))
        // Compressing an event stream would hold events back until a block fills.
        .insert_header(ContentEncoding::Identity)
        .streaming(stream(ctx, watch, source))
}

struct State<S> {
    ctx: Ctx,
    watch: Watch,
    source: S,
    read: bool,
    last_sent: Instant,
    done: bool,
}

/// The frames of `source`'s events, one chunk per read that had something to send.
pub fn stream<S: Source + 'static>(
    ctx: Ctx,
    watch: Watch,
    source: S,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let state = State {
        ctx,
        watch,
        source,
        read: false,
        last_sent: Instant::now(),
        done: false,
    };
    futures_util::stream::unfold(state, next_chunk)
}

/// Waits until the source's resource may have changed: a notice for its id, notices lost
/// (lagged), or [`POLL`].
async fn changed<S: Source>(source: &mut S) {
    let id = source.id();
    let rx = source.changes();
    let _ = tokio::time::timeout(POLL, async {
        loop {
            match rx.recv().await {
                Ok(changed) if changed == id => return,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => return,
                // The engine is gone: only the poll is left.
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    })
    .await;
}

async fn next_chunk<S: Source>(mut st: State<S>) -> Option<(Result<Bytes, Infallible>, State<S>)> {
    if st.done {
        return None;
    }
    loop {
        if st.read {
            changed(&mut st.source).await;
        }
        let actor = match st.watch.check(&st.ctx).await {
            Ok(actor) => actor,
            Err(lapse) => {
                st.done = true;
                let last = frame_event(&st.source.lapsed(lapse));
                return Some((Ok(Bytes::from(last)), st));
            }
        };
        st.read = true;
        let mut out = match st.source.next(actor).await {
            Ok((events, ended)) => {
                st.done = ended;
                events.iter().map(frame_event).collect::<String>()
            }
            Err(e) => {
                st.done = true;
                frame(STREAM_ERROR, &json!({ "message": e.to_string() }))
            }
        };
        if out.is_empty() && st.last_sent.elapsed() >= KEEPALIVE {
            out = KEEPALIVE_FRAME.into();
        }
        if !out.is_empty() {
            st.last_sent = Instant::now();
            return Some((Ok(Bytes::from(out)), st));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_with_line_breaks_is_one_data_line() {
        let sent = frame("result", &json!({"text": "line one\nline two\r\nthree"}));
        let lines: Vec<&str> = sent.split('\n').collect();
        assert_eq!(
            lines,
            [
                "event: result",
                r#"data: {"text":"line one\nline two\r\nthree"}"#,
                "",
                ""
            ],
            "{sent:?}"
        );
    }

    #[test]
    fn an_event_is_its_name_its_json_and_a_blank_line() {
        assert_eq!(
            frame("end", &json!({"id": 3, "status": "success"})),
            "event: end\ndata: {\"id\":3,\"status\":\"success\"}\n\n"
        );
    }

    #[test]
    fn a_keep_alive_is_a_comment_line_that_ends_a_block() {
        // A line starting with ':' is a comment: EventSource ignores it and dispatches nothing.
        assert!(KEEPALIVE_FRAME.starts_with(':'));
        assert!(KEEPALIVE_FRAME.ends_with("\n\n"));
        assert_eq!(KEEPALIVE_FRAME.matches('\n').count(), 2);
    }
}
