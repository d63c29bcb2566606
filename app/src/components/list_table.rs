//! A list page's table: its header row, one body row per object, and a note instead when
//! there is nothing to list. Both stay in the page, so that rows can come and go live.

use leptos::prelude::*;

#[component]
pub fn ListTable(
    /// Nothing to list: the note shows, the table hides.
    #[prop(into)]
    empty: Signal<bool>,
    #[prop(into)] none: ViewFn,
    testid: &'static str,
    /// The header cells.
    head: AnyView,
    /// The body rows.
    children: Children,
) -> impl IntoView {
    view! {
        <Show when=move || empty.get()>
            <p class="mt-4 rounded-lg border border-dashed border-slate-300 bg-white p-6 text-sm text-slate-600">
                {none.run()}
            </p>
        </Show>
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm" class:hidden=move || empty.get()>
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid=testid>
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>{head}</tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{children()}</tbody>
            </table>
        </div>
    }
}
