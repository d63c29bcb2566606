//! KubeSphere 3.4 as ks-installer leaves it on a cluster: namespaces, `kubesphere-config`,
//! the `ks-installer` ClusterConfiguration, the ks-apiserver Service, the KubeSphere and kubefed
//! CRDs, the built-in roles and, on a host, the `admin` user.

pub(crate) mod cluster_controller;
pub(crate) mod crd_schemas;
pub mod crds;
pub(crate) mod platform_role;
pub mod proxy;
pub mod roles;

use serde_json::{Value, json};

use crate::db::Db;
use crate::errors::ApiError;

/// The KubeSphere version the sandbox installs.
pub const KUBESPHERE_VERSION: &str = "v3.4.1";

/// `multicluster.clusterRole` in `kubesphere-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterRole {
    Host,
    Member,
    None,
}

impl ClusterRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Member => "member",
            Self::None => "none",
        }
    }
}

/// What to install on a sandbox cluster.
#[derive(Debug, Clone)]
pub struct KubeSphereInstall {
    pub role: ClusterRole,
    /// `authentication.jwtSecret`; members must share their hosts'.
    pub jwt_secret: String,
    /// The `admin` user's password, on hosts and single clusters. Stored as a bcrypt hash
    /// (cost 10), as KubeSphere's user controller stores it.
    pub admin_password: Option<String>,
}

impl KubeSphereInstall {
    /// `kubesphere.yaml`, as ks-installer's `kubesphere-config.yaml.j2` renders it.
    pub fn config_yaml(&self) -> String {
        // Members verify tokens their host issued: no token cache, so no max age (see
        // docs/KUBESPHERE.md 2.6).
        let max_age = if self.role == ClusterRole::Member {
            "0s"
        } else {
            "2h0m0s"
        };
        format!(
            "authentication:\n  authenticateRateLimiterMaxTries: 10\n  authenticateRateLimiterDuration: 10m0s\n  loginHistoryRetentionPeriod: 168h\n  maximumClockSkew: 10s\n  multipleLogin: true\n  jwtSecret: \"{secret}\"\n  oauthOptions:\n    accessTokenMaxAge: {max_age}\n    accessTokenInactivityTimeout: 30m\n    clients:\n    - name: kubesphere\n      secret: kubesphere\n      redirectURIs:\n      - '*'\nmulticluster:\n  clusterRole: {role}\n",
            secret = self.jwt_secret,
            role = self.role.as_str(),
        )
    }

    /// Every object to create, in dependency order (CRDs and namespaces first).
    pub fn objects(&self) -> Result<Vec<Value>, ApiError> {
        let mut objects: Vec<Value> = crds::KUBESPHERE
            .iter()
            .chain(crds::KUBEFED)
            .map(crds::CrdSpec::to_object)
            .collect();
        for ns in [
            "kubesphere-system",
            "kubesphere-controls-system",
            "kube-federation-system",
        ] {
            objects.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubesphere.io/workspace": "system-workspace"}}}));
        }
        objects.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
            "data": {"kubesphere.yaml": self.config_yaml()}
        }));
        objects.push(json!({
            "apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
            "metadata": {"name": "ks-installer", "namespace": "kubesphere-system", "labels": {"version": KUBESPHERE_VERSION}},
            "spec": {
                "multicluster": {"clusterRole": self.role.as_str()},
                "authentication": {"jwtSecret": ""},
                "local_registry": "",
                "persistence": {"storageClass": ""},
            },
            "status": {"core": {"status": "enabled", "version": KUBESPHERE_VERSION}, "clusterId": ""}
        }));
        objects.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "ks-apiserver", "namespace": "kubesphere-system", "labels": {"app": "ks-apiserver", "tier": "backend"}},
            "spec": {"type": "ClusterIP", "selector": {"app": "ks-apiserver", "tier": "backend"}, "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 9090}]}
        }));
        if self.role != ClusterRole::Member {
            for kind in crds::FEDERATED_TARGETS.iter().map(|t| t.0) {
                objects.extend(crds::federated_type_config(kind));
            }
        }
        objects.extend(roles::builtin_roles());
        if let Some(password) = &self.admin_password
            && self.role != ClusterRole::Member
        {
            let hash = bcrypt::hash(password, 10)
                .map_err(|e| ApiError::internal(format!("bcrypt: {e}")))?;
            objects.push(json!({
                "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
                "metadata": {
                    "name": "admin",
                    "labels": {"kubefed.io/managed": "false"},
                    "annotations": {"iam.kubesphere.io/last-password-change-time": crate::meta::now_rfc3339()},
                    "finalizers": ["finalizers.kubesphere.io/users"],
                },
                "spec": {"email": "admin@kubesphere.io", "password": hash, "lang": "en"},
            }));
            objects.push(json!({
                "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
                "metadata": {"name": "admin", "labels": {"iam.kubesphere.io/user-ref": "admin", "kubefed.io/managed": "false"}},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "admin"}],
                "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-admin"},
            }));
        }
        Ok(objects)
    }
}

/// Creates every object of `install` that is not there yet; a second run changes nothing.
pub(crate) fn install(db: &mut Db, install: &KubeSphereInstall) -> Result<(), ApiError> {
    for mut object in install.objects()? {
        // KubeSphere's user controller marks a user with a password Active.
        if object["kind"] == "User" {
            object["status"] = json!({"state": "Active"});
        }
        let status = object.get("status").cloned();
        let (stored, created) = db.ensure(object)?;
        let (kind, version) = db.kind_of(&stored)?;
        // Where the CRD has a status subresource, a create drops the status: the controllers
        // write it there. Without one (User, Cluster in v3.4.1) the create kept it.
        if created
            && kind.status_subresource
            && let Some(status) = status
        {
            let name = crate::meta::str_field(&stored, "name")
                .unwrap_or_default()
                .to_string();
            let ns = stored
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(String::from);
            let body = json!({"metadata": {"name": name}, "status": status});
            db.update(&kind, &version, ns.as_deref(), &name, body, true, false)?;
        }
    }
    Ok(())
}
