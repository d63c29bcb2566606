//! `tandem sync plan | apply | status`: two-way sync of the configured hosts' IAM and tenant
//! objects (issue #15) through `fleet::sync`. `plan` reads every host and says what a round
//! would write and which differences it would settle, writing nothing; `apply` runs rounds
//! until one finds nothing to write (and with `--turn-on` leaves sync on for the consoles of
//! this configuration, as the Sync page's switch); `status` reads the group's shared record.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fleet::sync::engine::{GroupHost, RoundMode, RoundReport, sync_round};
use fleet::sync::merge::Write;
use fleet::sync::service::now_ms;
use serde_json::{Value, json};

/// Rounds `apply` runs at most before it says the hosts keep changing.
const MAX_ROUNDS: usize = 10;

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Say what one round would write on each host, and which differences it would settle.
    Plan(SyncArgs),
    /// Run rounds until the hosts hold the same objects.
    Apply(ApplyArgs),
    /// The consoles' sync: on or off, the last round, lag, the conflict log, deletes.
    Status(SyncArgs),
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    common: SyncArgs,
    /// Then turn sync on for the consoles of this configuration (the Sync page's switch):
    /// they keep the hosts equal from now on.
    #[arg(long)]
    turn_on: bool,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The configuration file naming the host clusters (as for `tandem serve`); all of them
    /// form the sync group.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Print one JSON document instead of lines.
    #[arg(long)]
    json: bool,
}

/// Runs the command; `Err` carries the message and means a non-zero exit.
pub async fn run(command: SyncCommand) -> Result<(), String> {
    let (args, mode, turn_on) = match command {
        SyncCommand::Plan(args) => (args, RoundMode::Plan, false),
        SyncCommand::Apply(ApplyArgs { common, turn_on }) => (common, RoundMode::Apply, turn_on),
        SyncCommand::Status(args) => return status(&args).await,
    };
    let config = fleet::ConsoleConfig::load(&args.config).map_err(|e| e.to_string())?;
    let clients = fleet::HostClients::connect(&config).await;
    let mut hosts = Vec::new();
    for (name, client) in clients.iter() {
        let client = client.clone().map_err(|e| format!("host `{name}`: {e}"))?;
        hosts.push(GroupHost {
            name: name.to_string(),
            client,
        });
    }
    if hosts.len() < 2 {
        return Err(format!(
            "a sync group needs two hosts or more; {} names {}",
            args.config.display(),
            hosts.len()
        ));
    }
    let (mut rounds, mut own_deletes) = (Vec::new(), std::collections::BTreeSet::new());
    loop {
        let report = sync_round(&hosts, &own_deletes, now_ms(), mode).await;
        own_deletes.extend(report.deleted_uids.iter().cloned());
        let quiet = report.writes == 0 && report.deferred.is_empty();
        rounds.push(report);
        if mode == RoundMode::Plan || quiet {
            break;
        }
        if rounds.len() == MAX_ROUNDS {
            print(&args, mode, &rounds);
            return Err(format!(
                "the hosts still changed after {MAX_ROUNDS} rounds; run `tandem sync plan` to see what keeps changing"
            ));
        }
    }
    print(&args, mode, &rounds);
    if turn_on {
        let home = &hosts[0];
        let namespace = &config.replica_namespace;
        // A record that cannot be read is not replaced: that would drop its conflict log.
        let mut record = fleet::sync::record::load(&home.client, namespace)
            .await
            .map_err(|e| {
                format!(
                    "the hosts agree, but sync was not turned on: host `{}` did not give its record in namespace `{namespace}`: {e}",
                    home.name
                )
            })?
            .unwrap_or_default();
        record.enabled = true;
        record.changed_by = Some(("tandem sync apply".into(), now_ms()));
        record.plan.clear();
        record.plan_conflicts.clear();
        fleet::sync::record::save(&home.client, namespace, &record)
            .await
            .map_err(|e| {
                format!(
                    "the hosts agree, but sync could not be turned on: host `{}` refused the record in namespace `{namespace}`: {e}",
                    home.name
                )
            })?;
        if !args.json {
            println!("sync is on: consoles of this configuration keep the hosts equal from now on");
        }
    }
    Ok(())
}

