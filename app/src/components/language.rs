//! The English / 中文 switch. The choice is kept in a cookie so the server renders the next page
//! in the same language (the server reads it, see `server/src/locale.rs`), and `<html lang>`
//! follows it (leptos_i18n sets it; hydration starts from it).

use leptos::prelude::*;

use crate::i18n::{Locale, t_string, use_i18n};

/// The language cookie's name.
pub const LANGUAGE_COOKIE: &str = "tandem_lang";

/// Remembers the choice for a year, site-wide, never sent on cross-site requests. Not
/// HttpOnly: it holds no secret, and the page itself writes it.
fn remember(locale: Locale) {
    #[cfg(feature = "hydrate")]
    {
        let lang = match locale {
            Locale::en => "en",
            Locale::zh => "zh",
        };
        let value = format!("{LANGUAGE_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
        let _ = js_sys::Reflect::set(&document(), &"cookie".into(), &value.into());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = locale;
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
                on:click=move |_| {
                    i18n.set_locale(locale);
                    remember(locale);
                }
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
