//! What the console keeps in the fleet itself rather than on its own disk (the audit log of
//! repairs, ended sessions): one text value in a `ConfigMap` of the host, so it survives
//! restarts and every console replica sees it. Writes are read-modify-replace, retried when
//! another writer got there first.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ObjectMeta};

/// Where KubeSphere keeps its own settings; Tandem's records sit beside them.
pub const KEPT_NAMESPACE: &str = "kubesphere-system";
/// Attempts before a write that keeps conflicting gives up.
const ATTEMPTS: usize = 5;

/// The text under `key` of ConfigMap `name` ("" when either is missing).
pub async fn read(client: &Client, name: &str, key: &str) -> Result<String, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), KEPT_NAMESPACE);
    Ok(api
        .get_opt(name)
        .await?
        .and_then(|m| m.data)
        .and_then(|mut d| d.remove(key))
        .unwrap_or_default())
}

/// Every key of ConfigMap `name` with its text (none when it does not exist).
pub async fn read_all(
    client: &Client,
    name: &str,
) -> Result<BTreeMap<String, String>, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), KEPT_NAMESPACE);
    Ok(api
        .get_opt(name)
        .await?
        .and_then(|m| m.data)
        .unwrap_or_default())
}

/// Replaces the text under `key` of ConfigMap `name` with `change(current text)`, creating
/// the ConfigMap when it does not exist yet.
pub async fn update(
    client: &Client,
    name: &str,
    key: &str,
    change: impl Fn(&str) -> String,
) -> Result<(), kube::Error> {
    edit(client, name, key, |old| {
        Some(change(old.unwrap_or_default()))
    })
    .await
}

/// Removes `key` from ConfigMap `name`, if it is there.
pub async fn remove_key(client: &Client, name: &str, key: &str) -> Result<(), kube::Error> {
    edit(client, name, key, |_| None).await
}

/// Sets `key` to `change(current text)`, or removes it when that is `None`.
async fn edit(
    client: &Client,
    name: &str,
    key: &str,
    change: impl Fn(Option<&str>) -> Option<String>,
) -> Result<(), kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), KEPT_NAMESPACE);
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let result = match api.get_opt(name).await? {
            None => {
                let Some(text) = change(None) else {
                    return Ok(());
                };
                let map = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(name.into()),
                        labels: Some(BTreeMap::from([(
                            "app.kubernetes.io/managed-by".to_string(),
                            "tandem".to_string(),
                        )])),
                        ..Default::default()
                    },
                    data: Some(BTreeMap::from([(key.to_string(), text)])),
                    ..Default::default()
                };
                api.create(&crate::writes::post_params(), &map)
                    .await
                    .map(drop)
            }
            Some(mut map) => {
                let data = map.data.get_or_insert_with(BTreeMap::new);
                match change(data.get(key).map(String::as_str)) {
                    Some(text) => {
                        data.insert(key.into(), text);
                    }
                    None if data.remove(key).is_none() => return Ok(()),
                    None => {}
                }
                api.replace(name, &crate::writes::post_params(), &map)
                    .await
                    .map(drop)
            }
        };
        match result {
            Ok(()) => return Ok(()),
            // 409: another writer replaced it (or created it) first; read it again.
            Err(kube::Error::Api(status)) if status.code == 409 => last_error = Some(status),
            Err(other) => return Err(other),
        }
    }
    Err(kube::Error::Api(
        last_error.expect("a conflict was recorded"),
    ))
}
