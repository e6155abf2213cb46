//! Image folders as PyTorch's `ImageFolder` reads them: `root/<class>/<...>/<file>.png|jpg`, the
//! classes the sub-folders of `root` in sorted order, the images decoded when asked for.

use std::path::{Path, PathBuf};

use baeum::data::Dataset;
use baeum::{Result, Tensor};

use super::ImageDataset;
use crate::bail;
use crate::transforms::{Resize, to_tensor};

/// How decoded images become channels: one gray channel, or three RGB channels (PyTorch's
/// `default_loader` converts every image to RGB).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorMode {
    /// One channel, `L = (299 R + 587 G + 114 B) / 1000` (ITU-R 601-2, as PIL's `convert("L")`).
    Gray,
    /// Three channels; an alpha channel is dropped, as PIL's `convert("RGB")`.
    #[default]
    Rgb,
}

impl ColorMode {
    /// The number of channels: 1 or 3.
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Gray => 1,
            ColorMode::Rgb => 3,
        }
    }
}

/// Decodes the PNG or JPEG at `path` (recognised by its content, whatever its name) into a
/// `[C, H, W]` f32 tensor in `[0, 1]`. A file that is not a decodable image is an error naming it.
pub fn read_image(path: &Path, mode: ColorMode) -> Result<Tensor> {
    let bytes = std::fs::read(path)
        .map_err(|e| baeum::Error::Io(format!("cannot read {}: {e}", path.display())))?;
    decode_image(&bytes, &path.display().to_string(), mode)
}

/// Decodes PNG or JPEG `bytes` (`name` is the file the errors name) into `[C, H, W]` in `[0, 1]`.
pub fn decode_image(bytes: &[u8], name: &str, mode: ColorMode) -> Result<Tensor> {
    let format = image::guess_format(bytes).map_err(|_| {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        baeum::Error::Format(format!(
            "{name}: not a PNG or JPEG image (its first bytes are [{}], neither the PNG signature 89 50 4e 47 nor the JPEG ff d8 ff)",
            head.join(" ")
        ))
    })?;
    let img = image::load_from_memory_with_format(bytes, format).map_err(|e| {
        baeum::Error::Format(format!("{name}: cannot decode the {format:?} image: {e}"))
    })?;
    Ok(to_tensor(&img, mode))
}

/// The extensions an image folder reads (lower-case; matched case-insensitively). Files with
/// other extensions are skipped, as PyTorch skips them.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Sorts paths by their bytes, as Python sorts the strings (not component by component as
/// `PathBuf`'s `Ord` does: "a-b" sorts before "a/x" in Python).
fn sort_as_python(paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
}

/// The entries of `dir` that are folders (following links) and those that are files, skipping
/// hidden names (`.ipynb_checkpoints`, `.DS_Store`).
fn list(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| baeum::Error::Io(format!("cannot list {}: {e}", dir.display())))?;
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    for entry in entries {
        let entry =
            entry.map_err(|e| baeum::Error::Io(format!("cannot list {}: {e}", dir.display())))?;
        let path = entry.path();
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        if path.is_dir() {
            dirs.push(path);
        } else if path.is_file() {
            files.push(path);
        }
    }
    sort_as_python(&mut dirs);
    sort_as_python(&mut files);
    Ok((dirs, files))
}

/// Every image file under `dir`, in the order of `sorted(os.walk(dir))` then `sorted(files)`.
fn walk_images(dir: &Path) -> Result<Vec<PathBuf>> {
    // os.walk's tuples sorted by their root: collect every folder, then sort the path strings.
    let mut folders = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < folders.len() {
        if folders.len() > 100_000 {
            bail!(
                Invalid,
                "ImageFolder: more than 100000 folders under {} (a link loop?)",
                dir.display()
            );
        }
        let (sub, _) = list(&folders[i])?;
        folders.extend(sub);
        i += 1;
    }
    sort_as_python(&mut folders);
    let mut images = Vec::new();
    for f in &folders {
        let (_, files) = list(f)?;
        images.extend(files.into_iter().filter(|p| has_image_extension(p)));
    }
    Ok(images)
}

