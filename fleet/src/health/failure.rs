//! Why a cluster did not answer, told from kube's typed errors (API status codes, then the
//! transport's io, timeout and rustls errors by their types, never by their messages).

use std::time::Duration;

use super::PROBE_TIMEOUT;

/// Why a host did not answer, in terms an operator can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ProbeFailure {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection refused")]
    Refused,
    #[error("the server's certificate is not signed by the CA in the kubeconfig")]
    UnknownCa,
    #[error("the server's certificate has expired")]
    CertificateExpired,
    #[error("the server's certificate is not valid for the address in the kubeconfig")]
    HostnameMismatch,
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("the credentials were rejected (401)")]
    Unauthorized,
    #[error("the credentials may not read /version (403)")]
    Forbidden,
    #[error("cannot build a client: {0}")]
    Client(String),
    /// Another HTTP error status, with the short reason word that came with it (maybe none).
    #[error("the server answered HTTP {code}{reason}", code = .0, reason = spaced(.1))]
    Status(u16, String),
    #[error("{0}")]
    Other(String),
    /// The member address policy forbids connecting there (`clusters::address_policy`).
    #[error("the console does not connect there: {0}")]
    AddressRefused(crate::clusters::AddressRefusal),
}

pub(crate) fn classify(err: &kube::Error) -> ProbeFailure {
    if let kube::Error::Api(status) = err {
        return match status.code {
            401 => ProbeFailure::Unauthorized,
            403 => ProbeFailure::Forbidden,
            // Only the code and a short reason word: the message is the body of whatever
            // answered at an address someone else chose, never echoed back.
            code => ProbeFailure::Status(
                code,
                status
                    .reason
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(40)
                    .collect(),
            ),
        };
    }
    if let Some(refusal) = crate::clusters::guarded_connect::refusal_in(err) {
        return ProbeFailure::AddressRefused(refusal);
    }
    // Transport errors nest several layers deep (kube, hyper, io, rustls): each layer is
    // looked at by its type, never by its message; the innermost message is only shown.
    let mut innermost = err.to_string();
    let mut tls = false;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        innermost = e.to_string();
        if let Some(failure) = typed_transport_failure(e) {
            return failure;
        }
        tls |= e.downcast_ref::<rustls::Error>().is_some();
        // An io::Error's `source()` skips the error it wraps: look at that one too.
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    if tls {
        ProbeFailure::Tls(innermost)
    } else {
        ProbeFailure::Other(innermost)
    }
}

/// The failure one layer of a transport error names by its type, if it names one.
fn typed_transport_failure(e: &(dyn std::error::Error + 'static)) -> Option<ProbeFailure> {
    use rustls::CertificateError as Cert;
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Some(ProbeFailure::Refused),
            std::io::ErrorKind::TimedOut => Some(ProbeFailure::Timeout(PROBE_TIMEOUT)),
            _ => None,
        };
    }
    if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
        return Some(ProbeFailure::Timeout(PROBE_TIMEOUT));
    }
    match e.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(cert) => Some(match cert {
            Cert::UnknownIssuer => ProbeFailure::UnknownCa,
            Cert::Expired | Cert::ExpiredContext { .. } => ProbeFailure::CertificateExpired,
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => {
                ProbeFailure::HostnameMismatch
            }
            other => ProbeFailure::Tls(format!("the server's certificate: {other:?}")),
        }),
        _ => None,
    }
}

/// " word", or nothing for no word.
fn spaced(word: &str) -> String {
    if word.is_empty() {
        String::new()
    } else {
        format!(" {word}")
    }
}
