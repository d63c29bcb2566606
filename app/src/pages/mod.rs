//! One file per page; each page's server functions live next to it.

pub mod clusters;
pub mod federation;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod password;
pub mod users;
pub mod workspaces;
