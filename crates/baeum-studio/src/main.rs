//! `baeum`: the command line of the baeum studio. `info` shows what this build is and a first
//! look at tensors; `lecture N` runs the examples of COURSE.md section N. Later subcommands run
//! the course's projects.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod data;
mod info;
mod lecture;

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
    /// Runs the examples of a section of the course and prints them as the notes show them
    /// (without a section: lists the lectures).
    Lecture {
        /// The COURSE.md section number: 2, 3, 4, 5, 6, 7 or 10.
        section: Option<u32>,
    },
    /// Data sets: download them (into $BAEUM_DATA, default ~/.cache/baeum).
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Info => {
            info::run();
            ExitCode::SUCCESS
        }
        Command::Lecture { section } => lecture::run(section),
        Command::Data { command } => data::run(command),
    }
}
