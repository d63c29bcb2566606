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

pub async fn run(config: ConsoleConfig) -> Result<(), String> {
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

    let monitor = HostMonitor::start(&config);
    let (links, problems) = fleet::clusters::HostLink::from_config(&config).await;
    for problem in problems {
        tracing::warn!(%problem, "clusters cannot be added to this host");
    }
    let iam = fleet::iam::Iam::start(&config).await;
    let federation = fleet::multihost::FederationMonitor::start(
        iam.host_clients(),
        std::sync::Arc::new(config.member_address_policy()),
    );
    let state = ConsoleState {
        hosts: monitor,
        iam,
        federation,
        clusters: fleet::clusters::jobs::ClusterJobs::new(links),
        secure_cookies: config.cookies_secure(),
    };
    let router = router(leptos_options, state);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e}. Fix: choose a free port with --listen or `listen:` in the configuration file",
                config.listen
            )
        })?;
    tracing::info!("Tandem console on http://{}", config.listen);
    eprintln!("Tandem console on http://{}", config.listen);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(crate::demo::shutdown_signal())
    .await
    .map_err(|e| format!("server stopped: {e}"))
}

pub fn router(leptos_options: LeptosOptions, state: ConsoleState) -> Router {
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
