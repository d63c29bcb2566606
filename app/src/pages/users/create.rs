//! The create-user form: KubeSphere's fields and rules, checked again on the server.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::create_form::{
    ChoiceField, CreateFooter, CreateForm, CreateToggle, DNS_SUBDOMAIN, FIELD, FORM, NameField,
    NewPasswordField,
};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

#[server(prefix = "/api", endpoint = "create_user")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip(password)))]
pub async fn create_user(
    name: String,
    email: String,
    global_role: String,
    password: String,
    description: String,
) -> Result<String, ConsoleError> {
    use crate::auth::Caller;
    use crate::error::refused;
    use fleet::events::ObjectKind;
    use fleet::iam::Action;
    use fleet::iam::user_admin::NewUser;

    let Caller { principal, console } = Caller::require(Action::ManageUsers)?;
    let new = NewUser {
        name: name.trim().to_string(),
        email: email.trim().to_string(),
        password,
        global_role,
        description,
    };
    console
        .iam
        .create_user(&principal.host, &new)
        .await
        .map_err(refused(&principal, format!("User {}", new.name)))?;
    tracing::info!(by = %principal.username, user = %new.name, host = %principal.host, "user created");
    let what = format!("created user {}", new.name);
    console.record_change(&principal, "UserCreated", ObjectKind::User, &new.name, what);
    Ok(new.name)
}

#[component]
pub fn CreateUserPanel(roles: Vec<String>, changes: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<CreateUser>::new();
    let form = CreateForm::follow(action, changes);
    let field = FIELD;
    let roles = StoredValue::new(roles);
    view! {
        <CreateToggle form kind="user"
            label=Signal::derive(move || t_string!(i18n, users_create).to_string())
            created=Callback::new(move |name: String| t!(i18n, user_created, name = move || name.clone()).into_any())
        >
            <ActionForm action attr:id="create-user-form" attr:data-testid="create-user-form" attr:class=FORM>
                <NameField label=t!(i18n, form_username).into_any() help=t!(i18n, form_username_help).into_any()
                    help_id="name-help" maxlength=32 pattern=DNS_SUBDOMAIN />
                <label class="block text-sm font-medium">
                    {t!(i18n, form_email)}
                    <input name="email" type="email" required autocomplete="off" class=field />
                </label>
                // KubeSphere's least-privileged platform role is the default.
                <ChoiceField label=t!(i18n, form_role).into_any() name="global_role"
                    choices=roles.get_value() chosen=wire::users::DEFAULT_PLATFORM_ROLE.to_string() />
                <NewPasswordField label=t!(i18n, form_password).into_any() name="password"
                    help=("password-help", t!(i18n, form_password_help).into_any()) />
                <label class="block text-sm font-medium sm:col-span-2">
                    {t!(i18n, form_description)}
                    <textarea name="description" maxlength="256" rows="2" class=field></textarea>
                </label>
                <CreateFooter form />
            </ActionForm>
        </CreateToggle>
    }
}
