//! Every write a chaos run tried, and what the hosts must show for them at the end: each
//! acknowledged value is there, or was followed by another write to its field (or a delete
//! of its object), or is in the conflict log; every value there was written by someone and was not
//! held by a copy someone deleted (nothing deleted comes back).

use std::collections::BTreeMap;

use fleet::sync::record::LoggedConflict;

/// The fields a run writes, as the engine names them (JSON pointers).
pub const FIELDS: [&str; 4] = [
    "/spec/email",
    "/spec/lang",
    "/metadata/labels/team",
    "/metadata/annotations/kubesphere.io~1alias-name",
];
/// The first this many of [`FIELDS`] reach the member: KubeSphere's user controller puts a
/// user's labels into its FederatedUser template, not its annotations.
pub const ON_MEMBER: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Acked,
    /// The API server said no (the object was not there, or was, or the cluster was down).
    Refused,
    /// No answer in time: it may or may not have happened.
    Unknown,
}

#[derive(Debug, Clone)]
pub enum Op {
    /// Every field, each with its own value.
    Create(Vec<(usize, String)>),
    Edit(usize, String),
    Delete,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub name: String,
    pub host: &'static str,
    pub op: Op,
    /// Milliseconds since the epoch (as the conflict log's times): sent, and answered (or
    /// given up on).
    pub sent: u64,
    pub answered: u64,
    pub outcome: Outcome,
    /// For an acknowledged delete: the values the deleted copy held (its life must not come
    /// back).
    pub removed: BTreeMap<usize, String>,
    /// An acknowledged edit of a copy being deleted (its answer carried a deletionTimestamp):
    /// it went with that copy, and if the engine never saw the copy before it was gone (it
    /// was down), nobody could log it.
    pub dying: bool,
}

impl Attempt {
    /// The values this attempt wrote, by field index.
    fn values(&self) -> Vec<(usize, &str)> {
        match &self.op {
            Op::Create(values) => values.iter().map(|(f, v)| (*f, v.as_str())).collect(),
            Op::Edit(f, v) => vec![(*f, v.as_str())],
            Op::Delete => Vec::new(),
        }
    }

    fn touches(&self, field: usize) -> bool {
        matches!(self.op, Op::Delete) || self.values().iter().any(|(f, _)| *f == field)
    }

    fn may_have_happened(&self) -> bool {
        self.outcome != Outcome::Refused
    }
}

/// One object as every host holds it at the end: its values of [`FIELDS`].
pub type Final = BTreeMap<String, BTreeMap<usize, String>>;

/// What is wrong with the end state, one line per problem (empty: all is well).
pub fn check(attempts: &[Attempt], end: &Final, conflicts: &[LoggedConflict]) -> Vec<String> {
    let mut problems = Vec::new();
    // The log keeps the newest conflicts only: older writes cannot be looked up in it.
    let log_full = conflicts.len() >= fleet::sync::record::KEEP_CONFLICTS;
    let oldest_logged = conflicts.iter().map(|c| c.at_ms).min().unwrap_or(0);
    for (i, attempt) in attempts.iter().enumerate() {
        if attempt.outcome != Outcome::Acked || attempt.dying {
            continue;
        }
        for (field, value) in attempt.values() {
            let there =
                end.get(&attempt.name).and_then(|o| o.get(&field)) == Some(&value.to_string());
            let followed = attempts.iter().enumerate().any(|(j, later)| {
                j != i
                    && later.name == attempt.name
                    && later.may_have_happened()
                    && later.touches(field)
                    && later.answered >= attempt.sent
            });
            let logged = conflicts.iter().any(|c| {
                c.object == format!("User {}", attempt.name)
                    && [&c.kept, &c.superseded]
                        .iter()
                        .any(|w| w.value.as_deref().is_some_and(|v| v.contains(value)))
            });
            let fell_out_of_log = log_full && attempt.answered < oldest_logged;
            if !(there || followed || logged || fell_out_of_log) {
                problems.push(format!(
                    "{} {}={value}, acknowledged by {} at {} ms, is lost: not there, not written over, not in the conflict log\n{}",
                    attempt.name,
                    FIELDS[field],
                    attempt.host,
                    attempt.answered,
                    history(attempts, attempt, end, conflicts)
                ));
            }
        }
    }
    for (name, fields) in end {
        for (field, value) in fields {
            let written = attempts.iter().any(|a| {
                &a.name == name
                    && a.may_have_happened()
                    && a.values().contains(&(*field, value.as_str()))
            });
            if !written {
                problems.push(format!(
                    "{name} {}={value}: nobody wrote that",
                    FIELDS[*field]
                ));
            }
            // Every write has its own value: one a deleted copy held is that life back.
            if let Some(delete) = attempts
                .iter()
                .find(|a| &a.name == name && a.removed.get(field) == Some(value))
            {
                problems.push(format!(
                    "{name} {}={value} came back: {} deleted the copy holding it at {} ms",
                    FIELDS[*field], delete.host, delete.answered
                ));
            }
        }
    }
    problems
}

/// What happened to `lost`'s object around it: the writes of the 10 s before and after, the
/// end state, the conflicts logged.
fn history(
    attempts: &[Attempt],
    lost: &Attempt,
    end: &Final,
    conflicts: &[LoggedConflict],
) -> String {
    let near = |at: u64| at + 10_000 >= lost.sent && at <= lost.answered + 10_000;
    let mut lines: Vec<String> = attempts
        .iter()
        .filter(|a| a.name == lost.name && near(a.sent))
        .map(|a| {
            format!(
                "  {}..{} {} {:?} {:?}",
                a.sent, a.answered, a.host, a.outcome, a.op
            )
        })
        .collect();
    lines.push(format!("  end: {:?}", end.get(&lost.name)));
    lines.extend(
        conflicts
            .iter()
            .filter(|c| c.object == format!("User {}", lost.name))
            .map(|c| {
                format!(
                    "  logged at {}: {} kept {:?}, superseded {:?}",
                    c.at_ms, c.field, c.kept, c.superseded
                )
            }),
    );
    lines.join("\n")
}
