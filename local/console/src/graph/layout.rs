//! A layered (Sugiyama-style) layout of each scope, top to bottom, inside out: the scopes nested in a Parallel or
//! Map are laid out first and become the size of their container, which is then laid out like any other state.
//!
//! Per scope: edges that close a loop are found by a depth-first search from the start and left out of layering
//! (they are drawn up the right-hand side); layers are the longest path from the start, a labelled edge counting two
//! so its label gets a layer of its own; edges spanning layers get a point per layer crossed (the label rides on the
//! first); nodes are ordered by barycentre sweeps (down, up, down) to cut crossings; x is each node's preferred spot
//! (the mean of its neighbours) squeezed apart to keep gaps, averaged over a left-to-right and a right-to-left pass.
//! Everything is linear or `n log n` in the nodes and crossed layers, and deterministic.

use super::GraphError;
use super::asl::{self, EdgeKind, Inner, Scope};
use serde_json::Value;

/// Width of a character at the 12 px font, approximately.
pub const CHAR_W: f64 = 7.0;
const NAME_MAX: usize = 40;
const NODE_H: f64 = 44.0;
const NODE_MIN_W: f64 = 110.0;
const LAYER_GAP: f64 = 30.0;
const NODE_GAP: f64 = 24.0;
const DUMMY_GAP: f64 = 10.0;
const LABEL_H: f64 = 18.0;
const HEADER_H: f64 = 30.0;
const PAD: f64 = 12.0;
/// Layer-crossing points per scope: this many per node, plus the base.
const CROSSING_BUDGET_PER_NODE: usize = 8;
const CROSSING_BUDGET_BASE: usize = 500;

/// Where everything is, in SVG user units (px) from the top-left.
#[derive(Debug, Clone)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<NodeBox>,
    pub edges: Vec<EdgeLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A state; Parallel and Map states are containers of other nodes.
    State { ty: String },
    /// Where its scope starts (a "Start" pill at the top level, a dot inside containers).
    Start,
    /// Where its scope ends.
    End,
}

