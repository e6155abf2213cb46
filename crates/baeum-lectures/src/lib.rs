//! The lectures of the course (`COURSE.md` §2–§12), runnable and tested.
//!
//! Each lecture is a module with one entry point, `run(out)`: it works through the examples of
//! its section of the notes on baeum's tensors, prints them as the notes show them (a heading
//! per example, the formula, the numbers), and returns a report of every number it printed, so
//! tests assert the numbers rather than parse text. The same code runs as
//! `baeum lecture N` (N = the section number) and as `cargo run -p baeum-lectures --example
//! lecture_0N`.
//!
//! Training first runs on the tensor API directly, as a student first meets it: parameters are
//! tensors marked with `requires_grad_(true)`, `loss.backward()` fills `w.grad()`, and the
//! gradient-descent step is written out (`no_grad(|| w.sub_(&(grad * lr)))`). From §6 on the
//! same models are also built from the library's layers, losses and optimizers (`baeum::nn`,
//! `baeum::optim`) and trained by `baeum::train::Trainer`, as PyTorch and Keras code does.
//! Every random initialisation is seeded, so every run prints the same numbers.

pub mod common;
pub mod lecture_02;
pub mod lecture_03;
pub mod lecture_04;
pub mod lecture_05;
pub mod lecture_06;
pub mod lecture_07;
pub mod lecture_08;
pub mod lecture_09;
pub mod lecture_10;
pub mod lecture_11;
pub mod lecture_12;

use std::io::{self, Write};

/// One runnable lecture: a section of `COURSE.md`.
#[derive(Clone, Copy)]
pub struct Lecture {
    /// The section number in `COURSE.md` (what `baeum lecture N` takes).
    pub section: u32,
    /// The section's title.
    pub title: &'static str,
    run: fn(&mut dyn Write) -> io::Result<()>,
}

impl Lecture {
    /// Runs the lecture, printing to `out` (the report is dropped; call the module's `run`
    /// to keep it).
    pub fn run(&self, out: &mut dyn Write) -> io::Result<()> {
        (self.run)(out)
    }
}

macro_rules! lectures {
    ($($section:literal, $module:ident, $title:literal;)*) => {
        /// Every lecture, in course order.
        pub const LECTURES: &[Lecture] = &[$(
            Lecture {
                section: $section,
                title: $title,
                run: |out| $module::run(out).map(|_| ()),
            },
        )*];
    };
}

lectures! {
    2, lecture_02, "Linear regression, cost, gradient descent";
    3, lecture_03, "Multi-variable linear regression";
    4, lecture_04, "Logistic classification";
    5, lecture_05, "Application and tips: data preprocessing";
    6, lecture_06, "Softmax and cross-entropy";
    7, lecture_07, "Neural networks: XOR, deep nets, activations";
    8, lecture_08, "Convolutional networks";
    9, lecture_09, "Training improvements: overfitting and its cures";
    10, lecture_10, "Backpropagation";
    11, lecture_11, "Optimizers";
    12, lecture_12, "Recurrent networks";
}

/// The lecture for a section of `COURSE.md`, if there is one.
pub fn find(section: u32) -> Option<&'static Lecture> {
    LECTURES.iter().find(|l| l.section == section)
}

/// The sections that have lectures, for messages: `"2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"`.
pub fn available() -> String {
    LECTURES
        .iter()
        .map(|l| l.section.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
