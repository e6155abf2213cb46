//! COURSE §12, recurrent networks.
//! `cargo run -p baeum-lectures --example lecture_12` prints what `baeum lecture 12` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_12::run(&mut std::io::stdout().lock()).map(|_| ())
}
