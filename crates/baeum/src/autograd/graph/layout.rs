//! A small layered layout (in the manner of Sugiyama et al.) for drawing a graph left to right:
//! ranks by longest path, a dummy point wherever an edge skips a rank, a barycenter ordering
//! within ranks to reduce crossings, and vertical positions that keep order while pulling each
//! box level with its neighbours.

use std::collections::VecDeque;

/// A box to place: its size in pixels.
#[derive(Clone, Copy, Debug)]
pub(super) struct Size {
    pub w: f64,
    pub h: f64,
}

/// An edge to route, from the right side of `src` to input port `port` (of `ports`) on the left
/// side of `dst`, with room for a label of width `label_w` before `dst` (the route's last
/// segment then runs level for `label_w + LABEL_RUN`).
#[derive(Clone, Copy, Debug)]
pub(super) struct EdgeSpec {
    pub src: usize,
    pub dst: usize,
    pub port: usize,
    pub ports: usize,
    pub label_w: f64,
}

/// The placed picture: box centres, and each edge as a polyline from source to target.
pub(super) struct Placed {
    pub centers: Vec<(f64, f64)>,
    pub routes: Vec<Vec<(f64, f64)>>,
    pub width: f64,
    pub height: f64,
}

/// Space between boxes of one rank, and around a dummy point (a passing edge).
const BOX_GAP: f64 = 18.0;
const DUMMY_GAP: f64 = 8.0;
/// The least horizontal gap between ranks.
const RANK_GAP: f64 = 44.0;
/// The most the gap between ranks widens for steep edges, and how much per pixel of climb.
const MAX_RANK_GAP: f64 = 140.0;
const CLIMB_SLOPE: f64 = 0.2;
/// Level run before a target beyond an edge label's width (the arrowhead and some air).
pub(super) const LABEL_RUN: f64 = 16.0;
/// Vertical distance between input ports.
const PORT_STEP: f64 = 16.0;
/// Sweeps of the ordering and of the positioning.
const ORDER_SWEEPS: usize = 24;
const PLACE_SWEEPS: usize = 10;

/// One element of a rank: a box, or a point where an edge passes through the rank.
struct Item {
    w: f64,
    h: f64,
    dummy: bool,
    /// A box with no inputs (a leaf), or a point of an edge that leaves one.
    light: bool,
    rank: usize,
    /// Neighbours in the previous and the next rank, with the vertical offset of the port the
    /// segment uses on this item (for `preds`) or on the neighbour (for `succs`).
    preds: Vec<(usize, f64)>,
    succs: Vec<(usize, f64)>,
}

