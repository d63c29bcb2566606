//! Small building blocks shared by the pages.

pub mod create_form;
pub mod federation_state;
pub mod heading;
pub mod language;
pub mod layout;
pub mod list_table;
pub mod live;
pub mod problem;
pub mod propagation;
pub mod session;
pub mod status;
