//! May the kubeconfig's identity create what a join creates? Asked with
//! `SelfSubjectAccessReview`s, as `kubectl auth can-i` does, before anything is written.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};

use super::findings::JoinRight;
use super::objects::FEDERATION_NAMESPACE;

/// One thing the join needs to do on the member.
struct Needed {
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    namespace: Option<&'static str>,
    /// The right, as the console words it.
    what: JoinRight,
}

const NEEDED: [Needed; 6] = [
    Needed {
        verb: "create",
        group: "",
        resource: "namespaces",
        namespace: None,
        what: JoinRight::CreateNamespaces,
    },
    Needed {
        verb: "create",
        group: "",
        resource: "serviceaccounts",
        namespace: Some(FEDERATION_NAMESPACE),
        what: JoinRight::CreateServiceAccounts,
    },
    Needed {
        verb: "create",
        group: "",
        resource: "secrets",
        namespace: Some(FEDERATION_NAMESPACE),
        what: JoinRight::CreateSecrets,
    },
    Needed {
        verb: "create",
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        namespace: None,
        what: JoinRight::CreateClusterRoles,
    },
    Needed {
        verb: "create",
        group: "rbac.authorization.k8s.io",
        resource: "clusterrolebindings",
        namespace: None,
        what: JoinRight::CreateClusterRoleBindings,
    },
    // Kubernetes only lets an identity grant rights it holds itself, and the join grants all.
    Needed {
        verb: "*",
        group: "*",
        resource: "*",
        namespace: None,
        what: JoinRight::Everything,
    },
];

/// The rights the identity lacks; empty when it may join.
pub async fn missing_join_rights(member: &Client) -> Result<Vec<JoinRight>, kube::Error> {
    let reviews: Api<SelfSubjectAccessReview> = Api::all(member.clone());
    let mut missing = Vec::new();
    for need in &NEEDED {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(need.verb.into()),
                    group: Some(need.group.into()),
                    resource: Some(need.resource.into()),
                    namespace: need.namespace.map(String::from),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = reviews.create(&PostParams::default(), &review).await?;
        if !answer.status.is_some_and(|s| s.allowed) {
            missing.push(need.what);
        }
    }
    Ok(missing)
}
