//! COURSE §5, normalisation and standardisation.
//! `cargo run -p baeum-lectures --example lecture_05` prints what `baeum lecture 5` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_05::run(&mut std::io::stdout().lock()).map(|_| ())
}
