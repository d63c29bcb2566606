//! `cargo bench -p app --features ssr --bench federation` (part of `make bench`): the
//! federation page's server-side work for 5,000 federated objects across 2 hosts and 3
//! members — every object's state from the monitor's view, the counts, the topology, the
//! first page rendered to HTML (target from the multi-host issue: ≤ 50 ms median).

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use app::pages::federation::{FederationFilter, federation_list, federation_table_html};
use fleet::federation::{FederatedKind, FederationView, HostLinks, MemberLink};
use kube::api::DynamicObject;
use serde_json::json;

const OBJECTS: usize = 5_000;
const HOSTS: [&str; 2] = ["host", "host2"];
const MEMBERS: [&str; 3] = ["member-a", "member-b", "member-c"];
const RUNS: usize = 15;

fn federated(name: &str, email: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedUser",
        "metadata": {"name": name},
        "spec": {
            "template": {"metadata": {"labels": {"kubefed.io/managed": "false"}},
                         "spec": {"email": email, "lang": "en"}},
            "placement": {"clusterSelector": {}},
        },
        "status": {"clusters": MEMBERS.iter().map(|m| json!({"name": m})).collect::<Vec<_>>()},
    }))
    .unwrap()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // Rendering spawns through Leptos' executor.
    let _ = any_spawner::Executor::init_tokio();
    let mut view = FederationView::default();
    view.set_topology(
        HOSTS
            .iter()
            .map(|h| HostLinks {
                host: h.to_string(),
                reachable: true,
                members: MEMBERS
                    .iter()
                    .map(|m| MemberLink {
                        uid: format!("uid-{m}"),
                        name: m.to_string(),
                        ready: true,
                    })
                    .collect(),
            })
            .collect(),
    );
    let now = SystemTime::now();
    let mut names = BTreeSet::new();
    for i in 0..OBJECTS {
        let name = format!("user-{i:05}");
        // Every 50th object differs between the hosts; the member copies follow the host.
        let other = if i % 50 == 0 { "other" } else { "same" };
        view.host_applied(
            "host",
            FederatedKind::User,
            &federated(&name, "same@example.com"),
            now,
        );
        view.host_applied(
            "host2",
            FederatedKind::User,
            &federated(&name, &format!("{other}@example.com")),
            now,
        );
        for m in MEMBERS {
            let copy = json!({"metadata": {"name": name, "labels": {"kubefed.io/managed": "true"}},
                              "spec": {"email": "same@example.com", "lang": "en"}});
            view.member_changed(
                &format!("uid-{m}"),
                FederatedKind::User,
                &name,
                Some(&copy),
                now,
            );
        }
        names.insert(name);
    }
    for host in HOSTS {
        view.host_listed(host, FederatedKind::User, &names);
    }
    let topology = view.topology().to_vec();

    let mut times = Vec::with_capacity(RUNS);
    let mut html_len = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let rows = view.rows(SystemTime::now());
        let list = federation_list(&rows, &topology, &FederationFilter::default());
        let html = federation_table_html(list);
        html_len = html.len();
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[RUNS / 2];
    println!(
        "federation page, server side, {OBJECTS} objects × {} hosts × {} members: median {:.1} ms (min {:.1}, max {:.1}) over {RUNS} runs; first page {} KB of HTML (target ≤ 50 ms median)",
        HOSTS.len(),
        MEMBERS.len(),
        ms(median),
        ms(times[0]),
        ms(times[RUNS - 1]),
        html_len / 1000
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
