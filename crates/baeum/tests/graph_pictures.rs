//! Pictures of recorded graphs (COURSE §10): DOT text and SVG drawn from real runs, with the
//! forward values and the gradients of the course's examples.

use baeum::autograd::BackwardOptions;
use baeum::autograd::graph::{Graph, trace};
use baeum::{Tensor, tensor};

/// f = wx + b at w = −2, x = 5, b = 3, traced and back-propagated.
fn wx_plus_b() -> (Graph, [Tensor; 4]) {
    let w = tensor!([-2.0]).requires_grad_(true);
    let x = tensor!([5.0]).requires_grad_(true);
    let b = tensor!([3.0]).requires_grad_(true);
    let f = trace(|| &(&w * &x) + &b);
    f.backward();
    let g = Graph::of(&f)
        .label(&w, "w")
        .label(&x, "x")
        .label(&b, "b")
        .label(&f, "f");
    (g, [w, x, b, f])
}

#[test]
fn dot_shows_values_and_gradients_of_wx_plus_b() {
    let (g, [w, x, b, _]) = wx_plus_b();
    assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![5.0]);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![-2.0]);
    assert_eq!(b.grad().unwrap().to_vec::<f32>(), vec![1.0]);
    assert_eq!((g.node_count(), g.edge_count()), (5, 4));

    let dot = g.to_dot();
    assert!(dot.starts_with("digraph baeum {") && dot.trim_end().ends_with('}'));
    assert!(dot.contains("rankdir=LR"));
    // Each box: name and op, shape, value, gradient.
    let w_box = "<b>w</b><br/><font color=\"#6b7280\" point-size=\"9\">shape [1]</font><br/>[-2.]\
                 <br/><font color=\"#b91c1c\">grad [5.]</font>";
    assert!(dot.contains(w_box), "{dot}");
    assert!(dot.contains("<b>x</b>") && dot.contains("grad [-2.]"));
    assert!(dot.contains("<b>b</b>") && dot.contains("[3.]"));
    assert!(dot.contains("<b>mul</b>") && dot.contains("[-10.]"));
    assert!(dot.contains("<b>f = add</b>") && dot.contains("[-7.]"));
    // ∂f/∂(wx) = ∂f/∂f = 1: the intermediate node's and the output's gradients.
    assert_eq!(dot.matches("grad [1.]").count(), 3, "{dot}");
    // Four arrows, inputs → op → output: w, x → mul; mul, b → add.
    assert_eq!(dot.matches(" -> ").count(), 4);
    let id = |title: &str| {
        let at = dot.find(&format!("<b>{title}</b>")).unwrap();
        let line_start = dot[..at].rfind('\n').unwrap() + 1;
        dot[line_start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    for (from, to) in [
        ("w", "mul"),
        ("x", "mul"),
        ("mul", "f = add"),
        ("b", "f = add"),
    ] {
        let arrow = format!("{} -> {};", id(from), id(to));
        assert!(
            dot.contains(&arrow),
            "missing {from} -> {to} ({arrow}) in\n{dot}"
        );
    }
}

#[test]
fn output_is_deterministic() {
    let (g1, _) = wx_plus_b();
    let (g2, _) = wx_plus_b();
    assert_eq!(g1.to_dot(), g2.to_dot());
    assert_eq!(g1.to_svg(), g2.to_svg());
    assert_eq!(g1.to_svg(), g1.to_svg());
}

#[test]
fn svg_is_well_formed_with_a_box_per_node_and_a_path_per_edge() {
    let (g, _) = wx_plus_b();
    let svg = g.to_svg();
    let elements = xml::check(&svg).unwrap_or_else(|e| panic!("malformed SVG: {e}\n{svg}"));
    assert_eq!(elements[0].0, "svg");
    let count = |name: &str, class: &str| {
        elements
            .iter()
            .filter(|(n, c)| n == name && c.split(' ').next() == Some(class))
            .count()
    };
    assert_eq!(count("g", "node"), g.node_count());
    assert_eq!(count("path", "edge"), g.edge_count());
    assert_eq!(elements.iter().filter(|(n, _)| n == "path").count(), 4);
    assert_eq!(elements.iter().filter(|(n, _)| n == "rect").count(), 5 + 1); // + background
    for text in ["f = add", "[-7.]", "grad [5.]", "grad [-2.]", "shape [1]"] {
        assert!(svg.contains(&format!(">{text}</text>")), "{text} missing");
    }
}

/// The shopping graph of COURSE §10: 2 apples × 100 = 200, + 4,000 = 4,200, × 1.1 tax = 4,620,
/// and each price's effect on the total.
#[test]
fn shopping_graph_with_gradients_on_the_arrows() {
    let apple = Tensor::scalar(100.0f32).requires_grad_(true);
    let count = Tensor::scalar(2.0f32).requires_grad_(true);
    let other = Tensor::scalar(4000.0f32).requires_grad_(true);
    let tax = Tensor::scalar(1.1f32).requires_grad_(true);
    let total = trace(|| &(&(&apple * &count) + &other) * &tax);
    total.backward();
    assert_eq!(total.item::<f32>(), 4620.0);
    let g = Graph::of(&total)
        .label(&apple, "apple")
        .label(&count, "count")
        .label(&other, "other items")
        .label(&tax, "tax")
        .label(&total, "total")
        .title("Shopping (COURSE §10)")
        .edge_grads(true);
    let dot = g.to_dot();
    assert!(dot.contains("<b>total = mul</b>") && dot.contains("<br/>4620<br/>"));
    assert!(dot.contains("<br/>4200<br/>") && dot.contains("<br/>200<br/>"));
    assert!(dot.contains("label=\"Shopping (COURSE §10)\""));
    // ∂total/∂apple = 2 × 1.1, ∂/∂count = 100 × 1.1, ∂/∂other = 1.1, ∂/∂tax = 4,200.
    for grad in ["grad 2.2", "grad 110", "grad 1.1", "grad 4200"] {
        assert!(dot.contains(grad), "{grad} missing in\n{dot}");
    }
    // Every arrow carries the gradient flowing back along it.
    assert_eq!(dot.matches(" -> ").count(), 6);
    assert_eq!(dot.matches("fontcolor=\"#b91c1c\"").count(), 6);
    assert!(dot.contains("[label=\"4200\", fontcolor"));
    let svg = g.to_svg();
    xml::check(&svg).unwrap();
    assert_eq!(svg.matches("class=\"edge-label\"").count(), 6);
    assert!(svg.contains(">Shopping (COURSE §10)</text>"));
}

/// z = (x + y)²: the add node passes the gradient on unchanged, 2t · 1 = 2(x + y).
#[test]
fn square_of_a_sum_with_a_constant_exponent() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = tensor!([3.0, 0.5]).requires_grad_(true);
    let z = trace(|| (&x + &y).pow(&Tensor::scalar(2.0f32)).sum());
    z.backward();
    let g = Graph::of(&z).label(&x, "x").label(&y, "y");
    // x, y, const 2, add, pow, sum.
    assert_eq!((g.node_count(), g.edge_count()), (6, 5));
    let dot = g.to_dot();
    assert!(dot.contains("<b>const</b>") && dot.contains("dashed"));
    assert!(dot.contains("[4., 2.5]") && dot.contains("[16., 6.25]"));
    assert!(dot.contains("<br/>22.25<br/>")); // z, a 0-d tensor
    // ∂z/∂x = ∂z/∂y = ∂z/∂t = 2t.
    assert_eq!(dot.matches("grad [8., 5.]").count(), 3, "{dot}");
    let hidden = Graph::of(&z).constants(false);
    assert_eq!((hidden.node_count(), hidden.edge_count()), (5, 4));
    assert!(!hidden.to_dot().contains("const"));
    xml::check(&hidden.to_svg()).unwrap();
}

