//! COURSE §9, training improvements (and §5's overfitting).
//! `cargo run -p baeum-lectures --example lecture_09` prints what `baeum lecture 9` does
//! (without writing the curves).

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_09::run(&mut std::io::stdout().lock()).map(|_| ())
}
