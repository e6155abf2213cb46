//! COURSE §10, backpropagation.
//! `cargo run -p baeum-lectures --example lecture_10` prints what `baeum lecture 10` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_10::run(&mut std::io::stdout().lock()).map(|_| ())
}
