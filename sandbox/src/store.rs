//! The object store of one sandbox cluster: what etcd is to kube-apiserver.
//!
//! Objects are JSON values keyed by resource type, namespace and name, with one cluster-wide
//! resourceVersion counter. Every change is logged (when persistent) before it is visible,
//! kept in a bounded history for watches that resume from a resourceVersion, and broadcast to
//! running watches.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::persist::{Record, Wal};

/// How many past changes a watch can resume from by default; older resourceVersions get
/// 410 Gone.
pub const HISTORY: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    pub group: String,
    pub plural: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(group: &str, plural: &str, namespace: &str, name: &str) -> Self {
        Self {
            group: group.into(),
            plural: plural.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn same_collection(&self, group: &str, plural: &str) -> bool {
        self.group == group && self.plural == plural
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventType,
    pub key: ObjectKey,
    pub object: Value,
    pub rv: u64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    #[error(
        "the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict,
    #[error("{0}")]
    Storage(String),
}

pub struct Store {
    objects: BTreeMap<ObjectKey, Value>,
    rv: u64,
    history: VecDeque<Event>,
    history_limit: usize,
    events: broadcast::Sender<Event>,
    wal: Option<Wal>,
}

impl Store {
    pub fn in_memory() -> Self {
        Self::with(None, 0, Vec::new())
    }

    /// A store kept in `dir`, with whatever an earlier run left there.
    pub fn persistent(dir: &std::path::Path) -> Result<Self, String> {
        let (wal, recovered) = Wal::open(dir)?;
        Ok(Self::with(Some(wal), recovered.rv, recovered.objects))
    }

    fn with(wal: Option<Wal>, rv: u64, objects: Vec<(ObjectKey, Value)>) -> Self {
        let (events, _) = broadcast::channel(4096);
        Self {
            objects: objects.into_iter().collect(),
            rv,
            history: VecDeque::new(),
            history_limit: HISTORY,
            events,
            wal,
        }
    }

    /// Keeps only the last `limit` changes for resuming watches.
    pub fn with_history_limit(mut self, limit: usize) -> Self {
        self.history_limit = limit.max(1);
        self
    }

    /// The cluster's current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of one type in key order (namespace, then name), from just after `after`.
    pub fn list<'a>(
        &'a self,
        group: &'a str,
        plural: &'a str,
        namespace: Option<&'a str>,
        after: Option<&ObjectKey>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Value)> + 'a {
        let start = match after {
            Some(key) => std::ops::Bound::Excluded(key.clone()),
            None => std::ops::Bound::Included(ObjectKey::new(
                group,
                plural,
                namespace.unwrap_or(""),
                "",
            )),
        };
        self.objects
            .range((start, std::ops::Bound::Unbounded))
            .take_while(move |(k, _)| {
                k.same_collection(group, plural) && namespace.is_none_or(|ns| k.namespace == ns)
            })
    }

    /// Stores a new object, stamping its resourceVersion.
    pub fn create(&mut self, key: ObjectKey, object: Value) -> Result<Value, StoreError> {
        if self.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        self.put(EventType::Added, key, object)
    }

    /// Replaces an object. With `expected_rv`, refuses (409) when the object has changed since.
    pub fn update(
        &mut self,
        key: ObjectKey,
        object: Value,
        expected_rv: Option<u64>,
    ) -> Result<Value, StoreError> {
        let current = self.objects.get(&key).ok_or(StoreError::NotFound)?;
        if let Some(expected) = expected_rv
            && resource_version_of(current) != Some(expected)
        {
            return Err(StoreError::Conflict);
        }
        self.put(EventType::Modified, key, object)
    }

    pub fn delete(&mut self, key: &ObjectKey) -> Result<Value, StoreError> {
        if !self.objects.contains_key(key) {
            return Err(StoreError::NotFound);
        }
        let rv = self.rv + 1;
        if let Some(wal) = &mut self.wal {
            wal.append(&Record::Delete {
                rv,
                key: key.clone(),
            })
            .map_err(StoreError::Storage)?;
        }
        self.rv = rv;
        let mut object = self.objects.remove(key).ok_or(StoreError::NotFound)?;
        // A deleted object's last state carries the resourceVersion of its deletion.
        set_resource_version(&mut object, rv);
        self.publish(EventType::Deleted, key.clone(), object.clone());
        self.maybe_compact();
        Ok(object)
    }

    fn put(
        &mut self,
        kind: EventType,
        key: ObjectKey,
        mut object: Value,
    ) -> Result<Value, StoreError> {
        let rv = self.rv + 1;
        set_resource_version(&mut object, rv);
        if let Some(wal) = &mut self.wal {
            wal.append(&Record::Put {
                rv,
                key: key.clone(),
                object: object.clone(),
            })
            .map_err(StoreError::Storage)?;
        }
        self.rv = rv;
        self.objects.insert(key.clone(), object.clone());
        self.publish(kind, key, object.clone());
        self.maybe_compact();
        Ok(object)
    }

    fn publish(&mut self, kind: EventType, key: ObjectKey, object: Value) {
        let event = Event {
            kind,
            key,
            object,
            rv: self.rv,
        };
        while self.history.len() >= self.history_limit {
            self.history.pop_front();
        }
        self.history.push_back(event.clone());
        let _ = self.events.send(event); // no watcher: nothing to tell
    }

    fn maybe_compact(&mut self) {
        let live = self.objects.len();
        if let Some(wal) = &mut self.wal
            && wal.wants_compaction(live)
            && let Err(err) = wal.compact(self.rv, self.objects.iter())
        {
            // The log still holds everything: a failed compaction loses nothing.
            tracing::warn!(%err, "sandbox state compaction failed");
        }
    }

    /// Changes after `rv` that are still in history, and a receiver for the ones to come, taken
    /// together so no change falls between them. `None` when `rv` is older than the history:
    /// the caller must answer 410 Gone and the client re-lists.
    pub fn watch_from(&self, rv: u64) -> Option<(Vec<Event>, broadcast::Receiver<Event>)> {
        let oldest_known = self.history.front().map(|e| e.rv - 1).unwrap_or(self.rv);
        if rv < oldest_known {
            return None;
        }
        let past = self.history.iter().filter(|e| e.rv > rv).cloned().collect();
        Some((past, self.events.subscribe()))
    }
}

