//! Where a federated object arrived: one chip per member cluster. The console's own verdict
//! comes first — a copy two hosts fight over, or one stuck deleting, is shown as such with a
//! link to its federation page, even while kubefed reports it propagated — then kubefed's
//! reason when it failed (the symbol and the text say it, not only the colour).

use leptos::prelude::*;

use crate::components::federation_state::state_label;
use crate::dto::PropagationEntry;
use crate::i18n::{t, use_i18n};

const GOOD: &str = "inline-flex items-center gap-1 rounded border border-emerald-200 bg-emerald-50 px-1.5 py-0.5 text-xs text-emerald-900";
const BAD: &str = "inline-flex items-center gap-1 rounded border border-red-200 bg-red-50 px-1.5 py-0.5 text-xs text-red-900";

/// `object`: `<kind>/<name>`, as the federation page's address names it.
#[component]
pub fn PropagationChips(object: String, entries: Vec<PropagationEntry>) -> impl IntoView {
    let i18n = use_i18n();
    if entries.is_empty() {
        return view! { <span class="text-xs text-slate-500">{t!(i18n, not_placed)}</span> }
            .into_any();
    }
    view! {
        <ul class="flex flex-wrap gap-1.5" data-testid="propagation">
            {entries
                .into_iter()
                .map(|(cluster, failure, verdict)| {
                    let label = cluster.clone();
                    match verdict {
                    Some(state) => view! {
                        <li data-cluster=cluster.clone() data-propagated="false" data-verdict=state.as_str() class=BAD>
                            <span aria-hidden="true">"✗"</span>
                            {label}
                            <a class="text-red-800 underline" href=format!("/federation?object={object}")>
                                {state_label(i18n, state)}
                            </a>
                        </li>
                    }
                    .into_any(),
                    None => {
                        let ok = failure.is_none();
                        view! {
                            <li data-cluster=cluster.clone() data-propagated=if ok { "true" } else { "false" } class=if ok { GOOD } else { BAD }>
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
                        .into_any()
                    }
                }})
                .collect_view()}
        </ul>
    }
    .into_any()
}