/// Places `sizes` boxes, leaving `top` pixels free above and `margin` around.
pub(super) fn layout(sizes: &[Size], edges: &[EdgeSpec], margin: f64, top: f64) -> Placed {
    let ranks = assign_ranks(sizes.len(), edges);
    let mut items: Vec<Item> = sizes
        .iter()
        .zip(&ranks)
        .map(|(s, &rank)| Item {
            w: s.w,
            h: s.h,
            dummy: false,
            light: false,
            rank,
            preds: Vec::new(),
            succs: Vec::new(),
        })
        .collect();
    // Each edge as a chain of items, with a dummy in every rank it passes.
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(edges.len());
    for e in edges {
        let mut chain = vec![e.src];
        for rank in ranks[e.src] + 1..ranks[e.dst] {
            items.push(Item {
                w: 0.0,
                h: 0.0,
                dummy: true,
                light: false,
                rank,
                preds: Vec::new(),
                succs: Vec::new(),
            });
            chain.push(items.len() - 1);
        }
        chain.push(e.dst);
        let port = port_offset(e.port, e.ports, sizes[e.dst].h);
        for pair in chain.windows(2) {
            let off = if pair[1] == e.dst { port } else { 0.0 };
            items[pair[0]].succs.push((pair[1], off));
            items[pair[1]].preds.push((pair[0], off));
        }
        chains.push(chain);
    }
    for item in items.iter_mut().take(sizes.len()) {
        item.light = item.preds.is_empty();
    }
    for chain in &chains {
        let light = items[chain[0]].light;
        for &d in &chain[1..chain.len() - 1] {
            items[d].light = light;
        }
    }
    let n_ranks = ranks.iter().map(|r| r + 1).max().unwrap_or(0);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); n_ranks];
    // Start in creation order: the caller lists inputs before their consumers, a fair start.
    for (i, item) in items.iter().enumerate() {
        layers[item.rank].push(i);
    }
    order_layers(&items, &mut layers);
    let ys = place_vertically(&items, &layers);

    // Ranks become columns as wide as their widest box. The gap before a column leaves room
    // for the edge labels written level before their targets, and widens with the height the
    // edges climb in it so that no edge is drawn as a near-vertical stroke.
    let mut col_w = vec![0.0f64; n_ranks];
    for item in &items {
        col_w[item.rank] = col_w[item.rank].max(item.w);
    }
    let mut gap_before = vec![RANK_GAP; n_ranks];
    for e in edges {
        let r = ranks[e.dst];
        gap_before[r] = gap_before[r].max(e.label_w + LABEL_RUN + RANK_GAP);
    }
    for (i, item) in items.iter().enumerate() {
        for &(s, off) in &item.succs {
            let climb = (ys[s] + off - ys[i]).abs();
            let r = items[s].rank;
            gap_before[r] = gap_before[r].max((climb * CLIMB_SLOPE).min(MAX_RANK_GAP));
        }
    }
    let mut col_x = vec![0.0f64; n_ranks];
    let mut x = margin;
    for r in 0..n_ranks {
        if r > 0 {
            x += gap_before[r];
        }
        col_x[r] = x + col_w[r] / 2.0;
        x += col_w[r];
    }
    let width = x + margin;
    let (y_min, y_max) = items
        .iter()
        .zip(&ys)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (it, &y)| {
            (lo.min(y - it.h / 2.0), hi.max(y + it.h / 2.0))
        });
    let (y_min, y_max) = if y_min <= y_max {
        (y_min, y_max)
    } else {
        (0.0, 0.0)
    };
    let shift = top + margin - y_min;
    let height = y_max - y_min + top + 2.0 * margin;
    let center = |i: usize| (col_x[items[i].rank], ys[i] + shift);

    let centers = (0..sizes.len()).map(center).collect();
    let routes = chains
        .iter()
        .zip(edges)
        .map(|(chain, e)| {
            let (sx, sy) = center(e.src);
            let (tx, ty) = center(e.dst);
            let mut pts = vec![(sx + sizes[e.src].w / 2.0, sy)];
            for &d in &chain[1..chain.len() - 1] {
                // A passing edge runs level through the column, clear of its boxes.
                let (dx, dy) = center(d);
                let half = col_w[items[d].rank] / 2.0;
                pts.push((dx - half, dy));
                pts.push((dx + half, dy));
            }
            let end = (
                tx - sizes[e.dst].w / 2.0,
                ty + port_offset(e.port, e.ports, sizes[e.dst].h),
            );
            if e.label_w > 0.0 {
                // Arrive level for the label's length, so it sits clear above its own edge.
                pts.push((end.0 - e.label_w - LABEL_RUN, end.1));
            }
            pts.push(end);
            pts
        })
        .collect();
    Placed {
        centers,
        routes,
        width,
        height,
    }
}

/// Vertical offset from a box's centre of input port `port` of `ports`.
fn port_offset(port: usize, ports: usize, h: f64) -> f64 {
    if ports <= 1 {
        return 0.0;
    }
    let step = PORT_STEP.min((h - 6.0).max(0.0) / (ports - 1) as f64);
    (port as f64 - (ports - 1) as f64 / 2.0) * step
}

