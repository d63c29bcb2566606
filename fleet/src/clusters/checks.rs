//! The add-cluster checks, run in order against a candidate member and the host it would
//! join (docs/KUBESPHERE.md 2.2, and more): each step reports as soon as it ends, so the wizard
//! and the command line can show progress; a failed step skips only what depends on it, so
//! one run shows every problem it can.

use std::time::{Instant, SystemTime};

use kube::Client;

use super::connect;
use super::findings::{Finding, KubeconfigSummary, SkipReason};
use super::steps::{CheckStep, StepReport, Verdict};
use super::{Candidate, HostLink, kubesphere_steps as ks, permissions};
use crate::clusters::certificate_expiry::{CertificateExpiry, check_certificate_expiry};
use crate::clusters::kubeconfig::{CheckedKubeconfig, check_kubeconfig};
use crate::health::ProbeFailure;

/// What the checks learnt about the member, for the join and for display.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberFacts {
    pub server: String,
    /// UID of the member's kube-system namespace: its identity.
    pub uid: Option<String>,
    pub kubernetes_version: Option<String>,
    pub kubesphere_version: Option<String>,
    /// `insecure-skip-tls-verify: true`: joined without verifying the server.
    pub insecure: bool,
    pub certificate: Option<CertificateExpiry>,
    /// Other hosts that manage it: (host, the name it is joined there as).
    pub managed_by: Vec<(String, String)>,
    /// Already joined to this host under the candidate's name (a repeated join).
    pub joined_here: bool,
}

/// Every step's report, and what the join needs when none failed.
pub struct CheckOutcome {
    pub steps: Vec<StepReport>,
    pub facts: MemberFacts,
    pub(crate) connection: Option<(CheckedKubeconfig, Client)>,
}

impl CheckOutcome {
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| !s.is_failure())
    }
}

/// Runs the steps in order, giving each report to `on_step` as it ends.
pub async fn check_cluster(
    host: &HostLink,
    other_hosts: &[HostLink],
    candidate: &Candidate,
    now: SystemTime,
    on_step: &mut (dyn FnMut(&StepReport) + Send),
) -> CheckOutcome {
    let mut run = Run::new(on_step);
    let mut facts = MemberFacts::default();
    let Some((checked, client)) = connect_steps(
        &mut run,
        &mut facts,
        &candidate.kubeconfig,
        candidate.context.as_deref(),
        now,
        &host.member_addresses,
    )
    .await
    else {
        return run.finish(facts, None);
    };

    let user = checked.user.clone();
    run.report(match permissions::missing_join_rights(&client).await {
        Ok(missing) if missing.is_empty() => {
            StepReport::passed(CheckStep::Permissions, Finding::MayJoin { user })
        }
        Ok(missing) => StepReport::failed(
            CheckStep::Permissions,
            Finding::MayNotJoin { user, missing },
        ),
        Err(err) => StepReport::failed(
            CheckStep::Permissions,
            Finding::NotConnected {
                failure: connect::explain(&err),
                server: checked.server.clone(),
            },
        ),
    });

    ks::duplicate(&mut run, host, candidate, &client, &mut facts).await;
    let member_config = ks::kubesphere(&mut run, &client, &mut facts).await;
    ks::other_hosts(&mut run, host, other_hosts, candidate, &client, &mut facts).await;
    ks::jwt_secret(&mut run, host, member_config.as_ref()).await;
    run.report(certificate_report(facts.certificate.as_ref()));
    ks::workspaces(&mut run, host, candidate, &client).await;
    run.finish(facts, Some((checked, client)))
}

/// The first steps, shared by the checks and a kubeconfig update: the kubeconfig's policy,
/// then one call to the cluster (a 401 or 403 there is the Permissions step's failure).
/// `None` when one failed; the steps that depend on it are then reported as skipped.
pub(crate) async fn connect_steps(
    run: &mut Run<'_>,
    facts: &mut MemberFacts,
    kubeconfig: &str,
    context: Option<&str>,
    now: SystemTime,
    policy: &std::sync::Arc<super::MemberAddressPolicy>,
) -> Option<(CheckedKubeconfig, Client)> {
    let checked = match check_kubeconfig(kubeconfig, context)
        .map(|checked| (policy.check_server(&checked.server), checked))
    {
        Ok((Err(refusal), _)) => {
            run.report(StepReport::failed(
                CheckStep::Kubeconfig,
                Finding::AddressRefused(refusal),
            ));
            run.skip_rest(SkipReason::NeedsAllowedAddress);
            return None;
        }
        Ok((Ok(()), checked)) => {
            run.report(kubeconfig_report(&checked));
            checked
        }
        Err(problem) => {
            run.report(StepReport::failed(
                CheckStep::Kubeconfig,
                Finding::KubeconfigUnusable(problem),
            ));
            run.skip_rest(SkipReason::NeedsKubeconfig);
            return None;
        }
    };
    facts.server = checked.server.clone();
    facts.insecure = checked.insecure_skip_tls_verify;
    facts.certificate = Some(check_certificate_expiry(&checked, now));

    let client = connect::member_client(&checked, policy).await;
    let answer = match &client {
        Ok(client) => crate::health::probe_version(client).await,
        Err(failure) => Err(failure.clone()),
    };
    let (client, answer) = match (client, answer) {
        (Ok(client), Ok(answer)) => (client, answer),
        (_, Err(failure @ (ProbeFailure::Unauthorized | ProbeFailure::Forbidden))) => {
            let server = checked.server.clone();
            run.report(StepReport::passed(
                CheckStep::Connection,
                Finding::Answered {
                    server: server.clone(),
                },
            ));
            run.report(StepReport::failed(
                CheckStep::Permissions,
                Finding::NotConnected { failure, server },
            ));
            run.skip_rest_but_certificate(facts);
            return None;
        }
        (Err(ProbeFailure::AddressRefused(refusal)), _)
        | (_, Err(ProbeFailure::AddressRefused(refusal))) => {
            // A name that resolved to a refused address: nothing was sent to it.
            run.report(StepReport::failed(
                CheckStep::Connection,
                Finding::AddressRefused(refusal),
            ));
            run.skip_rest_but_certificate(facts);
            return None;
        }
        (Err(failure), _) | (_, Err(failure)) => {
            run.report(StepReport::failed(
                CheckStep::Connection,
                Finding::NotConnected {
                    failure,
                    server: checked.server.clone(),
                },
            ));
            run.skip_rest_but_certificate(facts);
            return None;
        }
    };
    let insecure = checked.insecure_skip_tls_verify;
    let found = Finding::Connected {
        kubernetes: answer.version.clone(),
        server: checked.server.clone(),
        millis: u64::try_from(answer.round_trip.as_millis()).unwrap_or(u64::MAX),
        insecure,
    };
    run.report(if insecure {
        StepReport::warning(CheckStep::Connection, found)
    } else {
        StepReport::passed(CheckStep::Connection, found)
    });
    facts.kubernetes_version = Some(answer.version);
    Some((checked, client))
}

