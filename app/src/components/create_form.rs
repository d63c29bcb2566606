//! A list page's "Create …" button, the form it opens, and what the form says when its
//! server action answers: the same for users and workspaces.

use leptos::prelude::*;

use crate::components::problem::ChangeRefused;
use crate::error::ConsoleError;
use crate::i18n::{t_string, use_i18n};

/// The classes of a create form's text fields and selects.
pub const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40";

/// A DNS label (RFC 1123), as Kubernetes names most objects.
pub const DNS_LABEL: &str = "[a-z0-9]([\\-a-z0-9]*[a-z0-9])?";

/// A DNS subdomain (labels joined by dots), as KubeSphere names users.
pub const DNS_SUBDOMAIN: &str =
    "[a-z0-9]([\\-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([\\-a-z0-9]*[a-z0-9])?)*";

/// The classes of the form itself.
pub const FORM: &str = "mt-4 grid w-full gap-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm sm:grid-cols-2";

/// What a create form's button, notice and footer share: whether it is open, the name of what
/// it created last, and its server action's answer and progress.
#[derive(Clone, Copy)]
pub struct CreateForm {
    pub open: RwSignal<bool>,
    created: RwSignal<Option<String>>,
    answer: Signal<Option<Result<String, ConsoleError>>>,
    pending: Signal<bool>,
}

impl CreateForm {
    /// Follows a create action: once it succeeds the form closes, the new name is announced
    /// and the list is asked to refresh (`changes`).
    pub fn follow<S>(action: ServerAction<S>, changes: RwSignal<u64>) -> Self
    where
        S: leptos::server_fn::ServerFn<Output = String, Error = ConsoleError>
            + Clone
            + Send
            + Sync
            + 'static,
    {
        let answer = Signal::derive(move || action.value().get());
        let pending = action.pending().into();
        let open = RwSignal::new(false);
        let created = RwSignal::new(None::<String>);
        Effect::new(move |_| {
            if let Some(Ok(name)) = answer.get() {
                created.set(Some(name));
                open.set(false);
                changes.update(|c| *c += 1);
            }
        });
        Self {
            open,
            created,
            answer,
            pending,
        }
    }
}

/// The button that opens and closes the form (`children`, with the id `create-<kind>-form`),
/// and the polite notice of what it created (`<kind>-created`).
#[component]
pub fn CreateToggle(
    form: CreateForm,
    kind: &'static str,
    label: Signal<String>,
    created: Callback<String, AnyView>,
    children: ChildrenFn,
) -> impl IntoView {
    let i18n = use_i18n();
    let CreateForm { open, .. } = form;
    view! {
        <div class="ml-auto">
            <button
                type="button"
                data-testid=format!("create-{kind}")
                aria-expanded=move || open.get().to_string()
                aria-controls=format!("create-{kind}-form")
                class="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if open.get() { t_string!(i18n, users_cancel).to_string() } else { label.get() }}
            </button>
        </div>
        <p role="status" class="w-full text-sm text-emerald-700" data-testid=format!("{kind}-created")>
            {move || form.created.get().map(|name| created.run(name))}
        </p>
        <Show when=move || open.get()>{children()}</Show>
    }
}

/// A form's name field, checked by the browser too (`pattern`), with its help text below.
#[component]
pub fn NameField(
    label: AnyView,
    help: AnyView,
    /// The help text's id, unique on the page.
    help_id: &'static str,
    #[prop(default = 63)] maxlength: u32,
    #[prop(default = DNS_LABEL)] pattern: &'static str,
) -> impl IntoView {
    view! {
        <label class="block text-sm font-medium">
            {label}
            <input name="name" required maxlength=maxlength autocomplete="off" autocapitalize="none" spellcheck="false"
                pattern=pattern aria-describedby=help_id class=FIELD />
            <span id=help_id class="mt-1 block text-xs font-normal text-slate-500">{help}</span>
        </label>
    }
}

/// The end of a create form: why the server refused it, and the submit button.
#[component]
pub fn CreateFooter(form: CreateForm) -> impl IntoView {
    let i18n = use_i18n();
    let CreateForm {
        answer, pending, ..
    } = form;
    view! {
        <div class="sm:col-span-2" aria-live="assertive">
            {move || match answer.get() {
                Some(Err(error)) => Some(view! { <ChangeRefused error /> }),
                _ => None,
            }}
        </div>
        <div class="sm:col-span-2 flex justify-end">
            <button
                type="submit"
                class="rounded-md bg-sky-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 disabled:opacity-60"
                disabled=move || pending.get()
            >
                {move || if pending.get() { t_string!(i18n, form_creating) } else { t_string!(i18n, form_create) }}
            </button>
        </div>
    }
}

/// A new password's field: KubeSphere's length rule checked by the browser too, with the rule
/// told below when `help_id` names it.
#[component]
pub fn NewPasswordField(
    label: AnyView,
    name: &'static str,
    #[prop(optional)] help: Option<(&'static str, AnyView)>,
    #[prop(default = FIELD)] class: &'static str,
) -> impl IntoView {
    let (help_id, help) = help.unzip();
    view! {
        <label class="block text-sm font-medium">
            {label}
            <input name=name type="password" required minlength="8" maxlength="64" autocomplete="new-password"
                aria-describedby=help_id class=class />
            {help.map(|help| view! { <span id=help_id class="mt-1 block text-xs font-normal text-slate-500">{help}</span> })}
        </label>
    }
}

/// A select of names with one chosen to start with (the default role, the creator).
#[component]
pub fn ChoiceField(
    label: AnyView,
    name: &'static str,
    choices: Vec<String>,
    chosen: String,
) -> impl IntoView {
    view! {
        <label class="block text-sm font-medium">
            {label}
            <select name=name class=FIELD>
                {choices
                    .into_iter()
                    .map(|choice| {
                        let (selected, value) = (choice == chosen, choice.clone());
                        view! { <option value=value selected=selected>{choice}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