/// t · t uses t twice: each arrow carries its own share (t each), which the picture can
/// compute while the graph is kept.
#[test]
fn a_reused_input_gets_its_share_on_each_arrow() {
    let x = tensor!([1.5]).requires_grad_(true);
    let y = tensor!([0.5]).requires_grad_(true);
    let z = trace(|| {
        let t = &x + &y;
        &t * &t
    });
    z.try_backward(None, BackwardOptions::retain_graph())
        .unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0]);
    let dot = Graph::of(&z).edge_grads(true).to_dot();
    // t → mul twice with 2 each; x → add and y → add with 4.
    assert_eq!(dot.matches("[label=\"[2.]\"").count(), 2, "{dot}");
    assert_eq!(dot.matches("[label=\"[4.]\"").count(), 2, "{dot}");

    // Without the kept graph a share cannot be known, and no label is guessed.
    let z = trace(|| {
        let t = &x + &y;
        &t * &t
    });
    z.backward();
    let dot = Graph::of(&z).edge_grads(true).to_dot();
    assert_eq!(dot.matches(" -> ").count(), 4);
    assert_eq!(dot.matches("[label=\"[2.]\"").count(), 0, "{dot}");
}

#[test]
fn untraced_graphs_show_shapes_and_leaves() {
    let w = Tensor::ones([3, 4]).requires_grad_(true);
    let x = Tensor::ones([4]);
    let y = (&w * &x).sum(); // not traced: no values on the operation boxes
    let dot = Graph::of(&y).label(&w, "W").to_dot();
    assert!(dot.contains("shape [3, 4]") && dot.contains("<b>mul</b>"));
    // 12 elements is more than the 6 shown by default; 12 with a larger limit.
    assert!(!dot.contains("[1., 1., 1., 1.]"));
    let dot = Graph::of(&y).max_values(12).to_dot();
    assert!(dot.contains("[[1., 1., 1., 1.], [1., 1., 1., 1.], [1., 1., 1., 1.]]"));
    assert!(!dot.contains("12.")); // the sum's value was not recorded
}