#[derive(Debug, Clone)]
pub struct NodeBox {
    /// The state's name ("" for start and end markers).
    pub name: String,
    pub kind: NodeKind,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// The container (Parallel or Map node) this node is drawn in.
    pub parent: Option<usize>,
    /// Nesting depth: 0 for the machine's own scope.
    pub depth: usize,
    /// For a container: the frame of each nested scope (a Parallel's branches; a Map's one processor).
    pub frames: Vec<Rect>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl NodeBox {
    pub fn rect(&self) -> Rect {
        Rect { x: self.x, y: self.y, w: self.w, h: self.h }
    }

    pub fn is_container(&self) -> bool {
        !self.frames.is_empty()
    }

    pub fn ty(&self) -> &str {
        match &self.kind {
            NodeKind::State { ty } => ty,
            NodeKind::Start => "Start",
            NodeKind::End => "End",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EdgeLine {
    /// Indexes into [`Layout::nodes`].
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    pub label: Option<String>,
    /// Centre of the label.
    pub label_at: Option<(f64, f64)>,
    /// The route: leaves `from` at the middle of its bottom side, ends on `to`'s top side (at the middle, or
    /// spread along it when several edges arrive).
    pub points: Vec<(f64, f64)>,
    /// Closes a loop: routed up the right-hand side with straight segments.
    pub back: bool,
}

impl EdgeLine {
    /// The SVG path: straight where x stays the same or the edge loops back, else a curve with vertical ends.
    pub fn path(&self) -> String {
        let mut d = String::with_capacity(self.points.len() * 24);
        for (i, &(x, y)) in self.points.iter().enumerate() {
            if i == 0 {
                d.push_str(&format!("M{} {}", n(x), n(y)));
                continue;
            }
            let (px, py) = self.points[i - 1];
            if self.back || (px - x).abs() < 0.5 {
                d.push_str(&format!(" L{} {}", n(x), n(y)));
            } else {
                let my = (py + y) / 2.0;
                d.push_str(&format!(" C{} {} {} {} {} {}", n(px), n(my), n(x), n(my), n(x), n(y)));
            }
        }
        d
    }
}

/// A number as SVG wants it: at most one decimal.
pub fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{}", r as i64) } else { format!("{r:.1}") }
}

/// The text shown as a state's name: at most [`NAME_MAX`] characters.
pub fn display_name(name: &str) -> String {
    if name.chars().count() <= NAME_MAX {
        name.to_string()
    } else {
        let mut s: String = name.chars().take(NAME_MAX - 1).collect();
        s.push('…');
        s
    }
}

pub fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// The container's heading.
pub fn container_title(ty: &str, name: &str) -> String {
    if ty == "Map" {
        format!("Map: each item · {}", display_name(name))
    } else {
        format!("Parallel · {}", display_name(name))
    }
}

/// Lays out a definition.
pub fn layout(definition: &Value) -> Result<Layout, GraphError> {
    let scope = asl::parse(definition)?;
    let b = block(&scope, 0);
    Ok(Layout { width: b.w, height: b.h, nodes: b.nodes, edges: b.edges })
}

/// A scope laid out with its top-left at (0, 0).
struct Block {
    w: f64,
    h: f64,
    nodes: Vec<NodeBox>,
    edges: Vec<EdgeLine>,
}

impl Block {
    /// Moves `self` by (dx, dy) into `into`, its top-level nodes inside `container`.
    fn embed(self, into: &mut Vec<NodeBox>, edges: &mut Vec<EdgeLine>, container: usize, dx: f64, dy: f64) {
        let base = into.len();
        for mut nb in self.nodes {
            nb.x += dx;
            nb.y += dy;
            nb.parent = Some(nb.parent.map_or(container, |p| p + base));
            for f in &mut nb.frames {
                f.x += dx;
                f.y += dy;
            }
            into.push(nb);
        }
        for mut e in self.edges {
            e.from += base;
            e.to += base;
            for p in &mut e.points {
                p.0 += dx;
                p.1 += dy;
            }
            if let Some(l) = &mut e.label_at {
                l.0 += dx;
                l.1 += dy;
            }
            edges.push(e);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Start,
    End,
    State(usize),
    /// A point of an edge crossing this layer.
    Dummy,
}

struct Node {
    kind: Kind,
    w: f64,
    h: f64,
    layer: usize,
    x: f64,
    preds: Vec<usize>,
    succs: Vec<usize>,
}

struct Edge {
    from: usize,
    to: usize,
    kind: EdgeKind,
    label: Option<String>,
    back: bool,
    /// The nodes it passes through, `from` and `to` included.
    chain: Vec<usize>,
}

fn block(scope: &Scope, depth: usize) -> Block {
    let top = depth == 0;
    let margin = if top { 16.0 } else { 10.0 };
    let states = &scope.states;
    let count = states.len();
    // The nested scopes first: they give containers their size.
    let inner: Vec<Vec<Block>> = states
        .iter()
        .map(|s| match &s.inner {
            Inner::None => Vec::new(),
            Inner::Branches(bs) => bs.iter().map(|b| block(b, depth + 1)).collect(),
            Inner::Processor(p) => vec![block(p, depth + 1)],
        })
        .collect();
    let mut nodes: Vec<Node> = Vec::with_capacity(count + 2);
    let marker = if top { (64.0, 28.0) } else { (16.0, 16.0) };
    let mk = |kind, (w, h): (f64, f64)| Node { kind, w, h, layer: 0, x: 0.0, preds: vec![], succs: vec![] };
    nodes.push(mk(Kind::Start, marker));
    for (i, s) in states.iter().enumerate() {
        let size = if inner[i].is_empty() {
            let w = text_w(&display_name(&s.name)).max(text_w(&s.ty)) + 28.0;
            (w.max(NODE_MIN_W).ceil(), NODE_H)
        } else {
            let bw: f64 = inner[i].iter().map(|b| b.w).sum::<f64>() + PAD * (inner[i].len().saturating_sub(1)) as f64;
            let bh = inner[i].iter().map(|b| b.h).fold(0.0, f64::max);
            let title = text_w(&container_title(&s.ty, &s.name)) + 2.0 * PAD;
            ((bw + 2.0 * PAD).max(title).max(NODE_MIN_W).ceil(), HEADER_H + bh + PAD)
        };
        nodes.push(mk(Kind::State(i), size));
    }
    let end = nodes.len();
    nodes.push(mk(Kind::End, marker));

    // Edges, with parallel ones of one kind (two Choice rules to one state) merged.
    let mut edges: Vec<Edge> = Vec::new();
    let mut add = |from: usize, to: usize, kind: EdgeKind, label: Option<String>| {
        if let Some(e) = edges.iter_mut().rev().take(16).find(|e| e.from == from && e.to == to && e.kind == kind) {
            if let (Some(a), Some(b)) = (&mut e.label, label) {
                *a = asl::shorten(&format!("{a} / {b}"));
            }
            return;
        }
        edges.push(Edge { from, to, kind, label, back: false, chain: Vec::new() });
    };
    add(0, scope.start + 1, EdgeKind::Start, None);
    for (i, s) in states.iter().enumerate() {
        for t in &s.out {
            add(i + 1, t.to + 1, t.kind, t.label.clone());
        }
        if s.ends {
            add(i + 1, end, EdgeKind::End, None);
        }
    }
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (k, e) in edges.iter().enumerate() {
        out_edges[e.from].push(k);
    }

    // Loops: an edge to a node still on the DFS stack closes one.
    let mut color = vec![0u8; nodes.len()];
    let mut pre = vec![0usize; nodes.len()];
    let mut seen = 0;
    let roots: Vec<usize> = (0..nodes.len()).collect();
    for &root in &roots {
        if color[root] != 0 {
            continue;
        }
        color[root] = 1;
        pre[root] = seen;
        seen += 1;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (u, ref mut next)) = stack.last_mut() {
            if let Some(&k) = out_edges[u].get(*next) {
                *next += 1;
                let v = edges[k].to;
                match color[v] {
                    0 => {
                        color[v] = 1;
                        pre[v] = seen;
                        seen += 1;
                        stack.push((v, 0));
                    }
                    1 => edges[k].back = true,
                    _ => {}
                }
            } else {
                color[u] = 2;
                stack.pop();
            }
        }
    }

    // Layers: longest path over forward edges (Kahn's order), labelled edges counting two.
    let mut indeg = vec![0usize; nodes.len()];
    for e in edges.iter().filter(|e| !e.back) {
        indeg[e.to] += 1;
    }
    let mut layer = vec![1usize; nodes.len()];
    layer[0] = 0;
    let mut queue: std::collections::VecDeque<usize> = (0..nodes.len()).filter(|&v| indeg[v] == 0).collect();
    while let Some(u) = queue.pop_front() {
        for &k in &out_edges[u] {
            let e = &edges[k];
            if e.back {
                continue;
            }
            let len = if e.label.is_some() { 2 } else { 1 };
            layer[e.to] = layer[e.to].max(layer[u] + len);
            indeg[e.to] -= 1;
            if indeg[e.to] == 0 {
                queue.push_back(e.to);
            }
        }
    }
    let deepest = (0..nodes.len()).filter(|&v| v != end).map(|v| layer[v]).max().unwrap_or(0);
    layer[end] = deepest + 1;
    for (v, node) in nodes.iter_mut().enumerate() {
        node.layer = layer[v];
    }

    // Points where edges cross layers; the label rides on the first. Within a budget, shortest edges first: past
    // it (thousands of long Catch edges), an edge is one curve from end to end, which may cross other nodes.
    let mut budget = CROSSING_BUDGET_PER_NODE * nodes.len() + CROSSING_BUDGET_BASE;
    let mut by_span: Vec<usize> = (0..edges.len()).filter(|&k| !edges[k].back).collect();
    by_span.sort_by_key(|&k| nodes[edges[k].to].layer.saturating_sub(nodes[edges[k].from].layer));
    let mut crossings = vec![false; edges.len()];
    for k in by_span {
        let span = nodes[edges[k].to].layer.saturating_sub(nodes[edges[k].from].layer);
        if span.saturating_sub(1) <= budget {
            budget -= span.saturating_sub(1);
            crossings[k] = true;
        }
    }
    let mut order_key: Vec<f64> = pre.iter().map(|&p| p as f64).collect();
    for (k, e) in edges.iter_mut().enumerate() {
        e.chain.push(e.from);
        if crossings[k] {
            let (a, b) = (nodes[e.from].layer, nodes[e.to].layer);
            for l in a + 1..b {
                let (w, h) = match (&e.label, l == a + 1) {
                    (Some(t), true) => (text_w(t) * 0.92 + 10.0, LABEL_H),
                    _ => (2.0, 0.0),
                };
                let d = nodes.len();
                let mut node = mk(Kind::Dummy, (w, h));
                node.layer = l;
                nodes.push(node);
                order_key.push(pre[e.from] as f64 + 0.5 + (l - a) as f64 * 1e-3);
                e.chain.push(d);
            }
        }
        e.chain.push(e.to);
        if crossings[k] {
            for pair in e.chain.windows(2) {
                nodes[pair[0]].succs.push(pair[1]);
                nodes[pair[1]].preds.push(pair[0]);
            }
        }
    }

    // Order within layers: DFS order, then barycentre sweeps.
    let layer_count = layer[end] + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    for (v, node) in nodes.iter().enumerate() {
        layers[node.layer].push(v);
    }
    let mut pos = vec![0.0f64; nodes.len()];
    for l in &mut layers {
        l.sort_by(|&a, &b| order_key[a].total_cmp(&order_key[b]));
        for (i, &v) in l.iter().enumerate() {
            pos[v] = i as f64;
        }
    }
    let sweep = |layers: &mut Vec<Vec<usize>>, pos: &mut Vec<f64>, down: bool| {
        let ls: Vec<usize> =
            if down { (1..layer_count).collect() } else { (0..layer_count.saturating_sub(1)).rev().collect() };
        for l in ls {
            let keys: Vec<(usize, f64)> = layers[l]
                .iter()
                .map(|&v| {
                    let near = if down { &nodes[v].preds } else { &nodes[v].succs };
                    let bc = if near.is_empty() {
                        pos[v]
                    } else {
                        near.iter().map(|&u| pos[u]).sum::<f64>() / near.len() as f64
                    };
                    (v, bc)
                })
                .collect();
            let mut keyed = keys;
            keyed.sort_by(|a, b| a.1.total_cmp(&b.1).then(pos[a.0].total_cmp(&pos[b.0])));
            layers[l] = keyed.iter().map(|k| k.0).collect();
            for (i, &v) in layers[l].iter().enumerate() {
                pos[v] = i as f64;
            }
        }
    };
    sweep(&mut layers, &mut pos, true);
    sweep(&mut layers, &mut pos, false);
    sweep(&mut layers, &mut pos, true);

    // x: packed, then pulled towards neighbours (down, up, down).
    let gap = |a: &Node, b: &Node| {
        if matches!(a.kind, Kind::Dummy) && matches!(b.kind, Kind::Dummy) { DUMMY_GAP } else { NODE_GAP }
    };
    for l in &layers {
        let mut x = 0.0;
        let mut prev: Option<usize> = None;
        for &v in l {
            if let Some(p) = prev {
                x += gap(&nodes[p], &nodes[v]);
            }
            nodes[v].x = x + nodes[v].w / 2.0;
            x += nodes[v].w;
            prev = Some(v);
        }
        for &v in l {
            nodes[v].x -= x / 2.0;
        }
    }
    for down in [true, false, true] {
        let ls: Vec<usize> =
            if down { (1..layer_count).collect() } else { (0..layer_count.saturating_sub(1)).rev().collect() };
        for l in ls {
            let order = &layers[l];
            let want: Vec<f64> = order
                .iter()
                .map(|&v| {
                    let near = if down { &nodes[v].preds } else { &nodes[v].succs };
                    if near.is_empty() {
                        nodes[v].x
                    } else {
                        near.iter().map(|&u| nodes[u].x).sum::<f64>() / near.len() as f64
                    }
                })
                .collect();
            let m = order.len();
            let mut left = want.clone();
            for i in 1..m {
                let d = (nodes[order[i - 1]].w + nodes[order[i]].w) / 2.0 + gap(&nodes[order[i - 1]], &nodes[order[i]]);
                left[i] = left[i].max(left[i - 1] + d);
            }
            let mut right = want;
            for i in (0..m.saturating_sub(1)).rev() {
                let d = (nodes[order[i]].w + nodes[order[i + 1]].w) / 2.0 + gap(&nodes[order[i]], &nodes[order[i + 1]]);
                right[i] = right[i].min(right[i + 1] - d);
            }
            for i in 0..m {
                nodes[order[i]].x = (left[i] + right[i]) / 2.0;
            }
        }
    }
    let min_x = nodes.iter().map(|v| v.x - v.w / 2.0).fold(f64::INFINITY, f64::min);
    let shift = margin - if min_x.is_finite() { min_x } else { 0.0 };
    for v in &mut nodes {
        v.x += shift;
    }

    // y: layer by layer.
    let mut tops = Vec::with_capacity(layer_count);
    let mut bottoms = Vec::with_capacity(layer_count);
    let mut y = margin;
    for l in &layers {
        let h = l.iter().map(|&v| nodes[v].h).fold(0.0, f64::max);
        tops.push(y);
        bottoms.push(y + h);
        y += h + LAYER_GAP;
    }
    let height = y - LAYER_GAP + margin;
    let mut right = nodes.iter().map(|v| v.x + v.w / 2.0).fold(0.0, f64::max);

    // The node boxes, containers with their nested scopes moved inside.
    let mut boxes: Vec<NodeBox> = Vec::with_capacity(count + 2);
    let mut extra_edges: Vec<EdgeLine> = Vec::new();
    let mut index = vec![usize::MAX; end + 1];
    let mut inner = inner;
    for v in 0..=end {
        let node = &nodes[v];
        let (name, kind) = match node.kind {
            Kind::Start => (String::new(), NodeKind::Start),
            Kind::End => (String::new(), NodeKind::End),
            Kind::State(i) => (states[i].name.clone(), NodeKind::State { ty: states[i].ty.clone() }),
            Kind::Dummy => continue,
        };
        let (x, y) = (node.x - node.w / 2.0, tops[node.layer]);
        let mut nb = NodeBox { name, kind, x, y, w: node.w, h: node.h, parent: None, depth, frames: Vec::new() };
        let me = boxes.len();
        index[v] = me;
        let blocks = match node.kind {
            Kind::State(i) => std::mem::take(&mut inner[i]),
            _ => Vec::new(),
        };
        let used: f64 = blocks.iter().map(|b| b.w).sum::<f64>() + PAD * blocks.len().saturating_sub(1) as f64;
        let mut bx = x + (node.w - used) / 2.0;
        let by = y + HEADER_H;
        let mut placed = Vec::new();
        for b in blocks {
            nb.frames.push(Rect { x: bx, y: by, w: b.w, h: b.h });
            let w = b.w;
            placed.push((b, bx));
            bx += w + PAD;
        }
        boxes.push(nb);
        for (b, bx) in placed {
            b.embed(&mut boxes, &mut extra_edges, me, bx, by);
        }
    }

    // Routes.
    let mut lines: Vec<EdgeLine> = Vec::with_capacity(edges.len() + extra_edges.len());
    let mut channel = right + 14.0;
    for e in &edges {
        let (s, t) = (&nodes[e.from], &nodes[e.to]);
        let (sb, tt) = (tops[s.layer] + s.h, tops[t.layer]);
        let mut pts = vec![(s.x, sb)];
        let mut label_at = None;
        if e.back {
            let below = bottoms[s.layer] + LAYER_GAP / 2.0;
            let above = tt - LAYER_GAP / 2.0;
            pts.extend([(s.x, below), (channel, below), (channel, above), (t.x, above), (t.x, tt)]);
            let lw = e.label.as_deref().map_or(0.0, text_w);
            if e.label.is_some() {
                label_at = Some((channel + 6.0 + lw / 2.0, (below + above) / 2.0));
            }
            right = right.max(channel + if lw > 0.0 { 8.0 + lw } else { 0.0 });
            channel += 14.0 + if lw > 0.0 { lw + 8.0 } else { 0.0 };
        } else {
            if bottoms[s.layer] > sb + 0.5 {
                pts.push((s.x, bottoms[s.layer]));
            }
            for &d in &e.chain[1..e.chain.len() - 1] {
                let dn = &nodes[d];
                pts.push((dn.x, tops[dn.layer]));
                if dn.h > 0.0 && e.label.is_some() && label_at.is_none() {
                    label_at = Some((dn.x, tops[dn.layer] + dn.h / 2.0));
                }
                if bottoms[dn.layer] > tops[dn.layer] + 0.5 {
                    pts.push((dn.x, bottoms[dn.layer]));
                }
            }
            pts.push((t.x, tt));
            if e.label.is_some() && label_at.is_none() {
                label_at = Some(((s.x + t.x) / 2.0, (sb + tt) / 2.0));
            }
        }
        lines.push(EdgeLine {
            from: index[e.from],
            to: index[e.to],
            kind: e.kind,
            label: e.label.clone(),
            label_at,
            points: pts,
            back: e.back,
        });
    }
    spread_ends(&mut lines, &boxes);
    lines.extend(extra_edges);
    Block { w: right + margin, h: height, nodes: boxes, edges: lines }
}

/// Spreads the ends of edges arriving at one node along its top side, in the order they come from (left to right).
fn spread_ends(lines: &mut [EdgeLine], boxes: &[NodeBox]) {
    let mut by_target: Vec<Vec<usize>> = vec![Vec::new(); boxes.len()];
    for (k, e) in lines.iter().enumerate() {
        by_target[e.to].push(k);
    }
    for (t, mut ks) in by_target.into_iter().enumerate() {
        if ks.len() < 2 {
            continue;
        }
        let from_x = |k: usize| {
            let p = &lines[k].points;
            if lines[k].back { f64::INFINITY } else { p[p.len().saturating_sub(2)].0 }
        };
        ks.sort_by(|&a, &b| from_x(a).total_cmp(&from_x(b)).then(a.cmp(&b)));
        let nb = &boxes[t];
        let step = (14.0f64).min((nb.w - 16.0).max(0.0) / (ks.len() - 1) as f64);
        let mid = nb.x + nb.w / 2.0;
        for (i, &k) in ks.iter().enumerate() {
            let x = mid + (i as f64 - (ks.len() - 1) as f64 / 2.0) * step;
            let e = &mut lines[k];
            let last = e.points.len() - 1;
            if e.back && last >= 1 {
                e.points[last - 1].0 = x;
            }
            e.points[last].0 = x;
        }
    }
}
