//! `tandem`: the console server, and the sandbox clusters it can run on.

mod clusters_cli;
mod demo;
mod locale;
mod metrics;
mod security;
mod serve;
mod session;
mod sync_cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

const CONFIG_HELP: &str = "\
CONFIGURATION FILE (YAML):
  listen: 127.0.0.1:3000          # optional; --listen overrides it
  probeIntervalSeconds: 5         # optional; how often each host is probed
  replicaNamespace: kubesphere-system  # optional; where, on the first host, replicas keep
                                  #   their leader Lease and job records
  metricsListen: 0.0.0.0:9090     # optional; Prometheus /metrics on a port of its own
  memberAddresses:                # optional; where members may be (default: anywhere but
    allow: [10.20.0.0/16]         #   metadata, link-local and this console's address)
    deny: [10.20.99.0/24]
    allowPlainHttp: false
  hosts:                          # the KubeSphere host clusters to manage
    - name: prod                  # a DNS label, unique in the file
      kubeconfig: prod.kubeconfig # relative paths start at the file's directory
      context: admin@prod         # optional; default: the kubeconfig's current-context
    - name: local
      inCluster: true             # the cluster Tandem runs in (service account)

EXAMPLES:
  tandem serve --config /etc/tandem/tandem.yaml
  tandem serve --demo             # embedded demo fleet on loopback, no cluster needed
  tandem serve --demo --scenario conflicts   # ... with two hosts fighting over the member
  tandem sandbox --data-dir ./fleet          # only the demo fleet, for kubectl
  tandem sandbox --data-dir ./fleet --clusters a,b   # plain clusters, no KubeSphere
  tandem clusters check --config tandem.yaml --host prod --kubeconfig member.kubeconfig
  tandem clusters join --config tandem.yaml --host prod --kubeconfig member.kubeconfig --name eu-1
  tandem clusters remove --config tandem.yaml --host prod --name eu-1 --json";

/// Tandem: the web console for fleets of KubeSphere clusters, including several host clusters
/// managing the same members.
#[derive(Parser, Debug)]
#[command(name = "tandem", version, about, after_long_help = CONFIG_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines are written to stderr: `text` for people, `json` (one object a line,
    /// with the time, level, target, message and fields) for log collectors.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "TANDEM_LOG_FORMAT",
        default_value_t = LogFormat::Text
    )]
    log_format: LogFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the console for the host clusters in a configuration file (or the demo fleet).
    #[command(after_long_help = CONFIG_HELP)]
    Serve(ServeArgs),
    /// Start sandbox clusters only and write their kubeconfigs, for kubectl and experiments.
    Sandbox(SandboxArgs),
    /// Check, join and remove member clusters of a host, as the add-cluster wizard does.
    #[command(subcommand)]
    Clusters(clusters_cli::ClustersCommand),
    /// Keep the hosts' users, roles and workspaces equal both ways (plan, then apply).
    #[command(subcommand)]
    Sync(sync_cli::SyncCommand),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// The configuration file: listen address and host clusters (format below).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "demo",
        conflicts_with = "demo"
    )]
    config: Option<PathBuf>,
    /// Start the embedded demo fleet (sandbox clusters on loopback) and manage it.
    #[arg(long)]
    demo: bool,
    /// With --demo: where the sandbox clusters' state and kubeconfigs are kept.
    #[arg(long, value_name = "DIR", requires = "demo")]
    data_dir: Option<PathBuf>,
    /// With --demo: seed a scenario on top of the fleet.
    #[arg(long, value_enum, default_value_t = ScenarioArg::Calm, requires = "demo")]
    scenario: ScenarioArg,
    /// Address and port to listen on, overriding the configuration file.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// Serve Prometheus `/metrics` on this address and port, overriding the configuration.
    #[arg(long, value_name = "ADDR:PORT")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Args, Debug)]
struct SandboxArgs {
    /// Where `<name>.kubeconfig` is written for each cluster.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// Start plain clusters (no KubeSphere) with these names instead of the demo fleet.
    #[arg(long, value_delimiter = ',', conflicts_with = "scenario")]
    clusters: Option<Vec<String>>,
    /// Seed a scenario on top of the demo fleet.
    #[arg(long, value_enum, default_value_t = ScenarioArg::Calm)]
    scenario: ScenarioArg,
}

/// What the demo fleet starts with.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ScenarioArg {
    /// Both hosts manage the member; nothing seeded.
    Calm,
    /// Two hosts fighting over one member: a user that flips on the member, and one stuck
    /// deleting (the seed's experiments).
    Conflicts,
}

impl From<ScenarioArg> for sandbox::demo::Scenario {
    fn from(arg: ScenarioArg) -> Self {
        match arg {
            ScenarioArg::Calm => Self::Calm,
            ScenarioArg::Conflicts => Self::Conflicts,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `tandem clusters` answers in its own lines (or one JSON document): library logs, kube's
    // included, appear only when RUST_LOG asks for them, never mixed into the answer.
    let default_filter = match cli.command {
        Command::Clusters(_) | Command::Sync(_) => "off",
        _ => "info,tandem=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        // Fields flattened next to the message, so collectors index them as columns.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("tandem: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let cli_json = cli.log_format == LogFormat::Json;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve_command(args, cli.log_format == LogFormat::Json).await,
            Command::Clusters(command) => clusters_cli::run(command).await,
            Command::Sync(command) => sync_cli::run(command).await,
            Command::Sandbox(args) => {
                demo::sandbox_command(
                    &args.data_dir,
                    args.clusters.as_deref(),
                    args.scenario.into(),
                )
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) if cli_json => {
            tracing::error!(%message, "tandem stopped");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("tandem: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `json_logs`: stderr carries JSON lines only (no plain banner line).
async fn serve_command(args: ServeArgs, json_logs: bool) -> Result<(), String> {
    // Keeps the demo clusters alive for as long as the console runs.
    let mut _demo_fleet = None;
    let mut scratch_dir = None;
    let config_path = match args.config {
        Some(path) => path,
        None => {
            let dir = match args.data_dir {
                Some(dir) => dir,
                None => scratch_dir.insert(demo::default_data_dir()).clone(),
            };
            let (fleet, path) = demo::start_demo_fleet(&dir, args.scenario.into()).await?;
            _demo_fleet = Some(fleet);
            path
        }
    };
    let result = match fleet::ConsoleConfig::load(&config_path) {
        Ok(mut config) => {
            if let Some(listen) = args.listen {
                config.listen = listen;
            }
            if let Some(metrics) = args.metrics_listen {
                config.metrics_listen = Some(metrics);
            }
            serve::run(config, json_logs).await
        }
        Err(err) => Err(err.to_string()),
    };
    // The demo's own temporary directory holds admin tokens of clusters that are now gone.
    if let Some(dir) = scratch_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}