#[test]
fn a_lone_leaf_is_one_box() {
    let c = tensor!([2.0, 3.0]);
    let g = Graph::of(&c).label(&c, "c");
    assert_eq!((g.node_count(), g.edge_count()), (1, 0));
    let dot = g.to_dot();
    assert!(dot.contains("<b>c</b>") && dot.contains("[2., 3.]"));
    assert_eq!(xml::check(&g.to_svg()).unwrap().len(), 7 + 3 + 3); // one box of three lines
}

#[test]
#[should_panic(expected = "does not require grad")]
fn labelling_a_tensor_outside_the_graph_panics() {
    let w = tensor!([1.0]).requires_grad_(true);
    let c = tensor!([2.0]);
    let y = &w * &c;
    let _ = Graph::of(&y).label(&c, "c");
}

/// A 50-step chain with side inputs: laid out without overlaps, every box inside the picture.
#[test]
fn a_larger_graph_is_laid_out_legibly() {
    let params: Vec<Tensor> = (0..12)
        .map(|i| Tensor::scalar(1.0f32 + i as f32 / 10.0).requires_grad_(true))
        .collect();
    let y = trace(|| {
        let mut acc = &params[0] * &params[1];
        for (i, p) in params.iter().enumerate().skip(2) {
            let scaled = &acc * p;
            acc = if i % 3 == 0 {
                &scaled + &params[i / 3]
            } else {
                &(&scaled - p) / &params[0]
            };
        }
        acc
    });
    y.backward();
    let g = Graph::of(&y);
    assert!(g.node_count() >= 40, "{}", g.node_count());
    let svg = g.to_svg();
    let rects = xml::rects(&svg);
    let (width, height) = xml::size(&svg);
    let boxes = &rects[1..]; // after the background
    assert_eq!(boxes.len(), g.node_count());
    for (i, a) in boxes.iter().enumerate() {
        assert!(a.0 >= 0.0 && a.1 >= 0.0 && a.0 + a.2 <= width && a.1 + a.3 <= height);
        for b in &boxes[i + 1..] {
            let overlap = a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3;
            assert!(!overlap, "boxes overlap: {a:?} {b:?}");
        }
    }
    assert_eq!(xml::check(&svg).unwrap().len(), {
        let n = g.node_count();
        // svg, defs, marker, polygon, background, 2 groups, a path per edge, and per box
        // g + title + rect + one text per line.
        let texts = svg.matches("<text").count();
        7 + g.edge_count() + 3 * n + texts
    });
}

