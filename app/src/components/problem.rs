//! A server function's error, told in the reader's language with what to do next.

use leptos::prelude::*;

use crate::error::ConsoleError;
use crate::i18n::{t, use_i18n};

#[component]
pub fn ErrorNotice(error: ConsoleError) -> impl IntoView {
    let i18n = use_i18n();
    let signed_out = matches!(error, ConsoleError::SignedOut);
    let text = match error {
        ConsoleError::SignedOut => t!(i18n, signed_out).into_any(),
        ConsoleError::Forbidden(_) => t!(i18n, forbidden).into_any(),
        ConsoleError::ServerUnavailable(detail) => {
            t!(i18n, server_unavailable, detail = move || detail.clone()).into_any()
        }
        other => other.to_string().into_any(),
    };
    view! {
        <section
            role="alert"
            data-testid="error-notice"
            class="rounded-lg border border-amber-200 bg-amber-50 p-6 text-amber-900"
        >
            <p class="text-sm">{text}</p>
            {signed_out
                .then(|| {
                    view! {
                        <a
                            href="/login"
                            rel="external"
                            class="mt-3 inline-block rounded-md bg-sky-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-sky-700"
                        >
                            {t!(i18n, log_in_again)}
                        </a>
                    }
                })}
        </section>
    }
}

/// A refused change to a user, told with its fix; other errors as [`ErrorNotice`] tells them.
#[component]
pub fn ChangeRefused(error: ConsoleError) -> impl IntoView {
    use crate::error::UserProblem as P;
    let i18n = use_i18n();
    let text = match error {
        ConsoleError::UserRefused(problem) => match problem {
            P::InvalidName => t!(i18n, problem_invalid_name).into_any(),
            P::InvalidEmail => t!(i18n, problem_invalid_email).into_any(),
            P::WeakPassword => t!(i18n, problem_weak_password).into_any(),
            P::DescriptionTooLong => t!(i18n, problem_description_long).into_any(),
            P::UnknownRole(role) => {
                t!(i18n, problem_unknown_role, role = move || role.clone()).into_any()
            }
            P::NameTaken(name) => {
                t!(i18n, problem_name_taken, name = move || name.clone()).into_any()
            }
            P::EmailTaken(owner) => {
                t!(i18n, problem_email_taken, owner = move || owner.clone()).into_any()
            }
            P::ExistsOnOtherHost((name, host)) => {
                let link = other_object_link(i18n, "user", &name);
                view! {
                    {t!(
                        i18n,
                        problem_other_host,
                        name = move || name.clone(),
                        host = move || host.clone()
                    )}
                    " "
                    {link}
                }
                .into_any()
            }
            P::NotFound(name) => {
                t!(i18n, problem_not_found, name = move || name.clone()).into_any()
            }
            P::OwnAccount => t!(i18n, problem_own_account).into_any(),
            P::IncorrectCurrentPassword => t!(i18n, problem_current_password).into_any(),
            P::PasswordMismatch => t!(i18n, problem_password_mismatch).into_any(),
            P::Host(problem) => host_problem(i18n, problem),
        },
        ConsoleError::WorkspaceRefused(problem) => workspace_problem(i18n, problem),
        ConsoleError::SignedOut => t!(i18n, signed_out).into_any(),
        ConsoleError::Forbidden(_) => t!(i18n, forbidden).into_any(),
        other => other.to_string().into_any(),
    };
    view! {
        <p role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {text}
        </p>
    }
}

fn workspace_problem(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    problem: crate::error::WorkspaceProblem,
) -> AnyView {
    use crate::error::WorkspaceProblem as P;
    match problem {
        P::InvalidName => t!(i18n, ws_problem_invalid_name).into_any(),
        P::NameTaken(name) => {
            t!(i18n, ws_problem_name_taken, name = move || name.clone()).into_any()
        }
        P::ExistsOnOtherHost((name, host)) => {
            let link = other_object_link(i18n, "workspace", &name);
            view! {
                {t!(
                    i18n,
                    ws_problem_other_host,
                    name = move || name.clone(),
                    host = move || host.clone()
                )}
                " "
                {link}
            }
            .into_any()
        }
        P::UnknownUser(name) => {
            t!(i18n, ws_problem_unknown_user, name = move || name.clone()).into_any()
        }
        P::UnknownRole => t!(i18n, ws_problem_unknown_role).into_any(),
        P::UnknownCluster(name) => t!(
            i18n,
            ws_problem_unknown_cluster,
            name = move || name.clone()
        )
        .into_any(),
        P::NotFound(name) => t!(i18n, ws_problem_not_found, name = move || name.clone()).into_any(),
        P::TooLong => t!(i18n, ws_problem_too_long).into_any(),
        P::Host(problem) => host_problem(i18n, problem),
    }
}

type I18n = leptos_i18n::I18nContext<crate::i18n::Locale>;

/// How the host answered a write it refused, with what to do about it.
fn host_answer(i18n: I18n, answer: crate::error::HostAnswer) -> AnyView {
    use crate::error::HostAnswer as A;
    match answer {
        A::Conflict(detail) => t!(i18n, host_conflict, detail = move || detail.clone()).into_any(),
        A::Forbidden(detail) => {
            t!(i18n, host_forbidden, detail = move || detail.clone()).into_any()
        }
        A::Gone(detail) => t!(i18n, host_gone, detail = move || detail.clone()).into_any(),
        A::Rejected(detail) => t!(i18n, host_rejected, detail = move || detail.clone()).into_any(),
        A::Unavailable(detail) => t!(
            i18n,
            problem_host_unavailable,
            detail = move || detail.clone()
        )
        .into_any(),
    }
}

/// How the host's side of a change to a user or a workspace failed.
fn host_problem(i18n: I18n, problem: crate::error::HostProblem) -> AnyView {
    use crate::error::HostProblem as P;
    match problem {
        P::Refused(answer) => host_answer(i18n, answer),
        P::RoleNotGiven(answer) => {
            view! { {t!(i18n, role_not_given)} " " {host_answer(i18n, answer)} }.into_any()
        }
        P::OldRoleKept((binding, answer)) => view! {
            {t!(i18n, old_role_kept, binding = move || binding.clone())}
            " "
            {host_answer(i18n, answer)}
        }
        .into_any(),
    }
}

/// A link to the same-name object as every host holds it, on the federation page.
fn other_object_link(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    kind: &str,
    name: &str,
) -> AnyView {
    let href = crate::pages::federation::object_href(kind, name);
    view! {
        <a href=href class="font-medium underline" data-testid="other-object-link">
            {t!(i18n, problem_other_object_link)}
        </a>
    }
    .into_any()
}
