//! Image data sets: readers that validate what they read, an in-memory [`ImageDataset`] that
//! plugs into baeum's [`Dataset`] and [`DataLoader`](baeum::data::DataLoader), and where the
//! data sets are found ([`locate`]).
//!
//! | data set | reader | images |
//! |---|---|---|
//! | MNIST | [`Mnist::load`] (IDX, gzip or raw) | `[N, 1, 28, 28]` |
//! | Fashion-MNIST | [`FashionMnist::load`] | `[N, 1, 28, 28]` |
//! | CIFAR-10 | [`Cifar10::load`] (binary batches) | `[N, 3, 32, 32]` |
//! | 8×8 digits | [`Digits::embedded`], [`Digits::read_csv`] | `[N, 1, 8, 8]` |
//! | a folder of images | [`ImageFolder`] (lazy) or [`ImageFolder::to_memory`] | `[N, C, H, W]` |
//!
//! Pixels are f32 in `[0, 1]` and labels i64 class indices; every reader also gives the class
//! names.

mod cifar;
mod digits;
mod folder;
mod idx;
mod io;

use std::path::{Path, PathBuf};

use baeum::data::{Dataset, TensorDataset, stratified_split};
use baeum::{DType, Result, Tensor};

pub use cifar::{CIFAR10_BIN_DIR, CIFAR10_RECORD, Cifar10};
pub use digits::{DIGITS_MAX, Digits};
pub use folder::{ColorMode, IMAGE_EXTENSIONS, ImageFolder, decode_image, read_image};
pub use idx::{
    FashionMnist, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IdxArray, Mnist, parse_idx, read_idx,
    read_idx_images, read_idx_labels,
};

use crate::bail;

/// The share of each class held out for the test split of a data set that has none on disk
/// (the 8×8 digits, a digits CSV, an image folder without `test/`).
pub const TEST_FRACTION: f64 = 0.2;
/// The seed of that split: the same images land in the test split on every run.
pub const SPLIT_SEED: u64 = Digits::SPLIT_SEED;

/// Labelled images in memory: images `[N, C, H, W]` (f32) and labels `[N]` (i64 class indices),
/// with the class names. A [`Dataset`] whose examples are `([C, H, W], label)`.
#[derive(Clone, Debug)]
pub struct ImageDataset {
    data: TensorDataset,
    classes: Vec<String>,
}

impl ImageDataset {
    /// Checks the shapes and dtypes agree and every label names one of `classes`.
    pub fn new(images: Tensor, labels: Tensor, classes: Vec<String>) -> Result<Self> {
        if images.rank() != 4 || images.dtype() != DType::F32 {
            bail!(
                Shape,
                "ImageDataset: expects f32 images [N, C, H, W], got {} of shape {}",
                images.dtype(),
                images.shape()
            );
        }
        if labels.rank() != 1 || labels.dtype() != DType::I64 {
            bail!(
                Shape,
                "ImageDataset: expects i64 labels [N], got {} of shape {}",
                labels.dtype(),
                labels.shape()
            );
        }
        if classes.is_empty() {
            bail!(Invalid, "ImageDataset: expects at least one class name");
        }
        let k = classes.len() as i64;
        if let Some(bad) = labels.to_vec::<i64>().iter().find(|l| !(0..k).contains(*l)) {
            bail!(
                Invalid,
                "ImageDataset: label {bad} names no class: there are {k} ({})",
                classes.join(", ")
            );
        }
        Ok(ImageDataset {
            data: TensorDataset::new(images, labels)?,
            classes,
        })
    }

    /// All images, `[N, C, H, W]`.
    pub fn images(&self) -> &Tensor {
        self.data.inputs()
    }

    /// All labels, `[N]`.
    pub fn labels(&self) -> &Tensor {
        self.data.targets()
    }

    /// The class names, in label order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// `[C, H, W]` of every image.
    pub fn image_shape(&self) -> [usize; 3] {
        let d = self.images().dims();
        [d[1], d[2], d[3]]
    }

    /// The image of example `index`, `[C, H, W]` (a view, no copy).
    pub fn image(&self, index: usize) -> Result<Tensor> {
        Ok(self.get(index)?.0)
    }

    /// The label of example `index`.
    pub fn label(&self, index: usize) -> Result<i64> {
        Ok(self.get(index)?.1.item::<i64>())
    }

