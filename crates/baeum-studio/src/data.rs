//! `baeum data download mnist|fashion-mnist|cifar10 [--dir D]`: fetch a data set from its
//! canonical mirror, checked and resumable (baeum_vision::download does the work).

use std::path::PathBuf;
use std::process::ExitCode;

use baeum_vision::datasets::{DATA_ENV, KnownDataset, data_root};
use baeum_vision::download::{DownloadOptions, FileOutcome, download_dataset};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Downloads a data set, verifies its checksums and unpacks it; an interrupted download
    /// resumes when run again.
    Download {
        /// mnist, fashion-mnist or cifar10.
        name: String,
        /// The folder to put the files in (default: $BAEUM_DATA/NAME, $BAEUM_DATA defaulting
        /// to ~/.cache/baeum).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
}

pub fn run(command: DataCommand) -> ExitCode {
    match command {
        DataCommand::Download { name, dir, quiet } => download(&name, dir, quiet),
    }
}

fn download(name: &str, dir: Option<PathBuf>, quiet: bool) -> ExitCode {
    let Some(dataset) = KnownDataset::parse(name).filter(|d| *d != KnownDataset::Digits) else {
        eprintln!(
            "error: unknown data set {name:?}: expected mnist, fashion-mnist or cifar10 (the 8×8 digits are built in)"
        );
        return ExitCode::FAILURE;
    };
    let target = dir
        .clone()
        .unwrap_or_else(|| data_root().join(dataset.id()));
    println!("{dataset} → {}", target.display());
    let opts = DownloadOptions {
        progress: !quiet,
        ..DownloadOptions::default()
    };
    match download_dataset(dataset, Some(&target), &opts) {
        Ok(report) => {
            for (file, url, outcome) in &report.files {
                match outcome {
                    FileOutcome::AlreadyPresent => println!("  {file}: already there, checksum ok"),
                    FileOutcome::Downloaded {
                        bytes,
                        resumed_from,
                    } if *resumed_from > 0 => println!(
                        "  {file}: resumed at {resumed_from} bytes, fetched {bytes} more from {url}, checksum ok"
                    ),
                    FileOutcome::Downloaded { bytes, .. } => {
                        println!("  {file}: {bytes} bytes from {url}, checksum ok")
                    }
                }
            }
            for p in &report.unpacked {
                println!("  unpacked {}", p.display());
            }
            if dir.is_some() {
                println!("use it with --data {}", target.display());
            } else {
                println!("baeum finds it there by name ({DATA_ENV}, default ~/.cache/baeum)");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
