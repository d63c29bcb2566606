//! One federated object opened up: its state on every member, the hosts' competing versions
//! side by side (person-made differences first, generated ones after), the repairs
//! (`repair.rs`) and the audit log.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::kind_label;
use super::repair::{Repairs, federation_problem};
use super::table::{StateBadge, ago, short};
use crate::components::live::{LiveData, live_data};
use crate::components::problem::ErrorNotice;
use crate::dto::federation::{AuditAction, FederatedObjectView};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

#[cfg(feature = "ssr")]
pub(super) fn object_key(
    kind: &str,
    name: &str,
) -> Result<fleet::federation::ObjectKey, ConsoleError> {
    let kind = fleet::federation::FederatedKind::from_key(kind).ok_or_else(|| {
        crate::auth::set_status(http::StatusCode::NOT_FOUND);
        ConsoleError::FederationRefused(crate::error::FederationProblem::UnknownKind)
    })?;
    Ok(fleet::federation::ObjectKey {
        kind,
        name: name.to_string(),
    })
}

/// One object across hosts and members, with the hosts' versions compared.
#[server(prefix = "/api", endpoint = "federated_object")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn federated_object(
    kind: String,
    name: String,
) -> Result<FederatedObjectView, ConsoleError> {
    use crate::dto::federation::{FederatedRowView, FieldDiffView};
    use fleet::federation::diff::{Origin, diff_versions};

    let crate::auth::Caller { principal, console } =
        crate::auth::Caller::require(fleet::iam::Action::ViewFederation)?;
    let key = object_key(&kind, &name)?;
    let now = std::time::SystemTime::now();
    let repair = console
        .federation
        .repair(&key)
        .await
        .map(|r| crate::dto::repair::RepairView::from_record(&r, now));
    let row = match console.federation.row(&key) {
        Some(row) => FederatedRowView::from_row(&row, now),
        // Deleted everywhere a moment ago: the page still shows how.
        None if repair.is_some() => FederatedRowView::gone(key.kind, name.clone()),
        None => {
            crate::auth::set_status(http::StatusCode::NOT_FOUND);
            return Err(ConsoleError::FederationRefused(
                crate::error::FederationProblem::NotFederated,
            ));
        }
    };
    let diff = diff_versions(&console.federation.templates(&key).await);
    let audit = console
        .federation
        .audit_log()
        .await
        .into_iter()
        .filter(|e| e.kind == kind && e.name == name)
        .take(20)
        .collect();
    Ok(FederatedObjectView {
        row,
        differences: diff
            .differences
            .into_iter()
            .map(|d| FieldDiffView {
                path: d.path,
                person_made: d.origin == Origin::PersonMade,
                values: d.values,
            })
            .collect(),
        equal_fields: diff.equal_fields,
        may_manage: principal.may(fleet::iam::Action::ManageFederation),
        audit,
        repair,
    })
}