/// A usable kubeconfig: what it says, and what it says that the console does not do (a
/// warning, with what to do) or does differently than one might think.
fn kubeconfig_report(checked: &CheckedKubeconfig) -> StepReport {
    let found = Finding::KubeconfigUsable(KubeconfigSummary {
        context: checked.context.clone(),
        cluster: checked.cluster.clone(),
        server: checked.server.clone(),
        user: checked.user.clone(),
        credentials: checked.credentials,
        notes: checked.notes.clone(),
    });
    if checked.notes.iter().any(|n| n.has_fix()) {
        StepReport::warning(CheckStep::Kubeconfig, found)
    } else {
        StepReport::passed(CheckStep::Kubeconfig, found)
    }
}

fn date(t: SystemTime) -> String {
    k8s_openapi::jiff::Timestamp::try_from(t)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "?".into())
}

pub(crate) fn certificate_report(expiry: Option<&CertificateExpiry>) -> StepReport {
    let step = CheckStep::Certificate;
    match expiry {
        None => StepReport::skipped(step, SkipReason::NeedsKubeconfig),
        Some(CertificateExpiry::NoCertificate) => {
            StepReport::passed(step, Finding::NoClientCertificate)
        }
        Some(CertificateExpiry::Valid { not_after }) => StepReport::passed(
            step,
            Finding::CertificateValid {
                until: date(*not_after),
            },
        ),
        Some(CertificateExpiry::ExpiresSoon {
            not_after,
            days_left,
        }) => StepReport::warning(
            step,
            Finding::CertificateExpiresSoon {
                days: *days_left,
                until: date(*not_after),
            },
        ),
        Some(CertificateExpiry::Expired { not_after }) => StepReport::failed(
            step,
            Finding::CertificateExpired {
                on: date(*not_after),
            },
        ),
        Some(CertificateExpiry::Unreadable(why)) => {
            StepReport::warning(step, Finding::CertificateUnreadable { why: why.clone() })
        }
    }
}

/// The steps' bookkeeping: timing, order and the callback.
pub(crate) struct Run<'a> {
    steps: Vec<StepReport>,
    on_step: &'a mut (dyn FnMut(&StepReport) + Send),
    started: Instant,
}

impl<'a> Run<'a> {
    pub(crate) fn new(on_step: &'a mut (dyn FnMut(&StepReport) + Send)) -> Self {
        Self {
            steps: Vec::new(),
            on_step,
            started: Instant::now(),
        }
    }

    pub(crate) fn report(&mut self, mut report: StepReport) {
        report.elapsed = self.started.elapsed();
        self.started = Instant::now();
        (self.on_step)(&report);
        self.steps.push(report);
    }

    fn done(&self, step: CheckStep) -> bool {
        self.steps.iter().any(|s| s.step == step)
    }

    pub(crate) fn skip_rest(&mut self, because: SkipReason) {
        for step in CheckStep::ALL {
            if !self.done(step) {
                self.report(StepReport::skipped(step, because));
            }
        }
    }

    fn skip_rest_but_certificate(&mut self, facts: &MemberFacts) {
        for step in CheckStep::ALL {
            if self.done(step) {
                continue;
            }
            if step == CheckStep::Certificate {
                self.report(certificate_report(facts.certificate.as_ref()));
            } else {
                self.report(StepReport::skipped(step, SkipReason::NeedsConnection));
            }
        }
    }

    pub(crate) fn finish(
        self,
        facts: MemberFacts,
        connection: Option<(CheckedKubeconfig, Client)>,
    ) -> CheckOutcome {
        let failed = self.steps.iter().any(|s| s.verdict == Verdict::Failed);
        CheckOutcome {
            steps: self.steps,
            facts,
            connection: if failed { None } else { connection },
        }
    }
}
