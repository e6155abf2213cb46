//! Gradcheck cases for the linalg operations.

use super::Case;

pub fn cases() -> Vec<Case> {
    vec![]
}
