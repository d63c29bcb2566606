//! The values that cross from the domain to the pages as closed sets: enums, never strings
//! matched back. `fleet` produces them, `app` shows them, and both compile this one
//! definition, so a new variant is a compile error wherever it is not handled yet.
//!
//! Only unit and newtype variants: serde_json builds a whole deserializer per struct variant,
//! and the browser's first download pays for it (README "Size").

pub mod clusters;
pub mod federation;
pub mod users;
