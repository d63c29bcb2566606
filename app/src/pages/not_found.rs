use leptos::prelude::*;

use crate::i18n::{t, use_i18n};

/// Shown for any address no route matches, with a real 404 status for crawlers and scripts.
#[component]
pub fn NotFound() -> impl IntoView {
    crate::components::layout::page_hydrated();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http_not_found());
    }
    let i18n = use_i18n();
    view! {
        <section class="mx-auto max-w-lg py-16 text-center">
            <p class="text-5xl font-bold text-slate-300">"404"</p>
            <h1 class="mt-4 text-2xl font-semibold">{t!(i18n, not_found_title)}</h1>
            <p class="mt-2 text-slate-600">{t!(i18n, not_found_body)}</p>
            <a
                href="/"
                class="mt-6 inline-block rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white hover:bg-slate-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500"
            >
                {t!(i18n, back_to_overview)}
            </a>
        </section>
    }
}

#[cfg(feature = "ssr")]
fn http_not_found() -> http::StatusCode {
    http::StatusCode::NOT_FOUND
}
