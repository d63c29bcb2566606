//! Sessions ended by logging out (or by a password change), kept in the fleet: a ConfigMap
//! `tandem-ended-sessions` in `kubesphere-system` on the session's host. A restarted console,
//! or another replica, still refuses them until they would have expired anyway. Each entry
//! is a token's SHA-256 (which cannot be turned back into the token) and its expiry.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};

use super::token;
use crate::kept_data::{self, KEPT_NAMESPACE};

pub const ENDED_SESSIONS_CONFIGMAP: &str = "tandem-ended-sessions";
const KEY: &str = "sessions";
/// Entries kept per host (76 bytes each: well inside a ConfigMap's 1 MiB); the ones that
/// expire first are dropped first.
const KEEP: usize = 10_000;
/// How long a request waits for a host's list before trusting what this console knows.
const FIRST_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// A token's SHA-256.
pub type TokenPrint = [u8; 32];

pub fn print(token: &str) -> TokenPrint {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// Every host's ended sessions, as this console knows them.
#[derive(Clone, Default)]
pub struct EndedSessions {
    /// Token print → expiry (Unix seconds).
    ended: Arc<Mutex<HashMap<TokenPrint, u64>>>,
    /// Hosts whose list was read at least once.
    read: Arc<Mutex<HashSet<String>>>,
}

impl EndedSessions {
    pub fn contains(&self, print: &TokenPrint) -> bool {
        self.ended
            .lock()
            .map(|e| e.contains_key(print))
            .unwrap_or(true)
    }

    fn merge(&self, entries: impl IntoIterator<Item = (TokenPrint, u64)>) {
        let now = token::unix(SystemTime::now());
        if let Ok(mut ended) = self.ended.lock() {
            ended.retain(|_, exp| *exp > now);
            ended.extend(entries.into_iter().filter(|(_, exp)| *exp > now));
        }
    }

    fn mark_read(&self, host: &str) {
        if let Ok(mut read) = self.read.lock() {
            read.insert(host.to_string());
        }
    }

    /// Makes sure `host`'s list was read once (the watch normally has by the first request).
    pub async fn read_once(&self, host: &str, client: &Client) {
        if self.read.lock().is_ok_and(|r| r.contains(host)) {
            return;
        }
        match tokio::time::timeout(FIRST_READ_TIMEOUT, load(client)).await {
            Ok(Ok(entries)) => self.merge(entries),
            Ok(Err(error)) => {
                tracing::warn!(%host, %error, "ended sessions not readable; only this console's logouts count")
            }
            Err(_) => tracing::warn!(%host, "ended sessions not read in time"),
        }
        self.mark_read(host);
    }

    /// Ends a session: refused here at once, and on `host` for every console once written.
    pub async fn end(
        &self,
        host: &str,
        client: Option<&Client>,
        print: TokenPrint,
        expires_at: SystemTime,
    ) -> Result<(), kube::Error> {
        let exp = token::unix(expires_at);
        self.merge([(print, exp)]);
        let Some(client) = client else {
            return Ok(());
        };
        let now = token::unix(SystemTime::now());
        kept_data::update(client, ENDED_SESSIONS_CONFIGMAP, KEY, |old| {
            let mut entries: HashMap<TokenPrint, u64> = parse(old)
                .into_iter()
                .filter(|(_, e)| *e > now)
                .collect();
            entries.insert(print, exp);
            render(entries)
        })
        .await
        .inspect_err(|error| {
            tracing::warn!(%host, %error, "the ended session is refused by this console only")
        })
    }

    /// Follows `host`'s list for as long as the future runs.
    pub async fn follow(self, host: String, client: Client) {
        let api: Api<ConfigMap> = Api::namespaced(client, KEPT_NAMESPACE);
        let config =
            watcher::Config::default().fields(&format!("metadata.name={ENDED_SESSIONS_CONFIGMAP}"));
        let mut events = watcher::watcher(api, config).default_backoff().boxed();
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Apply(map) | watcher::Event::InitApply(map)) => {
                    let text = map.data.and_then(|mut d| d.remove(KEY)).unwrap_or_default();
                    self.merge(parse(&text));
                }
                Ok(watcher::Event::InitDone) => self.mark_read(&host),
                _ => {}
            }
        }
    }
}

async fn load(client: &Client) -> Result<Vec<(TokenPrint, u64)>, kube::Error> {
    Ok(parse(
        &kept_data::read(client, ENDED_SESSIONS_CONFIGMAP, KEY).await?,
    ))
}

/// One entry a line: the print in hex, a space, the expiry. Unreadable lines are skipped.
fn parse(text: &str) -> Vec<(TokenPrint, u64)> {
    text.lines()
        .filter_map(|line| {
            let (hex, exp) = line.split_once(' ')?;
            let mut print = [0u8; 32];
            if hex.len() != 64 {
                return None;
            }
            for (i, byte) in print.iter_mut().enumerate() {
                *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            Some((print, exp.trim().parse().ok()?))
        })
        .collect()
}

fn render(entries: HashMap<TokenPrint, u64>) -> String {
    let mut entries: Vec<(TokenPrint, u64)> = entries.into_iter().collect();
    // The latest-expiring are kept when there are too many; stable order for readers.
    entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    entries.truncate(KEEP);
    entries
        .iter()
        .map(|(print, exp)| {
            let hex: String = print.iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex} {exp}\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_round_trip_and_bad_lines_are_skipped() {
        let a = print("token-a");
        let b = print("token-b");
        let text = render(HashMap::from([(a, 100), (b, 200)]));
        assert_eq!(text.lines().count(), 2);
        let mut parsed = parse(&format!("{text}garbage\nzz 5\n{} x\n", "ab".repeat(32)));
        parsed.sort_by_key(|(_, exp)| *exp);
        assert_eq!(parsed, vec![(a, 100), (b, 200)]);
    }

    #[test]
    fn too_many_entries_drop_those_expiring_first() {
        let entries: HashMap<TokenPrint, u64> = (0..KEEP as u64 + 5)
            .map(|i| (print(&i.to_string()), 1_000 + i))
            .collect();
        let kept = parse(&render(entries));
        assert_eq!(kept.len(), KEEP);
        assert!(kept.iter().all(|(_, exp)| *exp >= 1_005));
    }
}
