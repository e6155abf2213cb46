//! The library's error type: what went wrong and where, for anything fed by user data or files.

use std::fmt;

/// An error from an operation fed with unchecked input (a data pipeline, a file, a user's shape).
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Shapes that an operation cannot combine; the message names the operation and the shapes.
    Shape(String),
    /// A dtype an operation does not accept.
    DType(String),
    /// An index or dimension out of range.
    Index(String),
    /// A malformed or unsupported file, with its path and what was wrong.
    Format(String),
    /// An I/O failure, with the path involved.
    Io(String),
    /// Anything else an operation refuses, with the reason.
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(m)
            | Error::DType(m)
            | Error::Index(m)
            | Error::Format(m)
            | Error::Io(m)
            | Error::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand used inside the crate: `bail!(Shape, "...", args)`.
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::$kind(format!($($arg)*)))
    };
}
pub(crate) use bail;
