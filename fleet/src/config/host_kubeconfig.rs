//! A host's kubeconfig in the configuration file: read, its context chosen, and its token
//! one that kube can send.

use std::path::Path;

use kube::config::Kubeconfig;

pub(super) struct KubeconfigProblem {
    pub text: String,
    pub fix: &'static str,
}

pub(super) fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, KubeconfigProblem> {
    let text = std::fs::read_to_string(path).map_err(|e| KubeconfigProblem {
        text: format!("cannot read {}: {e}", path.display()),
        fix: "point it at an existing kubeconfig file; a relative path is taken from the config file's directory",
    })?;
    let kubeconfig = Kubeconfig::from_yaml(&text).map_err(|e| KubeconfigProblem {
        text: format!("{} is not a valid kubeconfig: {e}", path.display()),
        fix: "use a kubeconfig as written by kubectl (`kubectl config view --raw --minify` prints one)",
    })?;
    // kube sends the token and impersonation as headers and panics on a value no header can
    // carry (a line break pasted into it): refused here, naming the user, never the value.
    for named in &kubeconfig.auth_infos {
        let field = named
            .auth_info
            .as_ref()
            .and_then(crate::clusters::kubeconfig::field_no_header_carries);
        if let Some(field) = field {
            return Err(KubeconfigProblem {
                text: format!(
                    "{}: the {field} of user `{}` holds a line break or another character no HTTP header can carry",
                    path.display(),
                    named.name
                ),
                fix: if field == "token" {
                    "copy the token again as one line (`kubectl create token` prints one)"
                } else {
                    "write the value on one line, without control characters"
                },
            });
        }
    }
    Ok(kubeconfig)
}

pub(super) fn check_context(
    kubeconfig: &Kubeconfig,
    wanted: Option<&str>,
) -> Result<(), (String, String)> {
    let available: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let list = || {
        if available.is_empty() {
            "the kubeconfig has no contexts; add one with `kubectl config set-context`".to_string()
        } else {
            format!("use one of: {}", available.join(", "))
        }
    };
    match wanted.or(kubeconfig.current_context.as_deref()) {
        None => Err((
            "the kubeconfig has no current-context and none is given".into(),
            format!("set `context:`; {}", list()),
        )),
        Some(name) if !available.contains(&name) => {
            Err((format!("context `{name}` is not in the kubeconfig"), list()))
        }
        Some(_) => Ok(()),
    }
}
