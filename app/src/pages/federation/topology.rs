//! The fleet as a picture: hosts above, members below, a line for every host that manages a
//! member, coloured and labelled by what is happening on it (healthy, not ready, objects
//! failing, objects flapping). A list says the same for screen readers.

use leptos::prelude::*;

use crate::dto::federation::{FederationListView, TopologyView};
use crate::i18n::{t, t_string, use_i18n};

const WIDTH: f64 = 640.0;
const HOST_Y: f64 = 24.0;
const MEMBER_Y: f64 = 176.0;
const NODE_W: f64 = 128.0;
const NODE_H: f64 = 40.0;

/// The picture's data from the monitor: links carry the count of flapping and failing objects.
#[cfg(feature = "ssr")]
pub fn topology_view(
    topology: &[fleet::federation::HostLinks],
    rows: &[fleet::federation::ObjectRow],
) -> TopologyView {
    use crate::dto::federation::{TopologyHost, TopologyLink, TopologyMember};
    use fleet::federation::FederatedState;

    let mut view = TopologyView::default();
    let mut uids: Vec<String> = Vec::new();
    for host in topology {
        view.hosts.push(TopologyHost {
            name: host.host.clone(),
            reachable: host.reachable,
        });
        for member in &host.members {
            if !uids.contains(&member.uid) {
                uids.push(member.uid.clone());
                view.members.push(TopologyMember {
                    name: member.name.clone(),
                    hosts: topology
                        .iter()
                        .filter(|h| h.members.iter().any(|m| m.uid == member.uid))
                        .count(),
                });
            }
            let cells = || {
                rows.iter()
                    .flat_map(|r| &r.members)
                    .filter(|c| c.uid == member.uid)
            };
            let flapping = cells()
                .filter(|c| matches!(&c.state, FederatedState::Flapping { hosts } if hosts.contains(&host.host)))
                .count();
            let failing = cells()
                .filter(|c| match &c.state {
                    FederatedState::SyncFailing { host: h, .. }
                    | FederatedState::StuckDeleting { host: h } => h == &host.host,
                    _ => false,
                })
                .count();
            view.links.push(TopologyLink {
                host: host.host.clone(),
                member: member.name.clone(),
                ready: member.ready,
                flapping,
                failing,
            });
        }
    }
    view
}

fn centre(index: usize, count: usize) -> f64 {
    WIDTH * (index as f64 + 0.5) / count.max(1) as f64
}

#[component]
pub fn TopologyPicture(list: Memo<FederationListView>) -> impl IntoView {
    let i18n = use_i18n();
    let topology = Memo::new(move |_| list.with(|l| l.topology.clone()));
    view! {
        <section aria-labelledby="topology-title" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h2 id="topology-title" class="text-sm font-semibold text-slate-800">{t!(i18n, topology_title)}</h2>
            {move || topology.with(|t| picture(t, i18n))}
            <ul class="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600" aria-hidden="true">
                <li><span class="mr-1 inline-block h-0.5 w-4 align-middle bg-emerald-600"></span>{t!(i18n, topology_legend_ok)}</li>
                <li><span class="mr-1 inline-block h-0.5 w-4 align-middle bg-amber-500"></span>{t!(i18n, topology_legend_failing)}</li>
                <li><span class="mr-1 inline-block h-0.5 w-4 align-middle bg-red-600"></span>{t!(i18n, topology_legend_flapping)}</li>
                <li><span class="mr-1 inline-block h-0.5 w-4 align-middle border-t-2 border-dashed border-slate-400"></span>{t!(i18n, topology_legend_not_ready)}</li>
            </ul>
        </section>
    }
    .into_any()
}