    /// How many examples each class has, in label order.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for l in self.labels().to_vec::<i64>() {
            counts[l as usize] += 1;
        }
        counts
    }

    /// The mean and (population) standard deviation of each channel over all pixels: the
    /// numbers to [`Normalize`](baeum::data::Normalize) with, computed on the training split
    /// (MNIST: 0.1307 and 0.3081).
    pub fn channel_mean_std(&self) -> (Vec<f64>, Vec<f64>) {
        let [c, h, w] = self.image_shape();
        let n = self.len();
        let data = self.images().to_vec::<f32>();
        let plane = h * w;
        let mut mean = vec![0.0; c];
        let mut sq = vec![0.0; c];
        for (i, chunk) in data.chunks_exact(plane.max(1)).enumerate() {
            let ch = i % c;
            // Sum in f64 per plane: 47 million f32 additions would drift.
            let (s, s2) = chunk.iter().fold((0.0f64, 0.0f64), |(s, s2), &v| {
                (s + v as f64, s2 + (v as f64) * (v as f64))
            });
            mean[ch] += s;
            sq[ch] += s2;
        }
        let count = (n * plane).max(1) as f64;
        let std = mean
            .iter_mut()
            .zip(&sq)
            .map(|(m, s2)| {
                *m /= count;
                (s2 / count - *m * *m).max(0.0).sqrt()
            })
            .collect();
        (mean, std)
    }

    /// The examples at `indices`, gathered into a new data set with the same classes.
    pub fn subset(&self, indices: &[usize]) -> Result<ImageDataset> {
        if indices.is_empty() {
            bail!(Invalid, "ImageDataset::subset: expects at least one index");
        }
        let (images, labels) = self.data.get_batch(indices)?;
        Ok(ImageDataset {
            data: TensorDataset::new(images, labels)?,
            classes: self.classes.clone(),
        })
    }

    /// The first `n` examples (all of them if there are fewer).
    pub fn take(&self, n: usize) -> Result<ImageDataset> {
        let n = n.min(self.len());
        self.subset(&(0..n).collect::<Vec<_>>())
    }

    /// Splits by class into parts of the given `fractions` (summing to 1), each keeping the
    /// class proportions, with [`baeum::data::stratified_split`]: the same seed, the same parts.
    pub fn stratified_split(&self, fractions: &[f64], seed: u64) -> Result<Vec<ImageDataset>> {
        stratified_split(self.labels(), fractions, seed)?
            .into_iter()
            .map(|idx| self.subset(&idx))
            .collect()
    }

    /// A stratified `(train, test)` split with `test_fraction` of each class in the test part.
    pub fn train_test_split(
        &self,
        test_fraction: f64,
        seed: u64,
    ) -> Result<(ImageDataset, ImageDataset)> {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            bail!(
                Invalid,
                "ImageDataset::train_test_split: test_fraction must lie strictly between 0 and 1, got {test_fraction}"
            );
        }
        let mut parts = self.stratified_split(&[1.0 - test_fraction, test_fraction], seed)?;
        let test = parts.pop().unwrap();
        Ok((parts.pop().unwrap(), test))
    }

    /// The images and labels as a plain [`TensorDataset`].
    pub fn tensor_dataset(&self) -> &TensorDataset {
        &self.data
    }

    pub fn into_tensor_dataset(self) -> TensorDataset {
        self.data
    }
}

impl Dataset for ImageDataset {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        self.data.get(index)
    }

    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        self.data.get_batch(indices)
    }
}

/// The environment variable naming the folder data sets live in.
pub const DATA_ENV: &str = "BAEUM_DATA";

/// The folder data sets are downloaded to and looked for in: `$BAEUM_DATA`, else
/// `$HOME/.cache/baeum`, else `.cache/baeum` under the working directory.
pub fn data_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("baeum"),
        None => PathBuf::from(".cache").join("baeum"),
    }
}

/// The data sets baeum knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownDataset {
    Mnist,
    FashionMnist,
    Cifar10,
    /// The scikit-learn 8×8 digits, embedded in the crate.
    Digits,
}

impl KnownDataset {
    pub const ALL: [KnownDataset; 4] = [
        KnownDataset::Mnist,
        KnownDataset::FashionMnist,
        KnownDataset::Cifar10,
        KnownDataset::Digits,
    ];

