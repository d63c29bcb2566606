//! `memberAddresses:` in the configuration file: where the console may connect to reach
//! members (`clusters::address_policy` has the rules and why).
//!
//! ```yaml
//! memberAddresses:
//!   allowPlainHttp: false      # default; true only for labs without TLS
//!   allow: [10.20.0.0/16]      # when set, members only in these networks
//!   deny: [10.20.99.0/24]      # never these
//! ```

use serde::Deserialize;

use crate::clusters::{Cidr, MemberAddressPolicy};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawMemberAddresses {
    allow_plain_http: Option<bool>,
    allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
}

impl RawMemberAddresses {
    /// The policy, or (field path, problem, fix) for the first block that does not parse.
    /// The console's own address is added when the policy is used (`--listen` may change it).
    pub(super) fn parse(self) -> Result<MemberAddressPolicy, (String, String, &'static str)> {
        let blocks = |list: Option<Vec<String>>, field: &str| {
            list.unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    Cidr::parse(text).map_err(|problem| {
                        (
                            format!("memberAddresses.{field}[{i}]"),
                            problem,
                            "write a CIDR block such as 10.20.0.0/16 or fd00::/8, or one address",
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(MemberAddressPolicy {
            allow_plain_http: self.allow_plain_http.unwrap_or(false),
            allow: blocks(self.allow, "allow")?,
            deny: blocks(self.deny, "deny")?,
            console: Vec::new(),
        })
    }
}
