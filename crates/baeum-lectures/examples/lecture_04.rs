//! COURSE §4, logistic classification.
//! `cargo run -p baeum-lectures --example lecture_04` prints what `baeum lecture 4` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_04::run(&mut std::io::stdout().lock()).map(|_| ())
}
