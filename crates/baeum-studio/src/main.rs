//! `baeum`: the command line of the baeum studio. Later subcommands run the course's lectures
//! and projects; `info` shows what this build is and a first look at tensors.

use clap::{Parser, Subcommand};

mod info;

// mimalloc keeps freed pages for reuse: tensors of many megabytes are allocated on every step,
// and glibc's allocator would return each to the OS and page-fault it in afresh.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "baeum",
    version,
    about = "배움: learn and do deep learning in Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Version, threads, and a tour of tensors (COURSE §1).
    Info,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Info => info::run(),
    }
}
