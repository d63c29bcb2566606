//! The English / 中文 switch. The choice is kept in a cookie so the server renders the next page
//! in the same language, and `<html lang>` follows it (leptos_i18n sets both).

use leptos::prelude::*;
use leptos_use::SameSite;

use crate::i18n::{Locale, t_string, use_i18n};

/// A year, in the milliseconds leptos-use expects.
const ONE_YEAR_MS: i64 = 365 * 24 * 60 * 60 * 1000;

/// The language cookie: site-wide, a year long, never sent on cross-site requests.
pub fn cookie_options() -> leptos_i18n::context::CookieOptions<Locale> {
    leptos_i18n::context::CookieOptions::<Locale>::default()
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(ONE_YEAR_MS)
}

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let option = move |locale: Locale, label: &'static str, lang: &'static str| {
        let pressed = move || i18n.get_locale() == locale;
        view! {
            <button
                type="button"
                lang=lang
                aria-pressed=move || pressed().to_string()
                class="rounded px-2.5 py-1 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
                class=("bg-white", pressed)
                class=("text-slate-900", pressed)
                class=("text-slate-300", move || !pressed())
                class=("hover:text-white", move || !pressed())
                on:click=move |_| i18n.set_locale(locale)
            >
                {label}
            </button>
        }
    };
    view! {
        <div
            role="group"
            aria-label=move || t_string!(i18n, language)
            class="flex items-center gap-1 rounded-md bg-slate-800 p-0.5"
        >
            {option(Locale::en, "English", "en")}
            {option(Locale::zh, "中文", "zh")}
        </div>
    }
}
