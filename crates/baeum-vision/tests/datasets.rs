//! The readers on the real files of ../shared/data (skipped with a note when absent; CI has
//! them), on the embedded digits, and on bad files. Expected numbers: NumPy on the same files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use baeum::data::{DataLoader, Dataset};
use baeum_vision::datasets::{
    Cifar10, ColorMode, Digits, FashionMnist, ImageDataset, ImageFolder, KnownDataset, Mnist,
    locate, read_idx_images, read_idx_labels,
};

fn shared(dir: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(dir);
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("note: {} is absent; skipping", p.display());
        None
    }
}

/// MNIST's training split, read once for every test that needs it.
fn mnist_train() -> Option<&'static ImageDataset> {
    static TRAIN: OnceLock<Option<ImageDataset>> = OnceLock::new();
    TRAIN
        .get_or_init(|| shared("mnist").map(|d| Mnist::load(d, true).unwrap()))
        .as_ref()
}

/// A fresh temporary folder for one test.
fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baeum-vision-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn mnist_counts_labels_and_pixels() {
    let Some(train) = mnist_train() else { return };
    assert_eq!(train.len(), 60000);
    assert_eq!(train.images().dims(), &[60000, 1, 28, 28]);
    assert_eq!(
        &train.labels().narrow(0, 0, 10).to_vec::<i64>(),
        &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    );
    // Image 0: its bytes sum to 27525; as f32 / 255, to 107.941177...
    let img0 = train.image(0).unwrap();
    let sum: f64 = img0.to_vec::<f32>().iter().map(|&v| v as f64).sum();
    assert!((sum - 107.94117754790932).abs() < 1e-4, "{sum}");
    let bytes: f64 = img0
        .to_vec::<f32>()
        .iter()
        .map(|&v| (v * 255.0).round() as f64)
        .sum();
    assert_eq!(bytes, 27525.0);
    assert_eq!(
        train.class_counts(),
        vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    // The normalisation constants everyone uses for MNIST.
    let (mean, std) = train.channel_mean_std();
    // f32 pixels (v / 255 rounded to f32) move the mean by ~1e-9.
    assert!((mean[0] - 0.1306604762738429).abs() < 1e-8, "{mean:?}");
    assert!((std[0] - 0.30810780385646264).abs() < 1e-8, "{std:?}");

    let test = Mnist::load(shared("mnist").unwrap(), false).unwrap();
    assert_eq!(test.len(), 10000);
    assert_eq!(
        &test.labels().narrow(0, 0, 10).to_vec::<i64>(),
        &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    );
    assert_eq!(test.classes()[3], "3");
}

#[test]
fn mnist_batches_through_a_data_loader() {
    let Some(train) = mnist_train() else { return };
    let small = train.take(100).unwrap();
    let mut loader = DataLoader::new(small, 32).shuffle(true).seed(3);
    let sizes: Vec<(Vec<usize>, Vec<usize>)> = loader
        .iter()
        .map(|b| {
            let (x, y) = b.unwrap();
            (x.dims().to_vec(), y.dims().to_vec())
        })
        .collect();
    assert_eq!(sizes.len(), 4);
    assert_eq!(sizes[0], (vec![32, 1, 28, 28], vec![32]));
    assert_eq!(sizes[3], (vec![4, 1, 28, 28], vec![4]));
}

#[test]
fn fashion_mnist_counts_and_classes() {
    let Some(dir) = shared("fashion_mnist") else {
        return;
    };
    let test = FashionMnist::load(&dir, false).unwrap();
    assert_eq!(test.len(), 10000);
    assert_eq!(test.class_counts(), vec![1000; 10]);
    assert_eq!(
        &test.labels().narrow(0, 0, 10).to_vec::<i64>(),
        &[9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    );
    assert_eq!(test.classes()[9], "Ankle boot");
    // The training labels alone (the images are the same reader as MNIST's).
    let labels = read_idx_labels(&dir.join("train-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(labels.dims(), &[60000]);
    assert_eq!(&labels.narrow(0, 0, 5).to_vec::<i64>(), &[9, 0, 0, 3, 0]);
}

#[test]
fn cifar10_subset_labels_and_pixels() {
    let Some(dir) = shared("cifar10_subset") else {
        return;
    };
    let train = Cifar10::load(&dir, true).unwrap();
    assert_eq!(train.images().dims(), &[4000, 3, 32, 32]);
    assert_eq!(
        &train.labels().narrow(0, 0, 10).to_vec::<i64>(),
        &[6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    );
    assert_eq!(train.classes()[0], "airplane");
    assert_eq!(train.classes()[9], "truck");
    assert_eq!(
        train.class_counts(),
        vec![396, 366, 420, 384, 422, 393, 414, 385, 407, 413]
    );
    let bytes = |i: usize| -> f64 {
        let x = train.image(i).unwrap().to_vec::<f32>();
        x.iter().map(|&v| (v * 255.0).round() as f64).sum()
    };
    assert_eq!(bytes(0), 317790.0);
    assert_eq!(bytes(3999), 235975.0);
    let (mean, _) = train.channel_mean_std();
    assert!((mean[0] - 0.49159668).abs() < 1e-6, "{mean:?}");
    assert!((mean[2] - 0.4446567).abs() < 1e-6, "{mean:?}");
    // No test batch in the subset: a clear error.
    let e = Cifar10::load(&dir, false).unwrap_err();
    assert!(e.to_string().contains("no test_batch.bin in"), "{e}");
}

#[test]
fn embedded_digits_and_their_stratified_split() {
    let d = Digits::embedded().unwrap();
    assert_eq!(d.len(), 1437);
    assert_eq!(d.images().dims(), &[1437, 1, 8, 8]);
    assert_eq!(
        &d.labels().narrow(0, 0, 10).to_vec::<i64>(),
        &[1, 2, 3, 4, 5, 6, 7, 8, 1, 3]
    );
    assert_eq!(
        d.class_counts(),
        vec![146, 140, 152, 143, 145, 141, 145, 142, 142, 141]
    );
    // Row 0's pixels sum to 313 (of 16ths).
    let s: f32 = d.image(0).unwrap().to_vec::<f32>().iter().sum();
    assert!((s * 16.0 - 313.0).abs() < 1e-3, "{s}");
    let (train, test) = Digits::embedded_split().unwrap();
    assert_eq!((train.len(), test.len()), (1149, 288));
    // Every class keeps its share: 20% of 146 zeros is 29.2 → 29 or 30.
    for (k, (a, b)) in train
        .class_counts()
        .iter()
        .zip(test.class_counts())
        .enumerate()
    {
        assert_eq!(a + b, d.class_counts()[k]);
        assert!(
            b == (d.class_counts()[k] as f64 * 0.2) as usize
                || b == (d.class_counts()[k] as f64 * 0.2).ceil() as usize
        );
    }
    let (train2, _) = Digits::embedded_split().unwrap();
    assert_eq!(
        train.labels().to_vec::<i64>(),
        train2.labels().to_vec::<i64>()
    );
    // The file in ../shared/data reads the same.
    if let Some(dir) = shared("sklearn_small") {
        let f = Digits::read_csv(dir.join("digits_train.csv.gz")).unwrap();
        assert_eq!(f.images().to_vec::<f32>(), d.images().to_vec::<f32>());
    }
    // Digits through the named-data-set path: the embedded split.
    let t = KnownDataset::Digits.load(None, false).unwrap();
    assert_eq!(t.len(), 288);
}

#[test]
fn truncated_and_wrong_magic_idx_files_are_errors_naming_the_file() {
    let dir = temp("idx");
    // A real header announcing 2 images of 2×2, and only 5 of the 8 pixel bytes.
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2];
    bytes.extend([1, 2, 3, 4, 5]);
    let cut = dir.join("train-images-idx3-ubyte");
    std::fs::write(&cut, &bytes).unwrap();
    let e = read_idx_images(&cut).unwrap_err().to_string();
    assert!(
        e.contains(&cut.display().to_string())
            && e.contains("truncated: the header announces [2, 2, 2] = 8 bytes of data, found 5"),
        "{e}"
    );
    // A gzip stream cut in the middle.
    if let Some(mnist) = shared("mnist") {
        let gz = std::fs::read(mnist.join("t10k-labels-idx1-ubyte.gz")).unwrap();
        let cut_gz = dir.join("t10k-labels-idx1-ubyte.gz");
        std::fs::write(&cut_gz, &gz[..gz.len() / 2]).unwrap();
        let e = read_idx_labels(&cut_gz).unwrap_err().to_string();
        assert!(
            e.contains(&cut_gz.display().to_string()) && e.contains("is the file truncated?"),
            "{e}"
        );
    }
    // Labels where images belong.
    let labels = dir.join("labels");
    std::fs::write(&labels, [0, 0, 8, 1, 0, 0, 0, 1, 7]).unwrap();
    let e = read_idx_images(&labels).unwrap_err().to_string();
    assert!(
        e.contains("expected the IDX magic number 2051") && e.contains("found 2049"),
        "{e}"
    );
    // A folder missing the label file names it.
    let e = Mnist::load(&dir, true).unwrap_err().to_string();
    assert!(e.contains("no train-labels-idx1-ubyte[.gz] in"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes a `w × h` RGB PNG whose pixel (x, y) is (10x, 20y, 100 + class).
fn write_png(path: &Path, w: u32, h: u32, class: u8) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(10 * x) as u8, (20 * y) as u8, 100 + class])
    });
    img.save(path).unwrap();
}

#[test]
fn image_folder_orders_classes_and_files_as_pytorch() {
    let root = temp("folder");
    for (class, files) in [
        ("dog", vec!["b.png", "a.PNG"]),
        ("cat", vec!["z.jpg", "n/1.png"]),
    ] {
        for f in files {
            let p = root.join(class).join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            write_png(&p, 4, 3, class.len() as u8);
        }
    }
    std::fs::write(root.join("dog/notes.txt"), "not an image, skipped").unwrap();
    std::fs::create_dir_all(root.join(".ipynb_checkpoints")).unwrap();
    let folder = ImageFolder::new(&root).unwrap();
    assert_eq!(folder.classes(), &["cat", "dog"]);
    let names: Vec<String> = folder
        .samples()
        .iter()
        .map(|(p, c)| format!("{c}:{}", p.strip_prefix(&root).unwrap().display()))
        .collect();
    // os.walk sorted by folder path, then files sorted by name.
    assert_eq!(
        names,
        ["0:cat/z.jpg", "0:cat/n/1.png", "1:dog/a.PNG", "1:dog/b.png"]
    );
    let (x, y) = folder.get(3).unwrap();
    assert_eq!(x.dims(), &[3, 3, 4]);
    assert_eq!(y.item::<i64>(), 1);
    // Pixel (x=2, y=1) of b.png: (20, 20, 103) / 255.
    assert_eq!(x.get(&[0, 1, 2]), (20.0f32 / 255.0) as f64);
    assert_eq!(x.get(&[2, 1, 2]), (103.0f32 / 255.0) as f64);
    // Gray: PIL's L of (20, 20, 103) = (20·299 + 20·587 + 103·114) / 1000 = 29.46 → 29.
    let gray = ImageFolder::new(&root).unwrap().color(ColorMode::Gray);
    assert_eq!(
        gray.get(3).unwrap().0.get(&[0, 1, 2]),
        (29.0f32 / 255.0) as f64
    );
    let all = gray.resize(8, 8).to_memory().unwrap();
    assert_eq!(all.images().dims(), &[4, 1, 8, 8]);
    assert_eq!(all.labels().to_vec::<i64>(), vec![0, 0, 1, 1]);
    // Through a loader in batches.
    let mut loader = DataLoader::new(folder, 2);
    let (xb, yb) = loader.iter().next().unwrap().unwrap();
    assert_eq!(
        (xb.dims(), yb.to_vec::<i64>()),
        (&[2, 3, 3, 4][..], vec![0, 0])
    );
    // Through `locate`'s neighbour `open`: a folder without train/ and test/ is split by class,
    // a fifth of each for the test split (here 1.6 → 1 and 0.4 → 0 per class, the remainders
    // dealt in turn: cat's to train, dog's to test), the same images every time.
    let open = |train| {
        baeum_vision::datasets::open(root.to_str().unwrap(), None, train, ColorMode::Rgb, None)
            .unwrap()
    };
    let (tr, te) = (open(true), open(false));
    assert_eq!(
        (tr.class_counts(), te.class_counts()),
        (vec![2, 1], vec![0, 1])
    );
    assert_eq!(
        open(false).images().to_vec::<f32>(),
        te.images().to_vec::<f32>()
    );
    // test/ without train/ is refused, naming what is missing.
    std::fs::create_dir_all(root.join("test/cat")).unwrap();
    let e = baeum_vision::datasets::open(root.to_str().unwrap(), None, true, ColorMode::Rgb, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no train/ folder"), "{e}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_png_that_is_not_a_png_is_an_error_naming_it() {
    let root = temp("badpng");
    std::fs::create_dir_all(root.join("a")).unwrap();
    write_png(&root.join("a/good.png"), 2, 2, 0);
    let bad = root.join("a/bad.png");
    std::fs::write(&bad, "<html>404 Not Found</html>").unwrap();
    let folder = ImageFolder::new(&root).unwrap();
    let e = folder.get(0).unwrap_err().to_string();
    assert!(
        e.contains(&bad.display().to_string()) && e.contains("not a PNG or JPEG image"),
        "{e}"
    );
    let e = folder.to_memory().unwrap_err().to_string();
    assert!(e.contains("bad.png"), "{e}");
    // A real PNG signature with a damaged body.
    let mut png = std::fs::read(root.join("a/good.png")).unwrap();
    png.truncate(30);
    std::fs::write(&bad, &png).unwrap();
    let e = folder.get(0).unwrap_err().to_string();
    assert!(
        e.contains("bad.png") && e.contains("cannot decode the Png image"),
        "{e}"
    );
    // Images of different sizes without a resize: the error names both.
    std::fs::remove_file(&bad).unwrap();
    write_png(&root.join("a/big.png"), 5, 5, 0);
    let e = ImageFolder::new(&root)
        .unwrap()
        .to_memory()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("big.png") && e.contains("good.png") && e.contains("resize"),
        "{e}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn locate_finds_data_sets_by_path_and_says_where_it_looked() {
    if let Some(data) = shared("mnist").map(|p| p.parent().unwrap().to_path_buf()) {
        // --data pointing at the folder of all data sets, or at the data set itself.
        assert_eq!(
            locate(KnownDataset::Mnist, Some(&data)).unwrap(),
            data.join("mnist")
        );
        assert_eq!(
            locate(KnownDataset::FashionMnist, Some(&data)).unwrap(),
            data.join("fashion_mnist")
        );
        assert_eq!(
            locate(KnownDataset::Cifar10, Some(&data)).unwrap(),
            data.join("cifar10_subset")
        );
        assert_eq!(
            locate(KnownDataset::Mnist, Some(&data.join("mnist"))).unwrap(),
            data.join("mnist")
        );
    }
    let empty = temp("locate");
    let e = locate(KnownDataset::Cifar10, Some(&empty))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cifar10: not found; looked in ") && e.contains("cifar-10-batches-bin"),
        "{e}"
    );
    let e = locate(KnownDataset::Mnist, Some(&empty.join("nope")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
    assert_eq!(
        KnownDataset::parse("Fashion_MNIST"),
        Some(KnownDataset::FashionMnist)
    );
    assert_eq!(KnownDataset::parse("CIFAR-10"), Some(KnownDataset::Cifar10));
    assert_eq!(KnownDataset::parse("imagenet"), None);
    std::fs::remove_dir_all(&empty).unwrap();
}
