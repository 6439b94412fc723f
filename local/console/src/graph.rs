//! A state machine drawn from its ASL as an SVG, each state coloured by what happened to it in one execution.
//!
//! - [`runs`]: per-state outcomes (succeeded, failed, caught, retried, running, not reached) from a
//!   `GetExecutionHistory` history;
//! - [`layout`]: a layered top-to-bottom layout of the definition, Parallel and Map states as containers of their
//!   branches and ItemProcessor;
//! - [`render`]: both together as one `<svg>` element for a page, styled by [`GRAPH_CSS`].
//!
//! Pure code, no I/O. Hand-written rather than a crate: the Rust graph-layout crates either call Graphviz's `dot`
//! (not installed everywhere this runs) or lay out flat graphs, while this drawing needs Step Functions' shapes
//! (Parallel and Map as nested containers, dashed Catch edges, loops routed on the side) and stable output for
//! tests. Work is bounded: at most [`MAX_STATES`] states and [`MAX_DEPTH`] nesting levels, a budget of layer
//! crossings per scope, and a layout near-linear in the size of the graph.

mod asl;
mod layout;
mod runs;
mod svg;

pub use asl::{EdgeKind, MAX_DEPTH, MAX_STATES};
pub use layout::{EdgeLine, Layout, NodeBox, NodeKind, Rect, layout};
pub use runs::{Attempt, Outcome, StateRun, outcome_of, runs};
pub use svg::esc;

use serde_json::Value;
use std::collections::BTreeMap;

/// Why a definition cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Not a state machine the drawing understands (not an object, no `StartAt`, a `Next` to no state, …).
    #[error("cannot draw this state machine: {0}")]
    Invalid(String),
    #[error("cannot draw this state machine: it has more than {0} states")]
    TooLarge(usize),
    #[error("cannot draw this state machine: Parallel and Map states nest more than {0} deep")]
    TooDeep(usize),
}

/// The definition as an `<svg>` element, states coloured by `runs` (empty: all "not reached").
pub fn render(definition: &Value, runs: &BTreeMap<String, StateRun>) -> Result<String, GraphError> {
    Ok(svg::svg(&layout(definition)?, runs))
}

/// Styles for the classes [`render`] writes; they override the SVG's own colours.
pub const GRAPH_CSS: &str = r#"
.sfn-graph { max-width: 100%; height: auto; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.sfn-graph .state { cursor: pointer; }
.sfn-graph .state:focus { outline: none; }
.sfn-graph .state > rect.box { transition: stroke-width .1s; }
.sfn-graph .state:hover > rect.box, .sfn-graph .state:focus-visible > rect.box, .sfn-graph .state.selected > rect.box { stroke-width: 3; }
.sfn-graph .state .name { font-weight: 600; fill: #1f2937; }
.sfn-graph .state .type { font-size: 11px; fill: #6b7280; }
.sfn-graph .outcome-succeeded > rect.box { fill: #e6f4ea; stroke: #2e7d32; }
.sfn-graph .outcome-failed > rect.box { fill: #fde7e3; stroke: #d13212; }
.sfn-graph .outcome-caught > rect.box { fill: #fff0e0; stroke: #d13212; stroke-dasharray: 6 3; }
.sfn-graph .outcome-retried > rect.box { fill: #fff8d6; stroke: #b7950b; }
.sfn-graph .outcome-running > rect.box { fill: #e3effd; stroke: #1f6fd1; }
.sfn-graph .outcome-not-reached > rect.box { fill: #f4f5f7; stroke: #a0a7b1; }
.sfn-graph .outcome-not-reached .name { fill: #6b7280; }
.sfn-graph .container > rect.box { fill-opacity: .45; }
.sfn-graph .outcome-running > rect.box { animation: sfn-pulse 1.6s ease-in-out infinite; }
@keyframes sfn-pulse { 50% { stroke-width: 3; } }
.sfn-graph .badge rect { fill: #b7791f; }
.sfn-graph .badge text { fill: #fff; font-size: 11px; }
.sfn-graph .edge { fill: none; stroke: #5f6b7a; stroke-width: 1.3; }
.sfn-graph .edge.catch { stroke: #b45309; stroke-dasharray: 5 4; }
.sfn-graph .edge-label text { font-size: 11px; fill: #374151; }
.sfn-graph .edge-label.catch text { fill: #b45309; }
.sfn-graph .marker text { fill: #374151; }
@media (prefers-reduced-motion: reduce) { .sfn-graph .outcome-running > rect.box { animation: none; } }
"#;

#[cfg(test)]
mod tests;
