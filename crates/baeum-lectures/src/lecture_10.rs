//! COURSE §10: backpropagation.
//!
//! A computational graph: each node computes locally, keeps its intermediate value, and on the
//! way back multiplies the gradient arriving from above by its local derivative. The notes'
//! examples, each computed by the tensors' recorded graph and `backward()`: the shopping graph,
//! z = (x + y)², f = wx + b, the sigmoid's derivative σ(1 − σ), and the worked example of one
//! logistic neuron updated by one step of gradient descent.
//!
//! Every graph is recorded inside [`graph::trace`] (nodes keep their values) and back-propagated
//! with `retain_graph`, so it can still be drawn after `backward()`: the report keeps each one.

use std::io::{self, Write};

use baeum::autograd::{BackwardOptions, graph, no_grad};
use baeum::{DType, Tensor};

use crate::common::{fmt_list, heading, scalar, title, values};

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    pub shopping: Shopping,
    pub square_of_sum: SquareOfSum,
    pub affine: Affine,
    /// σ'(z) at a few z.
    pub sigmoid_derivative: Vec<SigmoidPoint>,
    pub worked: Worked,
    /// The recorded graphs, for pictures: see [`GraphExample`].
    pub graphs: Vec<GraphExample>,
}

/// The shopping graph: 2 apples at 100 each, 4,000 of other items, 10% tax.
#[derive(Clone, Debug)]
pub struct Shopping {
    /// 2 × 100 = 200.
    pub apples: f64,
    /// 200 + 4,000 = 4,200.
    pub subtotal: f64,
    /// 4,200 × 1.1 = 4,620.
    pub total: f64,
    /// ∂total/∂(each node), from the end back: ∂subtotal = 1.1, ∂apples = 1.1, ∂others = 1.1,
    /// ∂tax = 4,200, ∂price = 2.2, ∂count = 110.
    pub d_subtotal: f64,
    pub d_apples: f64,
    pub d_others: f64,
    pub d_tax: f64,
    pub d_price: f64,
    pub d_count: f64,
}

/// z = (x + y)² at x = 1, y = 2.
#[derive(Clone, Debug)]
pub struct SquareOfSum {
    pub x: f64,
    pub y: f64,
    pub z: f64,
    /// ∂z/∂t = 2t at t = x + y.
    pub dz_dt: f64,
    pub dz_dx: f64,
    pub dz_dy: f64,
}

/// f = wx + b at w = −2, x = 5, b = 3.
#[derive(Clone, Debug)]
pub struct Affine {
    pub f: f64,
    pub df_dg: f64,
    pub df_dx: f64,
    pub df_dw: f64,
    pub df_db: f64,
}

/// σ'(z) at one z, three ways.
#[derive(Clone, Debug)]
pub struct SigmoidPoint {
    pub z: f64,
    pub sigma: f64,
    /// σ(z)(1 − σ(z)).
    pub formula: f64,
    /// `backward()` through 1 / (1 + e^(−z)) written with exp, add and reciprocal.
    pub autograd_composed: f64,
    /// `backward()` through the built-in `sigmoid`.
    pub autograd_builtin: f64,
}

/// The worked example: inputs i = [2, 5], weights w = [0.5, 0.1], target 0, loss (0 − out)².
#[derive(Clone, Debug)]
pub struct Worked {
    pub l1: f64,
    pub out: f64,
    pub loss: f64,
    pub dloss_dout: f64,
    pub dloss_dl1: f64,
    pub dloss_dw: [f64; 2],
    /// The weights after one step with learning rate 1.
    pub updated_w: [f64; 2],
}

