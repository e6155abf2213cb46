//! Seeded random numbers: a small, fast generator (xoshiro256++, seeded through splitmix64) and
//! the random tensor constructors. The same seed gives the same numbers on every run and
//! platform; the global generator starts from a fixed seed, so programs are reproducible unless
//! they ask otherwise.

use std::cell::RefCell;

use super::{DType, Shape, Tensor};
use crate::with_float_dtype;

/// A seedable pseudo-random generator (PyTorch's `torch.Generator`).
#[derive(Clone, Debug)]
pub struct Generator {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

/// The seed the global generator starts from.
pub const DEFAULT_SEED: u64 = 0x5EED_BAE0;

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        Generator {
            s,
            spare_normal: None,
        }
    }

    /// Restart the stream from `seed`.
    pub fn manual_seed(&mut self, seed: u64) {
        *self = Generator::new(seed);
    }

    /// A fresh generator seeded from this one (for a worker thread or a sub-task).
    pub fn fork(&mut self) -> Generator {
        Generator::new(self.next_u64())
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    #[inline]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// Uniform integer in `[0, n)`, without modulo bias. Panics if `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "random: empty range");
        // Lemire's multiply-and-reject method.
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let lo = m as u64;
            if lo >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// A standard normal sample (Box–Muller; the second value of each pair is kept).
    pub fn normal(&mut self) -> f64 {
        if let Some(v) = self.spare_normal.take() {
            return v;
        }
        let u1 = 1.0 - self.next_f64(); // (0, 1]: ln is finite
        let u2 = self.next_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

thread_local! {
    // One default generator per thread (PyTorch has one per process): two models trained on
    // two threads, or tests run in parallel, cannot disturb each other's random streams.
    static GLOBAL: RefCell<Option<Generator>> = const { RefCell::new(None) };
}

/// Seeds this thread's default generator, which the random constructors without `_with`,
/// layer initialisation and dropout use (`torch.manual_seed`).
pub fn manual_seed(seed: u64) {
    GLOBAL.with(|g| *g.borrow_mut() = Some(Generator::new(seed)));
}

/// Runs `f` with this thread's default generator.
pub fn with_global<R>(f: impl FnOnce(&mut Generator) -> R) -> R {
    GLOBAL.with(|g| {
        let mut g = g.borrow_mut();
        f(g.get_or_insert_with(|| Generator::new(DEFAULT_SEED)))
    })
}

fn float_tensor(shape: Shape, dtype: DType, mut sample: impl FnMut() -> f64) -> Tensor {
    let n = shape.numel();
    with_float_dtype!(dtype, T => {
        let v: Vec<T> = (0..n).map(|_| sample() as T).collect();
        Tensor::from_vec(v, shape)
    }, panic!("random: {dtype} is not a float dtype"))
}

impl Tensor {
    /// Uniform samples in `[0, 1)` as f32, from the global generator (`torch.rand`).
    pub fn rand(shape: impl Into<Shape>) -> Tensor {
        with_global(|g| Tensor::uniform_with(shape, 0.0, 1.0, DType::F32, g))
    }

    /// Standard normal samples as f32, from the global generator (`torch.randn`).
    pub fn randn(shape: impl Into<Shape>) -> Tensor {
        with_global(|g| Tensor::normal_with(shape, 0.0, 1.0, DType::F32, g))
    }

    /// Uniform samples in `[low, high)`.
    pub fn uniform_with(
        shape: impl Into<Shape>,
        low: f64,
        high: f64,
        dtype: DType,
        g: &mut Generator,
    ) -> Tensor {
        let shape = shape.into();
        if dtype == DType::F32 {
            let (lo, w) = (low as f32, (high - low) as f32);
            let v: Vec<f32> = (0..shape.numel()).map(|_| lo + w * g.next_f32()).collect();
            return Tensor::from_vec(v, shape);
        }
        float_tensor(shape, dtype, || low + (high - low) * g.next_f64())
    }

    /// Normal samples with the given mean and standard deviation.
    pub fn normal_with(
        shape: impl Into<Shape>,
        mean: f64,
        std: f64,
        dtype: DType,
        g: &mut Generator,
    ) -> Tensor {
        float_tensor(shape.into(), dtype, || mean + std * g.normal())
    }

    /// Uniform integers in `[low, high)` as i64 (`torch.randint`).
    pub fn randint(low: i64, high: i64, shape: impl Into<Shape>) -> Tensor {
        with_global(|g| Tensor::randint_with(low, high, shape, g))
    }

    pub fn randint_with(low: i64, high: i64, shape: impl Into<Shape>, g: &mut Generator) -> Tensor {
        assert!(low < high, "randint: empty range [{low}, {high})");
        let shape = shape.into();
        let span = (high - low) as u64;
        let v: Vec<i64> = (0..shape.numel())
            .map(|_| low + g.below(span) as i64)
            .collect();
        Tensor::from_vec(v, shape)
    }

    /// A random permutation of `0..n` as i64 (`torch.randperm`).
    pub fn randperm(n: usize) -> Tensor {
        with_global(|g| Tensor::randperm_with(n, g))
    }

    pub fn randperm_with(n: usize, g: &mut Generator) -> Tensor {
        let mut v: Vec<i64> = (0..n as i64).collect();
        g.shuffle(&mut v);
        Tensor::from_vec(v, [n])
    }

    /// Samples 1 with probability given by each element (in `[0, 1]`), else 0, in this
    /// tensor's dtype (`torch.bernoulli`).
    pub fn bernoulli(&self) -> Tensor {
        with_global(|g| self.bernoulli_with(g))
    }

    pub fn bernoulli_with(&self, g: &mut Generator) -> Tensor {
        let p = self.to_vec::<f64>();
        assert!(
            p.iter().all(|&x| (0.0..=1.0).contains(&x)),
            "bernoulli: probabilities must lie in [0, 1]"
        );
        let v: Vec<f64> = p
            .iter()
            .map(|&pi| if g.next_f64() < pi { 1.0 } else { 0.0 })
            .collect();
        Tensor::from_vec(v, self.shape().clone()).to_dtype(self.dtype())
    }

    /// The rows (first dimension) in a random order.
    pub fn shuffle_with(&self, g: &mut Generator) -> Tensor {
        let perm = Tensor::randperm_with(self.dims().first().copied().unwrap_or(0), g);
        self.index_select(0, &perm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let a = Tensor::uniform_with([5], 0.0, 1.0, DType::F32, &mut Generator::new(7));
        let b = Tensor::uniform_with([5], 0.0, 1.0, DType::F32, &mut Generator::new(7));
        let c = Tensor::uniform_with([5], 0.0, 1.0, DType::F32, &mut Generator::new(8));
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
        assert_ne!(a.to_vec::<f32>(), c.to_vec::<f32>());
    }

    #[test]
    fn normal_samples_have_the_asked_moments() {
        let x = Tensor::normal_with([20000], 2.0, 3.0, DType::F64, &mut Generator::new(1));
        let v = x.to_vec::<f64>();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!((mean - 2.0).abs() < 0.1, "mean {mean}");
        assert!((var.sqrt() - 3.0).abs() < 0.1, "std {}", var.sqrt());
    }

    #[test]
    fn randperm_is_a_permutation_and_randint_stays_in_range() {
        let mut g = Generator::new(3);
        let mut p = Tensor::randperm_with(50, &mut g).to_vec::<i64>();
        p.sort();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
        let r = Tensor::randint_with(-2, 3, [1000], &mut g).to_vec::<i64>();
        assert!(r.iter().all(|&x| (-2..3).contains(&x)));
        assert!((-2..3).all(|k| r.contains(&k)));
    }
}
