//! Model summaries (Keras' `model.summary()`): one row per layer run, with its output shape and
//! parameter count, found by running the model once on a zero input while layers report.

use std::cell::RefCell;
use std::fmt;

use super::module::{
    Entry, Forward, Module, ModuleExt, Visitor, capture_modes, restore_modes, walk,
};
use crate::autograd::no_grad;
use crate::error::Result;
use crate::{DType, Tensor};

/// What one layer reported: its address, type name and output shape.
type Record = (usize, &'static str, Vec<usize>);

thread_local! {
    static RECORDER: RefCell<Option<Vec<Record>>> = const { RefCell::new(None) };
}

/// Called by layers after computing `output`; a no-op unless a summary is being taken.
pub(crate) fn record<M: Module + ?Sized>(module: &M, output: &Tensor) {
    RECORDER.with(|r| {
        if let Some(rows) = r.borrow_mut().as_mut() {
            let addr = module as *const M as *const () as usize;
            rows.push((addr, module.type_name(), output.dims().to_vec()));
        }
    });
}

/// One row of a summary.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Dotted name (`features.0`).
    pub name: String,
    pub type_name: String,
    pub output_shape: Vec<usize>,
    /// Parameters held by this layer itself (not its children).
    pub params: usize,
}

/// A model's layer table and parameter totals.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
    pub total_params: usize,
    pub trainable_params: usize,
}

/// Runs `model` once on zeros of `input_shape` (without recording gradients, in eval mode,
/// restoring each module's mode afterwards) and tabulates what each layer produced.
pub fn summary<M: Module + Forward>(model: &M, input_shape: &[usize]) -> Result<Summary> {
    summary_with_input(model, &Tensor::zeros_dtype(input_shape, DType::F32))
}

/// [`summary`] for a given input (e.g. integer token ids for an embedding model).
pub fn summary_with_input<M: Module + Forward>(model: &M, input: &Tensor) -> Result<Summary> {
    // Names and own parameter counts, by module address, in declaration order.
    let mut modules: Vec<(usize, String, &'static str, usize)> = Vec::new();
    let mut total = 0;
    let mut trainable = 0;
    walk(model as &M, &mut |name, e| match e {
        Entry::Module(m) => {
            let addr = m as *const dyn Module as *const () as usize;
            modules.push((addr, name.to_string(), m.type_name(), own_params(m)));
        }
        Entry::Param(p) => {
            total += p.numel();
            if p.requires_grad() {
                trainable += p.numel();
            }
        }
        Entry::Buffer(_) => {}
    });
    let modes = capture_modes(model);
    model.eval();
    RECORDER.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let out = no_grad(|| model.forward(input));
    let records = RECORDER.with(|r| r.borrow_mut().take()).unwrap_or_default();
    restore_modes(model, &modes);
    out?;
    let mut used = vec![false; modules.len()];
    let mut rows = Vec::new();
    for (addr, ty, shape) in records {
        // Zero-sized layers (ReLU) share an address: take the first unused one of that type.
        let found = modules
            .iter()
            .enumerate()
            .position(|(i, m)| !used[i] && m.0 == addr && m.2 == ty)
            .or_else(|| modules.iter().position(|m| m.0 == addr && m.2 == ty));
        let (name, params) = match found {
            Some(i) => {
                used[i] = true;
                (modules[i].1.clone(), modules[i].3)
            }
            None => (String::new(), 0),
        };
        rows.push(SummaryRow {
            name,
            type_name: ty.to_string(),
            output_shape: shape,
            params,
        });
    }
    Ok(Summary {
        rows,
        total_params: total,
        trainable_params: trainable,
    })
}

fn own_params(m: &dyn Module) -> usize {
    struct Count(usize);
    impl Visitor for Count {
        fn param(&mut self, _: &str, t: &Tensor) {
            self.0 += t.numel();
        }
        fn buffer(&mut self, _: &str, _: &Tensor) {}
        fn module(&mut self, _: &str, _: &dyn Module) {}
    }
    let mut c = Count(0);
    m.visit(&mut c);
    c.0
}

fn group_thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cells: Vec<[String; 3]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    if r.name.is_empty() {
                        r.type_name.clone()
                    } else {
                        format!("{} ({})", r.name, r.type_name)
                    },
                    format!("{:?}", r.output_shape),
                    group_thousands(r.params),
                ]
            })
            .collect();
        let head = ["Layer (type)", "Output Shape", "Param #"];
        let mut w = head.map(|h| h.chars().count());
        for c in &cells {
            for k in 0..3 {
                w[k] = w[k].max(c[k].chars().count());
            }
        }
        let line = "─".repeat(w[0] + w[1] + w[2] + 4);
        writeln!(f, "{line}")?;
        writeln!(
            f,
            "{:<a$}  {:<b$}  {:>c$}",
            head[0],
            head[1],
            head[2],
            a = w[0],
            b = w[1],
            c = w[2]
        )?;
        writeln!(f, "{line}")?;
        for c in &cells {
            writeln!(
                f,
                "{:<a$}  {:<b$}  {:>c$}",
                c[0],
                c[1],
                c[2],
                a = w[0],
                b = w[1],
                c = w[2]
            )?;
        }
        writeln!(f, "{line}")?;
        writeln!(f, "Total params: {}", group_thousands(self.total_params))?;
        writeln!(
            f,
            "Trainable params: {}",
            group_thousands(self.trainable_params)
        )?;
        write!(
            f,
            "Non-trainable params: {}",
            group_thousands(self.total_params - self.trainable_params)
        )
    }
}
