//! A check step's finding, and a job's failure.

use fleet::clusters::findings::{JoinRight, ManagedHow, Managers, ReadTarget};
use fleet::clusters::{CheckStep, Finding, JobFailure, Side, SkipReason, StepReport, Verdict};

use super::{Words, code_list, joined, kubeconfig, list, probe, say};
use crate::i18n::Locale;

/// Makes the member a KubeSphere member (ks-installer then reconfigures it).
const MAKE_MEMBER: &str = r#"kubectl -n kubesphere-system patch clusterconfiguration ks-installer --type merge -p '{"spec":{"multicluster":{"clusterRole":"member"}}}'"#;

/// Copies the host's jwtSecret to the member without printing it.
fn copy_jwt_secret(host: &str) -> String {
    format!(
        r#"SECRET=$(kubectl --context {host} -n kubesphere-system get configmap kubesphere-config -o jsonpath='{{.data.kubesphere\.yaml}}' | sed -n 's/^ *jwtSecret: *"\{{0,1\}}\([^"]*\)"\{{0,1\}} *$/\1/p') && kubectl --context <member> -n kubesphere-system patch clusterconfiguration ks-installer --type merge -p "{{\"spec\":{{\"authentication\":{{\"jwtSecret\":\"$SECRET\"}}}}}}""#
    )
}

/// The step's name, as the wizard shows it.
pub(super) fn step_title(l: Locale, step: CheckStep) -> String {
    crate::pages::clusters::progress::step_title(l, step).to_string()
}

/// A step's report in words; a passed step has nothing to fix.
pub fn step_words(l: Locale, report: &StepReport) -> Words {
    let mut words = finding(l, &report.finding);
    if report.verdict == Verdict::Passed {
        words.fix = None;
    }
    words
}