/// Rank of each box: operations one past their furthest input (longest path from the
/// leaves); a box with no inputs sits just before its earliest consumer, so a bias added at
/// the end of a chain is drawn beside that step and not at the far left.
fn assign_ranks(n: usize, edges: &[EdgeSpec]) -> Vec<usize> {
    let mut indeg = vec![0usize; n];
    let mut outs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in edges {
        indeg[e.dst] += 1;
        outs[e.src].push(e.dst);
    }
    let sources: Vec<bool> = indeg.iter().map(|&d| d == 0).collect();
    let mut rank = vec![0usize; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    let mut topo = Vec::with_capacity(n);
    while let Some(v) = queue.pop_front() {
        topo.push(v);
        for &w in &outs[v] {
            rank[w] = rank[w].max(rank[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    debug_assert_eq!(topo.len(), n, "a recorded graph has no cycles");
    for v in 0..n {
        if sources[v]
            && let Some(first) = outs[v].iter().map(|&w| rank[w]).min()
        {
            rank[v] = first - 1;
        }
    }
    rank
}

/// Reorders each rank to reduce edge crossings: alternate sweeps sort a rank by the mean
/// position of its neighbours in the rank before (downward) or after (upward); the order with
/// the fewest crossings seen is kept.
fn order_layers(items: &[Item], layers: &mut [Vec<usize>]) {
    let mut pos = vec![0.0f64; items.len()];
    let index = |layers: &[Vec<usize>], pos: &mut [f64]| {
        for layer in layers {
            for (k, &i) in layer.iter().enumerate() {
                pos[i] = k as f64;
            }
        }
    };
    index(layers, &mut pos);
    let mut best = layers.to_vec();
    let mut best_crossings = crossings(items, layers, &pos);
    for sweep in 0..ORDER_SWEEPS {
        if best_crossings == 0 {
            break;
        }
        let down = sweep % 2 == 0;
        let rank_order: Vec<usize> = if down {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for r in rank_order {
            let mut keyed: Vec<(f64, usize)> = layers[r]
                .iter()
                .map(|&i| {
                    // A port offset nudges a box's inputs into argument order.
                    let neighbours: Vec<f64> = if down {
                        items[i].preds.iter().map(|&(p, _)| pos[p]).collect()
                    } else {
                        let scale = |off: f64| off / (PORT_STEP * 4.0);
                        items[i]
                            .succs
                            .iter()
                            .map(|&(s, off)| pos[s] + scale(off))
                            .collect()
                    };
                    let key = if neighbours.is_empty() {
                        pos[i]
                    } else {
                        neighbours.iter().sum::<f64>() / neighbours.len() as f64
                    };
                    (key, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[r] = keyed.into_iter().map(|(_, i)| i).collect();
            for (k, &i) in layers[r].iter().enumerate() {
                pos[i] = k as f64;
            }
        }
        let c = crossings(items, layers, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = layers.to_vec();
        }
    }
    layers.clone_from_slice(&best);
}

/// The number of pairs of segments between adjacent ranks that cross.
fn crossings(items: &[Item], layers: &[Vec<usize>], pos: &[f64]) -> usize {
    let mut total = 0;
    for layer in layers {
        let mut segs: Vec<(f64, f64)> = Vec::new();
        for &i in layer {
            for &(s, off) in &items[i].succs {
                segs.push((pos[i], pos[s] + off / (PORT_STEP * 4.0)));
            }
        }
        segs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        // After sorting by source, a crossing is a pair whose targets are in reverse order.
        let mut targets: Vec<f64> = segs.into_iter().map(|(_, t)| t).collect();
        total += inversions(&mut targets);
    }
    total
}

/// How strongly a segment pulls its ends level: as in Graphviz, more for segments of long
/// edges (so they run straight), and less for an edge out of a box with no inputs (a leaf can
/// sit beside the line of operations it feeds, however far along, without bending that line
/// towards it).
fn pull(items: &[Item], from: usize, to: usize) -> f64 {
    let base = match (items[from].dummy, items[to].dummy) {
        (true, true) => 8.0,
        (false, false) => 1.0,
        _ => 2.0,
    };
    if items[from].light { base * 0.25 } else { base }
}

/// The number of pairs `i < j` with `v[i] > v[j]`, counted while merge-sorting `v`
/// (O(n log n), so that ranks crowded with long edges stay cheap).
fn inversions(v: &mut [f64]) -> usize {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let (left, right) = v.split_at_mut(n / 2);
    let mut count = inversions(left) + inversions(right);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if right[j] < left[i] {
            // right[j] comes before every element left in `left`: one crossing with each.
            count += left.len() - i;
            merged.push(right[j]);
            j += 1;
        } else {
            merged.push(left[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    v.copy_from_slice(&merged);
    count
}

/// Vertical centres: within a rank the order is kept and boxes keep their distance; each sweep
/// moves a rank's items as close as it can to the weighted median height of their neighbours
/// (a least-squares fit under the order constraints, by pooling adjacent violators).
fn place_vertically(items: &[Item], layers: &[Vec<usize>]) -> Vec<f64> {
    let mut ys = vec![0.0f64; items.len()];
    for layer in layers {
        let offsets = stack_offsets(items, layer);
        let mid = offsets.last().copied().unwrap_or(0.0) / 2.0;
        for (k, &i) in layer.iter().enumerate() {
            ys[i] = offsets[k] - mid;
        }
    }
    let n = layers.len();
    for sweep in 0..=2 * PLACE_SWEEPS {
        // Down, up, ... and a last sweep that listens to both sides.
        let (ranks, use_preds, use_succs): (Vec<usize>, bool, bool) = if sweep == 2 * PLACE_SWEEPS {
            ((0..n).collect(), true, true)
        } else if sweep % 2 == 0 {
            ((1..n).collect(), true, false)
        } else {
            ((0..n.saturating_sub(1)).rev().collect(), false, true)
        };
        for r in ranks {
            let layer = &layers[r];
            let (desired, weights): (Vec<f64>, Vec<f64>) = layer
                .iter()
                .map(|&i| {
                    let mut wanted: Vec<(f64, f64)> = Vec::new();
                    if use_preds {
                        // Level the port with the input's centre.
                        for &(p, off) in &items[i].preds {
                            wanted.push((ys[p] - off, pull(items, p, i)));
                        }
                    }
                    if use_succs {
                        for &(s, off) in &items[i].succs {
                            wanted.push((ys[s] + off, pull(items, i, s)));
                        }
                    }
                    // A leaf gives way to the line of operations when both want one place.
                    let give = if items[i].light { 0.1 } else { 1.0 };
                    match weighted_median(&mut wanted) {
                        Some(y) => (y, give * wanted.iter().map(|w| w.1).sum::<f64>()),
                        // Nothing pulls it: it stays, giving way easily.
                        None => (ys[i], 0.1),
                    }
                })
                .unzip();
            let placed = fit_in_order(&desired, &weights, &stack_offsets(items, layer));
            for (k, &i) in layer.iter().enumerate() {
                ys[i] = placed[k];
            }
        }
    }
    ys
}

/// The weighted median of `(value, weight)` pairs (the midpoint when the weights split evenly
/// between two values): a box lines up with its strongest neighbour instead of drifting to
/// the mean of all of them, which over a long chain with a leaf beside every step would
/// walk the chain away from the line.
fn weighted_median(wanted: &mut [(f64, f64)]) -> Option<f64> {
    if wanted.is_empty() {
        return None;
    }
    wanted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = wanted.iter().map(|w| w.1).sum::<f64>() / 2.0;
    let mut below = 0.0;
    for (k, &(y, w)) in wanted.iter().enumerate() {
        below += w;
        if (below - half).abs() < 1e-9 {
            return Some(wanted.get(k + 1).map_or(y, |next| (y + next.0) / 2.0));
        }
        if below > half {
            return Some(y);
        }
    }
    wanted.last().map(|w| w.0)
}

/// The least distance of each item's centre from the first's, with the items packed tight.
fn stack_offsets(items: &[Item], layer: &[usize]) -> Vec<f64> {
    let mut offsets = Vec::with_capacity(layer.len());
    let mut at = 0.0;
    for (k, &i) in layer.iter().enumerate() {
        if k > 0 {
            let prev = &items[layer[k - 1]];
            let gap = if prev.dummy || items[i].dummy {
                DUMMY_GAP
            } else {
                BOX_GAP
            };
            at += prev.h / 2.0 + gap + items[i].h / 2.0;
        }
        offsets.push(at);
    }
    offsets
}

/// Positions `y` closest (weighted least squares) to `desired` with `y[k+1] − y[k] ≥
/// offsets[k+1] − offsets[k]`: with `z = y − offsets` the constraint is `z` non-decreasing, an
/// isotonic regression solved by pooling adjacent violators.
fn fit_in_order(desired: &[f64], weights: &[f64], offsets: &[f64]) -> Vec<f64> {
    // Blocks of (weighted sum, total weight, count), each block's z being its weighted mean.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for ((d, w), o) in desired.iter().zip(weights).zip(offsets) {
        blocks.push((w * (d - o), *w, 1));
        while blocks.len() >= 2 {
            let (s2, w2, c2) = blocks[blocks.len() - 1];
            let (s1, w1, c1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            *blocks.last_mut().expect("two blocks") = (s1 + s2, w1 + w2, c1 + c2);
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (sum, weight, count) in blocks {
        let z = sum / weight;
        for _ in 0..count {
            out.push(z + offsets[out.len()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inversions_count_strictly_reversed_pairs() {
        assert_eq!(inversions(&mut []), 0);
        assert_eq!(inversions(&mut [1.0, 2.0, 2.0, 3.0]), 0);
        assert_eq!(inversions(&mut [3.0, 2.0, 1.0]), 3);
        assert_eq!(inversions(&mut [2.0, 1.0, 2.0, 0.0]), 4);
    }

    #[test]
    fn long_reused_inputs_stay_cheap() {
        // One leaf feeding every step of a 300-step chain (a weight shared across time steps):
        // ~45 000 points of passing edges.
        let n = 300;
        let sizes = vec![Size { w: 40.0, h: 30.0 }; n + 2];
        let mut edges = vec![edge(1, 2, 0, 2), edge(0, 2, 1, 2)];
        for k in 3..n + 2 {
            edges.push(edge(k - 1, k, 0, 2));
            edges.push(edge(0, k, 1, 2));
        }
        let p = layout(&sizes, &edges, 10.0, 0.0);
        assert_eq!(p.routes.len(), edges.len());
        assert!(p.width > 40.0 * n as f64);
    }

    #[test]
    fn medians_follow_the_heaviest() {
        assert_eq!(weighted_median(&mut []), None);
        assert_eq!(weighted_median(&mut [(10.0, 1.0), (0.0, 1.0)]), Some(5.0));
        assert_eq!(weighted_median(&mut [(10.0, 0.25), (0.0, 1.0)]), Some(0.0));
        assert_eq!(
            weighted_median(&mut [(1.0, 1.0), (2.0, 1.0), (9.0, 1.0)]),
            Some(2.0)
        );
    }

    #[test]
    fn fit_keeps_order_and_distance() {
        // Both want 0, at least 10 apart: they split the difference.
        let y = fit_in_order(&[0.0, 0.0], &[1.0, 1.0], &[0.0, 10.0]);
        assert_eq!(y, vec![-5.0, 5.0]);
        // The heavier one moves less.
        let y = fit_in_order(&[0.0, 0.0], &[3.0, 1.0], &[0.0, 10.0]);
        assert_eq!(y, vec![-2.5, 7.5]);
        // Far apart already: each gets what it wants.
        let y = fit_in_order(&[-50.0, 50.0], &[1.0, 1.0], &[0.0, 10.0]);
        assert_eq!(y, vec![-50.0, 50.0]);
    }

    fn edge(src: usize, dst: usize, port: usize, ports: usize) -> EdgeSpec {
        EdgeSpec {
            src,
            dst,
            port,
            ports,
            label_w: 0.0,
        }
    }

    #[test]
    fn ranks_follow_longest_paths_and_sources_sit_before_use() {
        // w, x → mul(2) ; mul, b → add(4)
        let edges = [
            edge(0, 2, 0, 2),
            edge(1, 2, 1, 2),
            edge(2, 4, 0, 2),
            edge(3, 4, 1, 2),
        ];
        // b sits just before the add, beside the mul, not at the far left.
        assert_eq!(assign_ranks(5, &edges), vec![0, 0, 1, 1, 2]);
    }

    #[test]
    fn boxes_do_not_overlap_and_edges_join_them() {
        let sizes = vec![Size { w: 40.0, h: 30.0 }; 6];
        // A crossing-prone graph: 0,1 → 2,3 crosswise, then 2,3 → 4 → 5 (and 0 → 5, a long edge).
        let edges = [
            edge(0, 3, 0, 2),
            edge(1, 2, 0, 1),
            edge(1, 3, 1, 2),
            edge(2, 4, 0, 2),
            edge(3, 4, 1, 2),
            edge(4, 5, 0, 2),
            edge(0, 5, 1, 2),
        ];
        let p = layout(&sizes, &edges, 10.0, 0.0);
        for a in 0..6 {
            for b in a + 1..6 {
                let (ax, ay) = p.centers[a];
                let (bx, by) = p.centers[b];
                let apart = (ax - bx).abs() >= 40.0 || (ay - by).abs() >= 30.0;
                assert!(apart, "boxes {a} and {b} overlap: {:?}", p.centers);
            }
            let (x, y) = p.centers[a];
            assert!(
                x - 20.0 >= 0.0 && x + 20.0 <= p.width && y - 15.0 >= 0.0 && y + 15.0 <= p.height
            );
        }
        for (e, route) in edges.iter().zip(&p.routes) {
            let start = route[0];
            let end = *route.last().unwrap();
            assert_eq!(start.0, p.centers[e.src].0 + 20.0);
            assert_eq!(end.0, p.centers[e.dst].0 - 20.0);
            assert!(start.0 < end.0, "edges point forward");
        }
        // The long edge passes rank 1 to 3 through two dummy columns (two points each).
        assert_eq!(p.routes[6].len(), 2 + 2 * 2);
    }
}
