//! A bound on every call a host's client makes, except watches.
//!
//! Each host has one client, shared by the probe, the IAM watches and cluster writes. kube's
//! read timeout cannot serve them all: it applies to every socket read, and a watch on a quiet
//! host reads nothing for minutes. This layer gives ordinary calls what the read timeout gave
//! them — no answer started within the limit, or no byte of the answer for that long, is a
//! timeout — and leaves watches (`watch=true`) to kube's own watch timeouts.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use kube::client::{Body, DynBody};
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Layer, Service};

/// Adds [`Bounded`] around a client's service.
#[derive(Clone, Copy)]
pub(crate) struct CallDeadline(pub Duration);

impl<S> Layer<S> for CallDeadline {
    type Service = Bounded<S>;

    fn layer(&self, inner: S) -> Bounded<S> {
        Bounded {
            inner,
            limit: self.0,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Bounded<S> {
    inner: S,
    limit: Duration,
}

fn timed_out(limit: Duration) -> BoxError {
    Box::new(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no answer within {} s", limit.as_secs()),
    ))
}

/// Whether the request is a watch, which may rightly stay silent for minutes.
fn is_watch<B>(request: &Request<B>) -> bool {
    request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"))
}

type Answer = Result<Response<Box<DynBody>>, BoxError>;

impl<S> Service<Request<Body>> for Bounded<S>
where
    S: Service<Request<Body>, Response = Response<Box<DynBody>>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<Box<DynBody>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let watch = is_watch(&request);
        let answer = self.inner.call(request);
        if watch {
            return Box::pin(answer);
        }
        let limit = self.limit;
        Box::pin(async move {
            let response = tokio::time::timeout(limit, answer)
                .await
                .map_err(|_| timed_out(limit))??;
            Ok(response.map(|body| {
                Box::new(SilenceBound {
                    body,
                    limit,
                    silence: Box::pin(tokio::time::sleep(limit)),
                }) as Box<DynBody>
            }))
        })
    }
}

/// A response body that fails when no data arrives for `limit`.
struct SilenceBound {
    body: Box<DynBody>,
    limit: Duration,
    silence: Pin<Box<Sleep>>,
}

impl HttpBody for SilenceBound {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            this.silence.as_mut().reset(Instant::now() + this.limit);
            return Poll::Ready(frame);
        }
        match this.silence.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(timed_out(this.limit)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A plain-HTTP server on loopback that answers each connection with `reply` and then
    /// says nothing more, keeping the connection open.
    async fn silent_after(reply: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    let _ = socket.write_all(reply.as_bytes()).await;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                });
            }
        });
        format!("http://{address}")
    }

    fn client(server: &str, limit: Duration) -> kube::Client {
        let config = kube::Config::new(server.parse().unwrap());
        kube::client::ClientBuilder::try_from(config)
            .unwrap()
            .with_layer(&CallDeadline(limit))
            .build()
    }

    const HEADERS: &str =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";

    #[tokio::test]
    async fn a_call_without_an_answer_times_out() {
        let limit = Duration::from_millis(300);
        let unanswered = client(&silent_after("").await, limit);
        let error = unanswered.apiserver_version().await.unwrap_err();
        assert!(
            crate::health::classify(&error)
                == crate::ProbeFailure::Timeout(crate::health::PROBE_TIMEOUT),
            "{error:?}"
        );
        // Headers, then nothing: the body's silence counts too.
        let half = client(&silent_after(HEADERS).await, limit);
        let started = std::time::Instant::now();
        assert!(half.apiserver_version().await.is_err());
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_quiet_watch_is_left_open() {
        use futures_util::StreamExt;
        let limit = Duration::from_millis(300);
        let quiet = client(&silent_after(HEADERS).await, limit);
        let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(quiet);
        let mut events = Box::pin(
            api.watch(&kube::api::WatchParams::default(), "0")
                .await
                .expect("the watch starts"),
        );
        // Ten times the limit without a byte: still open, nothing wrong.
        let waited = tokio::time::timeout(limit * 10, events.next()).await;
        assert!(
            waited.is_err(),
            "the watch ended: {:?}",
            waited.map(|e| e.map(|e| e.is_ok()))
        );
    }

    #[test]
    fn only_watches_are_left_unbounded() {
        let request = |uri: &str| Request::get(uri).body(()).unwrap();
        assert!(is_watch(&request(
            "/apis/iam.kubesphere.io/v1alpha2/users?watch=true&resourceVersion=5"
        )));
        assert!(is_watch(&request(
            "/api/v1/namespaces?labelSelector=a&watch=1"
        )));
        assert!(!is_watch(&request("/api/v1/namespaces?limit=500")));
        assert!(!is_watch(&request("/version")));
        assert!(!is_watch(&request(
            "/api/v1/namespaces?allowWatchBookmarks=true"
        )));
    }
}
