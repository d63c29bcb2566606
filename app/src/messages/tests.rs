use std::time::Duration;

use fleet::clusters::findings::{JoinRight, KubeconfigSummary, ManagedHow, Managers, ReadTarget};
use fleet::clusters::kubeconfig::{Credentials, Entry, KubeconfigNote, KubeconfigProblem};
use fleet::clusters::{
    AddressRefusal, CheckStep, Finding, JobFailure, Side, SkipReason, StepReport,
};
use fleet::health::ProbeFailure;

use super::*;

fn s(v: &str) -> String {
    v.to_string()
}

/// One of every kind of finding, with the values a person would see.
fn findings() -> Vec<Finding> {
    let failures = [
        ProbeFailure::Timeout(Duration::from_secs(4)),
        ProbeFailure::Refused,
        ProbeFailure::UnknownCa,
        ProbeFailure::CertificateExpired,
        ProbeFailure::HostnameMismatch,
        ProbeFailure::Tls(s("bad record")),
        ProbeFailure::Unauthorized,
        ProbeFailure::Forbidden,
        ProbeFailure::Status(503, s("ServiceUnavailable")),
        ProbeFailure::Status(418, String::new()),
        // A library's own words ride along untranslated (here a made-up one-word detail).
        ProbeFailure::Client(s("InvalidContext")),
        ProbeFailure::AddressRefused(AddressRefusal::Metadata {
            address: s("169.254.169.254"),
        }),
    ];
    let problems = [
        KubeconfigProblem::Empty,
        KubeconfigProblem::NoContexts,
        KubeconfigProblem::ChooseContext {
            available: vec![s("a"), s("b")],
        },
        KubeconfigProblem::ExecPlugin {
            user: s("u"),
            command: s("aws"),
        },
        KubeconfigProblem::FilePath {
            owner: Entry::User,
            name: s("u"),
            field: "tokenFile".into(),
        },
        KubeconfigProblem::NoCredentials {
            user: s("u"),
            unknown: vec![s("tokn")],
        },
        KubeconfigProblem::BadBase64 {
            owner: Entry::Cluster,
            name: s("c"),
            field: "certificate-authority-data".into(),
        },
    ];
    let notes = vec![
        KubeconfigNote::TlsServerNameIgnored { cluster: s("c") },
        KubeconfigNote::UnknownFields {
            owner: Entry::User,
            name: s("u"),
            fields: vec![s("colour"), s(fleet::clusters::kubeconfig::UNUSUAL_NAME)],
        },
        KubeconfigNote::BasicAuth { user: s("u") },
        KubeconfigNote::Impersonation {
            user: s("u"),
            fields: vec!["as".into()],
        },
    ];
    let mut all = vec![
        Finding::KubeconfigUsable(KubeconfigSummary {
            context: s("ctx"),
            cluster: s("c"),
            server: s("https://10.0.0.1:6443"),
            user: s("u"),
            credentials: Credentials::Token,
            notes,
        }),
        Finding::Answered {
            server: s("https://10.0.0.1:6443"),
        },
        Finding::Connected {
            kubernetes: s("v1.33.1"),
            server: s("https://10.0.0.1:6443"),
            millis: 12,
            insecure: true,
        },
        Finding::MayJoin { user: s("u") },
        Finding::MayNotJoin {
            user: s("u"),
            missing: vec![JoinRight::CreateNamespaces, JoinRight::Everything],
        },
        Finding::CredentialsAccepted,
        Finding::CannotRead {
            what: ReadTarget::HostClusters(s("host")),
            failure: ProbeFailure::Refused,
        },
        Finding::BadName {
            name: s("Bad_Name"),
        },
        Finding::NewToHost {
            host: s("host"),
            uid: s("1234"),
        },
        Finding::JoinedHereAlready { host: s("host") },
        Finding::JoinedAs {
            host: s("host"),
            name: s("prod"),
            uid: s("1234"),
        },
        Finding::NameTaken {
            host: s("host"),
            name: s("prod"),
        },
        Finding::SameCluster {
            name: s("prod"),
            uid: s("1234"),
        },
        Finding::OtherCluster {
            name: s("prod"),
            uid: s("1234"),
        },
        Finding::NoKubeSphere,
        Finding::NoKubeSphereConfig {
            version: s("v3.4.1"),
        },
        Finding::KubeSphereMember {
            version: s("v3.4.1"),
            kubernetes: s("v1.33.1"),
        },
        Finding::NotMember {
            version: s("v3.4.1"),
            role: s("host"),
        },
        Finding::NoOtherHost,
        Finding::ResumingJoin { host: s("host") },
        Finding::Managed {
            by: Managers::KnownHosts(vec![(s("host2"), s("member"))]),
            how: ManagedHow::OneHostOnly(s("host")),
        },
        Finding::Managed {
            by: Managers::UnknownHosts(vec![s("member")]),
            how: ManagedHow::SecondHost,
        },
        Finding::JwtSame { host: s("host") },
        Finding::JwtDiffers { host: s("host") },
        Finding::JwtMissing { host: s("host") },
        Finding::HostWithoutKubeSphere { host: s("host") },
        Finding::NoClientCertificate,
        Finding::CertificateValid {
            until: s("2030-01-01"),
        },
        Finding::CertificateExpiresSoon {
            days: 3,
            until: s("2026-12-10"),
        },
        Finding::CertificateExpired {
            on: s("2026-01-01"),
        },
        Finding::CertificateUnreadable { why: s("bad PEM") },
        Finding::NoWorkspaceConflict,
        Finding::WorkspaceConflicts {
            workspaces: vec![s("finance")],
            host: s("host"),
            cluster: s("member"),
        },
        Finding::Skipped(SkipReason::NeedsConnection),
    ];
    all.extend(failures.into_iter().map(|failure| Finding::NotConnected {
        failure,
        server: s("https://10.0.0.1:6443"),
    }));
    all.extend(problems.into_iter().map(Finding::KubeconfigUnusable));
    all
}

