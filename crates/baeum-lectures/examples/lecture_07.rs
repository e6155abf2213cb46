//! COURSE §7, neural networks (XOR, deep nets, activations).
//! `cargo run -p baeum-lectures --example lecture_07` prints what `baeum lecture 7` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_07::run(&mut std::io::stdout().lock()).map(|_| ())
}
