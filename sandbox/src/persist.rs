//! Durable state of a sandbox cluster: a snapshot plus a write-ahead log of every change.
//!
//! A write is appended and flushed to disk (`fdatasync`) before the API answers, so an
//! acknowledged write survives a crash or `kill -9`. A torn last line (the process died while
//! writing it) was never acknowledged and is dropped on replay.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::ObjectKey;

/// One logged change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Record {
    Put {
        rv: u64,
        key: ObjectKey,
        object: Value,
    },
    Delete {
        rv: u64,
        key: ObjectKey,
    },
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    rv: u64,
    objects: Vec<(ObjectKey, Value)>,
}

pub struct Wal {
    dir: PathBuf,
    log: Box<dyn LogDisk>,
    records_since_snapshot: usize,
}

/// What the log needs of its file. A trait so that a test can stand in for the disk and cut
/// the power: only what was synced survives (`tests::PowerCut`).
trait LogDisk: Send {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Waits until what was written is on disk.
    fn sync(&mut self) -> std::io::Result<()>;
    fn truncate(&mut self) -> std::io::Result<()>;
}

impl LogDisk for File {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_data()
    }

    fn truncate(&mut self) -> std::io::Result<()> {
        self.set_len(0)
    }
}

/// What was on disk: the last resourceVersion and every live object.
pub struct Recovered {
    pub rv: u64,
    pub objects: Vec<(ObjectKey, Value)>,
}

const SNAPSHOT: &str = "snapshot.json";
const LOG: &str = "wal.jsonl";

impl Wal {
    /// Opens (or creates) the state in `dir` and returns what it holds.
    pub fn open(dir: &Path) -> Result<(Self, Recovered), String> {
        Self::open_on(dir, |file| Box::new(file))
    }