/// Prints the group's shared record, as the Sync page shows it.
async fn status(args: &SyncArgs) -> Result<(), String> {
    let config = fleet::ConsoleConfig::load(&args.config).map_err(|e| e.to_string())?;
    let clients = fleet::HostClients::connect(&config).await;
    let (name, client) = clients
        .iter()
        .next()
        .ok_or_else(|| format!("{} names no host", args.config.display()))?;
    let client = client.clone().map_err(|e| format!("host `{name}`: {e}"))?;
    let record = fleet::sync::record::load(&client, &config.replica_namespace)
        .await
        .map_err(|e| format!("host `{name}` did not answer: {e}"))?
        .unwrap_or_default();
    if args.json {
        println!("{}", serde_json::to_string(&record).unwrap_or_default());
        return Ok(());
    }
    let now = now_ms();
    let ago = |at: u64| format!("{} s ago", now.saturating_sub(at) / 1000);
    let state = if record.enabled {
        "on"
    } else {
        "off (planning only)"
    };
    match &record.changed_by {
        Some((by, at)) => println!("sync      {state}, switched by {by} {}", ago(*at)),
        None => println!("sync      {state}"),
    }
    if let Some(round) = &record.last_round {
        println!(
            "round     {}: {} objects read, {} copies written, {} left for later",
            ago(round.at_ms),
            round.objects,
            round.writes,
            round.deferred.len()
        );
    }
    println!(
        "lag       p50 {} ms, p99 {} ms over {} writes; {} changes pending",
        record.lag.p50_ms, record.lag.p99_ms, record.lag.samples, record.pending
    );
    let writes: Vec<String> = record
        .writes_per_host
        .iter()
        .map(|(host, n)| format!("{host} {n}"))
        .collect();
    println!("writes    {}", writes.join(", "));
    if !record.enabled {
        println!(
            "plan      {} copies to write when turned on",
            record.plan_total.max(record.plan.len())
        );
    }
    for c in &record.conflicts {
        println!(
            "conflict  {} {} {}: {}'s {} kept over {}'s {}",
            ago(c.at_ms),
            c.object,
            c.field,
            c.kept.host,
            c.kept.value.as_deref().unwrap_or("(none)"),
            c.superseded.host,
            c.superseded.value.as_deref().unwrap_or("(none)")
        );
    }
    for d in &record.deletes {
        println!("deleted   {} {} on {}", ago(d.at_ms), d.object, d.host);
    }
    Ok(())
}

/// A value as the plan shows it: a password hash only as a digest.
fn shown(field: &str, write: &Write) -> Value {
    match &write.value {
        None => Value::Null,
        Some(_) if field == "/spec/password" => json!("(a password hash)"),
        Some(value) => value.clone(),
    }
}

fn print(args: &SyncArgs, mode: RoundMode, rounds: &[RoundReport]) {
    let conflicts: Vec<Value> = rounds
        .iter()
        .flat_map(|r| &r.conflicts)
        .map(|(object, c)| {
            json!({
                "object": object,
                "field": c.field,
                "kept": {"host": c.kept.host, "value": shown(&c.field, &c.kept), "version": c.kept.version.to_string()},
                "superseded": {"host": c.superseded.host, "value": shown(&c.field, &c.superseded), "version": c.superseded.version.to_string()},
            })
        })
        .collect();
    let writes: Vec<_> = rounds.iter().flat_map(|r| &r.planned).collect();
    let logins: Vec<_> = rounds.iter().flat_map(|r| &r.login_copies).collect();
    let last = rounds.last();
    if args.json {
        let document = json!({
            "mode": if mode == RoundMode::Plan { "plan" } else { "apply" },
            "rounds": rounds.len(),
            "objects": last.map(|r| r.objects),
            "writes": writes,
            "login_copies": logins,
            "conflicts": conflicts,
            "deferred": last.map(|r| &r.deferred),
            "unreachable": last.map(|r| &r.unreachable),
        });
        println!("{document}");
        return;
    }
    for w in &writes {
        let verb = serde_json::to_value(w.write).unwrap_or_default();
        println!(
            "{:<8} {:<7} {}",
            w.host,
            verb.as_str().unwrap_or_default(),
            w.object
        );
    }
    for (record, host) in &logins {
        println!("{host:<8} copy    LoginRecord {record} (a failed login, counted on every host)");
    }
    for c in &conflicts {
        println!(
            "conflict {} {}: {}'s {} kept over {}'s {}",
            c["object"].as_str().unwrap_or_default(),
            c["field"].as_str().unwrap_or_default(),
            c["kept"]["host"].as_str().unwrap_or_default(),
            c["kept"]["value"],
            c["superseded"]["host"].as_str().unwrap_or_default(),
            c["superseded"]["value"],
        );
    }
    if let Some(last) = last {
        for (object, why) in &last.deferred {
            println!("later    {object}: {why}");
        }
        for list in &last.unreachable {
            println!("unread   {list}: the host did not answer; its copies sat the round out");
        }
        let done = if mode == RoundMode::Plan {
            "would be written"
        } else {
            "written"
        };
        println!(
            "{} objects, {} copies {done}, {} conflicts, over {} round(s)",
            last.objects,
            writes.len(),
            conflicts.len(),
            rounds.len()
        );
    }
}
