//! `baeum lecture N`: runs the lecture for COURSE.md section N (the `baeum-lectures` crate)
//! and prints it; without N, lists the lectures.

use std::io::{self, Write};
use std::process::ExitCode;

/// Runs the lecture for `section`, or lists them all when `section` is `None`. An unknown
/// section is a usage error: the available ones are listed on stderr and the exit code is 2.
pub fn run(section: Option<u32>) -> ExitCode {
    let Some(section) = section else {
        list(&mut io::stdout().lock());
        return ExitCode::SUCCESS;
    };
    let Some(lecture) = baeum_lectures::find(section) else {
        let mut err = io::stderr().lock();
        let _ = writeln!(
            err,
            "error: there is no lecture for COURSE.md section {section}; the lectures are for \
             sections {}:",
            baeum_lectures::available()
        );
        list(&mut err);
        return ExitCode::from(2);
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match section {
        9 => run_training_improvements(&mut out),
        10 => run_backpropagation(&mut out),
        11 => run_optimizers(&mut out),
        _ => lecture.run(&mut out),
    };
    match result.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `baeum lecture 7 | head` closes the pipe early: not an error worth reporting.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: lecture {section}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// §9 also writes each run's loss history (CSV) and the loss curves (SVG) into
/// `runs/lecture-09/`.
fn run_training_improvements(out: &mut dyn Write) -> io::Result<()> {
    let report = baeum_lectures::lecture_09::run(out)?;
    let dir = std::path::Path::new("runs").join("lecture-09");
    let written = baeum_lectures::lecture_09::save_curves(&report, &dir)?;
    writeln!(out, "Loss histories and curves written:")?;
    for path in written {
        writeln!(out, "  {}", path.display())?;
    }
    Ok(())
}

/// §10 also draws its computational graphs, into `runs/lecture-10/`.
fn run_backpropagation(out: &mut dyn Write) -> io::Result<()> {
    let report = baeum_lectures::lecture_10::run(out)?;
    let dir = std::path::Path::new("runs").join("lecture-10");
    let written = baeum_lectures::lecture_10::save_pictures(&report, &dir)
        .map_err(|e| io::Error::other(e.to_string()))?;
    writeln!(out, "Graph pictures written:")?;
    for path in written {
        writeln!(out, "  {}", path.display())?;
    }
    Ok(())
}

/// §11 also draws the optimizers' paths, into `runs/lecture-11/optimizers.svg`.
fn run_optimizers(out: &mut dyn Write) -> io::Result<()> {
    let report = baeum_lectures::lecture_11::run(out)?;
    let dir = std::path::Path::new("runs").join("lecture-11");
    let path = baeum_lectures::lecture_11::save_picture(&report, &dir)?;
    writeln!(out, "Optimizer paths written:")?;
    writeln!(out, "  {}", path.display())
}

fn list(out: &mut dyn Write) {
    for l in baeum_lectures::LECTURES {
        let _ = writeln!(
            out,
            "  baeum lecture {:<3} §{} {}",
            l.section, l.section, l.title
        );
    }
}
