//! What Prometheus reads of a sync group (`/metrics`), from the shared record at scrape time:
//! whether sync is on, replication lag, pending changes, conflicts logged and copies written
//! per host. Every replica reports the record it last read, so any of them can be scraped.

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::record::SyncRecord;
use crate::metrics::HostLabels;

#[derive(Default)]
pub struct SyncGauges {
    enabled: Gauge,
    lag_p50: Gauge<f64, std::sync::atomic::AtomicU64>,
    lag_p99: Gauge<f64, std::sync::atomic::AtomicU64>,
    pending: Gauge,
    conflicts: Gauge,
    written: Family<HostLabels, Gauge>,
}

impl SyncGauges {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tandem_sync_enabled",
            "Two-way sync is on (1) or only planning (0)",
            self.enabled.clone(),
        );
        registry.register(
            "tandem_sync_lag_p50_seconds",
            "Median time from a change seen by the sync watches to the change written on the other hosts",
            self.lag_p50.clone(),
        );
        registry.register(
            "tandem_sync_lag_p99_seconds",
            "99th percentile of the same replication lag",
            self.lag_p99.clone(),
        );
        registry.register(
            "tandem_sync_pending_changes",
            "Changes seen by the sync watches that no round has settled yet",
            self.pending.clone(),
        );
        registry.register(
            "tandem_sync_conflicts_logged",
            "Entries in the sync conflict log (the newest 300 are kept)",
            self.conflicts.clone(),
        );
        registry.register(
            "tandem_sync_copies_written",
            "Copies the sync engine created, replaced or deleted on each host since its record began",
            self.written.clone(),
        );
    }

    pub fn observe(&self, record: &SyncRecord) {
        self.enabled.set(i64::from(record.enabled));
        self.lag_p50.set(record.lag.p50_ms as f64 / 1000.0);
        self.lag_p99.set(record.lag.p99_ms as f64 / 1000.0);
        self.pending.set(record.pending as i64);
        self.conflicts.set(record.conflicts.len() as i64);
        self.written.clear();
        for (host, n) in &record.writes_per_host {
            self.written
                .get_or_create(&HostLabels { host: host.clone() })
                .set(*n as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_reads_as_gauges() {
        let gauges = SyncGauges::default();
        let mut registry = Registry::default();
        gauges.register(&mut registry);
        let mut record = SyncRecord {
            enabled: true,
            pending: 3,
            ..Default::default()
        };
        record.lag.p99_ms = 1500;
        record.writes_per_host.insert("host2".into(), 5);
        gauges.observe(&record);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            "tandem_sync_enabled 1",
            "tandem_sync_lag_p99_seconds 1.5",
            "tandem_sync_pending_changes 3",
            "tandem_sync_copies_written{host=\"host2\"} 5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
    }
}
