//! Vision for baeum (COURSE.md §8–§9, project 1): image data sets and their readers,
//! seeded transforms, downloads for users who have internet, and the classic CNNs with
//! torchvision's parameter names, so torchvision weights exported to safetensors load as
//! they are.
//!
//! - [`datasets`]: MNIST and Fashion-MNIST (IDX), CIFAR-10 (binary), image folders, the
//!   scikit-learn 8×8 digits (embedded: [`datasets::Digits::embedded`]), and where to find them
//!   ([`datasets::locate`]);
//! - [`transforms`]: to-tensor, normalise, resize, crops, flips, rotations and affine maps on
//!   `[C, H, W]` images, every random one seeded;
//! - [`download`]: the data sets from their canonical mirrors, checked, resumable, atomic;
//! - [`models`]: LeNet-5, AlexNet, VGG, ResNet and the CIFAR ResNet with torchvision's keys;
//! - [`explain`]: saliency and Grad-CAM maps of what a classifier looked at.

pub mod datasets;
pub mod download;
pub mod explain;
pub mod models;
pub mod transforms;

/// `bail!(Format, "...", args)`: return a `baeum::Error` of that kind (baeum's own macro is
/// private to the library).
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err(baeum::Error::$kind(format!($($arg)*)))
    };
}
pub(crate) use bail;
