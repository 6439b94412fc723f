//! The operator console: the whole system on a few web pages, for the local stack (`/_console/` on its endpoint)
//! and for a deployed stack (`local console --aws`). Server-rendered HTML with a little plain JavaScript (no build
//! step), over one port, [`source::ConsoleSource`], so both stacks show the same pages.
//!
//! - [`source`]: the port, and the shapes the pages show;
//! - [`graph`]: a state machine laid out from its ASL and drawn as SVG, states coloured by what happened;
//! - [`cost`]: the functions' EMF lines aggregated into measurements, and a monthly estimate at AWS prices;
//! - [`dead_letter`]: a dead letter's body and attributes read into the original event, the error and the target;
//! - [`router()`]: the pages under `/_console/` (`router.rs` says which path goes where, `pages/` has one module per
//!   page, `html.rs` the layout and escaping, `error.rs` the one mapping of errors to statuses, `assets/` the CSS
//!   and the one script).

pub mod cost;
pub mod dead_letter;
pub mod graph;
pub mod source;

mod error;
pub mod html;
mod pages;
mod router;

pub use error::PageError;
pub use router::{CSP, router};
