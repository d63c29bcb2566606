//! `?watch=true`: a chunked stream of `{"type": ..., "object": ...}` lines, resumable from a
//! resourceVersion, with bookmarks and 410 Gone as kube-apiserver sends them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::ClusterState;
use crate::db::Db;
use crate::errors::{ApiError, ApiResult};
use crate::kinds::ResourceKind;
use crate::rest::list_query;
use crate::store::{Event, EventType, ObjectKey};

/// How often an idle watch that asked for bookmarks gets one.
pub const BOOKMARK_EVERY: Duration = Duration::from_secs(2);

struct Filter {
    kind: ResourceKind,
    version: String,
    namespace: Option<String>,
    query: crate::db::ListQuery,
}

impl Filter {
    fn wants(&self, key: &ObjectKey, object: &Value) -> bool {
        key.group == self.kind.group
            && key.plural == self.kind.plural
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| key.namespace == ns)
            && self.query.labels.matches_object(object)
            && self.query.fields.matches_object(object)
    }

    fn line(&self, kind: &str, object: Value) -> Bytes {
        let object = Db::present(&self.kind, &self.version, object);
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = json!({"kind": self.kind.kind, "apiVersion": self.kind.api_version(&self.version), "metadata": metadata});
        let mut line =
            serde_json::to_vec(&json!({"type": "BOOKMARK", "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }
}

fn error_line(error: &ApiError) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": "ERROR", "object": error.status_body()}))
        .unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

pub(crate) fn start(
    state: &Arc<ClusterState>,
    kind: ResourceKind,
    version: &str,
    namespace: Option<String>,
    q: &HashMap<String, String>,
) -> ApiResult<Response> {
    let filter = Filter {
        kind,
        version: version.to_string(),
        namespace,
        query: list_query(q)?,
    };
    let flag = |name: &str| q.get(name).is_some_and(|v| v == "true" || v == "1");
    let bookmarks = flag("allowWatchBookmarks");
    let send_initial = flag("sendInitialEvents");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let requested_rv = q
        .get("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0");

    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut first: Vec<Bytes> = Vec::new();
    let subscription = {
        let db = state
            .db
            .lock()
            .map_err(|_| ApiError::internal("state lock poisoned"))?;
        let current = db.store.resource_version();
        let from = match requested_rv {
            None => current,
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {text:?}")))?,
        };
        // Without a resourceVersion (or with sendInitialEvents) the watch starts with the
        // current state as ADDED events, as "get state and start at most recent".
        if requested_rv.is_none() || send_initial {
            for (key, object) in db.store.list(
                &filter.kind.group,
                &filter.kind.plural,
                filter.namespace.as_deref(),
                None,
            ) {
                if filter.wants(key, object) {
                    first.push(filter.line(EventType::Added.as_str(), object.clone()));
                }
            }
            if send_initial {
                first.push(filter.bookmark(current, true));
            }
        }
        match db
            .store
            .watch_from(if send_initial { current } else { from })
        {
            Some((past, receiver)) => {
                for event in past.iter().filter(|e| filter.wants(&e.key, &e.object)) {
                    first.push(filter.line(event.kind.as_str(), event.object.clone()));
                }
                Some(receiver)
            }
            None => {
                let oldest = db.store.resource_version();
                first.push(error_line(&ApiError::gone(format!(
                    "too old resource version: {from} ({oldest})"
                ))));
                None
            }
        }
    };

    let state = state.clone();
    tokio::spawn(async move {
        for line in first {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let Some(mut receiver) = subscription else {
            return;
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            let idle = tokio::time::sleep(BOOKMARK_EVERY);
            tokio::select! {
                _ = &mut deadline => return,
                _ = idle, if bookmarks => {
                    let rv = state.db.lock().map(|db| db.store.resource_version()).unwrap_or(0);
                    if tx.send(filter.bookmark(rv, false)).await.is_err() { return; }
                }
                received = receiver.recv() => match received {
                    Ok(Event { kind, key, object, .. }) => {
                        if filter.wants(&key, &object) && tx.send(filter.line(kind.as_str(), object)).await.is_err() {
                            return;
                        }
                    }
                    // This watcher fell too far behind: it must re-list, as after a 410.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(error_line(&ApiError::gone("watch fell behind; re-list and watch again"))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });

    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (Ok::<_, Infallible>(line), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}
