//! The last add-cluster check: when does the kubeconfig's client certificate expire?
//! A console that joined a cluster with a certificate about to expire loses it silently
//! (KubeSphere only raises `KubeConfigCertExpiresInSevenDays`); Tandem warns a month ahead.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::clusters::kubeconfig::CheckedKubeconfig;

/// Warn when the certificate has less than this left.
pub const WARN_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Clone, PartialEq)]
pub enum CertificateExpiry {
    /// Token or basic auth: nothing expires here (the token may, but carries no date).
    NoCertificate,
    Valid {
        not_after: SystemTime,
    },
    ExpiresSoon {
        not_after: SystemTime,
        days_left: u64,
    },
    Expired {
        not_after: SystemTime,
    },
    /// The certificate data is not a certificate; the connection would fail anyway.
    Unreadable(String),
}

pub fn check_certificate_expiry(checked: &CheckedKubeconfig, now: SystemTime) -> CertificateExpiry {
    let Some(pem) = &checked.client_certificate_pem else {
        return CertificateExpiry::NoCertificate;
    };
    let not_after = match not_after(pem) {
        Ok(t) => t,
        Err(why) => return CertificateExpiry::Unreadable(why),
    };
    match not_after.duration_since(now) {
        Err(_) => CertificateExpiry::Expired { not_after },
        Ok(left) if left < WARN_BEFORE => CertificateExpiry::ExpiresSoon {
            not_after,
            days_left: left.as_secs() / 86_400,
        },
        Ok(_) => CertificateExpiry::Valid { not_after },
    }
}

fn not_after(pem: &str) -> Result<SystemTime, String> {
    let (_, block) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| format!("not PEM: {e}"))?;
    let cert = block
        .parse_x509()
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let secs = cert.validity().not_after.timestamp();
    u64::try_from(secs)
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
        .map_err(|_| "the certificate expires before 1970".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::kubeconfig::check_kubeconfig;
    use base64::Engine;

    fn kubeconfig_with_certificate(not_after: (i32, u8, u8)) -> CheckedKubeconfig {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["admin".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let pem = params.self_signed(&key).unwrap().pem();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://10.0.0.1:6443\"}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(&pem),
            b64(&key.serialize_pem())
        );
        check_kubeconfig(&yaml, None).unwrap()
    }

    /// 2026-11-25, the day these tests were written; dates below are relative to it.
    fn today() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_564_800)
    }

    #[test]
    fn valid_soon_and_expired() {
        assert!(matches!(
            check_certificate_expiry(&kubeconfig_with_certificate((2030, 1, 1)), today()),
            CertificateExpiry::Valid { .. }
        ));
        match check_certificate_expiry(&kubeconfig_with_certificate((2026, 12, 10)), today()) {
            CertificateExpiry::ExpiresSoon { days_left, .. } => assert_eq!(days_left, 15),
            other => panic!("expected a warning, got {other:?}"),
        }
        assert!(matches!(
            check_certificate_expiry(&kubeconfig_with_certificate((2025, 1, 1)), today()),
            CertificateExpiry::Expired { .. }
        ));
    }

    #[test]
    fn token_kubeconfigs_have_no_certificate_and_do_not_break_the_check() {
        let yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://10.0.0.1:6443\"}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {token: abc}\n";
        assert_eq!(
            check_certificate_expiry(&check_kubeconfig(yaml, None).unwrap(), today()),
            CertificateExpiry::NoCertificate
        );
    }

    #[test]
    fn garbage_certificate_data_is_reported() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("not a certificate");
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://h:6443\"}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    client-certificate-data: {b64}\n    client-key-data: a2V5\n"
        );
        assert!(matches!(
            check_certificate_expiry(&check_kubeconfig(&yaml, None).unwrap(), today()),
            CertificateExpiry::Unreadable(_)
        ));
    }
}
