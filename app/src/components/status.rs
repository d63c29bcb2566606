//! A coloured, labelled status badge: colour is never the only signal.

use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Waiting,
}

#[component]
pub fn StatusBadge(tone: Tone, children: Children) -> impl IntoView {
    let (classes, dot) = match tone {
        Tone::Good => (
            "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
            "bg-emerald-500",
        ),
        Tone::Bad => ("bg-red-50 text-red-800 ring-red-600/20", "bg-red-500"),
        Tone::Waiting => (
            "bg-slate-100 text-slate-700 ring-slate-500/20",
            "bg-slate-400 animate-pulse",
        ),
    };
    view! {
        <span class=format!(
            "inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {classes}",
        )>
            <span class=format!("h-1.5 w-1.5 rounded-full {dot}") aria-hidden="true"></span>
            {children()}
        </span>
    }
}
