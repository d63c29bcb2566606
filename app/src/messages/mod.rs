//! The words of fleet's cluster findings, job failures and refusals, in the reader's
//! language. The server words them when a page asks (the request's language: the person's
//! choice, else the browser's), so none of these sentences is in the browser's download; the
//! command line words them in English. The sentences themselves are in `locales/*.json`.

mod findings;
mod kubeconfig;
mod probe;
mod refusals;

pub use findings::{job_failure, step_words};
pub use probe::failure as probe_failure;
pub use refusals::{ClusterRefusal, cluster_refused};

use crate::i18n::Locale;

/// One translated sentence, with its arguments.
macro_rules! say {
    ($locale:expr, $($key_and_args:tt)*) => {
        $crate::i18n::td_string!($locale, $($key_and_args)*).to_string()
    };
}
pub(crate) use say;

/// What was found and, when there is something to do, what.
#[derive(Debug, Clone, PartialEq)]
pub struct Words {
    pub summary: String,
    pub fix: Option<String>,
}

impl Words {
    fn new(summary: String, fix: Option<String>) -> Self {
        Self { summary, fix }
    }
}

/// The language of the request being served.
pub fn request_locale() -> Locale {
    leptos_i18n::locale::resolve_locale::<Locale>()
}

/// "a, b and c" / "a、b 和 c".
pub(crate) fn list(locale: Locale, items: &[String]) -> String {
    let separator = match locale {
        Locale::en => ", ",
        Locale::zh => "、",
    };
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} {} {last}", rest.join(separator), say!(locale, list_and))
        }
        _ => items.concat(),
    }
}

/// Names as code: "`a`, `b` and `c`".
pub(crate) fn code_list(locale: Locale, names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    list(locale, &quoted)
}

/// Sentences that belong together: "a; b" / "a；b".
pub(crate) fn joined(locale: Locale, parts: &[String]) -> String {
    parts.join(match locale {
        Locale::en => "; ",
        Locale::zh => "；",
    })
}

#[cfg(test)]
mod tests;
