//! `baeum`: the command line of the baeum studio. `quickstart` trains a CNN on embedded data;
//! `image train|eval|predict` is project 1; `info` shows what this build is and a first look
//! at tensors; `lecture N` runs the examples of COURSE.md section N.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod data;
mod image;
mod info;
mod lecture;
mod project;
mod quickstart;

// mimalloc keeps freed pages for reuse: tensors of many megabytes are allocated on every step,
// and glibc's allocator would return each to the OS and page-fault it in afresh.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same index in its v2 and v3 headers).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory committed: by default mimalloc hands pages back to the OS 10 ms after
/// they are freed, and every training step would fault its buffers in afresh. Peak memory
/// is unchanged.
fn keep_freed_pages() {
    // SAFETY: sets an integer option; mimalloc reads it at its next purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

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
    /// Trains a CNN on the 8×8 digits embedded in baeum (no download, about a minute), prints
    /// its test accuracy and confusion matrix, and writes a report.
    Quickstart {
        /// The run folder (default: runs/image/<timestamp>).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 20)]
        epochs: usize,
    },
    /// Project 1, image recognition: train, evaluate and predict with CNNs.
    #[command(subcommand)]
    Image(Box<image::ImageCommand>),
    /// Version, threads, and a tour of tensors (COURSE §1).
    Info,
    /// Runs the examples of a section of the course and prints them as the notes show them
    /// (without a section: lists the lectures).
    Lecture {
        /// The COURSE.md section number (2–12).
        section: Option<u32>,
    },
    /// Data sets: download them (into $BAEUM_DATA, default ~/.cache/baeum).
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
    },
}

fn main() -> ExitCode {
    keep_freed_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quickstart { out, epochs } => quickstart::run(out, epochs).map(|_| ()),
        Command::Image(cmd) => image::run(*cmd),
        Command::Info => {
            info::run();
            Ok(())
        }
        Command::Lecture { section } => return lecture::run(section),
        Command::Data { command } => return data::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
