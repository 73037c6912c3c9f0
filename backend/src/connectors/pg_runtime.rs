//! The PostgreSQL connector's async plumbing, hidden behind blocking calls: the [`Driver`]
//! that runs a client future while pumping the connection (and collecting notices), and the
//! canceller that sends a cancel request from any thread.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{AsyncMessage, NoTls, Socket};

use super::sink::Notices;
use super::{Canceller, DbError};

/// The socket side of a connection plus the runtime that drives it. Kept apart from the
/// `Client` so a client future and the driver can be borrowed at the same time.
pub(crate) struct Driver {
    pub(crate) rt: Runtime,
    pub(crate) conn: tokio_postgres::Connection<Socket, NoTlsStream>,
    /// Bounded while collected: a flood of `RAISE NOTICE` is counted, not held.
    pub(crate) notices: Notices,
    pub(crate) closed: bool,
}

impl Driver {
    /// Run `fut` to completion while pumping the connection (which routes responses to the
    /// client and yields notices).
    pub(crate) fn block_on<F: Future>(&mut self, fut: F) -> F::Output {
        let Driver {
            rt,
            conn,
            notices,
            closed,
        } = self;
        let mut fut = std::pin::pin!(fut);
        rt.block_on(std::future::poll_fn(|cx| {
            while !*closed {
                match conn.poll_message(cx) {
                    Poll::Ready(Some(Ok(AsyncMessage::Notice(n)))) => {
                        let len = n.severity().len() + 2 + n.message().len();
                        notices.push_with(len, || format!("{}: {}", n.severity(), n.message()));
                    }
                    Poll::Ready(Some(Ok(_))) => {}
                    Poll::Ready(Some(Err(e))) => {
                        log::warn!("postgres target connection failed: {e}");
                        *closed = true;
                    }
                    Poll::Ready(None) => *closed = true,
                    Poll::Pending => break,
                }
            }
            // Once the connection is gone the client's futures resolve with a "closed" error.
            fut.as_mut().poll(cx)
        }))
    }
}

/// Sends a PostgreSQL cancel request (a separate short connection to the server).
pub(crate) struct PgCanceller {
    pub(crate) token: tokio_postgres::CancelToken,
    pub(crate) requested: AtomicBool,
}

impl Canceller for PgCanceller {
    fn cancel(&self) -> Result<(), DbError> {
        self.requested.store(true, Ordering::SeqCst);
        let token = self.token.clone();
        // A thread of its own, so cancel() works from any caller, an async worker included.
        let sent = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            match rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), token.cancel_query(NoTls)).await
            }) {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("the server did not take the cancel request within 10s".into()),
            }
        })
        .join();
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(DbError::connect(format!("cancel request failed: {msg}"))),
            Err(_) => Err(DbError::internal("the cancel thread panicked")),
        }
    }
}
