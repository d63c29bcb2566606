//! The add-cluster checks, run in order against a candidate member and the host it would
//! join (docs/KUBESPHERE.md 2.2, and more): each step reports as soon as it ends, so the wizard
//! and the command line can show progress; a failed step skips only what depends on it, so
//! one run shows every problem it can.

use std::time::{Instant, SystemTime};

use kube::Client;

use super::connect::{self, connection_fix};
use super::steps::{CheckStep, StepReport, Verdict};
use super::{Candidate, HostLink, checks_kubesphere as ks, permissions};
use crate::certificate_expiry::{CertificateExpiry, check_certificate_expiry};
use crate::health::ProbeFailure;
use crate::kubeconfig_check::{CheckedKubeconfig, Credentials, check_kubeconfig};

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
    /// Other hosts that manage it, as "host2 (as `member`)".
    pub managed_by: Vec<String>,
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

    run.report(match permissions::missing_join_rights(&client).await {
        Ok(missing) if missing.is_empty() => StepReport::passed(CheckStep::Permissions, format!("user `{}` may create the join objects", checked.user)),
        Ok(missing) => StepReport::failed(CheckStep::Permissions,
            format!("user `{}` may not {}", checked.user, missing.join("; ")),
            "use a kubeconfig whose identity is bound to cluster-admin, e.g. `kubectl create clusterrolebinding tandem-join --clusterrole=cluster-admin --serviceaccount=<namespace>:<name>` and a token for that account"),
        Err(err) => { let f = connect::explain(&err); StepReport::failed(CheckStep::Permissions, f.to_string(), connection_fix(&f, &checked.server)) }
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
            run.report(StepReport::refused(CheckStep::Kubeconfig, refusal));
            run.skip_rest("needs an address the console may connect to");
            return None;
        }
        Ok((Ok(()), checked)) => {
            run.report(kubeconfig_report(&checked));
            checked
        }
        Err(problem) => {
            run.report(StepReport::failed(
                CheckStep::Kubeconfig,
                problem.to_string(),
                problem.fix(),
            ));
            run.skip_rest("needs a usable kubeconfig");
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
            run.report(StepReport::passed(
                CheckStep::Connection,
                format!("the API server at {} answered", checked.server),
            ));
            run.report(StepReport::failed(
                CheckStep::Permissions,
                failure.to_string(),
                connection_fix(&failure, &checked.server),
            ));
            run.skip_rest_but_certificate(facts);
            return None;
        }
        (Err(ProbeFailure::AddressRefused(refusal)), _)
        | (_, Err(ProbeFailure::AddressRefused(refusal))) => {
            // A name that resolved to a refused address: nothing was sent to it.
            run.report(StepReport::refused(CheckStep::Connection, refusal));
            run.skip_rest_but_certificate(facts);
            return None;
        }
        (Err(failure), _) | (_, Err(failure)) => {
            run.report(StepReport::failed(
                CheckStep::Connection,
                failure.to_string(),
                connection_fix(&failure, &checked.server),
            ));
            run.skip_rest_but_certificate(facts);
            return None;
        }
    };
    let summary = format!(
        "Kubernetes {} answered at {} in {} ms",
        answer.version,
        checked.server,
        answer.round_trip.as_millis()
    );
    run.report(if checked.insecure_skip_tls_verify {
        StepReport::warning(CheckStep::Connection, format!("{summary}, without verifying its certificate (insecure-skip-tls-verify)"),
            "put the cluster's CA in certificate-authority-data instead: anyone between this console and the cluster could read the token. The cluster is joined, and marked as not verified")
    } else {
        StepReport::passed(CheckStep::Connection, summary)
    });
    facts.kubernetes_version = Some(answer.version);
    Some((checked, client))
}

/// A usable kubeconfig: what it says, and what it says that the console does not do (a
/// warning, with what to do) or does differently than one might think.
fn kubeconfig_report(checked: &CheckedKubeconfig) -> StepReport {
    let mut summary = describe(checked);
    for note in &checked.notes {
        summary = format!("{summary}; {note}");
    }
    let fixes: Vec<String> = checked.notes.iter().filter_map(|n| n.fix()).collect();
    if fixes.is_empty() {
        StepReport::passed(CheckStep::Kubeconfig, summary)
    } else {
        StepReport::warning(CheckStep::Kubeconfig, summary, fixes.join("; "))
    }
}

fn describe(checked: &CheckedKubeconfig) -> String {
    let credentials = match checked.credentials {
        Credentials::Token => "a token",
        Credentials::ClientCertificate => "a client certificate",
        Credentials::BasicAuth => "a username and password",
    };
    format!(
        "context `{}`: cluster `{}` at {}, user `{}` with {credentials}",
        checked.context, checked.cluster, checked.server, checked.user
    )
}

fn date(t: SystemTime) -> String {
    k8s_openapi::jiff::Timestamp::try_from(t)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "an unreadable date".into())
}

pub(crate) fn certificate_report(expiry: Option<&CertificateExpiry>) -> StepReport {
    let step = CheckStep::Certificate;
    let renew = "export a kubeconfig with a renewed certificate (`kubeadm kubeconfig user` or your provider's tool), or use a service-account token";
    match expiry {
        None => StepReport::skipped(step, "needs a usable kubeconfig"),
        Some(CertificateExpiry::NoCertificate) => StepReport::passed(
            step,
            "the kubeconfig uses no client certificate, so nothing expires",
        ),
        Some(CertificateExpiry::Valid { not_after }) => StepReport::passed(
            step,
            format!("the client certificate is valid until {}", date(*not_after)),
        ),
        Some(CertificateExpiry::ExpiresSoon {
            not_after,
            days_left,
        }) => StepReport::warning(
            step,
            format!(
                "the client certificate expires in {days_left} days ({})",
                date(*not_after)
            ),
            renew,
        ),
        Some(CertificateExpiry::Expired { not_after }) => StepReport::failed(
            step,
            format!("the client certificate expired on {}", date(*not_after)),
            renew,
        ),
        Some(CertificateExpiry::Unreadable(why)) => StepReport::warning(
            step,
            format!("the client certificate cannot be read: {why}"),
            "check client-certificate-data: it should be a base64 PEM certificate",
        ),
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

    pub(crate) fn skip_rest(&mut self, because: &str) {
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
                self.report(StepReport::skipped(
                    step,
                    "needs a connection to the cluster",
                ));
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
