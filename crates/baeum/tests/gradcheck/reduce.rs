//! Gradcheck cases for the reduce operations.

use super::Case;

pub fn cases() -> Vec<Case> {
    vec![]
}
