//! The frame around every page: skip link, header with navigation and language switch, and
//! an error boundary so one failing page never takes the whole console down.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::SessionView;
use crate::components::language::LanguageSwitch;
use crate::components::session::{UserMenu, current_session};
use crate::i18n::{t, t_string, use_i18n};

/// Set once the current page's own code runs in the browser.
#[derive(Clone, Copy)]
pub struct PageHydrated(RwSignal<bool>);

/// Called by every page: marks the page live once it has hydrated; returns the translations.
pub fn page_hydrated() -> leptos_i18n::I18nContext<crate::i18n::Locale> {
    if let Some(PageHydrated(ready)) = use_context::<PageHydrated>() {
        Effect::new(move |_| ready.set(true));
    }
    use_i18n()
}

/// The signed-in user, as pages read it to offer only what the user may do.
#[derive(Clone, Copy)]
pub struct CurrentSession(pub Resource<Option<SessionView>>);

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    // Effects run only in the browser, after hydration: tests and scripts wait for this mark
    // before they click, because clicks on a page that is not hydrated yet do nothing.
    // Lazy pages hydrate after their wasm chunk arrives, later than this frame: the mark waits
    // for the page too (each page calls `page_hydrated`).
    let (hydrated, set_hydrated) = signal(false);
    let page = PageHydrated(RwSignal::new(false));
    provide_context(page);
    Effect::new(move |_| set_hydrated.set(true));
    // Read once per page load: logging in and out are full page loads.
    let session = Resource::new(
        || (),
        |_| async move { current_session().await.ok().flatten() },
    );
    provide_context(CurrentSession(session));

    view! {
        <div
            class="flex min-h-screen flex-col"
            data-hydrated=move || (hydrated.get() && page.0.get()).then_some("true")
        >
            <a
                href="#main"
                class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-slate-900"
            >
                {t!(i18n, skip_to_content)}
            </a>
            <header class="bg-slate-900 text-white">
                <div class="mx-auto flex max-w-6xl items-center gap-6 px-4 py-3">
                    <a href="/" class="flex items-center gap-2 font-semibold tracking-tight">
                        <Logo />
                        <span class="text-lg">{t!(i18n, app_name)}</span>
                        <span class="hidden text-sm font-normal text-slate-400 sm:inline">
                            {t!(i18n, tagline)}
                        </span>
                    </a>
                    <Transition fallback=|| view! { <div class="flex-1"></div> }>
                        {move || Suspend::new(async move {
                            match session.await {
                                Some(session) => view! {
                                    <MainNav
                                        may_view_clusters=session.may(crate::auth::Action::ViewClusters)
                                        may_view_users=session.may(crate::auth::Action::ViewUsers)
                                        // Everyone may have workspaces of their own.
                                        may_view_workspaces=true
                                        may_view_federation=session.may(crate::auth::Action::ViewFederation)
                                    />
                                    <UserMenu session />
                                }
                                .into_any(),
                                None => view! { <div class="flex-1"></div> }.into_any(),
                            }
                        })}
                    </Transition>
                    <LanguageSwitch />
                </div>
            </header>
            <main id="main" tabindex="-1" class="mx-auto w-full max-w-6xl flex-1 px-4 py-8 outline-none">
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>{children()}</ErrorBoundary>
            </main>
        </div>
    }
}

#[component]
fn MainNav(
    may_view_clusters: bool,
    may_view_users: bool,
    may_view_workspaces: bool,
    may_view_federation: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let link = "rounded px-3 py-1.5 text-sm font-medium text-slate-300 hover:bg-slate-800 hover:text-white aria-[current=page]:bg-slate-800 aria-[current=page]:text-white";
    view! {
        <nav aria-label=move || t_string!(i18n, nav_label) class="flex-1">
            <ul class="flex gap-1">
                <li>
                    <A
                        href="/"
                        attr:class="rounded px-3 py-1.5 text-sm font-medium text-slate-300 hover:bg-slate-800 hover:text-white aria-[current=page]:bg-slate-800 aria-[current=page]:text-white"
                    >
                        {t!(i18n, nav_overview)}
                    </A>
                </li>
                {may_view_clusters.then(|| view! {
                    <li>
                        <A href="/clusters" attr:class=link>{t!(i18n, nav_clusters)}</A>
                    </li>
                })}
                {may_view_users.then(|| view! {
                    <li>
                        <A href="/users" attr:class=link>{t!(i18n, nav_users)}</A>
                    </li>
                })}
                {may_view_workspaces.then(|| view! {
                    <li>
                        <A href="/workspaces" attr:class=link>{t!(i18n, nav_workspaces)}</A>
                    </li>
                })}
                {may_view_federation.then(|| view! {
                    <li>
                        <A href="/federation" attr:class=link>{t!(i18n, nav_federation)}</A>
                    </li>
                })}
            </ul>
        </nav>
    }
}

#[component]
fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section role="alert" class="rounded-lg border border-red-200 bg-red-50 p-6 text-red-900">
            <h1 class="text-lg font-semibold">{t!(i18n, error_title)}</h1>
            <ul class="mt-2 list-disc pl-5 text-sm">
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
            <p class="mt-3 text-sm">{t!(i18n, error_retry)}</p>
        </section>
    }
}

/// Two overlapping rings: two hosts, one fleet.
#[component]
fn Logo() -> impl IntoView {
    view! {
        <svg viewBox="0 0 32 32" class="h-7 w-7" aria-hidden="true">
            <circle cx="12" cy="16" r="8" fill="none" stroke="#38bdf8" stroke-width="3" />
            <circle cx="20" cy="16" r="8" fill="none" stroke="#a78bfa" stroke-width="3" />
        </svg>
    }
}
