//! A grant's status and its legal transitions, as a pure function.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = GrantStatus)]
pub enum Status {
    /// Intent recorded (original verifier, temporary verifier, state, watermark); the account
    /// may or may not have been changed yet.
    Pending,
    /// The temporary access works.
    Active,
    /// The sweeper is taking it back.
    Restoring,
    /// Taken back: the original works again, the temporary access is gone.
    Ended,
    /// Could not be granted; the account is as it was.
    Failed,
    /// Taking it back failed (target down…): retried with backoff for ever, loudly.
    RestoreFailed,
    /// Someone else changed the account during the grant: AutoDB left it alone.
    Conflict,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Pending,
        Status::Active,
        Status::Restoring,
        Status::Ended,
        Status::Failed,
        Status::RestoreFailed,
        Status::Conflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Restoring => "restoring",
            Status::Ended => "ended",
            Status::Failed => "failed",
            Status::RestoreFailed => "restore_failed",
            Status::Conflict => "conflict",
        }
    }

    /// Nothing more happens to a grant in a terminal status.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Ended | Status::Failed | Status::Conflict)
    }

    /// Whether a grant may go from `self` to `to`. `Restoring → Restoring` is the sweeper
    /// taking up again a restore a dead process left (every step is idempotent); `Pending →
    /// Restoring` resolves a grant whose process died between intent and `active`.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Pending, Active | Failed | Restoring)
                | (Active, Restoring)
                | (
                    Restoring,
                    Restoring | Ended | Failed | RestoreFailed | Conflict
                )
                | (RestoreFailed, Restoring)
        )
    }

    /// Every status that may become `to` (the `from` set of the store's compare-and-set).
    pub fn sources(to: Status) -> Vec<&'static str> {
        Status::ALL
            .into_iter()
            .filter(|s| s.can_become(to))
            .map(Status::as_str)
            .collect()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown grant status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    #[test]
    fn every_pair_of_statuses_is_legal_exactly_as_the_lifecycle_says() {
        let legal = [
            (Pending, Active),
            (Pending, Failed),
            (Pending, Restoring),
            (Active, Restoring),
            (Restoring, Restoring),
            (Restoring, Ended),
            (Restoring, Failed),
            (Restoring, RestoreFailed),
            (Restoring, Conflict),
            (RestoreFailed, Restoring),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_become(to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn terminal_statuses_lead_nowhere_and_names_round_trip() {
        for s in Status::ALL {
            if s.is_terminal() {
                assert!(Status::ALL.iter().all(|t| !s.can_become(*t)), "{s}");
            }
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert_eq!(
            Status::sources(Restoring),
            ["pending", "active", "restoring", "restore_failed"]
        );
        assert!("gone".parse::<Status>().is_err());
    }
}
