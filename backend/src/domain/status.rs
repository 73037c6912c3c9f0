//! The statuses of jobs, their scripts and runs, and of queries and their results, with the
//! legal transitions of each as pure functions. The store's compare-and-set writes take their
//! "from" sets from these functions ([`Transitions::sources`]), so a write the rules do not
//! allow is one the SQL does not make.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a unit of work is. Jobs, scripts, runs, queries and query targets share the set; which
/// moves each may make differs ([`Job`], [`Script`], [`Run`], [`Query`], [`QueryResult`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Waiting,
    Running,
    Success,
    Error,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Waiting,
        Status::Running,
        Status::Success,
        Status::Error,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Running => "running",
            Status::Success => "success",
            Status::Error => "error",
            Status::Cancelled => "cancelled",
        }
    }

    /// Nothing more happens to it (but a retry, which is a new attempt).
    pub fn is_final(self) -> bool {
        Outcome::of(self).is_some()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status text that is none of [`Status::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no such status: {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// A stored status column: an unknown text is a corrupt row, not a default.
impl TryFrom<String> for Status {
    type Error = UnknownStatus;

    fn try_from(s: String) -> Result<Self, UnknownStatus> {
        s.parse()
    }
}

/// How something ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    Error,
    Cancelled,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Error, Outcome::Cancelled];

    pub fn status(self) -> Status {
        match self {
            Outcome::Success => Status::Success,
            Outcome::Error => Status::Error,
            Outcome::Cancelled => Status::Cancelled,
        }
    }

    /// The outcome a final status records; `None` while it is waiting or running.
    pub fn of(s: Status) -> Option<Outcome> {
        match s {
            Status::Success => Some(Outcome::Success),
            Status::Error => Some(Outcome::Error),
            Status::Cancelled => Some(Outcome::Cancelled),
            Status::Waiting | Status::Running => None,
        }
    }

    /// The outcome of a group that ended (a script's runs, a job's scripts, a query's targets):
    /// any error wins, then any cancel, else success — also for an empty group.
    pub fn of_group(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
        let mut result = Outcome::Success;
        for o in outcomes {
            match o {
                Outcome::Error => return Outcome::Error,
                Outcome::Cancelled => result = Outcome::Cancelled,
                Outcome::Success => {}
            }
        }
        result
    }
}

/// One kind of thing with a status and its own events.
pub trait Transitions {
    type Event: Copy;
    /// Every event, for the exhaustive tests.
    fn events() -> Vec<Self::Event>;
    /// The status after `event` in status `from`; `None`: not a legal move.
    fn next(from: Status, event: Self::Event) -> Option<Status>;
    /// The statuses in which `event` is legal: the "from" set of a compare-and-set.
    fn sources(event: Self::Event) -> Vec<&'static str> {
        Status::ALL
            .into_iter()
            .filter(|s| Self::next(*s, event).is_some())
            .map(Status::as_str)
            .collect()
    }
    /// The status `event` leads to, from whichever source it is legal in (each event leads to
    /// one status: the tests check it): the "to" of that compare-and-set.
    fn target(event: Self::Event) -> Status {
        Status::ALL
            .into_iter()
            .find_map(|s| Self::next(s, event))
            .unwrap_or(Status::Waiting)
    }
}

/// A run: one script on one target, one attempt.
pub struct Run;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEvent {
    /// Claimed by an engine: it executes.
    Start,
    /// Its execution ended so.
    End(Outcome),
    /// Its job was cancelled before it started.
    Cancel,
    /// Its holder stopped renewing the lease: the reaper ends it as an error.
    Interrupt,
}

impl Transitions for Run {
    type Event = RunEvent;

    fn events() -> Vec<RunEvent> {
        let mut all = vec![RunEvent::Start, RunEvent::Cancel, RunEvent::Interrupt];
        all.extend(Outcome::ALL.map(RunEvent::End));
        all
    }

    fn next(from: Status, event: RunEvent) -> Option<Status> {
        use Status::*;
        match (from, event) {
            (Waiting, RunEvent::Start) => Some(Running),
            (Waiting, RunEvent::Cancel) => Some(Cancelled),
            (Running, RunEvent::End(o)) => Some(o.status()),
            (Running, RunEvent::Interrupt) => Some(Error),
            _ => None,
        }
    }
}

/// A job's script, or the job itself: both start with their first run, end when their runs have,
/// and wait again when a retry gives their failed runs a new attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupEvent {
    /// Its first run started.
    Start,
    /// All its runs ended; the outcome is [`Outcome::of_group`] of theirs.
    Finish(Outcome),
    /// A retry: its failed or cancelled runs wait again.
    Retry,
}

fn group_events() -> Vec<GroupEvent> {
    let mut all = vec![GroupEvent::Start, GroupEvent::Retry];
    all.extend(Outcome::ALL.map(GroupEvent::Finish));
    all
}

/// A script of a job.
pub struct Script;

impl Transitions for Script {
    type Event = GroupEvent;

    fn events() -> Vec<GroupEvent> {
        group_events()
    }

    fn next(from: Status, event: GroupEvent) -> Option<Status> {
        use Status::*;
        match (from, event) {
            (Waiting, GroupEvent::Start) => Some(Running),
            // A script may end without having started: its runs were all cancelled.
            (Waiting | Running, GroupEvent::Finish(o)) => Some(o.status()),
            (Error | Cancelled, GroupEvent::Retry) => Some(Waiting),
            _ => None,
        }
    }
}

/// A job.
pub struct Job;

impl Transitions for Job {
    type Event = GroupEvent;

    fn events() -> Vec<GroupEvent> {
        group_events()
    }

    fn next(from: Status, event: GroupEvent) -> Option<Status> {
        // A job moves as its scripts do.
        Script::next(from, event)
    }
}

/// A query: its targets run once; there is no retry (a new query is).
pub struct Query;

impl Transitions for Query {
    type Event = GroupEvent;

    fn events() -> Vec<GroupEvent> {
        group_events()
    }

    fn next(from: Status, event: GroupEvent) -> Option<Status> {
        match event {
            GroupEvent::Retry => None,
            _ => Script::next(from, event),
        }
    }
}

/// One statement's result on one target of a query.
pub struct QueryResult;

impl Transitions for QueryResult {
    type Event = RunEvent;

    fn events() -> Vec<RunEvent> {
        Run::events()
    }

    fn next(from: Status, event: RunEvent) -> Option<Status> {
        use Status::*;
        match (from, event) {
            // A target's later statements end with it (e.g. unrun after an error), and a
            // reaped target's results end whether they had started or not.
            (Waiting | Running, RunEvent::End(o)) => Some(o.status()),
            (Waiting | Running, RunEvent::Interrupt) => Some(Error),
            _ => Run::next(from, event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    /// Checks `T::next` against a table listing every legal move: every (status, event) pair
    /// not in the table must be refused.
    fn exhaustive<T: Transitions>(legal: &[(Status, T::Event, Status)])
    where
        T::Event: PartialEq + fmt::Debug,
    {
        for from in Status::ALL {
            for event in T::events() {
                let want = legal
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                assert_eq!(T::next(from, event), want, "{from} on {event:?}");
            }
        }
        for (from, event, to) in legal {
            assert!(T::sources(*event).contains(&from.as_str()));
            assert_eq!(T::target(*event), *to, "{event:?} leads to one status");
        }
    }

    const S: Outcome = Outcome::Success;
    const E: Outcome = Outcome::Error;
    const C: Outcome = Outcome::Cancelled;

    #[test]
    fn a_run_starts_once_ends_once_and_nothing_moves_a_finished_run() {
        use RunEvent::*;
        exhaustive::<Run>(&[
            (Waiting, Start, Running),
            (Waiting, Cancel, Cancelled),
            (Running, End(S), Success),
            (Running, End(E), Error),
            (Running, End(C), Cancelled),
            (Running, Interrupt, Error),
        ]);
        assert_eq!(Run::sources(Start), ["waiting"]);
        assert_eq!(Run::sources(End(S)), ["running"]);
    }

    #[test]
    fn scripts_and_jobs_end_with_their_runs_and_only_failures_wait_again() {
        use GroupEvent::*;
        let legal = [
            (Waiting, Start, Running),
            (Waiting, Finish(S), Success),
            (Waiting, Finish(E), Error),
            (Waiting, Finish(C), Cancelled),
            (Running, Finish(S), Success),
            (Running, Finish(E), Error),
            (Running, Finish(C), Cancelled),
            (Error, Retry, Waiting),
            (Cancelled, Retry, Waiting),
        ];
        exhaustive::<Script>(&legal);
        exhaustive::<Job>(&legal);
        assert_eq!(Job::sources(Retry), ["error", "cancelled"]);
    }

    #[test]
    fn a_query_is_never_retried() {
        use GroupEvent::*;
        exhaustive::<Query>(&[
            (Waiting, Start, Running),
            (Waiting, Finish(S), Success),
            (Waiting, Finish(E), Error),
            (Waiting, Finish(C), Cancelled),
            (Running, Finish(S), Success),
            (Running, Finish(E), Error),
            (Running, Finish(C), Cancelled),
        ]);
    }

    #[test]
    fn a_query_result_ends_whether_or_not_it_started_but_is_cancelled_only_before() {
        use RunEvent::*;
        exhaustive::<QueryResult>(&[
            (Waiting, Start, Running),
            (Waiting, Cancel, Cancelled),
            (Waiting, Interrupt, Error),
            (Running, Interrupt, Error),
            (Waiting, End(S), Success),
            (Waiting, End(E), Error),
            (Waiting, End(C), Cancelled),
            (Running, End(S), Success),
            (Running, End(E), Error),
            (Running, End(C), Cancelled),
        ]);
    }

    #[test]
    fn a_group_outcome_is_error_over_cancel_over_success() {
        assert_eq!(Outcome::of_group([]), S);
        assert_eq!(Outcome::of_group([S, S]), S);
        assert_eq!(Outcome::of_group([S, C, S]), C);
        assert_eq!(Outcome::of_group([C, E, S]), E);
        for s in Status::ALL {
            assert_eq!(s.is_final(), Outcome::of(s).is_some());
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("done".parse::<Status>().is_err());
    }
}
