//! COURSE §11, optimizers.
//! `cargo run -p baeum-lectures --example lecture_11` prints what `baeum lecture 11` does
//! (without writing the picture).

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_11::run(&mut std::io::stdout().lock()).map(|_| ())
}