#[component]
pub fn FederatedObjectPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let query = use_query_map();
    let key = Memo::new(move |_| {
        let object = query.read().get("object").unwrap_or_default();
        match object.split_once('/') {
            Some((kind, name)) => (kind.to_string(), name.to_string()),
            None => (object, String::new()),
        }
    });
    let LiveData {
        first,
        live,
        changes,
    } = live_data(move || key.get(), |(k, n)| federated_object(k, n));
    view! {
        <a href="/federation" class="text-sm text-sky-700 hover:underline">{t!(i18n, federation_back)}</a>
        <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">{"…"}</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Err(ConsoleError::FederationRefused(problem)) => view! {
                        <p role="alert" data-testid="error-notice" class="mt-4 rounded-lg border border-amber-200 bg-amber-50 p-6 text-sm text-amber-900">
                            {key.with_untracked(|(kind, name)| federation_problem(i18n, &problem, kind, name))}
                        </p>
                    }.into_any(),
                    Err(error) => view! { <div class="mt-4"><ErrorNotice error /></div> }.into_any(),
                    Ok(initial) => {
                        let object = Memo::new(move |_| live.get().unwrap_or_else(|| initial.clone()));
                        // A running repair is followed every second, not every five.
                        Effect::new(move |_| {
                            if object.with(|o| o.repair.as_ref().is_some_and(|r| r.running())) {
                                set_timeout(move || changes.update(|c| *c += 1), Duration::from_secs(1));
                            }
                        });
                        let repair = Signal::derive(move || object.with(|o| o.repair.clone()));
                        let gone = Memo::new(move |_| object.with(|o| o.row.is_gone()));
                        let (kind, name, hosts, may_manage) = object.with_untracked(|o| (
                            o.row.kind,
                            o.row.name.clone(),
                            o.row.hosts.iter().filter(|h| h.fingerprint.is_some()).map(|h| h.host.clone()).collect::<Vec<_>>(),
                            o.may_manage,
                        ));
                        view! {
                            <div class="mt-2 flex flex-wrap items-center gap-3">
                                <h1 class="text-2xl font-semibold tracking-tight">
                                    <span class="mr-2 rounded bg-slate-100 px-2 py-0.5 align-middle text-sm font-normal text-slate-600">{kind_label(i18n, kind)}</span>
                                    {name.clone()}
                                </h1>
                                {move || object.with(|o| if o.row.is_gone() {
                                    view! { <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600 ring-1 ring-inset ring-slate-300" data-testid="object-gone">{t!(i18n, object_gone)}</span> }.into_any()
                                } else {
                                    view! { <StateBadge state=o.row.state.clone() /> }.into_any()
                                })}
                            </div>
                            {move || (!gone.get()).then(|| view! { <Members object /> <Versions object /> })}
                            {may_manage.then(|| view! { <Repairs kind=kind.key().to_string() name hosts changes repair gone /> })}
                            <AuditTrail object />
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Members(object: Memo<FederatedObjectView>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="mt-6" aria-labelledby="on-members">
            <h2 id="on-members" class="text-sm font-semibold text-slate-800">{t!(i18n, object_on_members)}</h2>
            <ul class="mt-2 grid gap-3 md:grid-cols-2" data-testid="object-members">
                {move || object.with(|o| o.row.members.clone()).into_iter().map(|m| view! {
                    <li class="rounded-lg border border-slate-200 bg-white p-3 text-sm shadow-sm">
                        <div class="flex items-center justify-between gap-2">
                            <span class="font-semibold">{m.member.clone()}</span>
                            <StateBadge state=m.state.clone() />
                        </div>
                        <p class="mt-1 text-slate-600">
                            {m.fingerprint.as_deref().map(short).unwrap_or_else(|| "—".into())}" · "
                            {m.written_by.clone().map(|h| t_string!(i18n, federation_written_by).replace("{host}", &h)).unwrap_or_else(|| t_string!(i18n, federation_written_by_none).to_string())}
                            " · "{ago(m.changed_secs_ago)}
                        </p>
                        <ul class="mt-1 text-xs text-slate-600">
                            {m.propagation.iter().map(|(host, status)| view! {
                                <li>{format!("{host}: ")}{if status.is_empty() { t_string!(i18n, object_propagated).to_string() } else { status.clone() }}</li>
                            }).collect_view()}
                        </ul>
                    </li>
                }.into_any()).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn Versions(object: Memo<FederatedObjectView>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="mt-6" aria-labelledby="versions">
            <h2 id="versions" class="text-sm font-semibold text-slate-800">{t!(i18n, object_versions)}</h2>
            {move || object.with(|o| {
                let hosts: Vec<String> = o.row.hosts.iter().filter(|h| h.fingerprint.is_some()).map(|h| h.host.clone()).collect();
                let equal = o.equal_fields;
                if o.differences.is_empty() {
                    return view! { <p class="mt-2 text-sm text-emerald-800" data-testid="no-differences">{t!(i18n, object_no_differences, count = move || equal)}</p> }.into_any();
                }
                view! {
                    <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
                        <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="version-diff">
                            <thead class="bg-slate-50 text-left text-xs font-semibold text-slate-600">
                                <tr>
                                    <th scope="col" class="px-3 py-2">{t!(i18n, object_field)}</th>
                                    <th scope="col" class="px-3 py-2">{t!(i18n, object_origin)}</th>
                                    {hosts.iter().map(|h| view! { <th scope="col" class="px-3 py-2" data-host=h.clone()>{h.clone()}</th> }).collect_view()}
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {o.differences.iter().map(|d| view! {
                                    <tr data-person-made=d.person_made.to_string()>
                                        <th scope="row" class="px-3 py-2 text-left font-mono text-xs font-normal">{d.path.clone()}</th>
                                        <td class="px-3 py-2 text-xs">
                                            {if d.person_made {
                                                view! { <span class="rounded bg-sky-50 px-1.5 py-0.5 font-medium text-sky-800">{t!(i18n, object_person_made)}</span> }.into_any()
                                            } else {
                                                view! { <span class="rounded bg-slate-100 px-1.5 py-0.5 text-slate-600">{t!(i18n, object_generated)}</span> }.into_any()
                                            }}
                                        </td>
                                        {hosts.iter().map(|h| {
                                            let value = d.values.iter().find(|(host, _)| host == h).and_then(|(_, v)| v.clone());
                                            view! { <td class="break-all px-3 py-2 font-mono text-xs">{value.unwrap_or_else(|| "—".into())}</td> }
                                        }).collect_view()}
                                    </tr>
                                }.into_any()).collect_view()}
                            </tbody>
                        </table>
                        <p class="px-3 py-2 text-xs text-slate-500">{t!(i18n, object_equal_fields, count = move || equal)}</p>
                    </div>
                }.into_any()
            })}
        </section>
    }
    .into_any()
}

#[component]
fn AuditTrail(object: Memo<FederatedObjectView>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="mt-6" aria-labelledby="audit">
            <h2 id="audit" class="text-sm font-semibold text-slate-800">{t!(i18n, object_audit)}</h2>
            {move || object.with(|o| {
                if o.audit.is_empty() {
                    return view! { <p class="mt-1 text-xs text-slate-500">{t!(i18n, object_audit_none)}</p> }.into_any();
                }
                view! {
                    <ol class="mt-2 space-y-1 text-xs" data-testid="audit-log">
                        {o.audit.iter().map(|e| view! {
                            <li class="flex flex-wrap gap-x-2" data-action=e.action.key()>
                                <span class="tabular-nums text-slate-400">{e.at.clone()}</span>
                                <span class="font-medium">{e.actor.clone()}</span>
                                <span>{match e.action {
                                    AuditAction::PickWinner => t_string!(i18n, object_audit_pick),
                                    AuditAction::CoordinatedDelete => t_string!(i18n, object_audit_delete),
                                }}</span>
                                <span class=if e.succeeded { "text-emerald-800" } else { "text-red-800" }>{e.detail.clone()}</span>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            })}
        </section>
    }
    .into_any()
}