/// A recorded graph kept for a picture: its output (the root to walk back from) and the
/// tensors of the graph worth naming.
#[derive(Clone, Debug)]
pub struct GraphExample {
    pub name: &'static str,
    pub root: Tensor,
    pub labels: Vec<(Tensor, &'static str)>,
}

impl GraphExample {
    /// The recorded graph as a picture, its tensors named (values and gradients on the boxes).
    pub fn picture(&self) -> graph::Graph {
        let mut g = graph::Graph::of(&self.root).title(self.name);
        for (t, name) in &self.labels {
            g.name(t, *name);
        }
        g
    }
}

/// Writes every graph of the report to `dir` as `<name>.svg` and `<name>.dot`, returning the
/// paths written.
pub fn save_pictures(
    report: &Report,
    dir: &std::path::Path,
) -> baeum::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| baeum::Error::Io(format!("cannot create {}: {e}", dir.display())))?;
    let mut written = Vec::new();
    for example in &report.graphs {
        let picture = example.picture();
        let stem: String = example
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        for (ext, svg) in [("svg", true), ("dot", false)] {
            let path = dir.join(format!("{stem}.{ext}"));
            if svg {
                picture.save_svg(&path)?;
            } else {
                picture.save_dot(&path)?;
            }
            written.push(path);
        }
    }
    Ok(written)
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 10, "Backpropagation")?;
    writeln!(
        out,
        "A computational graph: nodes compute locally and keep their values; gradients flow \
         backwards, each node multiplying what arrives by its local derivative."
    )?;
    let mut graphs = Vec::new();
    let shopping = shopping(out, &mut graphs)?;
    let square_of_sum = square_of_sum(out, &mut graphs)?;
    let affine = affine(out, &mut graphs)?;
    let sigmoid_derivative = sigmoid_derivative(out)?;
    let worked = worked(out, &mut graphs)?;

    writeln!(
        out,
        "\nThe graphs above as pictures: `baeum lecture 10` writes them as SVG and DOT files."
    )?;

    Ok(Report {
        shopping,
        square_of_sum,
        affine,
        sigmoid_derivative,
        worked,
        graphs,
    })
}

/// A leaf that requires grad: one f64 number.
fn leaf(v: f64) -> Tensor {
    Tensor::scalar(v).requires_grad_(true)
}

/// Back-propagates from `root`, keeping the graph for a picture.
fn backward_keeping_graph(root: &Tensor) {
    root.try_backward(None, BackwardOptions::retain_graph())
        .unwrap_or_else(|e| panic!("{e}"));
}

fn grad_of(t: &Tensor) -> f64 {
    scalar(&t.grad().expect("a gradient arrived"))
}

fn shopping(out: &mut dyn Write, graphs: &mut Vec<GraphExample>) -> io::Result<Shopping> {
    heading(
        out,
        "The shopping graph: 2 apples at 100, 4,000 of other items, 10% tax",
    )?;
    let price = leaf(100.0);
    let count = leaf(2.0);
    let others = leaf(4000.0);
    let tax = leaf(1.1);
    let (apples, subtotal, total) = graph::trace(|| {
        let apples = &price * &count;
        let subtotal = &apples + &others;
        let total = &subtotal * &tax;
        (apples, subtotal, total)
    });
    apples.retain_grad();
    subtotal.retain_grad();
    backward_keeping_graph(&total);
    let s = Shopping {
        apples: scalar(&apples),
        subtotal: scalar(&subtotal),
        total: scalar(&total),
        d_subtotal: grad_of(&subtotal),
        d_apples: grad_of(&apples),
        d_others: grad_of(&others),
        d_tax: grad_of(&tax),
        d_price: grad_of(&price),
        d_count: grad_of(&count),
    };
    writeln!(out, "  forward:  100 × 2 = {}", num(s.apples))?;
    writeln!(
        out,
        "            {} + 4,000 = {}",
        num(s.apples),
        num(s.subtotal)
    )?;
    writeln!(
        out,
        "            {} × 1.1 = {}",
        num(s.subtotal),
        num(s.total)
    )?;
    writeln!(out, "  backward from ∂total/∂total = 1:")?;
    writeln!(
        out,
        "    × node (subtotal × tax) swaps its inputs: ∂/∂subtotal = tax = {}, ∂/∂tax = subtotal = {}",
        num(s.d_subtotal),
        num(s.d_tax)
    )?;
    writeln!(
        out,
        "    + node passes the gradient on unchanged: ∂/∂apples = {}, ∂/∂others = {}",
        num(s.d_apples),
        num(s.d_others)
    )?;
    writeln!(
        out,
        "    × node (price × count): ∂/∂price = 1.1 × count = {}, ∂/∂count = 1.1 × price = {}",
        num(s.d_price),
        num(s.d_count)
    )?;
    graphs.push(GraphExample {
        name: "shopping",
        root: total,
        labels: vec![
            (price, "apple price"),
            (count, "apples"),
            (others, "other items"),
            (tax, "tax"),
            (apples, "apples total"),
            (subtotal, "subtotal"),
        ],
    });
    Ok(s)
}

