//! The leader's federation view, published on the home host for the other replicas: they
//! show the same rows and topology without watching every host and member themselves.
//!
//! What is published is what pages list — states, fingerprints, times, the topology — never
//! a template (a `FederatedUser`'s carries a bcrypt hash); a follower reads templates from
//! the hosts when a page asks for one object's diff.
//!
//! The JSON is gzipped and cut into parts of at most [`PART_BYTES`], one ConfigMap each
//! (`tandem-federation-<digest>-<i>`), so a fleet of tens of thousands of objects stays under the
//! API server's 1 MiB per object. The head ConfigMap `tandem-federation` names the round, the
//! digest and the number of parts and is written last; every part carries the digest too,
//! so a reader that met a publication half written sees it (a [`Read::Torn`]) and reads
//! again later. A heartbeat rewrites the head only.

use std::collections::BTreeMap;
use std::io::Read as _;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams};
use serde::{Deserialize, Serialize};

use super::{HostLinks, ObjectRow};

pub const FEDERATION_CONFIGMAP: &str = "tandem-federation";
/// Largest gzipped part per ConfigMap (stored base64 in etcd: 4/3 of this, under 1 MiB).
pub const PART_BYTES: usize = 600 * 1024;
const MANAGER: &str = "tandem";
/// Longest wait for one call: a follower's read or the leader's write never hangs.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);

/// Rows and topology as one replica's watches saw them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FederationSnapshot {
    /// Sorted by key.
    pub rows: Vec<ObjectRow>,
    pub topology: Vec<HostLinks>,
}

impl FederationSnapshot {
    pub fn row(&self, key: &super::ObjectKey) -> Option<&ObjectRow> {
        self.rows
            .binary_search_by(|r| r.key.cmp(key))
            .ok()
            .map(|i| &self.rows[i])
    }

    /// The gzipped JSON the leader publishes.
    pub fn encode(&self) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec cannot fail; serialising these types cannot either.
        let _ = serde_json::to_writer(&mut gz, self);
        gz.finish().unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut json)
            .ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// Parts are named by the digest of what they hold: a leader never overwrites the parts
/// the head points to with other content, and deletes only parts of other digests.
fn part_name(digest: &str, index: usize) -> String {
    format!("{FEDERATION_CONFIGMAP}-{digest}-{index}")
}

/// Label of every part, for the clean-up.
const PART_LABEL: &str = "tandem.io/federation-part";

fn labelled(name: String, part: bool) -> ObjectMeta {
    let mut labels = BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "tandem".to_string(),
    )]);
    if part {
        labels.insert(PART_LABEL.into(), "true".into());
    }
    ObjectMeta {
        name: Some(name),
        labels: Some(labels),
        ..Default::default()
    }
}

async fn bounded<T>(call: impl Future<Output = Result<T, kube::Error>>) -> Result<T, kube::Error> {
    tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| {
            Err(kube::Error::Service(
                "the home host did not answer in time".into(),
            ))
        })
}

async fn apply(api: &Api<ConfigMap>, map: ConfigMap) -> Result<(), kube::Error> {
    let name = map.metadata.name.clone().unwrap_or_default();
    let mut value = serde_json::to_value(&map).map_err(kube::Error::SerdeError)?;
    value["apiVersion"] = "v1".into();
    value["kind"] = "ConfigMap".into();
    bounded(api.patch(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(value),
    ))
    .await
    .map(|_| ())
}

/// What the head ConfigMap says of the newest publication.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// Differs on every publication (heartbeats included), so a reader can tell a leader
    /// that stopped from one whose fleet did not change.
    pub round: u64,
    pub leader: String,
    /// Of the encoded snapshot: what every part carries, and what a reader compares.
    pub digest: String,
    pub parts: usize,
}

