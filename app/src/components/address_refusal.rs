//! Why the console will not connect to a member's address, and what changes that, in the
//! reader's language: the member address policy's refusals (`fleet::clusters::address_policy`).

use leptos::prelude::*;

use crate::dto::clusters::{AddressRefusalView, AddressRule};
use crate::i18n::{t, use_i18n};

/// The refusal as a sentence.
#[component]
pub fn AddressRefusalText(refusal: AddressRefusalView) -> impl IntoView {
    let i18n = use_i18n();
    let AddressRefusalView(rule, address, detail) = refusal;
    let (address, detail) = (move || address.clone(), move || detail.clone());
    match rule {
        AddressRule::Scheme => t!(i18n, refusal_scheme, scheme = address).into_any(),
        AddressRule::PlainHttp => t!(i18n, refusal_plain_http, address = address).into_any(),
        AddressRule::Metadata => t!(i18n, refusal_metadata, address = address).into_any(),
        AddressRule::LinkLocal => t!(i18n, refusal_link_local, address = address).into_any(),
        AddressRule::NotOneMachine => {
            t!(i18n, refusal_not_one_machine, address = address).into_any()
        }
        AddressRule::Console => t!(i18n, refusal_console, address = address).into_any(),
        AddressRule::NotAllowed => t!(
            i18n,
            refusal_not_allowed,
            address = address,
            allowed = detail
        )
        .into_any(),
        AddressRule::Denied => {
            t!(i18n, refusal_denied, address = address, denied = detail).into_any()
        }
    }
}

/// What to do about it: the address to use instead, or the setting that changes the rule.
#[component]
pub fn AddressRefusalFix(rule: AddressRule) -> impl IntoView {
    let i18n = use_i18n();
    match rule {
        AddressRule::Scheme => t!(i18n, refusal_fix_scheme).into_any(),
        AddressRule::PlainHttp => t!(i18n, refusal_fix_plain_http).into_any(),
        AddressRule::Metadata | AddressRule::NotOneMachine | AddressRule::Console => {
            t!(i18n, refusal_fix_never).into_any()
        }
        AddressRule::LinkLocal => t!(i18n, refusal_fix_link_local).into_any(),
        AddressRule::NotAllowed => t!(i18n, refusal_fix_not_allowed).into_any(),
        AddressRule::Denied => t!(i18n, refusal_fix_denied).into_any(),
    }
}
