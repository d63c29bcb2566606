//! One console replica does the fleet's background work (host probes, cluster history): the
//! holder of a `coordination.k8s.io` Lease on the first configured host, as Kubernetes' own
//! controllers elect theirs. The others follow what the leader publishes and take over when
//! it stops renewing.
//!
//! Expiry is judged the way client-go's leader election judges it: by how long *this*
//! replica has seen the same record unchanged, never by comparing the holder's `renewTime`
//! with the local clock, so clocks that disagree between machines do not elect two leaders.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Client;
use kube::api::{Api, ObjectMeta};
use tokio::sync::{oneshot, watch};

pub const LEASE_NAME: &str = "tandem-leader";
/// How long a holder that stopped renewing still counts as the leader.
pub const LEASE_DURATION: Duration = Duration::from_secs(10);
/// How often the leader renews.
const RENEW_EVERY: Duration = Duration::from_secs(2);
/// A leader that could not renew for this long stops acting, before anyone may take over
/// (the Lease is still its own for `LEASE_DURATION - RENEW_DEADLINE`).
const RENEW_DEADLINE: Duration = Duration::from_secs(7);
/// How often a follower looks at the Lease: a released Lease is taken within this.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// Longest wait for one look (read and write): a hung call must not keep a leader acting
/// past its deadline, whatever the client's own timeouts.
const LOOK_TIMEOUT: Duration = Duration::from_secs(2);

/// Who leads, as this replica last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaderView {
    /// This replica holds the Lease.
    pub leading: bool,
    /// The holder's identity, when someone holds it.
    pub holder: Option<String>,
}

/// This replica's part in the election. Cloning shares it.
#[derive(Clone)]
pub struct Leadership {
    identity: String,
    /// Elected through a Lease (several replicas may run), not [`Leadership::alone`].
    shared: bool,
    rx: watch::Receiver<LeaderView>,
    release: std::sync::Arc<std::sync::Mutex<Option<oneshot::Sender<()>>>>,
    /// True once the election has stopped (and the Lease, if held, was given up).
    stopped: watch::Receiver<bool>,
}

impl Leadership {
    /// Starts taking part in the election for the Lease in `namespace` of `client`'s
    /// cluster.
    pub fn start(client: Client, namespace: &str, identity: String) -> Self {
        let (tx, rx) = watch::channel(LeaderView::default());
        let (release_tx, release_rx) = oneshot::channel();
        let (stopped_tx, stopped) = watch::channel(false);
        let api = Api::namespaced(client, namespace);
        let candidate = identity.clone();
        tokio::spawn(async move {
            elect(api, candidate, tx, release_rx).await;
            stopped_tx.send_replace(true);
        });
        Self {
            identity,
            shared: true,
            rx,
            release: std::sync::Arc::new(std::sync::Mutex::new(Some(release_tx))),
            stopped,
        }
    }

    /// A replica that always leads: one console with no host to hold a Lease on.
    pub fn alone(identity: String) -> Self {
        let (tx, rx) = watch::channel(LeaderView {
            leading: true,
            holder: Some(identity.clone()),
        });
        // Nothing changes it: the last value stays readable with the sender gone.
        drop(tx);
        Self {
            identity,
            shared: false,
            rx,
            release: std::sync::Arc::default(),
            stopped: watch::channel(true).1,
        }
    }

    /// Several replicas may run: results are published for the others.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    pub fn view(&self) -> LeaderView {
        self.rx.borrow().clone()
    }

    pub fn is_leader(&self) -> bool {
        self.rx.borrow().leading
    }

    /// Stops taking part and, if this replica leads, gives the Lease up at once so another
    /// replica takes over within [`FOLLOW_EVERY`] instead of waiting out the Lease. Waits at
    /// most `within` for the release to be written; a second call (another clone) waits for
    /// the first one's.
    pub async fn release(&self, within: Duration) {
        let sender = self
            .release
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
        let mut stopped = self.stopped.clone();
        let _ = tokio::time::timeout(within, stopped.wait_for(|s| *s)).await;
    }
}

/// What the election loop remembers between looks at the Lease.
struct Observed {
    /// The record as last seen (holder, renew time, transitions) and when it last changed.
    record: Option<(Option<String>, Option<String>, i32)>,
    since: Instant,
    /// When this replica last renewed successfully while leading.
    renewed: Option<Instant>,
}

