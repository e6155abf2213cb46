//! Vision for baeum (COURSE.md §8–§9, project 1): image data sets and their readers,
//! seeded transforms, downloads for users who have internet, and the classic CNNs with
//! torchvision's parameter names, so torchvision weights exported to safetensors load as
//! they are.

pub mod explain;
pub mod models;