fn finding(l: Locale, f: &Finding) -> Words {
    let only = |summary: String| Words::new(summary, None);
    let with = |summary: String, fix: String| Words::new(summary, Some(fix));
    match f {
        Finding::KubeconfigUsable(k) => {
            let credentials = match k.credentials {
                fleet::clusters::kubeconfig::Credentials::Token => say!(l, cred_token),
                fleet::clusters::kubeconfig::Credentials::ClientCertificate => {
                    say!(l, cred_client_certificate)
                }
                fleet::clusters::kubeconfig::Credentials::BasicAuth => say!(l, cred_basic_auth),
            };
            let mut summary = vec![say!(
                l,
                f_kubeconfig,
                context = &k.context,
                cluster = &k.cluster,
                server = &k.server,
                user = &k.user,
                credentials = credentials
            )];
            let mut fixes = Vec::new();
            for note in &k.notes {
                let words = kubeconfig::note(l, note);
                summary.push(words.summary);
                fixes.extend(words.fix);
            }
            let fix = (!fixes.is_empty()).then(|| joined(l, &fixes));
            Words::new(joined(l, &summary), fix)
        }
        Finding::KubeconfigUnusable(problem) => kubeconfig::problem(l, problem),
        Finding::AddressRefused(refusal) => probe::address_refusal(l, refusal),
        Finding::Answered { server } => only(say!(l, f_answered, server = server)),
        Finding::Connected {
            kubernetes,
            server,
            millis,
            insecure: false,
        } => only(say!(
            l,
            f_connected,
            version = kubernetes,
            server = server,
            ms = millis
        )),
        Finding::Connected {
            kubernetes,
            server,
            millis,
            insecure: true,
        } => with(
            say!(
                l,
                f_connected_insecure,
                version = kubernetes,
                server = server,
                ms = millis
            ),
            say!(l, f_connected_insecure_fix),
        ),
        Finding::NotConnected { failure, server } => {
            with(probe::failure(l, failure), probe::fix(l, failure, server))
        }
        Finding::MayJoin { user } => only(say!(l, f_may_join, user = user)),
        Finding::MayNotJoin { user, missing } => {
            let rights: Vec<String> = missing.iter().map(|r| right(l, *r)).collect();
            with(
                say!(l, f_may_not_join, user = user, missing = joined(l, &rights)),
                say!(l, f_may_not_join_fix),
            )
        }
        Finding::CredentialsAccepted => only(say!(l, f_credentials_accepted)),
        Finding::CannotRead { what, failure } => with(
            say!(
                l,
                f_cannot_read,
                what = read_target(l, what),
                why = probe::failure(l, failure)
            ),
            say!(l, f_cannot_read_fix),
        ),
        Finding::BadName { name } => {
            with(say!(l, f_bad_name, name = name), say!(l, f_bad_name_fix))
        }
        Finding::NewToHost { host, uid } => only(say!(l, f_new_to_host, host = host, uid = uid)),
        Finding::JoinedHereAlready { host } => with(
            say!(l, f_joined_here, host = host),
            say!(l, f_joined_here_fix),
        ),
        Finding::JoinedAs { host, name, uid } => with(
            say!(l, f_joined_as, uid = uid, host = host, name = name),
            say!(l, f_joined_as_fix, name = name),
        ),
        Finding::NameTaken { host, name } => with(
            say!(l, f_name_taken, host = host, name = name),
            say!(l, f_name_taken_fix),
        ),
        Finding::SameCluster { name, uid } => only(say!(l, f_same_cluster, name = name, uid = uid)),
        Finding::OtherCluster { name, uid } => with(
            say!(l, f_other_cluster, uid = uid, name = name),
            say!(l, f_other_cluster_fix),
        ),
        Finding::NoKubeSphere => with(say!(l, f_no_kubesphere), say!(l, f_no_kubesphere_fix)),
        Finding::NoKubeSphereConfig { version } => with(
            say!(l, f_no_ks_config, version = version),
            say!(l, f_no_ks_config_fix),
        ),
        Finding::KubeSphereMember {
            version,
            kubernetes,
        } => only(say!(
            l,
            f_ks_member,
            version = version,
            kubernetes = kubernetes
        )),
        Finding::NotMember { version, role } => with(
            say!(l, f_not_member, version = version, role = role),
            say!(l, f_not_member_fix, command = MAKE_MEMBER),
        ),
        Finding::NoOtherHost => only(say!(l, f_no_other_host)),
        Finding::ResumingJoin { host } => only(say!(l, f_resuming, host = host)),
        Finding::Managed { by, how } => managed(l, by, how),
        Finding::JwtSame { host } => only(say!(l, f_jwt_same, host = host)),
        Finding::JwtDiffers { host } => with(
            say!(l, f_jwt_differs, host = host),
            say!(l, f_jwt_fix, command = copy_jwt_secret(host)),
        ),
        Finding::JwtMissing { host } => with(
            say!(l, f_jwt_missing),
            say!(l, f_jwt_fix, command = copy_jwt_secret(host)),
        ),
        Finding::HostWithoutKubeSphere { host } => with(
            say!(l, f_host_no_ks, host = host),
            say!(l, f_host_no_ks_fix),
        ),
        Finding::NoClientCertificate => only(say!(l, f_no_client_cert)),
        Finding::CertificateValid { until } => only(say!(l, f_cert_valid, date = until)),
        Finding::CertificateExpiresSoon { days, until } => with(
            say!(l, f_cert_soon, days = days, date = until),
            say!(l, f_cert_renew),
        ),
        Finding::CertificateExpired { on } => {
            with(say!(l, f_cert_expired, date = on), say!(l, f_cert_renew))
        }
        Finding::CertificateUnreadable { why } => with(
            say!(l, f_cert_unreadable, why = why),
            say!(l, f_cert_unreadable_fix),
        ),
        Finding::NoWorkspaceConflict => only(say!(l, f_no_ws_conflict)),
        Finding::WorkspaceConflicts {
            workspaces,
            host,
            cluster,
        } => with(
            say!(
                l,
                f_ws_conflicts,
                workspaces = code_list(l, workspaces),
                host = host
            ),
            say!(l, f_ws_conflicts_fix, cluster = cluster, host = host),
        ),
        Finding::Skipped(reason) => only(skip(l, *reason)),
    }
}

