//! Small building blocks shared by the pages.

pub mod address_refusal;
pub mod federation_state;
pub mod language;
pub mod layout;
pub mod live;
pub mod problem;
pub mod propagation;
pub mod session;
pub mod status;
