//! The one way background work runs here: add-cluster checks and joins
//! ([`crate::clusters::jobs`]) and multi-host repairs ([`crate::federation`]) are jobs in a
//! [`JobTable`]. The table keeps each job's record while it runs and for a while after it
//! ended, decides under one lock whether a new job may start (one at a time per object, a
//! few at a time per person), hands every change to the job's [`RecordKeeper`] (the copy on
//! the home host that other replicas read), and finishes a job whose task died as crashed, so
//! nothing stays "running" for ever.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::replicas::RecordKeeper;

/// A job's record: what the pages show of it.
pub trait JobRecord: Clone + Serialize + Send + 'static {
    /// Whether it has not ended yet.
    fn running(&self) -> bool;
    /// Ends it as stopped on an internal error (its task panicked).
    fn crash(&mut self);
}

/// One job in the table.
pub struct Entry<R> {
    pub owner: String,
    pub record: R,
    /// When it ended, on this replica's clock.
    finished: Option<Instant>,
}

/// This replica's jobs of one kind, by key (a job id, an object).
pub struct JobTable<K, R> {
    jobs: Arc<Mutex<HashMap<K, Entry<R>>>>,
    keep_for: Duration,
}

impl<K, R> Clone for JobTable<K, R> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            keep_for: self.keep_for,
        }
    }
}

/// The jobs, under the table's lock; ended jobs older than the table keeps are gone.
pub struct Jobs<'a, K, R>(MutexGuard<'a, HashMap<K, Entry<R>>>);

impl<K: Eq + Hash, R: JobRecord> Jobs<'_, K, R> {
    pub fn get(&self, key: &K) -> Option<&Entry<R>> {
        self.0.get(key)
    }

    /// The running job under `key`, if any.
    pub fn running(&self, key: &K) -> Option<&Entry<R>> {
        self.0.get(key).filter(|e| e.record.running())
    }

    pub fn any_running(&self) -> bool {
        self.0.values().any(|e| e.record.running())
    }

    /// How many of `owner`'s jobs run.
    pub fn running_of(&self, owner: &str) -> usize {
        self.0
            .values()
            .filter(|e| e.owner == owner && e.record.running())
            .count()
    }

    /// Enters a job (replacing an ended one under the same key).
    pub fn insert(&mut self, key: K, owner: &str, record: R) {
        let entry = Entry {
            owner: owner.to_string(),
            record,
            finished: None,
        };
        self.0.insert(key, entry);
    }

    pub fn remove(&mut self, key: &K) {
        self.0.remove(key);
    }
}

impl<K: Eq + Hash + Clone + Send + 'static, R: JobRecord> JobTable<K, R> {
    /// A table keeping ended jobs for `keep_for`.
    pub fn new(keep_for: Duration) -> Self {
        Self {
            jobs: Arc::default(),
            keep_for,
        }
    }

    /// The jobs, under the lock (held until the returned value is dropped).
    pub fn lock(&self) -> Jobs<'_, K, R> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.retain(|_, e| e.finished.is_none_or(|at| at.elapsed() < self.keep_for));
        Jobs(jobs)
    }

    /// The job's record as it stands, if it is kept and (`owner`) is theirs.
    pub fn get(&self, key: &K, owner: Option<&str>) -> Option<R> {
        self.lock()
            .get(key)
            .filter(|e| owner.is_none_or(|o| e.owner == o))
            .map(|e| e.record.clone())
    }

    /// Changes a running job's record, and its copy on the host.
    pub fn update(&self, key: &K, keeper: Option<&RecordKeeper>, change: impl FnOnce(&mut R)) {
        if let Some(e) = self.lock().0.get_mut(key) {
            change(&mut e.record);
            if let Some(keeper) = keeper {
                keeper.update(&e.record);
            }
        }
    }

    /// Ends a job with its last change; its record is kept for the table's time.
    pub fn finish(&self, key: &K, keeper: Option<&RecordKeeper>, change: impl FnOnce(&mut R)) {
        if let Some(e) = self.lock().0.get_mut(key) {
            change(&mut e.record);
            e.finished = Some(Instant::now());
            if let Some(keeper) = keeper {
                keeper.finish(&e.record);
            }
        }
    }

    /// Runs `work` for the job under `key` in the background. Should it panic, the job ends
    /// as crashed (`on_crash` is told, for metrics and logs) rather than stay running.
    pub fn spawn(
        &self,
        key: K,
        keeper: Option<Arc<RecordKeeper>>,
        work: impl Future<Output = ()> + Send + 'static,
        on_crash: impl FnOnce(&R) + Send + 'static,
    ) {
        let table = self.clone();
        let task = tokio::spawn(work);
        tokio::spawn(async move {
            if let Err(crash) = task.await {
                tracing::error!(%crash, "a background job stopped on an internal error");
                table.finish(&key, keeper.as_deref(), |record| {
                    record.crash();
                    on_crash(record);
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize)]
    enum State {
        Running(u32),
        Done,
        Crashed,
    }

    impl JobRecord for State {
        fn running(&self) -> bool {
            matches!(self, Self::Running(_))
        }
        fn crash(&mut self) {
            *self = Self::Crashed;
        }
    }

    #[tokio::test]
    async fn a_job_that_panics_ends_as_crashed_and_no_longer_counts_as_running() {
        let table: JobTable<&str, State> = JobTable::new(Duration::from_secs(60));
        table.lock().insert("a", "alice", State::Running(0));
        assert_eq!(table.lock().running_of("alice"), 1);
        let (told, seen) = tokio::sync::oneshot::channel();
        table.spawn("a", None, async { panic!("a bug") }, move |r| {
            drop(told.send(r.clone()))
        });
        assert_eq!(seen.await.unwrap(), State::Crashed);
        assert_eq!(table.get(&"a", Some("alice")), Some(State::Crashed));
        assert_eq!(table.lock().running_of("alice"), 0);
    }

    #[tokio::test]
    async fn ended_jobs_are_kept_for_the_tables_time_and_only_shown_to_their_owner() {
        let table: JobTable<&str, State> = JobTable::new(Duration::from_millis(50));
        table.lock().insert("a", "alice", State::Running(0));
        table.update(&"a", None, |r| *r = State::Running(1));
        assert_eq!(table.get(&"a", Some("bob")), None);
        assert_eq!(table.get(&"a", None), Some(State::Running(1)));
        table.finish(&"a", None, |r| *r = State::Done);
        assert_eq!(table.get(&"a", Some("alice")), Some(State::Done));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(
            table.get(&"a", Some("alice")),
            None,
            "kept only for a while"
        );
    }

    #[test]
    fn a_running_job_is_never_dropped_however_old() {
        let table: JobTable<&str, State> = JobTable::new(Duration::ZERO);
        table.lock().insert("a", "alice", State::Running(0));
        assert!(table.lock().any_running());
        assert!(table.lock().running(&"a").is_some());
    }
}
