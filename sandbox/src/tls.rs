//! Per-cluster certificate authority and serving certificate, as a real cluster has.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::SandboxError;

/// A cluster's CA and the API server certificate it signed.
pub struct ClusterTls {
    /// PEM of the CA certificate: what a kubeconfig carries as `certificate-authority-data`.
    pub ca_pem: String,
    ca_key_pem: String,
    pub server_config: Arc<ServerConfig>,
}

/// The serving certificate a cluster presents: a good one, or one of the broken shapes
/// Tandem's add-cluster checks must explain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServingCertificate {
    #[default]
    Valid,
    /// Signed by the cluster's CA, but expired in 2021.
    Expired,
    /// Signed by the cluster's CA, but for `wrong-host.example` only, not for loopback.
    WrongHost,
}

impl ClusterTls {
    /// A fresh CA named after the cluster, and a serving certificate for loopback.
    pub fn generate(cluster: &str) -> Result<Self, SandboxError> {
        Self::build(cluster, None, ServingCertificate::Valid)
    }

    /// A fresh CA and a serving certificate of the given shape.
    pub fn generate_shaped(cluster: &str, shape: ServingCertificate) -> Result<Self, SandboxError> {
        Self::build(cluster, None, shape)
    }

    /// The CA kept in `dir` (made there on first use), so kubeconfigs and copies of the CA
    /// that other clusters hold stay valid across restarts; a new serving certificate.
    pub fn load_or_generate(cluster: &str, dir: &std::path::Path) -> Result<Self, SandboxError> {
        let key_path = dir.join("ca.key");
        let cert_path = dir.join("ca.crt");
        let read = |p: &std::path::Path| std::fs::read_to_string(p).ok();
        let saved = read(&key_path).zip(read(&cert_path));
        let tls = Self::build(cluster, saved.clone(), ServingCertificate::Valid)?;
        if saved.is_none() {
            crate::write_private(&key_path, tls.ca_key_pem.as_bytes())?;
            crate::write_private(&cert_path, tls.ca_pem.as_bytes())?;
        }
        Ok(tls)
    }

    fn build(
        cluster: &str,
        saved: Option<(String, String)>,
        shape: ServingCertificate,
    ) -> Result<Self, SandboxError> {
        let tls_err = |e: rcgen::Error| SandboxError::Tls(e.to_string());

        let ca_key = match &saved {
            Some((key_pem, _)) => KeyPair::from_pem(key_pem).map_err(tls_err)?,
            None => KeyPair::generate().map_err(tls_err)?,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{cluster}-ca"));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        // A saved CA certificate is kept as is; the issuer rebuilt from the same name and key
        // signs certificates that chain to it.
        let ca_pem = match &saved {
            Some((_, cert_pem)) => cert_pem.clone(),
            None => ca_params.self_signed(&ca_key).map_err(tls_err)?.pem(),
        };
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(ca_pem.as_bytes())
            .map_err(|e: rustls::pki_types::pem::Error| SandboxError::Tls(e.to_string()))?;
        let ca_key_pem = ca_key.serialize_pem();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().map_err(tls_err)?;
        let mut server_params =
            CertificateParams::new(vec!["localhost".to_string(), "kubernetes".to_string()])
                .map_err(tls_err)?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        server_params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        server_params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        match shape {
            ServingCertificate::Valid => {}
            ServingCertificate::Expired => {
                server_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
                server_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
            }
            ServingCertificate::WrongHost => {
                server_params.subject_alt_names = vec![SanType::DnsName(
                    "wrong-host.example".try_into().map_err(tls_err)?,
                )];
            }
        }
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .map_err(tls_err)?;

        let chain = vec![CertificateDer::from(server_cert.der().to_vec()), ca_der];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let mut server_config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| SandboxError::Tls(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| SandboxError::Tls(e.to_string()))?;
        // kube-rs and kubectl both speak HTTP/2 when offered, as with a real API server.
        server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

        Ok(Self {
            ca_pem,
            ca_key_pem,
            server_config: Arc::new(server_config),
        })
    }
}