async fn elect(
    api: Api<Lease>,
    identity: String,
    tx: watch::Sender<LeaderView>,
    mut release: oneshot::Receiver<()>,
) {
    let mut observed = Observed {
        record: None,
        since: Instant::now(),
        renewed: None,
    };
    loop {
        // A renewal counts from when it was asked for, not when it was answered: the Lease's
        // holder may be judged expired from the moment the request was sent.
        let asked = Instant::now();
        let look = tokio::time::timeout(LOOK_TIMEOUT, try_lead(&api, &identity, &mut observed))
            .await
            .unwrap_or_else(|_| Err(LookFailed::TimedOut));
        let view = match look {
            Ok(view) => {
                if view.leading {
                    observed.renewed = Some(asked);
                }
                view
            }
            Err(error) => {
                tracing::debug!(%error, "the leader Lease could not be read or written");
                // A leader that cannot renew keeps acting only until its deadline.
                let still_leading = observed
                    .renewed
                    .is_some_and(|at| at.elapsed() < RENEW_DEADLINE);
                if !still_leading {
                    observed.renewed = None;
                }
                LeaderView {
                    leading: still_leading,
                    holder: tx.borrow().holder.clone(),
                }
            }
        };
        let pause = if view.leading {
            RENEW_EVERY
        } else {
            FOLLOW_EVERY
        };
        if *tx.borrow() != view {
            if view.leading != tx.borrow().leading {
                tracing::info!(leading = view.leading, holder = ?view.holder, "console leadership changed");
            }
            tx.send_replace(view);
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            // Asked to stop, or every handle is gone.
            _ = &mut release => {
                let leading = tx.borrow().leading;
                if leading {
                    match give_up(&api, &identity).await {
                        Ok(()) => tracing::info!("gave the leader Lease up"),
                        Err(error) => tracing::warn!(%error, "the leader Lease could not be released; another replica takes over when it expires"),
                    }
                }
                tx.send_replace(LeaderView::default());
                return;
            }
        }
    }
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

fn record_of(lease: &Lease) -> (Option<String>, Option<String>, i32) {
    let spec = lease.spec.clone().unwrap_or_default();
    (
        spec.holder_identity.filter(|h| !h.is_empty()),
        spec.renew_time.map(|t| t.0.to_string()),
        spec.lease_transitions.unwrap_or(0),
    )
}

#[derive(Debug, thiserror::Error)]
enum LookFailed {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("no answer within {LOOK_TIMEOUT:?}")]
    TimedOut,
}

/// One look at the Lease: create it, renew it, take it over when it expired, or follow.
async fn try_lead(
    api: &Api<Lease>,
    identity: &str,
    observed: &mut Observed,
) -> Result<LeaderView, LookFailed> {
    let seconds = i32::try_from(LEASE_DURATION.as_secs()).unwrap_or(i32::MAX);
    let Some(mut lease) = api.get_opt(LEASE_NAME).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(LEASE_NAME.into()),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_string(),
                        "tandem".to_string(),
                    )]
                    .into(),
                ),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(identity.into()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(now()),
                renew_time: Some(now()),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        return match api.create(&crate::writes::post_params(), &lease).await {
            Ok(_) => Ok(leading(identity)),
            // Another replica created it first: follow it from the next look.
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(following(None)),
            Err(e) => Err(e.into()),
        };
    };
    let record = record_of(&lease);
    if observed.record.as_ref() != Some(&record) {
        observed.record = Some(record.clone());
        observed.since = Instant::now();
    }
    let (holder, _, transitions) = record;
    let mine = holder.as_deref() == Some(identity);
    let expired = holder.is_none() || observed.since.elapsed() >= LEASE_DURATION;
    if !mine && !expired {
        observed.renewed = None;
        return Ok(following(holder));
    }
    let spec = lease.spec.get_or_insert_with(Default::default);
    if !mine {
        spec.holder_identity = Some(identity.into());
        spec.acquire_time = Some(now());
        spec.lease_transitions = Some(transitions + 1);
    }
    spec.lease_duration_seconds = Some(seconds);
    spec.renew_time = Some(now());
    // The replace carries the resourceVersion read: of two replicas taking over at once,
    // one gets a conflict and follows.
    match api
        .replace(LEASE_NAME, &crate::writes::post_params(), &lease)
        .await
    {
        Ok(written) => {
            observed.record = Some(record_of(&written));
            observed.since = Instant::now();
            Ok(leading(identity))
        }
        Err(kube::Error::Api(s)) if s.code == 409 => {
            observed.renewed = None;
            Ok(following(holder.filter(|h| h != identity)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Leading; the caller records when the renewal was asked for.
fn leading(identity: &str) -> LeaderView {
    LeaderView {
        leading: true,
        holder: Some(identity.into()),
    }
}

fn following(holder: Option<String>) -> LeaderView {
    LeaderView {
        leading: false,
        holder,
    }
}

/// Clears the holder (at the resourceVersion read), if this replica still holds the Lease.
async fn give_up(api: &Api<Lease>, identity: &str) -> Result<(), kube::Error> {
    let Some(mut lease) = api.get_opt(LEASE_NAME).await? else {
        return Ok(());
    };
    let spec = lease.spec.get_or_insert_with(Default::default);
    if spec.holder_identity.as_deref() != Some(identity) {
        return Ok(());
    }
    spec.holder_identity = None;
    spec.acquire_time = None;
    spec.renew_time = None;
    api.replace(LEASE_NAME, &crate::writes::post_params(), &lease)
        .await
        .map(|_| ())
}

/// A name for this replica: the pod's (`HOSTNAME`, which Kubernetes sets to it) with random
/// bits, so a restarted pod with the same name is a new candidate, not the old holder.
pub fn replica_identity() -> String {
    let base = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "tandem".into());
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{base}-{suffix}")
}
