//! One file per page; each page's server functions live next to it.

/// A route whose page is loaded on first visit, in its own wasm chunk, so that the Overview
/// most sessions start on downloads less: `lazy_page!(UsersRoute => UsersPage)`, or with a
/// block that builds the view.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        lazy_page!($(#[$doc])* $route => { view! { <$page /> }.into_any() });
    };
    ($(#[$doc:meta])* $route:ident => $view:block) => {
        $(#[$doc])*
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView $view
        }
    };
}

pub mod clusters;
pub mod federation;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod password;
pub mod users;
pub mod workspaces;
