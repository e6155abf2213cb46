//! COURSE §6, softmax and cross-entropy.
//! `cargo run -p baeum-lectures --example lecture_06` prints what `baeum lecture 6` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_06::run(&mut std::io::stdout().lock()).map(|_| ())
}
