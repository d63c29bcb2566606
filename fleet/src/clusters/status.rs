//! A joined `Cluster`'s status, as KubeSphere's cluster controller fills it (docs/KUBESPHERE.md
//! 2.4): conditions Federated, Ready and KubeConfigCertExpiresInSevenDays, the versions, the
//! node count and the member's identity.

use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::checks::MemberFacts;
use crate::clusters::certificate_expiry::CertificateExpiry;

/// KubeSphere's console warns about member certificates a week ahead.
const CERT_CONDITION_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

pub(crate) async fn node_count(member: &Client) -> Option<usize> {
    Api::<Node>::all(member.clone())
        .list_metadata(&ListParams::default())
        .await
        .ok()
        .map(|l| l.items.len())
}

fn rfc3339(t: SystemTime) -> String {
    Timestamp::try_from(t)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Go's `Time.String()` of the certificate's NotAfter, which ks-console parses.
fn go_time(t: SystemTime) -> String {
    Timestamp::try_from(t)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default()
}

fn condition(kind: &str, status: bool, reason: &str, message: &str, now: &str) -> Value {
    json!({
        "type": kind, "status": if status { "True" } else { "False" }, "reason": reason, "message": message,
        "lastUpdateTime": now, "lastTransitionTime": now,
    })
}

pub(crate) fn certificate_condition(expiry: Option<&CertificateExpiry>, now: SystemTime) -> Value {
    let stamp = rfc3339(now);
    let kind = "KubeConfigCertExpiresInSevenDays";
    match expiry {
        Some(
            CertificateExpiry::Valid { not_after }
            | CertificateExpiry::ExpiresSoon { not_after, .. }
            | CertificateExpiry::Expired { not_after },
        ) => {
            let soon = not_after
                .duration_since(now)
                .map(|left| left < CERT_CONDITION_WINDOW)
                .unwrap_or(true);
            condition(kind, soon, kind, &go_time(*not_after), &stamp)
        }
        _ => condition(kind, false, kind, "", &stamp),
    }
}

pub(crate) fn joined_status(facts: &MemberFacts, nodes: Option<usize>, now: SystemTime) -> Value {
    let stamp = rfc3339(now);
    json!({
        "conditions": [
            condition("Federated", true, "", "Cluster has joined federation control plane successfully", &stamp),
            condition("Ready", true, "Ready", "Cluster is available now", &stamp),
            certificate_condition(facts.certificate.as_ref(), now),
        ],
        "kubernetesVersion": facts.kubernetes_version,
        "kubeSphereVersion": facts.kubesphere_version.clone().unwrap_or_else(|| "unknown".into()),
        "nodeCount": nodes.unwrap_or(0),
        "uid": facts.uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn the_certificate_condition_reads_as_kubesphere_writes_it() {
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
        let in_three_days = now + Duration::from_secs(3 * 86_400);
        let c = certificate_condition(
            Some(&CertificateExpiry::ExpiresSoon {
                not_after: in_three_days,
                days_left: 3,
            }),
            now,
        );
        assert_eq!(c["status"], "True");
        assert_eq!(c["message"], "2026-01-04 00:00:00 +0000 UTC");
        let later = now + Duration::from_secs(90 * 86_400);
        assert_eq!(
            certificate_condition(Some(&CertificateExpiry::Valid { not_after: later }), now)["status"],
            "False"
        );
        let token = certificate_condition(Some(&CertificateExpiry::NoCertificate), now);
        assert_eq!(
            (token["status"].as_str(), token["message"].as_str()),
            (Some("False"), Some(""))
        );
    }
}