#[test]
fn saves_write_whole_files() {
    let (g, _) = wx_plus_b();
    let dir = std::env::temp_dir().join(format!("baeum-graph-pictures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    g.save_svg(dir.join("f.svg")).unwrap();
    g.save_dot(dir.join("f.dot")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("f.svg")).unwrap(),
        g.to_svg()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("f.dot")).unwrap(),
        g.to_dot()
    );
    // Only the two pictures: no temporary file left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    let err = g.save_svg(dir.join("missing").join("f.svg")).unwrap_err();
    assert!(err.to_string().contains("save_svg"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small XML checker, enough to say an SVG is well formed: matched tags, quoted attributes,
/// known entities, one root.
mod xml {
    /// Each element's name and `class` attribute, in document order.
    pub fn check(s: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        let mut open: Vec<String> = Vec::new();
        let mut rest = s;
        let mut roots = 0;
        while let Some(lt) = rest.find('<') {
            text(&rest[..lt])?;
            if open.is_empty() && !rest[..lt].trim().is_empty() {
                return Err("text outside the root element".into());
            }
            rest = &rest[lt + 1..];
            let gt = rest.find('>').ok_or("unclosed tag")?;
            let tag = &rest[..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(o) if o == name.trim() => {}
                    o => return Err(format!("</{name}> closes {o:?}")),
                }
                continue;
            }
            let (body, empty) = match tag.strip_suffix('/') {
                Some(b) => (b, true),
                None => (tag, false),
            };
            let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
            let name = &body[..name_end];
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || "-_:".contains(c))
            {
                return Err(format!("bad element name in <{tag}>"));
            }
            let class = attributes(&body[name_end..])?
                .into_iter()
                .find(|(k, _)| k == "class")
                .map(|(_, v)| v)
                .unwrap_or_default();
            if open.is_empty() {
                roots += 1;
            }
            out.push((name.to_string(), class));
            if !empty {
                open.push(name.to_string());
            }
        }
        text(rest)?;
        if !rest.trim().is_empty() {
            return Err("text after the root element".into());
        }
        match (open.is_empty(), roots) {
            (true, 1) => Ok(out),
            (false, _) => Err(format!("unclosed elements {open:?}")),
            _ => Err(format!("{roots} root elements")),
        }
    }

    fn attributes(mut s: &str) -> Result<Vec<(String, String)>, String> {
        let mut out: Vec<(String, String)> = Vec::new();
        loop {
            s = s.trim_start();
            if s.is_empty() {
                return Ok(out);
            }
            let eq = s.find('=').ok_or(format!("attribute without value: {s}"))?;
            let key = s[..eq].trim().to_string();
            if key.is_empty()
                || key.contains(char::is_whitespace)
                || out.iter().any(|(k, _)| *k == key)
            {
                return Err(format!("bad or repeated attribute name {key:?}"));
            }
            s = &s[eq + 1..];
            let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'');
            let quote = quote.ok_or(format!("unquoted value of {key}"))?;
            let end = s[1..]
                .find(quote)
                .ok_or(format!("unterminated value of {key}"))?;
            let value = &s[1..1 + end];
            if value.contains('<') {
                return Err(format!("'<' in the value of {key}"));
            }
            text(value)?;
            out.push((key, value.to_string()));
            s = &s[end + 2..];
        }
    }

    /// Character data: every `&` starts a known entity.
    fn text(s: &str) -> Result<(), String> {
        let mut rest = s;
        while let Some(amp) = rest.find('&') {
            rest = &rest[amp + 1..];
            let semi = rest.find(';').ok_or("bare &")?;
            let entity = &rest[..semi];
            let known = ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
                || entity
                    .strip_prefix('#')
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if !known {
                return Err(format!("unknown entity &{entity};"));
            }
            rest = &rest[semi + 1..];
        }
        if s.contains('>') && s.contains("]]>") {
            return Err("]]> in text".into());
        }
        Ok(())
    }

    fn attr(tag: &str, key: &str) -> f64 {
        let at = tag.find(&format!(" {key}=\"")).unwrap() + key.len() + 3;
        let end = tag[at..].find('"').unwrap();
        tag[at..at + end].parse().unwrap()
    }

    /// x, y, width, height of each `<rect`.
    pub fn rects(svg: &str) -> Vec<(f64, f64, f64, f64)> {
        svg.split("<rect")
            .skip(1)
            .map(|tag| {
                let tag = &tag[..tag.find('>').unwrap()];
                let get = |k| {
                    if tag.contains(&format!(" {k}=")) {
                        attr(tag, k)
                    } else {
                        0.0
                    }
                };
                (get("x"), get("y"), attr(tag, "width"), attr(tag, "height"))
            })
            .collect()
    }

    /// The SVG's width and height.
    pub fn size(svg: &str) -> (f64, f64) {
        let tag = &svg[..svg.find('>').unwrap()];
        (attr(tag, "width"), attr(tag, "height"))
    }
}
