//! Users of the signed-in host: search, sort, paging, platform role and propagation to each
//! member, live; creating, enabling, disabling, re-roling and deleting for those allowed.

mod create;
mod row_actions;

use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::components::heading::{PageHeading, host_code};
use crate::components::list_table::ListTable;
use crate::components::live::{live_data, live_view};
use crate::components::propagation::PropagationChips;
use crate::components::status::{StatusBadge, Tone};
use crate::dto::users::{UserListView, UserRowView, UserSort, UserState};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

use create::CreateUserPanel;
use row_actions::RowActions;

/// One page of the signed-in host's users, from the watch-fed cache.
#[server(prefix = "/api", endpoint = "list_users")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn list_users(
    search: String,
    sort: UserSort,
    descending: bool,
    page: usize,
) -> Result<UserListView, ConsoleError> {
    use fleet::iam::Action;
    use fleet::iam::users::UserQuery;

    let crate::auth::Caller {
        principal,
        console: state,
    } = crate::auth::Caller::require(Action::ViewUsers)?;
    let cache = state.iam.host(&principal.host).and_then(|h| h.cache())?;
    let result = cache.user_page(&UserQuery {
        search,
        sort,
        descending,
        page,
        page_size: fleet::iam::users::DEFAULT_PAGE_SIZE,
    });
    let now = std::time::SystemTime::now();
    Ok(UserListView {
        host: principal.host.clone(),
        rows: result
            .rows
            .into_iter()
            .map(|r| {
                let troubled = state.federation.troubled_members(
                    &principal.host,
                    fleet::federation::FederatedKind::User,
                    &r.profile.name,
                );
                UserRowView::from_row(r, now, troubled)
            })
            .collect(),
        matching: result.matching,
        total: result.total,
        page,
        page_size: fleet::iam::users::DEFAULT_PAGE_SIZE,
        may_manage: principal.may(Action::ManageUsers),
        me: principal.username.clone(),
        roles: cache.assignable_global_roles(),
    })
}

/// The list's state, kept in the address so a search or page can be shared and reloaded.
#[derive(Clone, PartialEq)]
struct ListParams {
    search: String,
    sort: UserSort,
    descending: bool,
    page: usize,
}

lazy_page!(
    /// The users page is loaded on first visit, in its own wasm chunk, so the Overview that most
    /// sessions start on downloads less.
    UsersRoute => UsersPage
);

#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.read();
        ListParams {
            search: q.get("q").unwrap_or_default(),
            sort: q
                .get("sort")
                .and_then(|s| UserSort::from_key(&s))
                .unwrap_or_default(),
            descending: q.get("desc").is_some_and(|d| d == "1"),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        }
    });
    // The server renders the first page; after that the browser keeps it fresh, so only rows
    // that changed are redrawn (and focus and open forms survive a refresh).
    let data = live_data(
        move || params.get(),
        |p| list_users(p.search, p.sort, p.descending, p.page),
    );
    let changes = data.changes;
    live_view(data, move |list| {
        let p = params.get_untracked();
        let (sort, search) = (p.sort.key(), p.search.clone());
        let desc = if p.descending { "1" } else { "0" };
        let (host, may_manage, roles) =
            list.with_untracked(|l| (l.host.clone(), l.may_manage, l.roles.clone()));
        view! {
            <PageHeading
                title=t!(i18n, users_title).into_any()
                intro=t!(i18n, users_intro, host = move || host_code(host.clone())).into_any()
            >
                {may_manage.then(|| view! { <CreateUserPanel roles changes /> })}
            </PageHeading>
            <Form method="GET" action="" attr:class="mt-6 flex flex-wrap items-center gap-3" attr:role="search">
                <input type="hidden" name="sort" value=sort />
                <input type="hidden" name="desc" value=desc />
                <label class="sr-only" for="user-search">{t!(i18n, users_search)}</label>
                <input
                    id="user-search"
                    type="search"
                    name="q"
                    value=search
                    placeholder=move || t_string!(i18n, users_search)
                    class="w-72 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40"
                />
                <span class="text-sm text-slate-600" data-testid="users-count" aria-live="polite">
                    {move || list.with(|l| {
                        let (matching, total) = (l.matching, l.total);
                        t!(i18n, users_count, matching = matching, total = total)
                    })}
                </span>
            </Form>
            <UserTable list params=p.clone() changes />
            {move || view! { <Pager list=list.get() params=params.get_untracked() /> }}
        }
    })
}