fn failed(finding: Finding) -> StepReport {
    StepReport::failed(CheckStep::Kubeconfig, finding)
}

/// Latin words in a row outside code: English prose, which a 中文 page must not show.
/// Names, versions and quoted code (between backticks) are allowed.
fn english_run(text: &str) -> Option<String> {
    let prose: String = text.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    // Field and object names (`kube-system`, `certificate-authority-data`) are one token.
    let words: Vec<&str> = prose
        .split(|c: char| !(c.is_ascii_alphanumeric() || "'-._/".contains(c)))
        .collect();
    words
        .windows(3)
        .find(|w| {
            w.iter()
                .all(|x| x.len() > 1 && x.chars().all(|c| c.is_ascii_lowercase()))
        })
        .map(|w| w.join(" "))
}

#[test]
fn every_finding_has_words_in_both_languages() {
    for finding in findings() {
        let report = failed(finding.clone());
        let (en, zh) = (
            step_words(Locale::en, &report),
            step_words(Locale::zh, &report),
        );
        for words in [&en, &zh] {
            assert!(!words.summary.trim().is_empty(), "{finding:?}");
            assert!(
                !words.summary.contains("{{"),
                "{finding:?}: {}",
                words.summary
            );
            assert!(!words.fix.as_deref().unwrap_or_default().contains("{{"));
        }
        assert_ne!(en.summary, zh.summary, "{finding:?} is not translated");
        assert_eq!(en.fix.is_some(), zh.fix.is_some(), "{finding:?}");
        if let Some(run) = english_run(&zh.summary) {
            panic!("{finding:?} in 中文 has English: {run:?} in {}", zh.summary);
        }
        if let Some(run) = zh.fix.as_deref().and_then(english_run) {
            panic!("{finding:?}'s fix in 中文 has English: {run:?}");
        }
    }
}

#[test]
fn a_passed_step_has_nothing_to_fix() {
    let report = StepReport::passed(
        CheckStep::Connection,
        Finding::Connected {
            kubernetes: s("v1.33.1"),
            server: s("https://127.0.0.1:6443"),
            millis: 3,
            insecure: false,
        },
    );
    let words = step_words(Locale::en, &report);
    assert_eq!(
        words.summary,
        "Kubernetes v1.33.1 answered at https://127.0.0.1:6443 in 3 ms"
    );
    assert_eq!(words.fix, None);
}

