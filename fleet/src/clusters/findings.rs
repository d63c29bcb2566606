//! What a check step found, as data rather than prose: the console words each finding, and
//! what to do about it, in the reader's language (the app's `messages::clusters`), and the
//! command line in English from the same words. Values the person must recognise (names,
//! addresses, versions, UIDs) ride along; nothing here is a secret.

use serde::{Deserialize, Serialize};

use super::AddressRefusal;
use crate::clusters::kubeconfig::{Credentials, KubeconfigNote, KubeconfigProblem};
use crate::health::ProbeFailure;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Finding {
    // Kubeconfig
    /// The kubeconfig can be used; its notes say what it holds that the console ignores.
    KubeconfigUsable(KubeconfigSummary),
    KubeconfigUnusable(KubeconfigProblem),
    /// The member address policy forbids the address (nothing was sent to it).
    AddressRefused(AddressRefusal),

    // Connection
    /// Something answered, and refused the credentials (the Permissions step says how).
    Answered {
        server: String,
    },
    Connected {
        kubernetes: String,
        server: String,
        millis: u64,
        /// `insecure-skip-tls-verify`: the certificate was not verified.
        insecure: bool,
    },
    /// The connection failed (or, on the Permissions step, the credentials were refused).
    NotConnected {
        failure: ProbeFailure,
        server: String,
    },

    // Permissions
    MayJoin {
        user: String,
    },
    MayNotJoin {
        user: String,
        missing: Vec<JoinRight>,
    },
    /// An update: the new credentials answer; the join's own account stays.
    CredentialsAccepted,

    /// A read that the step needs failed.
    CannotRead {
        what: ReadTarget,
        failure: ProbeFailure,
    },

    // Not already on this host
    BadName {
        name: String,
    },
    NewToHost {
        host: String,
        uid: String,
    },
    /// Joined to this host under the same name: joining again repairs it.
    JoinedHereAlready {
        host: String,
    },
    /// Joined to this host under another name.
    JoinedAs {
        host: String,
        name: String,
        uid: String,
    },
    NameTaken {
        host: String,
        name: String,
    },
    /// An update reaches the cluster that was joined as `name`.
    SameCluster {
        name: String,
        uid: String,
    },
    /// An update reaches another cluster than `name`.
    OtherCluster {
        name: String,
        uid: String,
    },

    // KubeSphere member
    NoKubeSphere,
    NoKubeSphereConfig {
        version: String,
    },
    KubeSphereMember {
        version: String,
        kubernetes: String,
    },
    NotMember {
        version: String,
        role: String,
    },

    // Other hosts
    NoOtherHost,
    /// No other host, and this host's own unfinished join will be completed.
    ResumingJoin {
        host: String,
    },
    Managed {
        by: Managers,
        how: ManagedHow,
    },

    // jwtSecret
    JwtSame {
        host: String,
    },
    JwtDiffers {
        host: String,
    },
    JwtMissing {
        host: String,
    },
    HostWithoutKubeSphere {
        host: String,
    },

    // Certificate expiry (dates as YYYY-MM-DD)
    NoClientCertificate,
    CertificateValid {
        until: String,
    },
    CertificateExpiresSoon {
        days: u64,
        until: String,
    },
    CertificateExpired {
        on: String,
    },
    CertificateUnreadable {
        why: String,
    },

    // Workspaces
    NoWorkspaceConflict,
    WorkspaceConflicts {
        workspaces: Vec<String>,
        host: String,
        cluster: String,
    },

    /// Not run, and why.
    Skipped(SkipReason),
}

/// A usable kubeconfig's context, as the wizard repeats it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeconfigSummary {
    pub context: String,
    pub cluster: String,
    pub server: String,
    pub user: String,
    pub credentials: Credentials,
    pub notes: Vec<KubeconfigNote>,
}

/// What a join needs the member's identity to be allowed (`permissions::JOIN_RIGHTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JoinRight {
    CreateNamespaces,
    CreateServiceAccounts,
    CreateSecrets,
    CreateClusterRoles,
    CreateClusterRoleBindings,
    /// kubefed gets full rights, and Kubernetes lets one grant only what one holds.
    Everything,
}

/// What a step had to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadTarget {
    /// The member's kube-system namespace (its identity).
    KubeSystem,
    /// The named host's `Cluster` objects.
    HostClusters(String),
    KubeSphereVersion,
    /// The member's configmap kubesphere-system/kubesphere-config.
    KubeSphereConfig,
    /// The named host's kubesphere-config.
    HostKubeSphereConfig(String),
    FederationNamespace,
    TokenSecrets,
    Workspaces,
}

/// Who else manages the member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Managers {
    /// Hosts this console knows: (host, the name it joined the member as).
    KnownHosts(Vec<(String, String)>),
    /// Join names left on the member by hosts this console does not know.
    UnknownHosts(Vec<String>),
}

/// What the join does about another host that manages the member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ManagedHow {
    /// The person asked to join as a second host (active-active).
    SecondHost,
    /// It is already joined to this host (named) too.
    AlsoHere(String),
    /// Refused: one host per member unless asked (this host's name).
    OneHostOnly(String),
}

/// Why a step did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    NeedsAllowedAddress,
    NeedsKubeconfig,
    NeedsConnection,
    NeedsIdentity,
    NeedsKubeSphere,
    NotForUpdate,
}
