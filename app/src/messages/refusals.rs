//! Why a cluster request was refused, in the reader's language.

use fleet::clusters::jobs::JobError;
use fleet::clusters::{BasicProblem, RemoveError, UpdateError};

use super::{joined, list, say};
use crate::error::ConsoleError;
use crate::i18n::Locale;

/// A refused add-cluster, change or removal request.
#[derive(Debug)]
pub enum ClusterRefusal<'a> {
    /// Agent (proxy) connections are not built.
    Agent,
    Basic(BasicProblem),
    Job(&'a JobError),
    /// The job is gone, or someone else's.
    JobExpired,
    /// The caller's host is not one this console writes to.
    NotWritable(&'a str),
    /// The removal was not confirmed with the cluster's name.
    RemovalUnconfirmed(&'a str),
    Remove(&'a RemoveError),
    Update(&'a UpdateError),
}

impl ClusterRefusal<'_> {
    /// Whether the host failed or refused a write, rather than the request being wrong.
    fn host_failed(&self) -> bool {
        matches!(
            self,
            Self::Remove(RemoveError::Host { .. }) | Self::Update(UpdateError::Write { .. })
        )
    }
}

/// The refusal of `principal`'s request about `object`: logged as every refused change is
/// (in English), answered with HTTP 422 (404 for a job that is gone) in the request's language.
pub fn cluster_refused(
    principal: &fleet::iam::Principal,
    object: &str,
    refusal: ClusterRefusal<'_>,
) -> ConsoleError {
    let reason = words(Locale::en, &refusal);
    crate::error::log_refusal(principal, object, &reason, refusal.host_failed());
    crate::auth::set_status(match refusal {
        ClusterRefusal::JobExpired => http::StatusCode::NOT_FOUND,
        _ => http::StatusCode::UNPROCESSABLE_ENTITY,
    });
    ConsoleError::ClusterRefused(words(super::request_locale(), &refusal))
}

pub(super) fn basic_problem(l: Locale, problem: BasicProblem) -> String {
    match problem {
        BasicProblem::UnknownGroup => {
            let groups: Vec<String> = fleet::clusters::objects::PRESET_GROUPS
                .iter()
                .map(|g| g.to_string())
                .collect();
            say!(l, cr_unknown_group, groups = list(l, &groups))
        }
        BasicProblem::TooLong => say!(l, cr_too_long),
    }
}

pub(super) fn words(l: Locale, refusal: &ClusterRefusal<'_>) -> String {
    match refusal {
        ClusterRefusal::Agent => say!(l, cr_agent),
        ClusterRefusal::Basic(problem) => basic_problem(l, *problem),
        ClusterRefusal::Job(JobError::UnknownHost(host)) => say!(l, cr_unknown_host, host = host),
        ClusterRefusal::Job(JobError::TooMany(count)) => say!(l, cr_too_many, count = count),
        ClusterRefusal::JobExpired => say!(l, cr_job_expired),
        ClusterRefusal::NotWritable(host) => say!(l, cr_not_writable, host = host),
        ClusterRefusal::RemovalUnconfirmed(name) => say!(l, cr_confirm_removal, name = name),
        ClusterRefusal::Remove(e) => match e {
            RemoveError::NotFound { host, name } => say!(l, cr_not_found, host = host, name = name),
            RemoveError::IsHost(name) => say!(l, cr_remove_host, name = name),
            RemoveError::Host { object, message } => {
                say!(l, cr_host_write, object = object, message = message)
            }
        },
        ClusterRefusal::Update(e) => match e {
            UpdateError::NotFound { host, name } => say!(l, cr_not_found, host = host, name = name),
            UpdateError::IsHost(name) => say!(l, cr_update_host, name = name),
            UpdateError::ChecksFailed(steps) => {
                let failed: Vec<String> = steps
                    .iter()
                    .filter(|s| s.is_failure())
                    .map(|s| {
                        let title = super::findings::step_title(l, s.step);
                        format!("{title}: {}", super::step_words(l, s).summary)
                    })
                    .collect();
                say!(l, cr_checks_failed, steps = joined(l, &failed))
            }
            UpdateError::UnknownGroup => basic_problem(l, BasicProblem::UnknownGroup),
            UpdateError::DescriptionTooLong => say!(l, cr_description_long),
            UpdateError::Write { object, message } => {
                say!(l, cr_host_write, object = object, message = message)
            }
        },
    }
}