#[test]
fn the_jwt_fix_names_the_host_in_a_command_that_does_not_print_the_secret() {
    let report = failed(Finding::JwtDiffers { host: s("host") });
    let fix = step_words(Locale::zh, &report).fix.unwrap();
    assert!(
        fix.contains("kubectl --context host -n kubesphere-system get configmap"),
        "{fix}"
    );
    assert!(
        fix.contains("patch clusterconfiguration ks-installer"),
        "{fix}"
    );
    assert!(
        fix.contains(r#"-p "{\"spec\":{\"authentication\":{\"jwtSecret\":\"$SECRET\"}}}""#),
        "{fix}"
    );
}

#[test]
fn lists_read_naturally_in_each_language() {
    let items = [s("a"), s("b"), s("c")];
    assert_eq!(list(Locale::en, &items), "a, b and c");
    assert_eq!(list(Locale::zh, &items), "a、b 和 c");
    assert_eq!(list(Locale::en, &items[..1]), "a");
}

#[test]
fn job_failures_and_refusals_are_translated() {
    let failures = [
        JobFailure::Checks(vec![CheckStep::JwtSecret, CheckStep::Workspaces]),
        JobFailure::Invalid(fleet::clusters::BasicProblem::UnknownGroup),
        JobFailure::Write(
            Side::Member,
            s("Secret x"),
            s("403 forbidden"),
            vec![s("Namespace y")],
        ),
        JobFailure::Abandoned,
        JobFailure::Crashed,
    ];
    for failure in &failures {
        let (en, zh) = (
            job_failure(Locale::en, failure),
            job_failure(Locale::zh, failure),
        );
        assert_ne!(en, zh, "{failure:?}");
        assert!(!zh.contains("{{"), "{zh}");
    }
    assert_eq!(
        job_failure(Locale::zh, &failures[0]),
        "请修复上面失败的步骤（jwtSecret 和 企业空间），然后重新运行检查"
    );
    let update = fleet::clusters::UpdateError::ChecksFailed(vec![failed(Finding::OtherCluster {
        name: s("prod"),
        uid: s("9"),
    })]);
    let refusals = [
        refusals::ClusterRefusal::Agent,
        refusals::ClusterRefusal::JobExpired,
        refusals::ClusterRefusal::NotWritable("host"),
        refusals::ClusterRefusal::RemovalUnconfirmed("prod"),
        refusals::ClusterRefusal::Update(&update),
    ];
    for refusal in &refusals {
        let zh = refusals::words(Locale::zh, refusal);
        assert_ne!(refusals::words(Locale::en, refusal), zh);
        assert!(english_run(&zh).is_none(), "{refusal:?}: {zh}");
    }
}

/// What the person adding a cluster reads about the kubeconfig they gave, in English: each
/// problem and note names its own fix with the names from the file.
#[test]
fn kubeconfig_fixes_name_what_to_change() {
    let fix = |p: KubeconfigProblem| kubeconfig::problem(Locale::en, &p).fix.unwrap();
    let contexts = fix(KubeconfigProblem::ContextNotFound {
        wanted: s("nope"),
        available: vec![s("admin@prod"), s("viewer@prod")],
    });
    assert!(
        contexts.contains("admin@prod") && contexts.contains("viewer@prod"),
        "{contexts}"
    );
    let token_file = fix(KubeconfigProblem::FilePath {
        owner: Entry::User,
        name: s("u"),
        field: "tokenFile".into(),
    });
    assert!(token_file.contains("`token:`"), "{token_file}");
    let proxy = fix(KubeconfigProblem::ProxyUrl { cluster: s("c") });
    assert!(proxy.contains("proxy-url"), "{proxy}");
    let both = fix(KubeconfigProblem::TokenAndPassword { user: s("u") });
    assert!(
        both.contains("`username`") && both.contains("`password`"),
        "{both}"
    );

    let note = |n: KubeconfigNote| kubeconfig::note(Locale::en, &n);
    let one = note(KubeconfigNote::UnknownFields {
        owner: Entry::Cluster,
        name: s("prod"),
        fields: vec![s("foo")],
    });
    assert_eq!(
        one.summary,
        "cluster `prod`: `foo` is not a kubeconfig field; it is ignored"
    );
    assert!(one.fix.unwrap().contains("`server`"));
    let several = note(KubeconfigNote::UnknownFields {
        owner: Entry::User,
        name: s("admin"),
        fields: vec![s("colour"), s(fleet::clusters::kubeconfig::UNUSUAL_NAME)],
    });
    assert!(
        several
            .summary
            .contains("`colour` and a field with a long or unusual name are not"),
        "{}",
        several.summary
    );
    assert!(several.fix.unwrap().contains("`token`"));
    let basic = note(KubeconfigNote::BasicAuth { user: s("u") });
    assert!(basic.fix.unwrap().contains("kubectl create token"));
    let acting = note(KubeconfigNote::Impersonation {
        user: s("u"),
        fields: vec!["as".into()],
    });
    assert_eq!(acting.fix, None, "only worth knowing");
}

#[test]
fn an_address_refusal_names_the_setting_that_would_change_it() {
    let words = |r: AddressRefusal| probe::address_refusal(Locale::en, &r);
    let link_local = words(AddressRefusal::LinkLocal {
        ip: "169.254.3.4".parse().unwrap(),
    });
    assert!(
        link_local.summary.contains("169.254.3.4"),
        "{}",
        link_local.summary
    );
    assert!(link_local.fix.unwrap().contains("memberAddresses.allow"));
    let plain = words(AddressRefusal::PlainHttp {
        server: s("http://10.0.0.1:8080"),
    });
    assert!(
        plain
            .fix
            .unwrap()
            .contains("memberAddresses.allowPlainHttp")
    );
}