pub fn resource_version_of(object: &Value) -> Option<u64> {
    object
        .pointer("/metadata/resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}

fn set_resource_version(object: &mut Value, rv: u64) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str) -> (ObjectKey, Value) {
        (
            ObjectKey::new("", "configmaps", "default", name),
            json!({"metadata": {"name": name}}),
        )
    }

    #[test]
    fn versions_conflicts_and_listing() {
        let mut store = Store::in_memory();
        let (ka, a) = cm("a");
        let created = store.create(ka.clone(), a.clone()).unwrap();
        assert_eq!(resource_version_of(&created), Some(1));
        assert_eq!(
            store.create(ka.clone(), a.clone()),
            Err(StoreError::AlreadyExists)
        );
        assert_eq!(
            store.update(ka.clone(), a.clone(), Some(7)),
            Err(StoreError::Conflict)
        );
        store.update(ka.clone(), a.clone(), Some(1)).unwrap();
        let (kb, b) = cm("b");
        store.create(kb.clone(), b).unwrap();
        store
            .create(
                ObjectKey::new("", "secrets", "default", "s"),
                json!({"metadata": {}}),
            )
            .unwrap();
        let names: Vec<_> = store
            .list("", "configmaps", None, None)
            .map(|(k, _)| k.name.clone())
            .collect();
        assert_eq!(names, ["a", "b"]);
        let after_a: Vec<_> = store
            .list("", "configmaps", Some("default"), Some(&ka))
            .map(|(k, _)| k.name.clone())
            .collect();
        assert_eq!(after_a, ["b"]);
        assert_eq!(store.list("", "configmaps", Some("other"), None).count(), 0);
    }

    #[test]
    fn watch_resumes_or_reports_gone() {
        let mut store = Store::in_memory();
        for i in 0..3 {
            let (k, v) = cm(&format!("o{i}"));
            store.create(k, v).unwrap();
        }
        let (past, _) = store.watch_from(1).unwrap();
        assert_eq!(past.iter().map(|e| e.rv).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(store.watch_from(3).unwrap().0.len(), 0);
        for i in 0..HISTORY {
            let (k, v) = cm(&format!("n{i}"));
            store.create(k, v).unwrap();
        }
        assert!(store.watch_from(1).is_none());
    }
}
