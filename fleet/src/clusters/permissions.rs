//! May the kubeconfig's identity create what a join creates? Asked with
//! `SelfSubjectAccessReview`s, as `kubectl auth can-i` does, before anything is written.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};

use super::objects::FEDERATION_NAMESPACE;

/// One thing the join needs to do on the member.
struct Needed {
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    namespace: Option<&'static str>,
    /// How the missing right reads in a message.
    what: &'static str,
}

const NEEDED: [Needed; 6] = [
    Needed {
        verb: "create",
        group: "",
        resource: "namespaces",
        namespace: None,
        what: "create namespaces",
    },
    Needed {
        verb: "create",
        group: "",
        resource: "serviceaccounts",
        namespace: Some(FEDERATION_NAMESPACE),
        what: "create service accounts in kube-federation-system",
    },
    Needed {
        verb: "create",
        group: "",
        resource: "secrets",
        namespace: Some(FEDERATION_NAMESPACE),
        what: "create secrets in kube-federation-system",
    },
    Needed {
        verb: "create",
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        namespace: None,
        what: "create ClusterRoles",
    },
    Needed {
        verb: "create",
        group: "rbac.authorization.k8s.io",
        resource: "clusterrolebindings",
        namespace: None,
        what: "create ClusterRoleBindings",
    },
    // Kubernetes only lets an identity grant rights it holds itself, and the join grants all.
    Needed {
        verb: "*",
        group: "*",
        resource: "*",
        namespace: None,
        what: "do everything (the join grants kubefed full rights, and Kubernetes only lets you grant what you hold)",
    },
];

/// The rights the identity lacks, in words; empty when it may join.
pub async fn missing_join_rights(member: &Client) -> Result<Vec<&'static str>, kube::Error> {
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