fn picture(t: &TopologyView, i18n: leptos_i18n::I18nContext<crate::i18n::Locale>) -> AnyView {
    if t.hosts.is_empty() {
        return view! { <p class="mt-3 text-sm text-slate-500">{t!(i18n, topology_empty)}</p> }
            .into_any();
    }
    let host_x = |name: &str| {
        t.hosts
            .iter()
            .position(|h| h.name == name)
            .map(|i| centre(i, t.hosts.len()))
            .unwrap_or(0.0)
    };
    let member_x = |name: &str| {
        t.members
            .iter()
            .position(|m| m.name == name)
            .map(|i| centre(i, t.members.len()))
            .unwrap_or(0.0)
    };
    let links = t
        .links
        .iter()
        .map(|l| {
            let (x1, x2) = (host_x(&l.host), member_x(&l.member));
            let (y1, y2) = (HOST_Y + NODE_H, MEMBER_Y);
            let (stroke, dash) = if l.flapping > 0 {
                ("#dc2626", "")
            } else if l.failing > 0 {
                ("#f59e0b", "")
            } else if l.ready {
                ("#059669", "")
            } else {
                ("#94a3b8", "6 4")
            };
            let label = match (l.flapping, l.failing) {
                (0, 0) => String::new(),
                (f, 0) => format!("⇄ {f}"),
                (0, s) => format!("! {s}"),
                (f, s) => format!("⇄ {f} · ! {s}"),
            };
            let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            view! {
                <g data-link=format!("{}-{}", l.host, l.member)>
                    <line x1=x1 y1=y1 x2=x2 y2=y2 stroke=stroke stroke-width="3" stroke-dasharray=dash stroke-linecap="round" />
                    {(!label.is_empty()).then(|| view! {
                        <g>
                            <rect x=mx - 30.0 y=my - 11.0 width="60" height="22" rx="11" fill="white" stroke=stroke />
                            <text x=mx y=my + 4.0 text-anchor="middle" font-size="12" font-weight="600" fill=stroke>{label.clone()}</text>
                        </g>
                    })}
                </g>
            }
        })
        .collect_view();
    let hosts = t
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let x = centre(i, t.hosts.len()) - NODE_W / 2.0;
            let (fill, stroke, dash) = if h.reachable {
                ("#f0f9ff", "#0284c7", "")
            } else {
                ("#fef2f2", "#dc2626", "5 3")
            };
            view! {
                <g data-host=h.name.clone()>
                    <rect x=x y=HOST_Y width=NODE_W height=NODE_H rx="8" fill=fill stroke=stroke stroke-width="1.5" stroke-dasharray=dash />
                    <text x=x + NODE_W / 2.0 y=HOST_Y + 17.0 text-anchor="middle" font-size="13" font-weight="600" fill="#0f172a">{h.name.clone()}</text>
                    <text x=x + NODE_W / 2.0 y=HOST_Y + 32.0 text-anchor="middle" font-size="10" fill="#475569">{t_string!(i18n, topology_host)}</text>
                </g>
            }
        })
        .collect_view();
    let members = t
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let x = centre(i, t.members.len()) - NODE_W / 2.0;
            let sub = if m.hosts > 1 {
                format!("{} · {}", t_string!(i18n, topology_member), t_string!(i18n, topology_shared).replace("{count}", &m.hosts.to_string()))
            } else {
                t_string!(i18n, topology_member).to_string()
            };
            view! {
                <g data-member=m.name.clone()>
                    <rect x=x y=MEMBER_Y width=NODE_W height=NODE_H rx="8" fill="white" stroke="#64748b" stroke-width="1.5" />
                    <text x=x + NODE_W / 2.0 y=MEMBER_Y + 17.0 text-anchor="middle" font-size="13" font-weight="600" fill="#0f172a">{m.name.clone()}</text>
                    <text x=x + NODE_W / 2.0 y=MEMBER_Y + 32.0 text-anchor="middle" font-size="10" fill="#475569">{sub}</text>
                </g>
            }
        })
        .collect_view();
    let described = t
        .links
        .iter()
        .map(|l| {
            let state = if l.flapping > 0 {
                t_string!(i18n, topology_legend_flapping)
            } else if l.failing > 0 {
                t_string!(i18n, topology_legend_failing)
            } else if l.ready {
                t_string!(i18n, topology_legend_ok)
            } else {
                t_string!(i18n, topology_legend_not_ready)
            };
            view! { <li>{format!("{} → {}: {state} (⇄ {}, ! {})", l.host, l.member, l.flapping, l.failing)}</li> }
        })
        .collect_view();
    view! {
        <svg viewBox=format!("0 0 {WIDTH} 230") class="mt-2 h-auto w-full" role="img" aria-labelledby="topology-title" data-testid="topology">
            {links}
            {hosts}
            {members}
        </svg>
        <ul class="sr-only">{described}</ul>
    }
    .into_any()
}
