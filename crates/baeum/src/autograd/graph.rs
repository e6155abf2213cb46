//! Looking at a recorded graph: walking its nodes, and tracing values for pictures.

use std::collections::HashSet;
use std::sync::Arc;

use super::node::{Edge, Node, set_tracing};

/// Runs `f` with tracing on: every node recorded inside keeps its output's values and, after
/// backward, its gradient, so a picture of the graph can show both.
pub fn trace<R>(f: impl FnOnce() -> R) -> R {
    let previous = set_tracing(true);
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_tracing(self.0);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Appends the op name of every node reachable from `root` (each node once).
pub(crate) fn collect_ops(root: &Arc<Node>, ops: &mut Vec<&'static str>) {
    let mut seen: HashSet<*const Node> = HashSet::new();
    let mut stack = vec![root.clone()];
    while let Some(n) = stack.pop() {
        if !seen.insert(Arc::as_ptr(&n)) {
            continue;
        }
        ops.push(n.op());
        for e in n.inputs() {
            if let Edge::Node(m) = e {
                stack.push(m.clone());
            }
        }
    }
}
