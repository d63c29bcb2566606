//! `tandem clusters check | join | remove`: the add-cluster checks, the join and the removal
//! for scripts and pipelines, through the same `fleet::clusters` code as the wizard.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Args, Subcommand};
use fleet::clusters::{
    ActionReport, ActionResult, Candidate, HostLink, StepReport, Verdict, check_cluster,
    join_cluster, remove_cluster,
};
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum ClustersCommand {
    /// Run the add-cluster checks; exits non-zero when a step fails.
    Check(CandidateArgs),
    /// Run the checks and, when they pass, join the cluster to the host.
    Join(JoinArgs),
    /// Remove a cluster from the host, cleaning its join objects on the member.
    Remove(RemoveArgs),
}

#[derive(Args, Debug)]
pub struct HostArgs {
    /// The configuration file naming the host clusters (as for `tandem serve`).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The host cluster, by its name in the configuration file.
    #[arg(long, value_name = "NAME")]
    host: String,
    /// Print one JSON document instead of lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct CandidateArgs {
    #[command(flatten)]
    host: HostArgs,
    /// The member's kubeconfig (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    kubeconfig: PathBuf,
    /// The context to use, when the kubeconfig has several.
    #[arg(long)]
    context: Option<String>,
    /// The cluster's name on the host; defaults to the kubeconfig's cluster name.
    #[arg(long)]
    name: Option<String>,
    /// Join even though another host manages it (active-active, on purpose).
    #[arg(long)]
    second_host: bool,
}

#[derive(Args, Debug)]
pub struct JoinArgs {
    #[command(flatten)]
    candidate: CandidateArgs,
    /// The cluster's group: production, development, testing or demo.
    #[arg(long)]
    group: Option<String>,
    /// Who runs it, e.g. "Amazon EKS".
    #[arg(long)]
    provider: Option<String>,
    #[arg(long)]
    description: Option<String>,
}

#[derive(Args, Debug)]
pub struct RemoveArgs {
    #[command(flatten)]
    host: HostArgs,
    /// The cluster to remove, by its name on the host.
    #[arg(long)]
    name: String,
}

/// Runs the command; `Err` carries the message and means a non-zero exit.
pub async fn run(command: ClustersCommand) -> Result<(), String> {
    match command {
        ClustersCommand::Check(args) => check(args).await,
        ClustersCommand::Join(args) => join(args).await,
        ClustersCommand::Remove(args) => remove(args).await,
    }
}

async fn hosts(args: &HostArgs) -> Result<(HostLink, Vec<HostLink>), String> {
    let config = fleet::ConsoleConfig::load(&args.config).map_err(|e| e.to_string())?;
    let clients = fleet::HostClients::connect(&config).await;
    let (links, problems) = HostLink::from_config(&config, &clients);
    let names: Vec<&str> = config.hosts.iter().map(|h| h.name.as_str()).collect();
    let Some(index) = links.iter().position(|l| l.name == args.host) else {
        if let Some(problem) = problems
            .iter()
            .find(|p| p.contains(&format!("`{}`", args.host)))
        {
            return Err(problem.clone());
        }
        return Err(format!(
            "no host `{}` in {}; the hosts are: {}",
            args.host,
            args.config.display(),
            names.join(", ")
        ));
    };
    let mut links = links;
    let host = links.remove(index);
    Ok((host, links))
}

fn read_kubeconfig(path: &Path) -> Result<String, String> {
    // Twice the largest kubeconfig accepted: enough for the size check to speak.
    let limit = 2 * fleet::clusters::kubeconfig::MAX_KUBECONFIG_BYTES as u64;
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().take(limit).read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_string(&mut text))
    };
    read.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text)
}

fn candidate(args: &CandidateArgs) -> Result<Candidate, String> {
    let kubeconfig = read_kubeconfig(&args.kubeconfig)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => default_name(&kubeconfig, args.context.as_deref()),
    };
    Ok(Candidate {
        name,
        kubeconfig,
        context: args.context.clone(),
        second_host: args.second_host,
        creator: Some("tandem-cli".into()),
        ..Default::default()
    })
}

/// The kubeconfig's cluster name, made a DNS label; "member" when there is nothing usable.
fn default_name(kubeconfig: &str, context: Option<&str>) -> String {
    let cluster = fleet::clusters::kubeconfig::check_kubeconfig(kubeconfig, context)
        .map(|c| c.cluster)
        .unwrap_or_default();
    let label: String = cluster
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    let label = label.trim_matches('-').to_string();
    if label.is_empty() {
        "member".into()
    } else {
        label
    }
}

/// The command line speaks English, in the console's words.
const ENGLISH: app::i18n::Locale = app::i18n::Locale::en;