fn square_of_sum(out: &mut dyn Write, graphs: &mut Vec<GraphExample>) -> io::Result<SquareOfSum> {
    heading(
        out,
        "The chain rule on a graph: z = (x + y)², at x = 1, y = 2",
    )?;
    writeln!(
        out,
        "  t = x + y, z = t²: ∂z/∂x = ∂z/∂t · ∂t/∂x = 2t · 1 = 2(x + y)"
    )?;
    let x = leaf(1.0);
    let y = leaf(2.0);
    let (t, z) = graph::trace(|| {
        let t = &x + &y;
        let z = &t * &t;
        (t, z)
    });
    t.retain_grad();
    backward_keeping_graph(&z);
    let r = SquareOfSum {
        x: 1.0,
        y: 2.0,
        z: scalar(&z),
        dz_dt: grad_of(&t),
        dz_dx: grad_of(&x),
        dz_dy: grad_of(&y),
    };
    writeln!(
        out,
        "  z = {}; ∂z/∂t = 2t = {}; ∂z/∂x = {}, ∂z/∂y = {} (= 2(x + y) = 6: the + node passes \
         ∂z/∂t to both)",
        num(r.z),
        num(r.dz_dt),
        num(r.dz_dx),
        num(r.dz_dy)
    )?;
    graphs.push(GraphExample {
        name: "square_of_sum",
        root: z,
        labels: vec![(x, "x"), (y, "y"), (t, "t")],
    });
    Ok(r)
}

fn affine(out: &mut dyn Write, graphs: &mut Vec<GraphExample>) -> io::Result<Affine> {
    heading(out, "f = wx + b at w = −2, x = 5, b = 3")?;
    writeln!(
        out,
        "  g = wx: ∂g/∂w = x, ∂g/∂x = w;  f = g + b: ∂f/∂g = 1, ∂f/∂b = 1"
    )?;
    let w = leaf(-2.0);
    let x = leaf(5.0);
    let b = leaf(3.0);
    let (g, f) = graph::trace(|| {
        let g = &w * &x;
        let f = &g + &b;
        (g, f)
    });
    g.retain_grad();
    backward_keeping_graph(&f);
    let r = Affine {
        f: scalar(&f),
        df_dg: grad_of(&g),
        df_dx: grad_of(&x),
        df_dw: grad_of(&w),
        df_db: grad_of(&b),
    };
    writeln!(out, "  forward: g = {}, f = {}", num(scalar(&g)), num(r.f))?;
    writeln!(
        out,
        "  backward: ∂f/∂g = {}; ∂f/∂x = 1 · w = {}; ∂f/∂w = 1 · x = {}; ∂f/∂b = {}",
        num(r.df_dg),
        num(r.df_dx),
        num(r.df_dw),
        num(r.df_db)
    )?;
    graphs.push(GraphExample {
        name: "affine",
        root: f,
        labels: vec![(w, "w"), (x, "x"), (b, "b"), (g, "g = wx")],
    });
    Ok(r)
}

fn sigmoid_derivative(out: &mut dyn Write) -> io::Result<Vec<SigmoidPoint>> {
    heading(out, "The sigmoid's derivative: σ'(z) = σ(z)(1 − σ(z))")?;
    let zs = [-4.0, -1.0, 0.0, 1.5, 4.0];
    let z = Tensor::from_vec(zs.to_vec(), [zs.len()]).requires_grad_(true);
    // σ written out as the notes do, 1 / (1 + e^(−z)): autograd differentiates the formula
    // through its parts (neg, exp, add, reciprocal).
    let s = (-&z).exp().add_scalar(1.0).reciprocal();
    s.sum().backward();
    let composed = values(&z.grad().expect("z gets a gradient"));
    let sv = values(&s);
    // The built-in sigmoid's own backward rule.
    let z2 = Tensor::from_vec(zs.to_vec(), [zs.len()]).requires_grad_(true);
    z2.sigmoid().sum().backward();
    let builtin = values(&z2.grad().expect("z gets a gradient"));
    let points: Vec<SigmoidPoint> = (0..zs.len())
        .map(|k| SigmoidPoint {
            z: zs[k],
            sigma: sv[k],
            formula: sv[k] * (1.0 - sv[k]),
            autograd_composed: composed[k],
            autograd_builtin: builtin[k],
        })
        .collect();
    let column = |f: fn(&SigmoidPoint) -> f64| points.iter().map(f).collect::<Vec<_>>();
    writeln!(out, "  z:                           {}", fmt_list(&zs, 1))?;
    writeln!(out, "  σ(z):                        {}", fmt_list(&sv, 4))?;
    writeln!(
        out,
        "  σ(z)(1 − σ(z)):              {}",
        fmt_list(&column(|p| p.formula), 4)
    )?;
    writeln!(
        out,
        "  autograd of 1/(1 + e^(−z)):  {}",
        fmt_list(&composed, 4)
    )?;
    writeln!(
        out,
        "  autograd of z.sigmoid():     {}",
        fmt_list(&builtin, 4)
    )?;
    Ok(points)
}