/// A folder of images in one sub-folder per class (`torchvision.datasets.ImageFolder`).
///
/// The classes are the sub-folders of `root`, sorted by name (hidden ones, starting with a dot,
/// are left out); class `i` is the `i`-th. The samples are the `.png`, `.jpg` and `.jpeg` files
/// under each class folder, at any depth, in PyTorch's order. Images are decoded when an example
/// is asked for, as `[C, H, W]` f32 in `[0, 1]`, in the [`ColorMode`] chosen (RGB unless told),
/// and resized when [`ImageFolder::resize`] is set, so examples of different sizes can share a
/// batch.
#[derive(Clone, Debug)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    samples: Vec<(PathBuf, usize)>,
    mode: ColorMode,
    resize: Option<Resize>,
}

impl ImageFolder {
    /// Scans `root`: an error if it is not a folder, has no class folders, or a class folder
    /// holds no image.
    pub fn new(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            bail!(
                Io,
                "ImageFolder: {} is not a folder (expected root/<class>/<image>.png|jpg)",
                root.display()
            );
        }
        let (class_dirs, _) = list(&root)?;
        if class_dirs.is_empty() {
            bail!(
                Format,
                "ImageFolder: {} has no class folders (expected root/<class>/<image>.png|jpg)",
                root.display()
            );
        }
        let mut classes = Vec::with_capacity(class_dirs.len());
        let mut samples = Vec::new();
        for (c, dir) in class_dirs.iter().enumerate() {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let images = walk_images(dir)?;
            if images.is_empty() {
                bail!(
                    Format,
                    "ImageFolder: class folder {} holds no image ({})",
                    dir.display(),
                    IMAGE_EXTENSIONS.map(|e| format!(".{e}")).join(", ")
                );
            }
            samples.extend(images.into_iter().map(|p| (p, c)));
            classes.push(name);
        }
        Ok(ImageFolder {
            root,
            classes,
            samples,
            mode: ColorMode::default(),
            resize: None,
        })
    }

    /// Decode to this colour mode (default RGB).
    pub fn color(mut self, mode: ColorMode) -> Self {
        self.mode = mode;
        self
    }

    /// Resize every image to `height × width` (bilinear) as it is loaded.
    pub fn resize(mut self, height: usize, width: usize) -> Self {
        self.resize = Some(Resize::new(height, width));
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The class names, in label order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Every `(path, class)` pair, in the order the examples are indexed.
    pub fn samples(&self) -> &[(PathBuf, usize)] {
        &self.samples
    }

    pub fn color_mode(&self) -> ColorMode {
        self.mode
    }

    /// The image of example `index`, decoded (and resized when asked), `[C, H, W]`.
    pub fn image(&self, index: usize) -> Result<Tensor> {
        let Some((path, _)) = self.samples.get(index) else {
            bail!(
                Index,
                "ImageFolder: index {index} out of range for {} images",
                self.samples.len()
            );
        };
        let img = read_image(path, self.mode)?;
        match &self.resize {
            Some(r) => r.resize(&img),
            None => Ok(img),
        }
    }

    /// Decodes every image into memory: the whole folder as an [`ImageDataset`]. The images
    /// must share one size unless [`ImageFolder::resize`] is set.
    pub fn to_memory(&self) -> Result<ImageDataset> {
        let mut images = Vec::with_capacity(self.samples.len());
        for i in 0..self.samples.len() {
            let img = self.image(i)?;
            if let Some(first) = images.first().map(Tensor::dims)
                && first != img.dims()
            {
                bail!(
                    Shape,
                    "ImageFolder {}: {} is {:?} but {} is {:?} ([C, H, W]); images of one data set must share a size: resize them (ImageFolder::resize)",
                    self.root.display(),
                    self.samples[0].0.display(),
                    first,
                    self.samples[i].0.display(),
                    img.dims()
                );
            }
            images.push(img);
        }
        let images = Tensor::try_stack(&images.iter().collect::<Vec<_>>(), 0)?;
        let labels: Vec<i64> = self.samples.iter().map(|(_, c)| *c as i64).collect();
        let n = labels.len();
        ImageDataset::new(images, Tensor::from_vec(labels, [n]), self.classes.clone())
    }
}

impl Dataset for ImageFolder {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        let img = self.image(index)?;
        Ok((img, Tensor::scalar(self.samples[index].1 as i64)))
    }
}