/// The digest of an encoded snapshot (16 hex digits of SHA-256).
pub fn digest(encoded: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(encoded)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `encoded` (from [`FederationSnapshot::encode`]) as parts named by its `digest`,
/// each while `still` holds (the writer still leads). Returns how many; the head is written
/// after, by [`write_head`].
pub async fn write_parts(
    client: &Client,
    namespace: &str,
    digest: &str,
    encoded: &[u8],
    still: impl Fn() -> bool,
) -> Result<usize, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let parts: Vec<&[u8]> = encoded.chunks(PART_BYTES).collect();
    for (index, part) in parts.iter().enumerate() {
        if !still() {
            return Err(kube::Error::Service("no longer the leader".into()));
        }
        apply(
            &api,
            ConfigMap {
                metadata: labelled(part_name(digest, index), true),
                data: Some(BTreeMap::from([("digest".into(), digest.to_string())])),
                binary_data: Some(BTreeMap::from([("part".into(), ByteString(part.to_vec()))])),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(parts.len())
}

pub async fn write_head(client: &Client, namespace: &str, head: &Head) -> Result<(), kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    apply(
        &api,
        ConfigMap {
            metadata: labelled(FEDERATION_CONFIGMAP.into(), false),
            data: Some(BTreeMap::from([
                ("round".into(), head.round.to_string()),
                ("leader".into(), head.leader.clone()),
                ("digest".into(), head.digest.clone()),
                ("parts".into(), head.parts.to_string()),
            ])),
            ..Default::default()
        },
    )
    .await
}

/// Deletes every part not of `digest` (earlier rounds', a stopped leader's), best effort.
pub async fn delete_other_parts(client: &Client, namespace: &str, digest: &str) {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let Ok(parts) = bounded(api.list(&ListParams::default().labels(PART_LABEL))).await else {
        return;
    };
    let keep = format!("{FEDERATION_CONFIGMAP}-{digest}-");
    for part in parts.items {
        if let Some(name) = part.metadata.name.filter(|n| !n.starts_with(&keep)) {
            let _ = bounded(api.delete(&name, &DeleteParams::default())).await;
        }
    }
}

/// What a follower found on the host.
#[derive(Debug)]
pub enum Read {
    /// Nothing published (yet), or by a version this one cannot read.
    Nothing,
    /// The round the reader already has.
    Unchanged,
    /// A new round of the snapshot the reader has (the leader's heartbeat).
    Same { round: u64 },
    /// Met while being written: read again on the next turn.
    Torn,
    New {
        head: Head,
        snapshot: FederationSnapshot,
    },
}

/// The newest publication, as far as the reader lacks it: `known` is the round and digest
/// it has.
pub async fn read(
    client: &Client,
    namespace: &str,
    known: Option<(u64, &str)>,
) -> Result<Read, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let Some(data) = bounded(api.get_opt(FEDERATION_CONFIGMAP))
        .await?
        .and_then(|m| m.data)
    else {
        return Ok(Read::Nothing);
    };
    let number = |key: &str| data.get(key).and_then(|v| v.parse::<u64>().ok());
    let (Some(round), Some(parts), Some(digest)) =
        (number("round"), number("parts"), data.get("digest"))
    else {
        return Ok(Read::Nothing);
    };
    match known {
        Some((r, _)) if r == round => return Ok(Read::Unchanged),
        Some((_, d)) if d == digest => return Ok(Read::Same { round }),
        _ => {}
    }
    let mut encoded = Vec::new();
    for index in 0..parts as usize {
        let Some(part) = bounded(api.get_opt(&part_name(digest, index))).await? else {
            return Ok(Read::Torn);
        };
        let same = part
            .data
            .as_ref()
            .and_then(|d| d.get("digest"))
            .is_some_and(|d| d == digest);
        match part.binary_data.and_then(|mut b| b.remove("part")) {
            Some(bytes) if same => encoded.extend_from_slice(&bytes.0),
            _ => return Ok(Read::Torn),
        }
    }
    if self::digest(&encoded) != *digest {
        return Ok(Read::Torn);
    }
    Ok(match FederationSnapshot::decode(&encoded) {
        Some(snapshot) => Read::New {
            head: Head {
                round,
                leader: data.get("leader").cloned().unwrap_or_default(),
                digest: digest.clone(),
                parts: parts as usize,
            },
            snapshot,
        },
        None => Read::Nothing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::{FederatedKind, FederatedState, HostCell, ObjectKey};

    fn row(name: &str) -> ObjectRow {
        ObjectRow {
            key: ObjectKey {
                kind: FederatedKind::ALL[0],
                name: name.into(),
            },
            state: FederatedState::Flapping {
                hosts: vec!["host".into(), "host2".into()],
            },
            hosts: vec![HostCell {
                host: "host".into(),
                fingerprint: Some(crate::federation::Fingerprint("0123456789ab".into())),
                deleting_since: None,
                changed_at: Some(std::time::SystemTime::UNIX_EPOCH),
                known: true,
            }],
            members: Vec::new(),
        }
    }

    #[test]
    fn a_snapshot_survives_encoding_and_is_found_by_key() {
        let mut rows: Vec<ObjectRow> = (0..500).map(|i| row(&format!("user-{i:04}"))).collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        let snapshot = FederationSnapshot {
            rows,
            topology: Vec::new(),
        };
        let encoded = snapshot.encode();
        assert!(
            encoded.len() < 500 * 100,
            "compressed: {} bytes",
            encoded.len()
        );
        let back = FederationSnapshot::decode(&encoded).unwrap();
        assert_eq!(back, snapshot);
        let key = ObjectKey {
            kind: FederatedKind::ALL[0],
            name: "user-0042".into(),
        };
        assert_eq!(back.row(&key).unwrap().key, key);
        assert!(FederationSnapshot::decode(&encoded[..encoded.len() / 2]).is_none());
    }
}
