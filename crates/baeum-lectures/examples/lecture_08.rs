//! COURSE §8, convolutional networks.
//! `cargo run -p baeum-lectures --example lecture_08` prints what `baeum lecture 8` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_08::run(&mut std::io::stdout().lock()).map(|_| ())
}
