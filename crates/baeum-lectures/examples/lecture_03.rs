//! COURSE §3, multi-variable linear regression.
//! `cargo run -p baeum-lectures --example lecture_03` prints what `baeum lecture 3` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_03::run(&mut std::io::stdout().lock()).map(|_| ())
}