/// A step for `--json`: the finding as data, and in words.
fn step_json(step: &StepReport) -> serde_json::Value {
    let words = app::messages::step_words(ENGLISH, step);
    json!({
        "step": step.step,
        "verdict": step.verdict,
        "finding": step.finding,
        "summary": words.summary,
        "fix": words.fix,
        "elapsedMs": u64::try_from(step.elapsed.as_millis()).unwrap_or(u64::MAX),
    })
}

fn print_step(step: &StepReport) {
    let mark = match step.verdict {
        Verdict::Passed => "ok  ",
        Verdict::Warning => "warn",
        Verdict::Failed => "FAIL",
        Verdict::Skipped => "skip",
    };
    let words = app::messages::step_words(ENGLISH, step);
    println!("[{mark}] {:<32} {}", step.step.title(), words.summary);
    if let Some(fix) = words.fix {
        println!("       fix: {fix}");
    }
}

fn print_action(action: &ActionReport) {
    let result = match &action.result {
        ActionResult::Created => "created".to_string(),
        ActionResult::Updated => "updated".to_string(),
        ActionResult::Unchanged => "unchanged".to_string(),
        ActionResult::Deleted => "deleted".to_string(),
        ActionResult::Absent => "already gone".to_string(),
        ActionResult::Kept(why) => format!("kept: {why}"),
        ActionResult::Failed(why) => format!("FAILED: {why}"),
        ActionResult::RolledBack => "rolled back".to_string(),
        ActionResult::MadeByKubeSphere => "made by KubeSphere's cluster controller".to_string(),
    };
    println!("  {:<6} {} — {result}", action.side, action.object);
}

async fn check(args: CandidateArgs) -> Result<(), String> {
    let (host, others) = hosts(&args.host).await?;
    let candidate = candidate(&args)?;
    let json = args.host.json;
    let mut show = |s: &StepReport| {
        if !json {
            print_step(s)
        }
    };
    let outcome = check_cluster(&host, &others, &candidate, SystemTime::now(), &mut show).await;
    if json {
        println!(
            "{}",
            json!({"host": host.name, "cluster": candidate.name, "passed": outcome.passed(), "steps": outcome.steps.iter().map(step_json).collect::<Vec<_>>()})
        );
    }
    if outcome.passed() {
        Ok(())
    } else {
        Err(format!(
            "`{}` cannot join `{}` yet: fix the failed steps and run the checks again",
            candidate.name, host.name
        ))
    }
}

async fn join(args: JoinArgs) -> Result<(), String> {
    let (host, others) = hosts(&args.candidate.host).await?;
    let mut candidate = candidate(&args.candidate)?;
    candidate.group = args.group;
    candidate.provider = args.provider;
    candidate.description = args.description;
    let json = args.candidate.host.json;
    let mut show_step = |s: &StepReport| {
        if !json {
            print_step(s)
        }
    };
    let mut first = true;
    let mut show_action = |a: &ActionReport| {
        if !json {
            if std::mem::take(&mut first) {
                println!("joining `{}` to `{}`:", candidate.name, host.name);
            }
            print_action(a);
        }
    };
    let result = join_cluster(
        &host,
        &others,
        &candidate,
        SystemTime::now(),
        &mut show_step,
        &mut show_action,
    )
    .await;
    match result {
        Ok(outcome) => {
            if json {
                println!(
                    "{}",
                    json!({"host": host.name, "cluster": candidate.name, "joined": true, "steps": outcome.steps.iter().map(step_json).collect::<Vec<_>>(), "actions": outcome.actions})
                );
            } else {
                println!("`{}` joined `{}`.", candidate.name, host.name);
            }
            Ok(())
        }
        Err(err) => {
            if json {
                println!(
                    "{}",
                    json!({"host": host.name, "cluster": candidate.name, "joined": false, "error": err.to_string()})
                );
            }
            Err(err.to_string())
        }
    }
}

async fn remove(args: RemoveArgs) -> Result<(), String> {
    let (host, others) = hosts(&args.host).await?;
    let json = args.host.json;
    let mut show = |a: &ActionReport| {
        if !json {
            print_action(a)
        }
    };
    let outcome = remove_cluster(&host, &others, &args.name, &mut show)
        .await
        .map_err(|e| e.to_string())?;
    if json {
        println!(
            "{}",
            json!({"host": host.name, "cluster": args.name, "removed": true, "memberReached": outcome.member_reached, "leftOnMember": outcome.left_on_member, "actions": outcome.actions})
        );
    } else {
        println!("`{}` removed from `{}`.", args.name, host.name);
        if !outcome.left_on_member.is_empty() {
            println!(
                "The member did not answer; these stay on it (delete them with its own kubeconfig):"
            );
            for object in &outcome.left_on_member {
                println!("  {object}");
            }
        }
    }
    Ok(())
}