fn href(p: &ListParams) -> String {
    let mut out = format!(
        "/users?sort={}&desc={}",
        p.sort.key(),
        if p.descending { 1 } else { 0 }
    );
    if !p.search.is_empty() {
        out.push_str("&q=");
        out.push_str(&crate::query::encode(&p.search));
    }
    if p.page > 0 {
        out.push_str(&format!("&page={}", p.page));
    }
    out
}

#[component]
fn SortHeader(label: AnyView, key: UserSort, params: ListParams) -> impl IntoView {
    let active = params.sort == key;
    let next = ListParams {
        sort: key,
        descending: active && !params.descending,
        page: 0,
        ..params.clone()
    };
    let aria = match (active, params.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    let arrow = match (active, params.descending) {
        (false, _) => "",
        (true, false) => " ▲",
        (true, true) => " ▼",
    };
    view! {
        <th scope="col" class="px-4 py-3" aria-sort=aria>
            <A href=href(&next) attr:class="hover:text-slate-900">{label}{arrow}</A>
        </th>
    }
}

#[component]
fn UserTable(
    list: Memo<UserListView>,
    params: ListParams,
    changes: RwSignal<u64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let (may_manage, roles, me) =
        list.with_untracked(|l| (l.may_manage, l.roles.clone(), l.me.clone()));
    let names = move || {
        list.with(|l| {
            l.rows
                .iter()
                .map(|r| r.profile.name.clone())
                .collect::<Vec<_>>()
        })
    };
    let head = view! {
        <SortHeader label=t!(i18n, col_user).into_any() key=UserSort::Name params=params.clone() />
        <SortHeader label=t!(i18n, col_status).into_any() key=UserSort::State params=params.clone() />
        <th scope="col" class="px-4 py-3">{t!(i18n, col_role)}</th>
        <th scope="col" class="px-4 py-3">{t!(i18n, col_propagation)}</th>
        <SortHeader label=t!(i18n, col_last_login).into_any() key=UserSort::LastLogin params=params.clone() />
        {may_manage.then(|| view! { <th scope="col" class="px-4 py-3 text-right">{t!(i18n, col_actions)}</th> })}
    };
    view! {
        <ListTable
            empty=Signal::derive(move || list.with(|l| l.rows.is_empty()))
            none=move || t!(i18n, users_none)
            testid="users-table"
            head=head.into_any()
        >
            <For each=names key=|name| name.clone() let:name>
                {
                    let own = name == me;
                    view! { <UserRow name list may_manage own roles=roles.clone() changes /> }
                }
            </For>
        </ListTable>
    }
}

/// One user's row. It stays in place while the list refreshes; only its cells follow the data.
#[component]
fn UserRow(
    name: String,
    list: Memo<UserListView>,
    may_manage: bool,
    own: bool,
    roles: Vec<String>,
    changes: RwSignal<u64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let row = {
        let name = name.clone();
        Memo::new(move |_| list.with(|l| l.rows.iter().find(|r| r.profile.name == name).cloned()))
    };
    let field =
        move |f: fn(&UserRowView) -> Option<String>| move || row.with(|r| r.as_ref().and_then(f));
    let badge = move || match row.with(|r| r.as_ref().map(|r| r.profile.state)) {
        Some(UserState::Active) => {
            view! { <StatusBadge tone=Tone::Good>{t!(i18n, state_active)}</StatusBadge> }.into_any()
        }
        Some(UserState::Disabled) => {
            view! { <StatusBadge tone=Tone::Bad>{t!(i18n, state_disabled)}</StatusBadge> }
                .into_any()
        }
        Some(UserState::AuthLimitExceeded) => {
            view! { <StatusBadge tone=Tone::Bad>{t!(i18n, state_locked)}</StatusBadge> }.into_any()
        }
        Some(UserState::Unknown) | None => {
            view! { <StatusBadge tone=Tone::Waiting>{t!(i18n, state_unknown)}</StatusBadge> }
                .into_any()
        }
    };
    let last_login = move || match row.with(|r| r.as_ref().and_then(|r| r.last_login_secs_ago)) {
        None => t!(i18n, never).into_any(),
        Some(secs) => view! { <Ago secs /> }.into_any(),
    };
    let state = Signal::derive(move || {
        row.with(|r| r.as_ref().map_or(UserState::Unknown, |r| r.profile.state))
    });
    let role = Signal::derive(move || {
        row.with(|r| r.as_ref().and_then(|r| r.profile.global_role.clone()))
    });
    let details = Signal::derive(move || {
        row.with(|r| {
            r.as_ref()
                .map(|r| {
                    (
                        r.profile.email.clone().unwrap_or_default(),
                        r.profile.description.clone().unwrap_or_default(),
                    )
                })
                .unwrap_or_default()
        })
    });
    view! {
        <tr data-testid="user-row" data-user=name.clone() class="align-top">
            <th scope="row" class="px-4 py-3 text-left font-normal">
                <div class="font-semibold text-slate-900">{name.clone()}</div>
                <div class="text-xs text-slate-500">{field(|r| r.profile.email.clone())}</div>
            </th>
            <td class="px-4 py-3">
                {badge}
                {move || field(|r| r.profile.reason.clone())().map(|r| view! { <p class="mt-1 max-w-xs text-xs text-slate-500">{r}</p> })}
            </td>
            <td class="px-4 py-3 font-mono text-xs">{move || role.get().unwrap_or_else(|| "—".into())}</td>
            <td class="px-4 py-3">
                {let object = format!("user/{name}"); move || view! { <PropagationChips object=object.clone() entries=row.with(|r| r.as_ref().map(|r| r.propagation.clone()).unwrap_or_default()) /> }}
            </td>
            <td class="px-4 py-3 text-slate-600 tabular-nums">{last_login}</td>
            {may_manage.then(|| view! {
                <td class="px-4 py-3 text-right">
                    <RowActions name=name.clone() state role own roles details changes />
                </td>
            })}
        </tr>
    }
}

#[component]
pub fn Ago(secs: u64) -> impl IntoView {
    let i18n = use_i18n();
    match secs {
        0..60 => t!(i18n, ago_secs, n = secs).into_any(),
        60..3600 => t!(i18n, ago_mins, n = secs / 60).into_any(),
        3600..86400 => t!(i18n, ago_hours, n = secs / 3600).into_any(),
        _ => t!(i18n, ago_days, n = secs / 86400).into_any(),
    }
}

#[component]
fn Pager(list: UserListView, params: ListParams) -> impl IntoView {
    let i18n = use_i18n();
    let pages = list.matching.div_ceil(list.page_size.max(1)).max(1);
    if pages <= 1 {
        return ().into_any();
    }
    let prev = (params.page > 0).then(|| {
        href(&ListParams {
            page: params.page - 1,
            ..params.clone()
        })
    });
    let next = (params.page + 1 < pages).then(|| {
        href(&ListParams {
            page: params.page + 1,
            ..params.clone()
        })
    });
    let link = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm hover:bg-slate-50";
    view! {
        <nav class="mt-4 flex items-center justify-between" aria-label="pagination">
            {prev.map(|h| view! { <A href=h attr:class=link>{t!(i18n, page_prev)}</A> })}
            <span class="text-sm text-slate-600">{t!(i18n, page_of, page = params.page + 1, pages = pages)}</span>
            {next.map(|h| view! { <A href=h attr:class=link>{t!(i18n, page_next)}</A> })}
        </nav>
    }
    .into_any()
}
