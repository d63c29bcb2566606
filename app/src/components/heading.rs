//! A list page's heading: its title, a line about what it shows on which host, and the
//! page's main action on the right.

use leptos::prelude::*;

#[component]
pub fn PageHeading(title: AnyView, intro: AnyView, children: Children) -> impl IntoView {
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                <p class="mt-1 max-w-2xl text-sm text-slate-600">{intro}</p>
            </div>
            {children()}
        </div>
    }
}

/// A host's name as headings name it.
pub fn host_code(host: String) -> impl IntoView {
    view! { <code class="rounded bg-slate-100 px-1 font-mono text-slate-800">{host}</code> }
}
