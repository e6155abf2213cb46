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
    match lecture.run(&mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `baeum lecture 7 | head` closes the pipe early: not an error worth reporting.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: lecture {section}: {e}");
            ExitCode::FAILURE
        }
    }
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
