//! The browser entry point: hydrate the server-rendered page.

// The whole app's view type is one deep generic type; hydrating it lazily needs the room.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the router waits for lazy pages' wasm chunks while it hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
