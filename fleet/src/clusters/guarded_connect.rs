//! Kube clients for members that connect only where the [`MemberAddressPolicy`] allows.
//!
//! kube's own client resolves and connects inside hyper, out of reach. Here the connector
//! resolves the name itself, checks every address it gets (a name with one refused address
//! among several is refused whole: that is how DNS rebinding looks), and connects to exactly
//! the addresses it checked, so no second lookup can answer differently. TLS, the API
//! server's certificate check and the credentials are kube's, unchanged.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kube::Client;
use kube::client::ConfigExt;
use tokio::net::TcpStream;
use tower::{BoxError, ServiceBuilder};

use super::address_policy::{AddressRefusal, MemberAddressPolicy};

/// The connection was refused by the policy; the message is the refusal's.
#[derive(Debug, thiserror::Error)]
#[error("the console does not connect there: {0}")]
pub struct RefusedAddress(pub AddressRefusal);

/// A TCP connector that checks every address before connecting to it.
#[derive(Clone)]
struct GuardedConnector {
    policy: Arc<MemberAddressPolicy>,
    tcp: HttpConnector,
}

impl tower::Service<http::Uri> for GuardedConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let policy = self.policy.clone();
        let mut tcp = self.tcp.clone();
        Box::pin(async move {
            let addresses = resolve(&uri).await?;
            for address in &addresses {
                policy.check_address(*address).map_err(RefusedAddress)?;
            }
            let mut last: Option<BoxError> = None;
            for address in addresses {
                let literal: http::Uri = format!("http://{address}").parse()?;
                match tower::Service::call(&mut tcp, literal).await {
                    Ok(stream) => return Ok(stream),
                    Err(e) => last = Some(e.into()),
                }
            }
            Err(last.unwrap_or_else(|| "the name resolved to no address".into()))
        })
    }
}

/// The addresses `uri`'s host stands for, with its port (443 for https, 80 for http).
async fn resolve(uri: &http::Uri) -> Result<Vec<SocketAddr>, BoxError> {
    let host = uri
        .host()
        .ok_or("the server address has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("http") => 80,
        _ => 443,
    });
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

/// A client for a member from `config` (its kubeconfig's), connecting only where `policy`
/// allows. Timeouts, TLS and credentials come from `config`; a `proxy-url` is refused
/// before this point by the kubeconfig check.
pub fn member_client_with_policy(
    config: kube::Config,
    policy: Arc<MemberAddressPolicy>,
) -> Result<Client, kube::Error> {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_connect_timeout(config.connect_timeout);
    let https = config.rustls_https_connector_with_connector(GuardedConnector { policy, tcp })?;
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    let http: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .service(http);
    Ok(Client::new(service, config.default_namespace))
}

/// The policy's refusal inside a failed request, if that is why it failed.
pub fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<AddressRefusal> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<RefusedAddress>() {
            return Some(refused.0.clone());
        }
        source = e.source();
    }
    None
}
