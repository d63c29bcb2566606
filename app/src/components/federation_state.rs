//! A federated object's state in words and colours, for the Overview's counts and the
//! federation pages (colour is never the only signal: the label is always there).

use crate::i18n::t_string;

pub fn state_label(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, key: &str) -> &'static str {
    match key {
        "flapping" => t_string!(i18n, state_flapping),
        "stuck-deleting" => t_string!(i18n, state_stuck_deleting),
        "sync-failing" => t_string!(i18n, state_sync_failing),
        "not-on-member" => t_string!(i18n, state_not_on_member),
        "differs" => t_string!(i18n, state_differs),
        "missing" => t_string!(i18n, state_missing),
        "propagating" => t_string!(i18n, state_propagating),
        "in-sync" => t_string!(i18n, state_in_sync),
        // Never shown as good: a state this build does not know.
        _ => t_string!(i18n, state_unknown),
    }
}

/// Colours of a state with `count` objects (muted when there are none).
pub fn state_tone(key: &str, count: usize) -> &'static str {
    if count == 0 {
        return "bg-white text-slate-500 ring-slate-200";
    }
    match key {
        "flapping" | "stuck-deleting" => "bg-red-50 text-red-800 ring-red-600/20",
        "sync-failing" | "not-on-member" | "differs" | "missing" => {
            "bg-amber-50 text-amber-900 ring-amber-600/20"
        }
        "propagating" => "bg-sky-50 text-sky-800 ring-sky-600/20",
        "in-sync" => "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
        _ => "bg-slate-100 text-slate-700 ring-slate-400/20",
    }
}