fn worked(out: &mut dyn Write, graphs: &mut Vec<GraphExample>) -> io::Result<Worked> {
    heading(
        out,
        "Worked example: one logistic neuron, one step of gradient descent",
    )?;
    writeln!(
        out,
        "  inputs i1 = 2, i2 = 5; weights w1 = 0.5, w2 = 0.1; target 0; loss = (target − out)²"
    )?;
    let i = Tensor::from_vec(vec![2.0, 5.0], [1, 2]);
    let w = Tensor::from_vec(vec![0.5, 0.1], [2, 1]).requires_grad_(true);
    let target = Tensor::zeros_dtype([1, 1], DType::F64);
    let (l1, o, loss) = graph::trace(|| {
        let l1 = i.matmul(&w);
        let o = l1.sigmoid();
        let e = &target - &o;
        let loss = (&e * &e).sum();
        (l1, o, loss)
    });
    l1.retain_grad();
    o.retain_grad();
    backward_keeping_graph(&loss);
    let dw = values(&w.grad().expect("w gets a gradient"));
    let lr = 1.0;
    no_grad(|| w.sub_(&(&w.grad().unwrap() * lr)));
    let updated = values(&w);
    let r = Worked {
        l1: scalar(&l1),
        out: scalar(&o),
        loss: scalar(&loss),
        dloss_dout: grad_of(&o),
        dloss_dl1: grad_of(&l1),
        dloss_dw: [dw[0], dw[1]],
        updated_w: [updated[0], updated[1]],
    };
    writeln!(out, "  forward:")?;
    writeln!(
        out,
        "    l1 = [2 5]·[0.5 0.1]ᵀ = 2·0.5 + 5·0.1 = {:.1}",
        r.l1
    )?;
    writeln!(out, "    out = σ(1.5) = {:.3}", r.out)?;
    writeln!(
        out,
        "    loss = (0 − {:.3})² = {:.4}  (the notes square the rounded 0.818: 0.669)",
        r.out, r.loss
    )?;
    writeln!(out, "  backward:")?;
    writeln!(
        out,
        "    ∂loss/∂out = −2(0 − out) = {:.4}  (the notes, from the rounded 0.818: 1.636)",
        r.dloss_dout
    )?;
    writeln!(
        out,
        "    ∂loss/∂l1 = ∂loss/∂out · σ(1 − σ) = {:.3} · {:.3} · {:.3} = {:.3}",
        r.dloss_dout,
        r.out,
        1.0 - r.out,
        r.dloss_dl1
    )?;
    writeln!(
        out,
        "    ∂loss/∂w1 = {:.3} · i1 = {:.3};  ∂loss/∂w2 = {:.3} · i2 = {:.3}",
        r.dloss_dl1, r.dloss_dw[0], r.dloss_dl1, r.dloss_dw[1]
    )?;
    writeln!(out, "  update, learning rate 1: w := w − 1 · ∂loss/∂w")?;
    writeln!(
        out,
        "    w1 = 0.5 − {:.3} = {:.4};  w2 = 0.1 − {:.3} = {:.2}",
        r.dloss_dw[0], r.updated_w[0], r.dloss_dw[1], r.updated_w[1]
    )?;
    writeln!(
        out,
        "  (The notes' text also writes the loss as ½(0 − 0.818)² = 0.67 and w1 → 0.136; their \
         derivative 1.636 and their w1 formula 0.5 − 0.488 = 0.0122 are those of (0 − out)², \
         which is what is computed here.)"
    )?;
    graphs.push(GraphExample {
        name: "worked_example",
        root: loss,
        labels: vec![(w, "w"), (l1, "l1"), (o, "out")],
    });
    Ok(r)
}

/// A number without trailing zeros, thousands grouped: 4620 → "4,620", 1.1 → "1.1".
fn num(v: f64) -> String {
    let rounded = (v * 1e6).round() / 1e6;
    let text = format!("{rounded}");
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d.to_string()),
        None => ("", int),
    };
    let mut grouped = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_read_like_the_notes() {
        assert_eq!(num(4620.000000000001), "4,620");
        assert_eq!(num(1.1), "1.1");
        assert_eq!(num(-2.0), "-2");
        assert_eq!(num(200.0), "200");
        assert_eq!(num(110.00000000000001), "110");
    }
}
