//! Gradcheck cases for the shape operations.

use super::Case;

pub fn cases() -> Vec<Case> {
    vec![]
}
