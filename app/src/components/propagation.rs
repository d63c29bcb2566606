//! Where a federated object arrived: one chip per member cluster, with kubefed's reason when
//! it did not (the symbol and the text say it, not only the colour).

use leptos::prelude::*;

use crate::i18n::{t, use_i18n};

#[component]
pub fn PropagationChips(entries: Vec<(String, Option<String>)>) -> impl IntoView {
    let i18n = use_i18n();
    if entries.is_empty() {
        return view! { <span class="text-xs text-slate-500">{t!(i18n, not_placed)}</span> }
            .into_any();
    }
    view! {
        <ul class="flex flex-wrap gap-1.5" data-testid="propagation">
            {entries
                .into_iter()
                .map(|(cluster, failure)| {
                    let ok = failure.is_none();
                    let label = cluster.clone();
                    view! {
                        <li
                            data-cluster=cluster.clone()
                            data-propagated=if ok { "true" } else { "false" }
                            class=if ok {
                                "inline-flex items-center gap-1 rounded border border-emerald-200 bg-emerald-50 px-1.5 py-0.5 text-xs text-emerald-900"
                            } else {
                                "inline-flex items-center gap-1 rounded border border-red-200 bg-red-50 px-1.5 py-0.5 text-xs text-red-900"
                            }
                        >
                            <span aria-hidden="true">{if ok { "✓" } else { "✗" }}</span>
                            {label}
                            <span class="text-slate-600">
                                {match failure {
                                    None => t!(i18n, propagated).into_any(),
                                    Some(reason) => reason.into_any(),
                                }}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
