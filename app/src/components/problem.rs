//! A server function's error, told in the reader's language with what to do next.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::i18n::{t, use_i18n};

#[component]
pub fn ErrorNotice(error: ConsoleError) -> impl IntoView {
    let i18n = use_i18n();
    let signed_out = matches!(error, ConsoleError::SignedOut);
    let text = match error {
        ConsoleError::SignedOut => t!(i18n, signed_out).into_any(),
        ConsoleError::Forbidden(_) => t!(i18n, forbidden).into_any(),
        ConsoleError::ServerUnavailable(detail) => {
            t!(i18n, server_unavailable, detail = move || detail.clone()).into_any()
        }
        other => other.to_string().into_any(),
    };
    view! {
        <section
            role="alert"
            data-testid="error-notice"
            class="rounded-lg border border-amber-200 bg-amber-50 p-6 text-amber-900"
        >
            <p class="text-sm">{text}</p>
            {signed_out
                .then(|| {
                    view! {
                        <a
                            href="/login"
                            rel="external"
                            class="mt-3 inline-block rounded-md bg-sky-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-sky-700"
                        >
                            {t!(i18n, log_in_again)}
                        </a>
                    }
                })}
        </section>
    }
}