fn right(l: Locale, right: JoinRight) -> String {
    match right {
        JoinRight::CreateNamespaces => say!(l, right_namespaces),
        JoinRight::CreateServiceAccounts => say!(l, right_service_accounts),
        JoinRight::CreateSecrets => say!(l, right_secrets),
        JoinRight::CreateClusterRoles => say!(l, right_cluster_roles),
        JoinRight::CreateClusterRoleBindings => say!(l, right_cluster_role_bindings),
        JoinRight::Everything => say!(l, right_everything),
    }
}

fn read_target(l: Locale, what: &ReadTarget) -> String {
    match what {
        ReadTarget::KubeSystem => say!(l, read_kube_system),
        ReadTarget::HostClusters(host) => say!(l, read_host_clusters, host = host),
        ReadTarget::KubeSphereVersion => say!(l, read_ks_version),
        ReadTarget::KubeSphereConfig => say!(l, read_ks_config),
        ReadTarget::HostKubeSphereConfig(host) => say!(l, read_host_ks_config, host = host),
        ReadTarget::FederationNamespace => say!(l, read_federation_ns),
        ReadTarget::TokenSecrets => say!(l, read_token_secrets),
        ReadTarget::Workspaces => say!(l, read_workspaces),
    }
}

fn managed(l: Locale, by: &Managers, how: &ManagedHow) -> Words {
    let who = match by {
        Managers::KnownHosts(hosts) => {
            let hosts: Vec<String> = hosts
                .iter()
                .map(|(host, name)| say!(l, f_manager, host = host, name = name))
                .collect();
            say!(l, f_managed_known, hosts = list(l, &hosts))
        }
        Managers::UnknownHosts(names) => {
            say!(l, f_managed_unknown, names = code_list(l, names))
        }
    };
    let risk = say!(l, f_managed_risk);
    let (summary, fix) = match how {
        ManagedHow::SecondHost => (say!(l, f_managed_second, who = who), risk),
        ManagedHow::AlsoHere(host) => (say!(l, f_managed_also_here, who = who, host = host), risk),
        ManagedHow::OneHostOnly(host) => (
            who,
            say!(l, f_managed_one_host_fix, host = host, risk = risk),
        ),
    };
    Words::new(summary, Some(fix))
}

fn skip(l: Locale, reason: SkipReason) -> String {
    match reason {
        SkipReason::NeedsAllowedAddress => say!(l, skip_address),
        SkipReason::NeedsKubeconfig => say!(l, skip_kubeconfig),
        SkipReason::NeedsConnection => say!(l, skip_connection),
        SkipReason::NeedsIdentity => say!(l, skip_identity),
        SkipReason::NeedsKubeSphere => say!(l, skip_kubesphere),
        SkipReason::NotForUpdate => say!(l, skip_update),
    }
}

pub(super) fn side(l: Locale, side: Side) -> String {
    crate::pages::clusters::progress::side(l, side).to_string()
}

/// Why a job failed, with what to do.
pub fn job_failure(l: Locale, failure: &JobFailure) -> String {
    match failure {
        JobFailure::Checks(steps) => {
            let titles: Vec<String> = steps.iter().map(|s| step_title(l, *s)).collect();
            say!(l, jf_checks, steps = list(l, &titles))
        }
        JobFailure::Invalid(problem) => super::refusals::basic_problem(l, *problem),
        JobFailure::Write(at, object, message, left_behind) => {
            let stopped = say!(
                l,
                jf_write,
                side = side(l, *at),
                object = object,
                message = message
            );
            if left_behind.is_empty() {
                stopped
            } else {
                let left = say!(l, jf_left_behind, objects = code_list(l, left_behind));
                format!("{stopped}. {left}")
            }
        }
        JobFailure::Abandoned => say!(l, jf_abandoned),
        JobFailure::Crashed => say!(l, jf_crashed),
    }
}
