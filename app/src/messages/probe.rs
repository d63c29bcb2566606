//! A failed connection or read, and what to do about it.

use fleet::clusters::AddressRefusal;
use fleet::health::ProbeFailure;

use super::{Words, say};
use crate::i18n::Locale;

/// What went wrong, in a clause.
pub fn failure(l: Locale, failure: &ProbeFailure) -> String {
    match failure {
        ProbeFailure::Timeout(d) => say!(l, pf_timeout, secs = d.as_secs()),
        ProbeFailure::Refused => say!(l, pf_refused),
        ProbeFailure::UnknownCa => say!(l, pf_unknown_ca),
        ProbeFailure::CertificateExpired => say!(l, pf_cert_expired),
        ProbeFailure::HostnameMismatch => say!(l, pf_hostname),
        ProbeFailure::Tls(detail) => say!(l, pf_tls, detail = detail),
        ProbeFailure::Unauthorized => say!(l, pf_unauthorized),
        ProbeFailure::Forbidden => say!(l, pf_forbidden),
        ProbeFailure::Client(detail) => say!(l, pf_client, detail = detail),
        ProbeFailure::Status(code, reason) => {
            // The reason word, when there is one, after a space.
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(" {reason}")
            };
            say!(l, pf_status, code = code, reason = reason)
        }
        ProbeFailure::Other(detail) => detail.clone(),
        ProbeFailure::AddressRefused(refusal) => address_refusal(l, refusal).summary,
    }
}

/// What to do about a failed connection to `server`.
pub(super) fn fix(l: Locale, failure: &ProbeFailure, server: &str) -> String {
    match failure {
        ProbeFailure::Timeout(_) => say!(l, pff_timeout, server = server),
        ProbeFailure::Refused => say!(l, pff_refused, server = server),
        ProbeFailure::UnknownCa => say!(l, pff_unknown_ca),
        ProbeFailure::CertificateExpired => say!(l, pff_cert_expired),
        ProbeFailure::HostnameMismatch => say!(l, pff_hostname, server = server),
        ProbeFailure::Tls(_) => say!(l, pff_tls),
        ProbeFailure::Unauthorized => say!(l, pff_unauthorized),
        ProbeFailure::Forbidden => say!(l, pff_forbidden),
        ProbeFailure::Client(_) => say!(l, pff_client),
        ProbeFailure::Status(..) | ProbeFailure::Other(_) => say!(l, pff_other, server = server),
        ProbeFailure::AddressRefused(refusal) => {
            address_refusal(l, refusal).fix.unwrap_or_default()
        }
    }
}

/// The member address policy's refusal: why the console does not connect there.
pub(super) fn address_refusal(l: Locale, refusal: &AddressRefusal) -> Words {
    use AddressRefusal as R;
    let (summary, fix) = match refusal {
        R::Scheme { scheme } => (
            say!(l, refusal_scheme, scheme = scheme),
            say!(l, refusal_fix_scheme),
        ),
        R::PlainHttp { server } => (
            say!(l, refusal_plain_http, address = server),
            say!(l, refusal_fix_plain_http),
        ),
        R::Metadata { address } => (
            say!(l, refusal_metadata, address = address),
            say!(l, refusal_fix_never),
        ),
        R::LinkLocal { ip } => (
            say!(l, refusal_link_local, address = ip),
            say!(l, refusal_fix_link_local),
        ),
        R::NotOneMachine { ip, .. } => (
            say!(l, refusal_not_one_machine, address = ip),
            say!(l, refusal_fix_never),
        ),
        R::Console { address } => (
            say!(l, refusal_console, address = address),
            say!(l, refusal_fix_never),
        ),
        R::NotAllowed { ip, allowed } => (
            say!(l, refusal_not_allowed, address = ip, allowed = allowed),
            say!(l, refusal_fix_not_allowed),
        ),
        R::Denied { ip, cidr } => (
            say!(l, refusal_denied, address = ip, denied = cidr),
            say!(l, refusal_fix_denied),
        ),
    };
    Words::new(summary, Some(fix))
}
