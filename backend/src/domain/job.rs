//! How a job goes on after a failure.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The next scripts still run after a failure.
    Continue,
    /// Once a run fails, what has not started is cancelled.
    #[default]
    Stop,
}

impl OnError {
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Continue => "continue",
            OnError::Stop => "stop",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no such on_error: {0:?}")]
pub struct UnknownOnError(pub String);

impl FromStr for OnError {
    type Err = UnknownOnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [OnError::Continue, OnError::Stop]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOnError(s.to_string()))
    }
}

/// A stored `on_error` column.
impl TryFrom<String> for OnError {
    type Error = UnknownOnError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// What a job does once one of its scripts has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterScript {
    /// The next script becomes current.
    GoOn,
    /// Every run that has not started is cancelled (and so are the scripts that have only such
    /// runs); the job ends once its running runs have.
    CancelTheRest,
}

pub fn after_script(outcome: super::Outcome, on_error: OnError) -> AfterScript {
    match (outcome, on_error) {
        (super::Outcome::Error, OnError::Stop) => AfterScript::CancelTheRest,
        _ => AfterScript::GoOn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Outcome;

    #[test]
    fn only_a_failed_script_of_a_stop_job_cancels_the_rest() {
        for o in Outcome::ALL {
            for e in [OnError::Continue, OnError::Stop] {
                let want = if (o, e) == (Outcome::Error, OnError::Stop) {
                    AfterScript::CancelTheRest
                } else {
                    AfterScript::GoOn
                };
                assert_eq!(after_script(o, e), want, "{o:?} {e:?}");
                assert_eq!(e.as_str().parse(), Ok(e));
            }
        }
        assert!("halt".parse::<OnError>().is_err());
    }
}