    /// The name on the command line and the folder under [`data_root`]: `mnist`,
    /// `fashion-mnist`, `cifar10`, `digits`.
    pub fn id(self) -> &'static str {
        match self {
            KnownDataset::Mnist => "mnist",
            KnownDataset::FashionMnist => "fashion-mnist",
            KnownDataset::Cifar10 => "cifar10",
            KnownDataset::Digits => "digits",
        }
    }

    /// Parses a name case-insensitively, accepting the usual spellings (`fashion_mnist`,
    /// `FashionMNIST`, `cifar-10`).
    pub fn parse(name: &str) -> Option<KnownDataset> {
        let n: String = name
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        match n.as_str() {
            "mnist" => Some(KnownDataset::Mnist),
            "fashionmnist" | "fmnist" => Some(KnownDataset::FashionMnist),
            "cifar10" => Some(KnownDataset::Cifar10),
            "digits" | "sklearndigits" | "digits8x8" => Some(KnownDataset::Digits),
            _ => None,
        }
    }

    /// The folder names a copy may sit under, inside a data folder: baeum's own first, then
    /// torchvision's layout (`MNIST/raw`) and the course's shared folder names.
    pub fn folder_names(self) -> &'static [&'static str] {
        match self {
            KnownDataset::Mnist => &["mnist", "MNIST/raw", "MNIST"],
            KnownDataset::FashionMnist => &[
                "fashion-mnist",
                "fashion_mnist",
                "FashionMNIST/raw",
                "FashionMNIST",
            ],
            KnownDataset::Cifar10 => &[
                "cifar10",
                CIFAR10_BIN_DIR,
                "cifar10_subset",
                "CIFAR10",
                "cifar-10",
            ],
            KnownDataset::Digits => &["digits", "sklearn_small"],
        }
    }

    /// The class names.
    pub fn classes(self) -> Vec<String> {
        match self {
            KnownDataset::Mnist => Mnist::classes(),
            KnownDataset::FashionMnist => FashionMnist::classes(),
            KnownDataset::Cifar10 => Cifar10::CLASSES.iter().map(|s| s.to_string()).collect(),
            KnownDataset::Digits => Digits::classes(),
        }
    }

    /// Whether `dir` itself holds this data set's files.
    pub fn is_in(self, dir: &Path) -> bool {
        match self {
            KnownDataset::Mnist | KnownDataset::FashionMnist => idx::has_idx_files(dir),
            KnownDataset::Cifar10 => {
                let d = Cifar10::batches_dir(dir);
                [true, false].into_iter().any(|train| {
                    Cifar10::batch_files(&d, train).is_ok_and(|files| !files.is_empty())
                })
            }
            KnownDataset::Digits => {
                io::find_file(dir, &["digits_train.csv", "digits.csv"]).is_some()
            }
        }
    }

    /// Reads the training or test split from the folder [`locate`] finds. The digits come from
    /// the embedded copy unless `explicit` names a CSV or a folder holding one; their "test"
    /// split is the 20% of [`Digits::embedded_split`].
    pub fn load(self, explicit: Option<&Path>, train: bool) -> Result<ImageDataset> {
        let pick = |(tr, te): (ImageDataset, ImageDataset)| if train { tr } else { te };
        match self {
            KnownDataset::Digits => {
                let Some(path) = explicit else {
                    return Digits::embedded_split().map(pick);
                };
                let file = if path.is_file() {
                    path.to_path_buf()
                } else {
                    io::find_file(
                        &locate(self, Some(path))?,
                        &["digits_train.csv", "digits.csv"],
                    )
                    .ok_or_else(|| {
                        baeum::Error::Io(format!(
                            "digits: no digits_train.csv[.gz] in {}",
                            path.display()
                        ))
                    })?
                };
                Digits::read_csv(&file)?
                    .train_test_split(TEST_FRACTION, SPLIT_SEED)
                    .map(pick)
            }
            KnownDataset::Mnist => Mnist::load(locate(self, explicit)?, train),
            KnownDataset::FashionMnist => FashionMnist::load(locate(self, explicit)?, train),
            KnownDataset::Cifar10 => Cifar10::load(locate(self, explicit)?, train),
        }
    }
}

