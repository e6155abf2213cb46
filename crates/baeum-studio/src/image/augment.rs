//! The training-time augmentation of `--augment`, as a transform chain for
//! `baeum_vision::transforms::Transformed` (which seeds each draw by (seed, example, draw)).

use baeum_vision::transforms::{Compose, RandomCrop, RandomHorizontalFlip, RandomRotation};

/// The usual light augmentation for small images: pad-and-crop by an eighth of the side,
/// rotations up to 10°, and horizontal flips for colour photographs (digits and letters
/// must not be mirrored).
pub fn default_chain(channels: usize, height: usize, width: usize) -> Compose {
    let pad = (height.min(width) / 8).max(1);
    let mut chain = Compose::new()
        .then(RandomCrop::new(height, width).padding(pad))
        .then(RandomRotation::new(10.0));
    if channels == 3 {
        chain = chain.then(RandomHorizontalFlip::new(0.5));
    }
    chain
}
