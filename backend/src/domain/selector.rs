//! Which targets a script or a query runs on: given ids, or every target carrying all of some
//! tags — one or the other, never both, never neither.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSelector {
    Ids(BTreeSet<i64>),
    /// Every target carrying all of these (resolved when the work is submitted).
    Tags(Vec<String>),
}

/// Why a selector was refused, and which of its two fields to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct SelectorError {
    pub field: &'static str,
    pub message: String,
}

/// The stored and shown shape: both keys, one of them empty.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Shape {
    #[serde(default)]
    target_ids: Vec<i64>,
    #[serde(default)]
    target_tags: Vec<String>,
}

impl TargetSelector {
    /// From the two input fields of a job script or a query.
    pub fn new(ids: &[i64], tags: &[String]) -> Result<Self, SelectorError> {
        match (ids.is_empty(), tags.is_empty()) {
            (false, true) => Ok(TargetSelector::Ids(ids.iter().copied().collect())),
            (true, false) => {
                if let Some(blank) = tags.iter().find(|t| t.trim().is_empty()) {
                    return Err(SelectorError {
                        field: "target_tags",
                        message: format!("holds an empty tag {blank:?}"),
                    });
                }
                Ok(TargetSelector::Tags(tags.to_vec()))
            }
            _ => Err(SelectorError {
                field: "target_ids",
                message: "give either target_ids or target_tags (not both, not neither)".into(),
            }),
        }
    }

    /// The name of the field a resolution failure is about.
    pub fn field(&self) -> &'static str {
        match self {
            TargetSelector::Ids(_) => "target_ids",
            TargetSelector::Tags(_) => "target_tags",
        }
    }

    /// Whether a target with this id and these tags is selected.
    pub fn selects(&self, id: i64, tags: &[String]) -> bool {
        match self {
            TargetSelector::Ids(ids) => ids.contains(&id),
            TargetSelector::Tags(want) => want.iter().all(|w| tags.contains(w)),
        }
    }

    /// `{"target_ids": [...], "target_tags": [...]}`, as stored and as the API shows it.
    pub fn to_json(&self) -> serde_json::Value {
        let shape = match self {
            TargetSelector::Ids(ids) => Shape {
                target_ids: ids.iter().copied().collect(),
                target_tags: vec![],
            },
            TargetSelector::Tags(tags) => Shape {
                target_ids: vec![],
                target_tags: tags.clone(),
            },
        };
        serde_json::to_value(shape).unwrap_or_default()
    }

    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

/// A stored selector column: anything but one of the two shapes is a corrupt row.
impl TryFrom<String> for TargetSelector {
    type Error = SelectorError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let shape: Shape = serde_json::from_str(&text).map_err(|e| SelectorError {
            field: "target_selector",
            message: format!("is not a selector: {e}"),
        })?;
        TargetSelector::new(&shape.target_ids, &shape.target_tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selector_is_ids_or_tags_never_both_nor_neither() {
        let tags = vec!["prod".to_string()];
        assert_eq!(
            TargetSelector::new(&[3, 1, 3], &[]),
            Ok(TargetSelector::Ids([1, 3].into()))
        );
        assert_eq!(
            TargetSelector::new(&[], &tags),
            Ok(TargetSelector::Tags(tags.clone()))
        );
        for (ids, tags) in [(vec![1], tags.clone()), (vec![], vec![])] {
            let e = TargetSelector::new(&ids, &tags).expect_err("refused");
            assert_eq!(e.field, "target_ids");
        }
        let e = TargetSelector::new(&[], &[" ".into()]).expect_err("refused");
        assert_eq!(e.field, "target_tags");
    }

    #[test]
    fn a_stored_selector_reads_back_as_written_and_a_corrupt_one_is_an_error() {
        for sel in [
            TargetSelector::Ids([2, 5].into()),
            TargetSelector::Tags(vec!["a".into(), "b".into()]),
        ] {
            assert_eq!(TargetSelector::try_from(sel.to_json_string()), Ok(sel));
        }
        // Rows written before the type: both keys, one empty.
        assert_eq!(
            TargetSelector::try_from(r#"{"target_ids":[7],"target_tags":[]}"#.to_string()),
            Ok(TargetSelector::Ids([7].into()))
        );
        for corrupt in ["", "{}", "[1]", r#"{"target_ids":[1],"target_tags":["x"]}"#] {
            assert!(
                TargetSelector::try_from(corrupt.to_string()).is_err(),
                "{corrupt}"
            );
        }
    }

    #[test]
    fn tags_select_targets_carrying_all_of_them() {
        let sel = TargetSelector::Tags(vec!["prod".into(), "pg".into()]);
        assert!(sel.selects(1, &["pg".into(), "prod".into(), "eu".into()]));
        assert!(!sel.selects(1, &["pg".into()]));
        assert!(TargetSelector::Ids([4].into()).selects(4, &[]));
        assert!(!TargetSelector::Ids([4].into()).selects(5, &[]));
    }
}
