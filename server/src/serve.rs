//! The HTTP server: Leptos pages and server functions, health endpoints, static files.

use app::state::ConsoleState;
use app::{App, shell};
use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use fleet::{ConsoleConfig, HostMonitor, HostState};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

/// `json_logs`: stderr is for JSON log lines only, so the address is logged, not printed.
pub async fn run(config: ConsoleConfig, json_logs: bool) -> Result<(), String> {
    // cargo-leptos bakes the site's names in at build time; a plain `cargo build` (tests,
    // tools) does not, and then the defaults of this workspace's metadata apply.
    let mut leptos_options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => LeptosOptions::builder()
            .output_name("tandem")
            .site_root(std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into()))
            .site_pkg_dir("pkg")
            .build(),
    };
    leptos_options.site_addr = config.listen;

    // One client per host, shared by the probe, the IAM watches and cluster writes.
    let clients = fleet::HostClients::connect(&config).await;
    let iam = fleet::iam::Iam::start(&clients).await;
    // Replicas share the fleet's background work through a Lease on the first host, and
    // their jobs through records beside it.
    let identity = fleet::replicas::replica_identity();
    let home = config.hosts.first().and_then(|first| {
        iam.host_clients()
            .into_iter()
            .find(|(name, _)| *name == first.name)
            .map(|(_, client)| client)
    });
    let leadership = match &home {
        Some(client) => fleet::replicas::Leadership::start(
            client.clone(),
            &config.replica_namespace,
            identity.clone(),
        ),
        None => fleet::replicas::Leadership::alone(identity.clone()),
    };
    tracing::info!(replica = %identity, "this console replica");
    let monitor = HostMonitor::start_shared(&config, leadership.clone(), &clients);
    let (links, problems) = fleet::clusters::HostLink::from_config(&config, &clients);
    for problem in problems {
        tracing::warn!(%problem, "clusters cannot be added to this host");
    }
    let records =
        fleet::replicas::JobRecords::new(home.clone(), &config.replica_namespace, identity.clone());
    spawn_job_sweeper(records.clone(), leadership.clone());
    // The leader watches every host and member and publishes what it sees beside the
    // Lease; the others show that and hand repairs to it.
    let federation = fleet::federation::FederationMonitor::start_shared(
        iam.host_clients(),
        std::sync::Arc::new(config.member_address_policy()),
        fleet::federation::Sharing {
            leadership: leadership.clone(),
            home: home.clone().map(|h| (h, config.replica_namespace.clone())),
            records: Some(records.clone()),
        },
    );
    let sync = start_sync(&config, &clients, home.clone(), leadership.clone());
    let state = ConsoleState {
        hosts: monitor,
        iam,
        federation,
        clusters: fleet::clusters::jobs::ClusterJobs::new(links, records),
        secure_cookies: config.cookies_secure(),
        replica: identity,
        sync,
    };
    let metrics = crate::metrics::Metrics::new();
    if let Some(address) = config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            format!(
                "cannot listen on {address} for /metrics: {e}. Fix: choose a free port with --metrics-listen or `metricsListen:` in the configuration file"
            )
        })?;
        let metrics_router =
            crate::metrics::router(metrics.clone(), state.clone(), leadership.clone());
        tracing::info!("Prometheus metrics on http://{address}/metrics");
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, metrics_router).await {
                tracing::error!(%error, "the /metrics listener stopped");
            }
        });
    }
    let router = router(leptos_options, state, metrics);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e}. Fix: choose a free port with --listen or `listen:` in the configuration file",
                config.listen
            )
        })?;
    tracing::info!("Tandem console on http://{}", config.listen);
    if !json_logs {
        eprintln!("Tandem console on http://{}", config.listen);
    }
    let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
    let signalled = {
        let (stopping, leadership) = (stopping.clone(), leadership.clone());
        async move {
            crate::demo::shutdown_signal().await;
            tracing::info!("stopping: no new connections; in-flight requests may finish");
            stopping.notify_one();
            // Give the Lease up now, not after the last request: another replica takes the
            // background work over while this one drains.
            tokio::spawn(async move { leadership.release(RELEASE_WAIT).await });
        }
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(signalled);
    let result = tokio::select! {
        served = server => served.map_err(|e| format!("server stopped: {e}")),
        _ = async {
            stopping.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running at the end of the grace period were cut off");
            Ok(())
        }
    };
    // Released already unless the signal never came (the server failed); idempotent.
    leadership.release(RELEASE_WAIT).await;
    result
}

/// Two-way sync of the configured hosts, when there are two or more and every one has a
/// client (a host without one would sit every round out: sync waits for a working set-up).
fn start_sync(
    config: &ConsoleConfig,
    clients: &fleet::HostClients,
    home: Option<fleet::Client>,
    leadership: fleet::replicas::Leadership,
) -> Option<fleet::sync::service::SyncService> {
    let mut group = Vec::new();
    for (name, client) in clients.iter() {
        match client {
            Ok(client) => group.push(fleet::sync::engine::GroupHost {
                name: name.to_string(),
                client: client.clone(),
            }),
            Err(error) => {
                tracing::warn!(host = %name, %error, "two-way sync is off: a host has no client");
                return None;
            }
        }
    }
    if group.len() < 2 {
        return None;
    }
    let home = fleet::sync::service::Home {
        client: home?,
        namespace: config.replica_namespace.clone(),
    };
    Some(fleet::sync::service::SyncService::start(
        group, home, leadership,
    ))
}

/// How long in-flight requests may run after SIGTERM (the manifests give the pod 30 s).
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);
/// Longest wait for the Lease release to be written.
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// On the leader, every few seconds: jobs of replicas that stopped are marked abandoned,
/// old records deleted.
fn spawn_job_sweeper(
    records: fleet::replicas::JobRecords,
    leadership: fleet::replicas::Leadership,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(3));
        loop {
            ticker.tick().await;
            if leadership.is_leader()
                && let Err(error) = records.sweep().await
            {
                tracing::debug!(%error, "job records not swept");
            }
        }
    });
}

pub fn router(
    leptos_options: LeptosOptions,
    state: ConsoleState,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> Router {
    let monitor = state.hosts.clone();
    let session_state = state.clone();
    let routes = generate_route_list(App);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get({
                let monitor = monitor.clone();
                move || readyz(monitor.clone())
            }),
        )
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(state.clone()),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(middleware::from_fn_with_state(
            session_state,
            crate::session::resolve_session,
        ))
        .layer(middleware::from_fn(crate::locale::chosen_language))
        .layer(middleware::from_fn(crate::security::reject_cross_site))
        .layer(middleware::from_fn(crate::security::security_headers))
        .layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::measure,
        ))
        .with_state(leptos_options)
}

/// Ready when the configuration is loaded (it is, or we would not be here) and at least one
/// host answered its last probe. The body says which hosts are down, never any credential.
async fn readyz(monitor: HostMonitor) -> impl IntoResponse {
    let snapshot = monitor.snapshot();
    let lines: Vec<String> = snapshot
        .iter()
        .map(|h| match &h.state {
            HostState::Reachable { version, .. } => format!("{}: reachable ({version})", h.name),
            HostState::Pending => format!("{}: not probed yet", h.name),
            HostState::Unreachable(why) => format!("{}: unreachable ({why})", h.name),
        })
        .collect();
    if monitor.any_reachable() {
        (StatusCode::OK, format!("ready\n{}\n", lines.join("\n")))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "not ready: no host cluster is reachable\n{}\n",
                lines.join("\n")
            ),
        )
    }
}
