//! Failed logins count across the group. KubeSphere locks a user (`AuthLimitExceeded`) when
//! the failed `LoginRecord`s on *its* host reach the limit (10 in 10 minutes by default), so
//! two hosts would give an attacker 10 tries each. The engine copies every recent failed
//! record to the other hosts of the group, where KubeSphere's user controller and Tandem's
//! login count it like their own: 10 tries in total. The lock itself then replicates with the
//! user's status, like any field.
//!
//! Records are made once and never changed, so this is a one-way copy, not a merge: a copy
//! names the host the attempt was made on (`sync.tandem.io/from`) and is never copied on; the
//! original lists the hosts it was copied to (`sync.tandem.io/copied`), so a copy KubeSphere
//! prunes later is not made again. Successful logins are not copied: the user's
//! `lastLoginTime` replicates with its status.
//!
//! KubeSphere 3.4's user controller counts failures only when the `User` changes (its
//! loginrecord controller bumps `lastLoginTime` for a record, but not for records made
//! within the same second, and its caches may lag), so after copying records the engine
//! touches the user on that host (`sync.tandem.io/logins-copied`, an annotation kept out of
//! replication) to have them counted now.

use std::time::{Duration, SystemTime};

use kube::ResourceExt;
use kube::api::{Api, ListParams, ObjectMeta, Patch};
use serde_json::json;

use super::engine::{GroupHost, RoundMode};
use crate::iam::resources::{LoginRecord, USER_REF_LABEL};

/// On a copy: the host the attempt was made on.
pub const FROM_ANNOTATION: &str = "sync.tandem.io/from";
/// On an original: the hosts it was copied to, comma-separated.
pub const COPIED_ANNOTATION: &str = "sync.tandem.io/copied";
/// On a user: when the engine last copied failed logins to this host.
pub const TOUCHED_ANNOTATION: &str = "sync.tandem.io/logins-copied";
/// Records older than this are not copied: KubeSphere's window is 10 minutes by default
/// (`authenticateRateLimiterDuration`). A copy counts from when it is made, so a longer
/// reach would turn old failures (after a partition, or when sync is first turned on) into
/// fresh ones and lock users who did nothing wrong lately.
pub const RECENT: Duration = Duration::from_secs(600);

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoginCopies {
    /// `record → host` copies made (or, in a plan, to make).
    pub copied: Vec<(String, String)>,
    /// Hosts whose records could not be read or written this pass.
    pub failed: Vec<String>,
}

/// Copies each recent failed login record of every host to the other hosts of the group.
pub async fn copy_failed_logins(
    hosts: &[GroupHost],
    now: SystemTime,
    mode: RoundMode,
) -> LoginCopies {
    let mut out = LoginCopies::default();
    let apis: Vec<Api<LoginRecord>> = hosts.iter().map(|h| Api::all(h.client.clone())).collect();
    let mut listed: Vec<Option<Vec<LoginRecord>>> = Vec::new();
    for (i, api) in apis.iter().enumerate() {
        match api
            .list(&ListParams::default().labels(USER_REF_LABEL))
            .await
        {
            Ok(list) => listed.push(Some(list.items)),
            Err(error) => {
                tracing::debug!(host = %hosts[i].name, %error, "login records not read");
                out.failed.push(hosts[i].name.clone());
                listed.push(None);
            }
        }
    }
    let names_on: Vec<std::collections::BTreeSet<String>> = listed
        .iter()
        .map(|records| records.iter().flatten().map(|r| r.name_any()).collect())
        .collect();
    // (host index, user) that got copies: touched once all copies are made.
    let mut touched = std::collections::BTreeSet::new();
    for (i, records) in listed.iter().enumerate() {
        for original in records.iter().flatten().filter(|r| to_copy(r, now)) {
            let copied = copied_to(original);
            let name = original.name_any();
            let mut newly = Vec::new();
            for (j, target) in hosts.iter().enumerate() {
                if j == i || listed[j].is_none() || copied.contains(&target.name) {
                    continue;
                }
                if !names_on[j].contains(&name) {
                    if mode == RoundMode::Apply {
                        match crate::writes::create(&apis[j], &copy_of(original, &hosts[i].name))
                            .await
                        {
                            Ok(_) => {}
                            Err(kube::Error::Api(s)) if s.code == 409 => {}
                            Err(error) => {
                                tracing::debug!(host = %target.name, %error, "login record not copied");
                                out.failed.push(target.name.clone());
                                continue;
                            }
                        }
                    }
                    out.copied.push((name.clone(), target.name.clone()));
                    if let Some(user) = original.labels().get(USER_REF_LABEL) {
                        touched.insert((j, user.clone()));
                    }
                }
                newly.push(target.name.clone());
            }
            if newly.is_empty() || mode == RoundMode::Plan {
                continue;
            }
            let all: Vec<String> = copied.into_iter().chain(newly).collect();
            let patch = json!({"metadata": {"annotations": {COPIED_ANNOTATION: all.join(",")}}});
            if let Err(error) = apis[i]
                .patch(&name, &crate::writes::patch_params(), &Patch::Merge(&patch))
                .await
            {
                // Copied anyway; the next pass finds the copies there and records them.
                tracing::debug!(host = %hosts[i].name, %error, "login record not marked copied");
            }
        }
    }
    if mode == RoundMode::Apply {
        let at = k8s_openapi::jiff::Timestamp::now().to_string();
        for (j, user) in touched {
            let users: Api<crate::iam::resources::User> = Api::all(hosts[j].client.clone());
            let patch = json!({"metadata": {"annotations": {TOUCHED_ANNOTATION: at}}});
            if let Err(error) = users
                .patch(&user, &crate::writes::patch_params(), &Patch::Merge(&patch))
                .await
            {
                tracing::debug!(host = %hosts[j].name, %user, %error, "user not touched after login copies");
            }
        }
    }
    out
}

/// A failed attempt made on this host (not a copy), recent enough to count.
fn to_copy(record: &LoginRecord, now: SystemTime) -> bool {
    let recent = record
        .metadata
        .creation_timestamp
        .as_ref()
        .is_some_and(|t| SystemTime::from(t.0) + RECENT > now);
    !record.spec.success && recent && !record.annotations().contains_key(FROM_ANNOTATION)
}

fn copied_to(record: &LoginRecord) -> Vec<String> {
    record
        .annotations()
        .get(COPIED_ANNOTATION)
        .map(|hosts| {
            hosts
                .split(',')
                .filter(|h| !h.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn copy_of(original: &LoginRecord, from: &str) -> LoginRecord {
    LoginRecord {
        metadata: ObjectMeta {
            name: original.metadata.name.clone(),
            labels: original.metadata.labels.clone(),
            annotations: Some([(FROM_ANNOTATION.to_string(), from.to_string())].into()),
            ..Default::default()
        },
        spec: original.spec.clone(),
    }
}
