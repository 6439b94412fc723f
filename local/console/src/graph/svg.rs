//! The laid-out graph as one `<svg>` element. Colours are presentation attributes, so the SVG reads right on its
//! own (a saved file); [`super::GRAPH_CSS`] styles the same classes on the pages and wins over them.

use super::asl::EdgeKind;
use super::layout::{self, EdgeLine, Layout, NodeBox, NodeKind, n};
use super::runs::{Outcome, StateRun};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// (fill, stroke) of a box.
fn colours(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Succeeded => ("#e6f4ea", "#2e7d32"),
        Outcome::Failed => ("#fde7e3", "#d13212"),
        // It failed here (red, as AWS's console draws a failed state), and a Catch took the execution on (the
        // orange fill): an operator looking for where an execution went wrong finds it by the red.
        Outcome::Caught => ("#fff0e0", "#d13212"),
        Outcome::Retried => ("#fff8d6", "#b7950b"),
        Outcome::Running => ("#e3effd", "#1f6fd1"),
        Outcome::NotReached => ("#f4f5f7", "#a0a7b1"),
    }
}

fn shorten_to(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The tooltip: name, type, outcome, entries, retries, error.
fn title(nb: &NodeBox, outcome: Outcome, run: Option<&StateRun>) -> String {
    let mut t = format!("{} ({}): {}", nb.name, nb.ty(), outcome.label());
    if let Some(r) = run {
        if outcome == Outcome::NotReached && r.entered > 0 {
            t.push_str(" (cancelled)");
        }
        if r.entered > 1 {
            let _ = write!(t, "; entered {} times", r.entered);
        }
        if !r.attempts.is_empty() {
            let _ = write!(t, "; {} retried failure{}", r.attempts.len(), if r.attempts.len() == 1 { "" } else { "s" });
        }
        if let Some(e) = &r.error {
            let _ = write!(t, "; error {e}");
            if let Some(c) = r.cause.as_deref().filter(|c| !c.is_empty()) {
                let _ = write!(t, ": {}", shorten_to(c, 300));
            }
        }
    }
    t
}

fn state_open(out: &mut String, nb: &NodeBox, outcome: Outcome, run: Option<&StateRun>, container: bool) {
    let _ = write!(
        out,
        r#"<g class="state{} outcome-{}" data-state="{}" data-type="{}" tabindex="0"><title>{}</title>"#,
        if container { " container" } else { "" },
        outcome.class(),
        esc(&nb.name),
        esc(nb.ty()),
        esc(&title(nb, outcome, run)),
    );
}

fn badge(out: &mut String, nb: &NodeBox, run: Option<&StateRun>) {
    let Some(k) = run.map(|r| r.attempts.len()).filter(|&k| k > 0) else { return };
    let text = format!("↻ {k}");
    let w = layout::text_w(&text).max(22.0) + 4.0;
    let (x, y) = (nb.x + nb.w - w + 6.0, nb.y - 8.0);
    let _ = write!(
        out,
        r##"<g class="badge"><rect x="{}" y="{}" width="{}" height="16" rx="8" fill="#b7791f"/><text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#fff">{}</text></g>"##,
        n(x),
        n(y),
        n(w),
        n(x + w / 2.0),
        n(y + 12.0),
        esc(&text)
    );
}

fn edge(out: &mut String, e: &EdgeLine) {
    let dash = if e.kind == EdgeKind::Catch { r#" stroke-dasharray="5 4""# } else { "" };
    let stroke = if e.kind == EdgeKind::Catch { "#b45309" } else { "#5f6b7a" };
    let _ = write!(
        out,
        r#"<path class="edge {}{}" d="{}" fill="none" stroke="{stroke}" stroke-width="1.3"{dash} marker-end="url(#sfn-arrow)"/>"#,
        e.kind.class(),
        if e.back { " back" } else { "" },
        e.path()
    );
}

fn edge_label(out: &mut String, e: &EdgeLine) {
    let (Some(label), Some((x, y))) = (&e.label, e.label_at) else { return };
    let w = layout::text_w(label) * 0.92 + 8.0;
    let left = x - w / 2.0;
    let _ = write!(
        out,
        r##"<g class="edge-label {}"><rect x="{}" y="{}" width="{}" height="16" rx="3" fill="#fff" fill-opacity="0.9"/><text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#374151">{}</text></g>"##,
        e.kind.class(),
        n(left),
        n(y - 8.0),
        n(w),
        n(x),
        n(y + 4.0),
        esc(label)
    );
}

fn marker(out: &mut String, nb: &NodeBox) {
    let (class, word) = if nb.kind == NodeKind::Start { ("start", "Start") } else { ("end", "End") };
    let (cx, cy) = (nb.x + nb.w / 2.0, nb.y + nb.h / 2.0);
    if nb.depth == 0 {
        let _ = write!(
            out,
            r##"<g class="marker {class}"><rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="#fff" stroke="#5f6b7a"/><text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#374151">{word}</text></g>"##,
            n(nb.x),
            n(nb.y),
            n(nb.w),
            n(nb.h),
            n(nb.h / 2.0),
            n(cx),
            n(cy + 4.0)
        );
    } else {
        let fill = if class == "start" { "#5f6b7a" } else { "#fff" };
        let _ = write!(
            out,
            r##"<circle class="marker {class}" cx="{}" cy="{}" r="{}" fill="{fill}" stroke="#5f6b7a" stroke-width="1.5"><title>{word}</title></circle>"##,
            n(cx),
            n(cy),
            n(nb.w / 2.0 - 1.0)
        );
    }
}

/// The SVG for a layout, states coloured by `runs`.
pub fn svg(l: &Layout, runs: &BTreeMap<String, StateRun>) -> String {
    let mut out = String::with_capacity(512 + l.nodes.len() * 600 + l.edges.len() * 200);
    let (w, h) = (l.width.ceil(), l.height.ceil());
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="sfn-graph" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="State machine graph" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12"><defs><marker id="sfn-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#5f6b7a"/></marker></defs>"##,
        n(w),
        n(h),
        n(w),
        n(h)
    );
    let outcome = |name: &str| super::runs::outcome_of(runs, name);
    // Containers first (outermost first, as they are listed), so what is inside them is drawn on top.
    for nb in l.nodes.iter().filter(|nb| nb.is_container()) {
        let o = outcome(&nb.name);
        let run = runs.get(&nb.name);
        let (fill, stroke) = colours(o);
        state_open(&mut out, nb, o, run, true);
        let _ = write!(
            out,
            r#"<rect class="box" x="{}" y="{}" width="{}" height="{}" rx="10" fill="{fill}" fill-opacity="0.45" stroke="{stroke}" stroke-width="1.5"/><text class="name" x="{}" y="{}" font-weight="600" fill="{}">{}</text>"#,
            n(nb.x),
            n(nb.y),
            n(nb.w),
            n(nb.h),
            n(nb.x + 12.0),
            n(nb.y + 19.0),
            if o == Outcome::NotReached { "#6b7280" } else { "#1f2937" },
            esc(&layout::container_title(nb.ty(), &nb.name)),
        );
        for f in &nb.frames {
            let _ = write!(
                out,
                r##"<rect class="branch" x="{}" y="{}" width="{}" height="{}" rx="6" fill="#fff" fill-opacity="0.6" stroke="#c3c9d2" stroke-dasharray="3 3"/>"##,
                n(f.x),
                n(f.y),
                n(f.w),
                n(f.h)
            );
        }
        badge(&mut out, nb, run);
        out.push_str("</g>");
    }
    out.push_str(r#"<g class="edges">"#);
    for e in &l.edges {
        edge(&mut out, e);
    }
    out.push_str("</g>");
    for nb in &l.nodes {
        match nb.kind {
            NodeKind::Start | NodeKind::End => marker(&mut out, nb),
            NodeKind::State { .. } if nb.is_container() => {}
            NodeKind::State { .. } => {
                let o = outcome(&nb.name);
                let run = runs.get(&nb.name);
                let (fill, stroke) = colours(o);
                let cx = nb.x + nb.w / 2.0;
                state_open(&mut out, nb, o, run, false);
                let _ = write!(
                    out,
                    r##"<rect class="box" x="{}" y="{}" width="{}" height="{}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/><text class="name" x="{}" y="{}" text-anchor="middle" font-weight="600" fill="{}">{}</text><text class="type" x="{}" y="{}" text-anchor="middle" font-size="11" fill="#6b7280">{}</text>"##,
                    n(nb.x),
                    n(nb.y),
                    n(nb.w),
                    n(nb.h),
                    n(cx),
                    n(nb.y + 19.0),
                    if o == Outcome::NotReached { "#6b7280" } else { "#1f2937" },
                    esc(&layout::display_name(&nb.name)),
                    n(cx),
                    n(nb.y + 35.0),
                    esc(nb.ty()),
                );
                badge(&mut out, nb, run);
                out.push_str("</g>");
            }
        }
    }
    for e in &l.edges {
        edge_label(&mut out, e);
    }
    out.push_str("</svg>");
    out
}
