//! COURSE §2, linear regression, cost, gradient descent.
//! `cargo run -p baeum-lectures --example lecture_02` prints what `baeum lecture 2` does.

fn main() -> std::io::Result<()> {
    baeum_lectures::lecture_02::run(&mut std::io::stdout().lock()).map(|_| ())
}
