//! A federated object's state in words and colours, for the Overview's counts and the
//! federation pages (colour is never the only signal: the label is always there).

use crate::dto::StateKey;
use crate::i18n::t_string;

pub fn state_label(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    state: StateKey,
) -> &'static str {
    match state {
        StateKey::Flapping => t_string!(i18n, state_flapping),
        StateKey::StuckDeleting => t_string!(i18n, state_stuck_deleting),
        StateKey::SyncFailing => t_string!(i18n, state_sync_failing),
        StateKey::NotOnMember => t_string!(i18n, state_not_on_member),
        StateKey::Differs => t_string!(i18n, state_differs),
        StateKey::Missing => t_string!(i18n, state_missing),
        StateKey::Propagating => t_string!(i18n, state_propagating),
        StateKey::InSync => t_string!(i18n, state_in_sync),
        StateKey::Gone => t_string!(i18n, object_gone),
    }
}

/// Colours of a state with `count` objects (muted when there are none).
pub fn state_tone(state: StateKey, count: usize) -> &'static str {
    if count == 0 {
        return "bg-white text-slate-500 ring-slate-200";
    }
    match state {
        StateKey::Flapping | StateKey::StuckDeleting => "bg-red-50 text-red-800 ring-red-600/20",
        StateKey::SyncFailing | StateKey::NotOnMember | StateKey::Differs | StateKey::Missing => {
            "bg-amber-50 text-amber-900 ring-amber-600/20"
        }
        StateKey::Propagating => "bg-sky-50 text-sky-800 ring-sky-600/20",
        StateKey::InSync => "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
        StateKey::Gone => "bg-slate-100 text-slate-700 ring-slate-400/20",
    }
}