impl std::fmt::Display for KnownDataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Finds the folder holding `dataset`.
///
/// With `explicit` (a `--data PATH`): that folder if it holds the files, else one of its
/// sub-folders named as [`KnownDataset::folder_names`] lists; nothing else is searched, so a
/// wrong path is an error rather than a silent fallback. Without: the same names under
/// [`data_root`] (`$BAEUM_DATA`, default `~/.cache/baeum`). The error lists every place looked
/// in and how to get the data.
pub fn locate(dataset: KnownDataset, explicit: Option<&Path>) -> Result<PathBuf> {
    let base = match explicit {
        Some(p) => {
            if !p.exists() {
                bail!(Io, "{dataset}: --data {} does not exist", p.display());
            }
            p.to_path_buf()
        }
        None => data_root(),
    };
    let mut candidates = Vec::new();
    if explicit.is_some() {
        candidates.push(base.clone());
    }
    candidates.extend(dataset.folder_names().iter().map(|n| base.join(n)));
    for c in &candidates {
        if c.is_dir() && dataset.is_in(c) {
            return Ok(c.clone());
        }
    }
    let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
    let how = if explicit.is_some() {
        "check the path".to_string()
    } else {
        format!(
            "set {DATA_ENV} to the folder holding it, pass --data PATH, or fetch it with `baeum data download {dataset}`"
        )
    };
    bail!(
        Io,
        "{dataset}: not found; looked in {}; {how}",
        looked.join(", ")
    )
}

/// A data set named on the command line: a [`KnownDataset`] name, or a path to a folder of
/// MNIST-style IDX files, CIFAR-10 batches, a digits CSV, or an image folder. An image folder
/// with `train/` and `test/` (or `val/`) sub-folders gives those splits; one without (or with
/// `train/` only) is split by class, [`TEST_FRACTION`] of each class for the test split, with
/// [`SPLIT_SEED`], as a digits CSV is. `size` resizes
/// image-folder images (they must otherwise share one size); `mode` is their colour.
pub fn open(
    spec: &str,
    data_dir: Option<&Path>,
    train: bool,
    mode: ColorMode,
    size: Option<(usize, usize)>,
) -> Result<ImageDataset> {
    if let Some(known) = KnownDataset::parse(spec) {
        return known.load(data_dir, train);
    }
    let path = Path::new(spec);
    if !path.exists() {
        let names: Vec<&str> = KnownDataset::ALL.iter().map(|d| d.id()).collect();
        bail!(
            Io,
            "data set {spec:?}: neither a known name ({}) nor an existing path",
            names.join(", ")
        );
    }
    if path.is_file() {
        return Digits::read_csv(path)?
            .train_test_split(TEST_FRACTION, SPLIT_SEED)
            .map(|(tr, te)| if train { tr } else { te });
    }
    if idx::has_idx_files(path) {
        return load_idx_folder(path, train);
    }
    if KnownDataset::Cifar10.is_in(path) {
        return Cifar10::load(path, train);
    }
    let train_dir = path.join("train");
    let test_dir = ["test", "val"]
        .iter()
        .map(|s| path.join(s))
        .find(|p| p.is_dir());
    let load = |root: &Path| {
        let mut folder = ImageFolder::new(root)?.color(mode);
        if let Some((h, w)) = size {
            folder = folder.resize(h, w);
        }
        folder.to_memory()
    };
    match (train_dir.is_dir(), test_dir) {
        (true, Some(test_dir)) => load(if train { &train_dir } else { &test_dir }),
        (false, Some(test_dir)) => bail!(
            Io,
            "{}: has {} but no train/ folder beside it",
            path.display(),
            test_dir.display()
        ),
        // No test split on disk: hold out a fifth of each class, the same fifth every time.
        (has_train, None) => {
            let root = if has_train { &train_dir } else { path };
            load(root)?
                .train_test_split(TEST_FRACTION, SPLIT_SEED)
                .map(|(tr, te)| if train { tr } else { te })
        }
    }
}

/// An IDX folder given by path: Fashion-MNIST's class names when the folder's name says
/// "fashion", else the digits.
fn load_idx_folder(path: &Path, train: bool) -> Result<ImageDataset> {
    let named_fashion = path.components().any(|c| {
        c.as_os_str()
            .to_string_lossy()
            .to_ascii_lowercase()
            .contains("fashion")
    });
    if named_fashion {
        FashionMnist::load(path, train)
    } else {
        Mnist::load(path, train)
    }
}