    /// [`open`](Self::open), with the log file behind `disk`.
    fn open_on(
        dir: &Path,
        disk: impl FnOnce(File) -> Box<dyn LogDisk>,
    ) -> Result<(Self, Recovered), String> {
        let err =
            |what: &str, path: &Path, e: std::io::Error| format!("{what} {}: {e}", path.display());
        std::fs::create_dir_all(dir).map_err(|e| err("cannot create", dir, e))?;
        let mut objects = std::collections::BTreeMap::new();
        let mut rv = 0;

        let snapshot_path = dir.join(SNAPSHOT);
        if snapshot_path.exists() {
            let text = std::fs::read_to_string(&snapshot_path)
                .map_err(|e| err("cannot read", &snapshot_path, e))?;
            let snapshot: Snapshot = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{} is damaged ({e}); restore it or remove the data directory",
                    snapshot_path.display()
                )
            })?;
            rv = snapshot.rv;
            objects.extend(snapshot.objects);
        }

        let log_path = dir.join(LOG);
        let mut records = 0;
        if log_path.exists() {
            let bytes = std::fs::read(&log_path).map_err(|e| err("cannot read", &log_path, e))?;
            // Every record is written with its newline in one call: only the last segment can
            // lack one, and only if the process died while writing it (never acknowledged).
            let mut good_len = 0;
            for line in bytes.split_inclusive(|b| *b == b'\n') {
                if !line.ends_with(b"\n") {
                    break;
                }
                let record: Record = serde_json::from_slice(line).map_err(|e| {
                    format!(
                        "{} is damaged after byte {good_len} ({e}); restore it or remove the data directory",
                        log_path.display()
                    )
                })?;
                good_len += line.len();
                records += 1;
                match record {
                    Record::Put { rv: r, key, object } => {
                        rv = rv.max(r);
                        objects.insert(key, object);
                    }
                    Record::Delete { rv: r, key } => {
                        rv = rv.max(r);
                        objects.remove(&key);
                    }
                }
            }
            if good_len < bytes.len() {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&log_path)
                    .map_err(|e| err("cannot open", &log_path, e))?;
                file.set_len(good_len as u64)
                    .map_err(|e| err("cannot truncate", &log_path, e))?;
            }
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| err("cannot open", &log_path, e))?;
        Ok((
            Self {
                dir: dir.to_path_buf(),
                log: disk(log),
                records_since_snapshot: records,
            },
            Recovered {
                rv,
                objects: objects.into_iter().collect(),
            },
        ))
    }

    /// Appends one change and waits until it is on disk.
    pub fn append(&mut self, record: &Record) -> Result<(), String> {
        let mut line = serde_json::to_vec(record).map_err(|e| e.to_string())?;
        line.push(b'\n');
        self.log
            .append(&line)
            .and_then(|_| self.log.sync())
            .map_err(|e| format!("cannot write {}: {e}", self.dir.join(LOG).display()))?;
        self.records_since_snapshot += 1;
        Ok(())
    }

    /// True when the log has grown well past the live state and should be folded in.
    pub fn wants_compaction(&self, live_objects: usize) -> bool {
        self.records_since_snapshot > 10_000 && self.records_since_snapshot > 2 * live_objects
    }

    /// Replaces snapshot + log by a new snapshot of `objects` at `rv`, atomically: a crash at
    /// any point leaves either the old pair or the new snapshot with an empty log.
    pub fn compact<'a>(
        &mut self,
        rv: u64,
        objects: impl Iterator<Item = (&'a ObjectKey, &'a Value)>,
    ) -> Result<(), String> {
        let snapshot = Snapshot {
            rv,
            objects: objects.map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        let tmp = self.dir.join("snapshot.json.tmp");
        let fail = |e: std::io::Error| format!("cannot compact {}: {e}", self.dir.display());
        let bytes = serde_json::to_vec(&snapshot).map_err(|e| e.to_string())?;
        let mut file = File::create(&tmp).map_err(fail)?;
        file.write_all(&bytes)
            .and_then(|_| file.sync_all())
            .map_err(fail)?;
        std::fs::rename(&tmp, self.dir.join(SNAPSHOT)).map_err(fail)?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(fail)?;
        self.log
            .truncate()
            .and_then(|_| self.log.sync())
            .map_err(fail)?;
        self.records_since_snapshot = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new("", "configmaps", "default", name)
    }

    #[test]
    fn replays_puts_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, recovered) = Wal::open(dir.path()).unwrap();
            assert!(recovered.objects.is_empty());
            wal.append(&Record::Put {
                rv: 1,
                key: key("a"),
                object: json!({"a": 1}),
            })
            .unwrap();
            wal.append(&Record::Put {
                rv: 2,
                key: key("b"),
                object: json!({"b": 1}),
            })
            .unwrap();
            wal.append(&Record::Delete {
                rv: 3,
                key: key("a"),
            })
            .unwrap();
        }
        let (_, recovered) = Wal::open(dir.path()).unwrap();
        assert_eq!(recovered.rv, 3);
        assert_eq!(recovered.objects, vec![(key("b"), json!({"b": 1}))]);
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_the_log_stays_usable() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, _) = Wal::open(dir.path()).unwrap();
            wal.append(&Record::Put {
                rv: 1,
                key: key("a"),
                object: json!({}),
            })
            .unwrap();
        }
        let mut log = OpenOptions::new()
            .append(true)
            .open(dir.path().join(LOG))
            .unwrap();
        log.write_all(br#"{"Put":{"rv":2,"key":"#).unwrap();
        drop(log);
        {
            let (mut wal, recovered) = Wal::open(dir.path()).unwrap();
            assert_eq!(recovered.rv, 1);
            wal.append(&Record::Put {
                rv: 2,
                key: key("c"),
                object: json!({}),
            })
            .unwrap();
        }
        let (_, recovered) = Wal::open(dir.path()).unwrap();
        assert_eq!(recovered.objects.len(), 2);
    }

    #[test]
    fn damage_in_the_middle_is_reported_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LOG),
            "garbage\n{\"Delete\":{\"rv\":2,\"key\":{\"group\":\"\",\"plural\":\"x\",\"namespace\":\"\",\"name\":\"y\"}}}\n",
        )
        .unwrap();
        assert!(Wal::open(dir.path()).err().unwrap().contains("damaged"));
    }

    /// The disk as a power cut leaves it: what was written but not yet synced is lost.
    struct PowerCut {
        file: File,
        written: u64,
        synced: std::sync::Arc<std::sync::atomic::AtomicU64>,
    }

    impl LogDisk for PowerCut {
        fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            self.written += bytes.len() as u64;
            Write::write_all(&mut self.file, bytes)
        }

        fn sync(&mut self) -> std::io::Result<()> {
            // Only a sync makes the bytes durable; the model keeps the file's own sync too.
            self.file.sync_data()?;
            self.synced
                .store(self.written, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }

        fn truncate(&mut self) -> std::io::Result<()> {
            self.written = 0;
            self.file.set_len(0)
        }
    }

    #[test]
    fn every_acknowledged_write_survives_a_power_cut() {
        let dir = tempfile::tempdir().unwrap();
        let synced = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let disk = {
            let synced = synced.clone();
            move |file: File| -> Box<dyn LogDisk> {
                Box::new(PowerCut {
                    file,
                    written: 0,
                    synced,
                })
            }
        };
        let (mut wal, _) = Wal::open_on(dir.path(), disk).unwrap();
        for rv in 1..=20 {
            let put = Record::Put {
                rv,
                key: key(&format!("o{rv}")),
                object: json!({"rv": rv}),
            };
            wal.append(&put).expect("acknowledged");
        }
        drop(wal);
        // The power goes: the log keeps only what reached the disk.
        let durable = synced.load(std::sync::atomic::Ordering::SeqCst);
        OpenOptions::new()
            .write(true)
            .open(dir.path().join(LOG))
            .and_then(|f| f.set_len(durable))
            .unwrap();
        let (_, recovered) = Wal::open(dir.path()).unwrap();
        assert_eq!(recovered.rv, 20, "an acknowledged write was not on disk");
        assert_eq!(recovered.objects.len(), 20);
    }

    #[test]
    fn compaction_keeps_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path()).unwrap();
        wal.append(&Record::Put {
            rv: 5,
            key: key("a"),
            object: json!({"x": 1}),
        })
        .unwrap();
        let live = [(key("a"), json!({"x": 1}))];
        wal.compact(5, live.iter().map(|(k, v)| (k, v))).unwrap();
        wal.append(&Record::Put {
            rv: 6,
            key: key("b"),
            object: json!({}),
        })
        .unwrap();
        drop(wal);
        let (_, recovered) = Wal::open(dir.path()).unwrap();
        assert_eq!(recovered.rv, 6);
        assert_eq!(recovered.objects.len(), 2);
    }
}
