//! Answers that outlive their request (event streams, CSV exports) keep the credential they
//! were opened with and check it again while they last: when the session or token has ended
//! (logout, revocation, expiry), the user was disabled, or their role no longer allows the
//! action, the answer ends. Checks go through [`auth::authenticate`], so they cost a store round
//! trip at most once per auth-cache period; changes made in this process are seen at the next
//! check, changes made elsewhere within [`auth::AUTH_CACHE_TTL`].
//!
//! A live resource (a job, a query) is followed through a [`Source`] of typed [`LiveEvent`]s;
//! how they travel (SSE framing, keep-alive, waiting, the credential check) is `api::sse`.

use crate::domain::Status;
use std::future::Future;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::broadcast;

use super::error::{Error, Result};
use super::{auth, Action, Actor, Ctx};

/// How often a long-lived answer checks its credential.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// The secret a request presented (session or API token) and where it came from.
#[derive(Clone)]
pub struct Credential {
    token: SecretString,
    client_addr: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("client_addr", &self.client_addr)
            .finish_non_exhaustive()
    }
}

impl Credential {
    pub fn new(token: String, client_addr: Option<String>) -> Self {
        Self {
            token: token.into(),
            client_addr,
        }
    }

    /// The acting user, as of now.
    pub async fn verify(&self, ctx: &Ctx) -> Result<Actor> {
        auth::authenticate(
            ctx,
            self.token.expose_secret().to_string(),
            self.client_addr.clone(),
        )
        .await
    }
}

/// Why a long-lived answer was ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lapse {
    /// The session or token ended, or the user was disabled.
    Unauthenticated,
    /// The user's role no longer allows the action.
    Forbidden,
    /// The credential could not be checked (store unavailable) for a whole auth-cache period.
    Unverified,
}

impl Lapse {
    pub fn reason(self) -> &'static str {
        match self {
            Lapse::Unauthenticated => "unauthenticated",
            Lapse::Forbidden => "forbidden",
            Lapse::Unverified => "unverified",
        }
    }
}

/// Re-checks one answer's credential for one action, at most every [`RECHECK_EVERY`].
#[derive(Debug)]
pub struct Watch {
    credential: Credential,
    action: Action,
    actor: Actor,
    checked: Instant,
}

impl Watch {
    /// Starts watching for an actor that was just authenticated with `credential`.
    pub fn new(credential: Credential, actor: Actor, action: Action) -> Self {
        Self {
            credential,
            action,
            actor,
            checked: Instant::now(),
        }
    }

    /// The actor as of the last check.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The current actor, checked again when the last check is older than [`RECHECK_EVERY`].
    /// A store that cannot answer is a lapse only once no check has passed for a whole
    /// auth-cache period (as long as a cached verification would be trusted).
    pub async fn check(&mut self, ctx: &Ctx) -> std::result::Result<&Actor, Lapse> {
        if self.checked.elapsed() >= RECHECK_EVERY {
            match self.credential.verify(ctx).await {
                Ok(actor) => {
                    self.actor = actor;
                    self.checked = Instant::now();
                }
                Err(Error::Unauthenticated | Error::InvalidCredentials) => {
                    return Err(Lapse::Unauthenticated)
                }
                Err(e) => {
                    log::warn!("re-checking a live answer's credential: {e}");
                    if self.checked.elapsed() >= auth::AUTH_CACHE_TTL {
                        return Err(Lapse::Unverified);
                    }
                }
            }
        }
        if self.actor.may(self.action) {
            Ok(&self.actor)
        } else {
            Err(Lapse::Forbidden)
        }
    }
}

/// One event of a live resource: the name it is sent under and its payload (`Serialize`).
pub trait LiveEvent: Serialize {
    fn name(&self) -> &'static str;
}

/// A live resource as a sequence of events, read again whenever it may have changed.
pub trait Source {
    type Event: LiveEvent;

    /// The id the resource's change notices carry.
    fn id(&self) -> i64;

    /// The change notices (ids of changed resources), subscribed to before the first read so
    /// no change between the snapshot and the first wait is missed.
    fn changes(&mut self) -> &mut broadcast::Receiver<i64>;

    /// The events since the last read (the first read: a snapshot) for `actor`, and whether
    /// the resource has ended (nothing follows these events).
    fn next(&mut self, actor: &Actor) -> impl Future<Output = Result<(Vec<Self::Event>, bool)>>;

    /// The last event when the reader's credential lapsed.
    fn lapsed(&self, lapse: Lapse) -> Self::Event;
}

/// The last event of a stream: the resource ended (`status` its final one), or, with a
/// `reason`, the reader's credential lapsed (`status` the last one seen, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct End {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub status: Option<Status>,
}

impl End {
    pub fn of(id: i64, status: Option<Status>) -> Self {
        Self {
            id,
            reason: None,
            status,
        }
    }

    pub fn because(self, lapse: Lapse) -> Self {
        Self {
            reason: Some(lapse.reason()),
            ..self
        }
    }
}

/// Serializes `value` through [`serde_json::Value`], whose maps sort their keys (this crate
/// does not enable serde_json's `preserve_order`): how nested DTOs in event payloads were
/// always sent.
pub fn sorted<T: Serialize, S: serde::Serializer>(
    value: &T,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    serde_json::to_value(value)
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}
