//! Element types: the `DType` enum, the `Element` trait that ties a Rust type to its dtype and
//! storage variant, and PyTorch's type-promotion rules.

use std::fmt;

use super::storage::StorageData;

/// The element type of a tensor. `F32` is the default, as in PyTorch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    U8,
    I32,
    I64,
    F32,
    F64,
}

impl DType {
    /// All dtypes, in promotion order.
    pub const ALL: [DType; 6] = [
        DType::Bool,
        DType::U8,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::F64,
    ];

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::I32 | DType::I64)
    }

    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::Bool | DType::U8 => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// The name PyTorch prints (`float32` is spelled `f32` here, as in Rust).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "u8",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// The result dtype of a binary operation between two tensors (PyTorch's `promote_types`):
    /// bool < integers < floats, and the wider type within a category.
    pub fn promote(a: DType, b: DType) -> DType {
        if a == b {
            return a;
        }
        match (a.is_float(), b.is_float()) {
            (true, false) => a,
            (false, true) => b,
            _ => a.max(b),
        }
    }

    /// The result dtype of `tensor op scalar`: the tensor's dtype, unless the scalar is a float
    /// and the tensor is not, which gives the default float dtype (PyTorch's rule for
    /// "wrapped numbers").
    pub fn promote_scalar(t: DType, scalar_is_float: bool) -> DType {
        if scalar_is_float && !t.is_float() {
            DType::F32
        } else {
            t
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Rust type that can be a tensor element.
pub trait Element:
    Copy + Send + Sync + 'static + fmt::Debug + PartialOrd + PartialEq + Default
{
    const DTYPE: DType;
    fn to_f64(self) -> f64;
    /// Conversion with `as` semantics (floats truncate toward zero into integers; any non-zero
    /// becomes `true`).
    fn from_f64(v: f64) -> Self;
    fn to_i64(self) -> i64;
    fn from_i64(v: i64) -> Self;
    fn zero() -> Self;
    fn one() -> Self;
    fn wrap(v: Vec<Self>) -> StorageData;
    fn unwrap(s: &StorageData) -> Option<&Vec<Self>>;
    fn unwrap_mut(s: &mut StorageData) -> Option<&mut Vec<Self>>;
}

macro_rules! numeric_element {
    ($t:ty, $dt:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn zero() -> Self {
                0 as $t
            }
            #[inline(always)]
            fn one() -> Self {
                1 as $t
            }
            fn wrap(v: Vec<Self>) -> StorageData {
                StorageData::$dt(v)
            }
            fn unwrap(s: &StorageData) -> Option<&Vec<Self>> {
                match s {
                    StorageData::$dt(v) => Some(v),
                    _ => None,
                }
            }
            fn unwrap_mut(s: &mut StorageData) -> Option<&mut Vec<Self>> {
                match s {
                    StorageData::$dt(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
numeric_element!(f32, F32);
numeric_element!(f64, F64);
numeric_element!(i64, I64);
numeric_element!(i32, I32);
numeric_element!(u8, U8);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
    fn wrap(v: Vec<Self>) -> StorageData {
        StorageData::Bool(v)
    }
    fn unwrap(s: &StorageData) -> Option<&Vec<Self>> {
        match s {
            StorageData::Bool(v) => Some(v),
            _ => None,
        }
    }
    fn unwrap_mut(s: &mut StorageData) -> Option<&mut Vec<Self>> {
        match s {
            StorageData::Bool(v) => Some(v),
            _ => None,
        }
    }
}

/// Floating-point elements: the math the element-wise kernels need.
pub trait Float: Numeric + num_like::FloatOps {}
impl Float for f32 {}
impl Float for f64 {}

/// The float operations kernels use, implemented for `f32` and `f64`.
pub mod num_like {
    pub trait FloatOps:
        Copy
        + std::ops::Add<Output = Self>
        + std::ops::Sub<Output = Self>
        + std::ops::Mul<Output = Self>
        + std::ops::Div<Output = Self>
        + std::ops::Neg<Output = Self>
        + PartialOrd
    {
        const INFINITY: Self;
        const NEG_INFINITY: Self;
        const NAN: Self;
        const EPSILON: Self;
        fn exp(self) -> Self;
        fn ln(self) -> Self;
        fn sqrt(self) -> Self;
        fn sin(self) -> Self;
        fn cos(self) -> Self;
        fn tanh(self) -> Self;
        /// The logistic function 1 / (1 + e^(−x)).
        fn sigmoid(self) -> Self;
        fn powf(self, e: Self) -> Self;
        fn powi(self, e: i32) -> Self;
        fn floor(self) -> Self;
        fn ceil(self) -> Self;
        fn round_half_even(self) -> Self;
        fn erf(self) -> Self;
        fn ln_1p(self) -> Self;
        fn exp_m1(self) -> Self;
        fn c(v: f64) -> Self;
    }

    macro_rules! impl_float_ops {
        ($t:ty, $erf:path, $exp:path, $tanh:path, $sigmoid:path) => {
            impl FloatOps for $t {
                const INFINITY: Self = <$t>::INFINITY;
                const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
                const NAN: Self = <$t>::NAN;
                const EPSILON: Self = <$t>::EPSILON;
                #[inline(always)]
                fn exp(self) -> Self {
                    $exp(self)
                }
                #[inline(always)]
                fn ln(self) -> Self {
                    <$t>::ln(self)
                }
                #[inline(always)]
                fn sqrt(self) -> Self {
                    <$t>::sqrt(self)
                }
                #[inline(always)]
                fn sin(self) -> Self {
                    <$t>::sin(self)
                }
                #[inline(always)]
                fn cos(self) -> Self {
                    <$t>::cos(self)
                }
                #[inline(always)]
                fn tanh(self) -> Self {
                    $tanh(self)
                }
                #[inline(always)]
                fn sigmoid(self) -> Self {
                    $sigmoid(self)
                }
                #[inline(always)]
                fn powf(self, e: Self) -> Self {
                    <$t>::powf(self, e)
                }
                #[inline(always)]
                fn powi(self, e: i32) -> Self {
                    <$t>::powi(self, e)
                }
                #[inline(always)]
                fn floor(self) -> Self {
                    <$t>::floor(self)
                }
                #[inline(always)]
                fn ceil(self) -> Self {
                    <$t>::ceil(self)
                }
                #[inline(always)]
                fn round_half_even(self) -> Self {
                    <$t>::round_ties_even(self)
                }
                #[inline(always)]
                fn erf(self) -> Self {
                    $erf(self)
                }
                #[inline(always)]
                fn ln_1p(self) -> Self {
                    <$t>::ln_1p(self)
                }
                #[inline(always)]
                fn exp_m1(self) -> Self {
                    <$t>::exp_m1(self)
                }
                #[inline(always)]
                fn c(v: f64) -> Self {
                    v as $t
                }
            }
        };
    }
    impl_float_ops!(f32, libm::erff, exp_f32, tanh_f32, sigmoid_f32);
    impl_float_ops!(f64, libm::erf, f64::exp, f64::tanh, sigmoid_f64);

    // The f32 exponential functions work in f64 without calling libm: branch-free code that
    // inlines, so loops over them vectorise (the gate math of an LSTM, softmax rows). The
    // f64 working precision (relative error below 1e-13) makes each result, rounded once to
    // f32, as exact as libm's.

    /// e^x to about 1e-13 relative error, for `x` clamped to [−708, 709] (enough for any
    /// result that is to become an f32: beyond it, those are 0 or ∞). NaN stays NaN.
    #[inline(always)]
    fn exp_f64_wide(x: f64) -> f64 {
        // Adding 1.5·2^52 rounds to an integer, which the low bits of the sum then hold.
        const ROUND: f64 = 6_755_399_441_055_744.0;
        const LN2_HI: f64 = 0.693_147_180_369_123_8;
        const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
        let x = x.clamp(-708.0, 709.0);
        let t = x * std::f64::consts::LOG2_E + ROUND;
        let k = t - ROUND;
        // e^x = 2^k · e^r with |r| ≤ ln2/2, where Taylor to r^10 is within 3e-13.
        let r = x - k * LN2_HI - k * LN2_LO;
        let mut p = 1.0 / 3_628_800.0;
        for c in [
            1.0 / 362_880.0,
            1.0 / 40_320.0,
            1.0 / 5_040.0,
            1.0 / 720.0,
            1.0 / 120.0,
            1.0 / 24.0,
            1.0 / 6.0,
            0.5,
            1.0,
            1.0,
        ] {
            p = p * r + c;
        }
        let k = t.to_bits() as i64 - ROUND.to_bits() as i64;
        p * f64::from_bits(((k + 1023) << 52) as u64)
    }

    #[inline(always)]
    fn exp_f32(x: f32) -> f32 {
        exp_f64_wide(x as f64) as f32
    }

    /// tanh |x| = 1 − 2/(e^(2|x|) + 1); the f64 precision absorbs the cancellation near 0,
    /// and below 1e-4 tanh x is x to f32 precision.
    #[inline(always)]
    fn tanh_f32(x: f32) -> f32 {
        let a = x.abs();
        let t = 1.0 - 2.0 / (exp_f64_wide(2.0 * a as f64) + 1.0);
        if a < 1e-4 { x } else { (t as f32).copysign(x) }
    }

    #[inline(always)]
    fn sigmoid_f32(x: f32) -> f32 {
        (1.0 / (1.0 + exp_f64_wide(-(x as f64)))) as f32
    }

    #[inline(always)]
    fn sigmoid_f64(x: f64) -> f64 {
        // Two branches keep exp from overflowing for large |x|.
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            let e = x.exp();
            e / (1.0 + e)
        }
    }
}

/// Calls `$body` with the type alias `$T` bound to the Rust type of `$dtype`.
#[macro_export]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}

/// Like [`with_dtype!`] for float dtypes; `$other` runs for any other dtype.
#[macro_export]
macro_rules! with_float_dtype {
    ($dtype:expr, $T:ident => $body:expr, $other:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    };
}

/// Like [`with_dtype!`] for numeric (non-bool) dtypes; `$other` runs for bool.
#[macro_export]
macro_rules! with_numeric_dtype {
    ($dtype:expr, $T:ident => $body:expr, $other:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::DType::Bool => $other,
        }
    };
}

/// Arithmetic on numeric elements with PyTorch's semantics: integers wrap on overflow,
/// `maximum`/`minimum` propagate NaN.
pub trait Numeric: Element {
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// Division; integer division truncates (callers wanting true division cast to float).
    fn div(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn maximum(self, o: Self) -> Self;
    fn minimum(self, o: Self) -> Self;
    fn pow(self, e: Self) -> Self;
    fn sign(self) -> Self;
    fn is_nan(self) -> bool;
}

macro_rules! int_numeric {
    ($($t:ty),*) => {$(
        #[allow(unused_comparisons)]
        impl Numeric for $t {
            #[inline(always)] fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)] fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline(always)] fn div(self, o: Self) -> Self {
                if o == 0 { panic!("integer division by zero") }
                self.wrapping_div(o)
            }
            #[inline(always)] fn neg(self) -> Self { (0 as $t).wrapping_sub(self) }
            #[inline(always)] fn abs(self) -> Self { if self < (0 as $t) { self.neg() } else { self } }
            #[inline(always)] fn maximum(self, o: Self) -> Self { if self >= o { self } else { o } }
            #[inline(always)] fn minimum(self, o: Self) -> Self { if self <= o { self } else { o } }
            #[inline(always)] fn pow(self, e: Self) -> Self {
                if e < (0 as $t) {
                    // PyTorch refuses negative integer powers of integers except for 1 and -1.
                    match self as i64 { 1 => 1 as $t, -1 => if (e as i64) % 2 == 0 { 1 as $t } else { self }, _ => panic!("pow: integers to negative integer powers are not allowed") }
                } else {
                    self.wrapping_pow(e as u32)
                }
            }
            #[inline(always)] fn sign(self) -> Self { if self > (0 as $t) { 1 as $t } else if self == (0 as $t) { 0 as $t } else { (0 as $t).wrapping_sub(1 as $t) } }
            #[inline(always)] fn is_nan(self) -> bool { false }
        }
    )*};
}
int_numeric!(i64, i32, u8);

macro_rules! float_numeric {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            #[inline(always)] fn add(self, o: Self) -> Self { self + o }
            #[inline(always)] fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)] fn mul(self, o: Self) -> Self { self * o }
            #[inline(always)] fn div(self, o: Self) -> Self { self / o }
            #[inline(always)] fn neg(self) -> Self { -self }
            #[inline(always)] fn abs(self) -> Self { <$t>::abs(self) }
            #[inline(always)] fn maximum(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() { <$t>::NAN } else if self >= o { self } else { o }
            }
            #[inline(always)] fn minimum(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() { <$t>::NAN } else if self <= o { self } else { o }
            }
            #[inline(always)] fn pow(self, e: Self) -> Self { self.powf(e) }
            #[inline(always)] fn sign(self) -> Self {
                if self > 0.0 { 1.0 } else if self < 0.0 { -1.0 } else { self }
            }
            #[inline(always)] fn is_nan(self) -> bool { <$t>::is_nan(self) }
        }
    )*};
}
float_numeric!(f32, f64);

/// Calls `$body` with `$T` bound to the Rust type of a numeric (non-bool) `$dtype`; panics
/// naming `$op` for bool.
#[macro_export]
macro_rules! numeric_or_panic {
    ($dtype:expr, $op:expr, $T:ident => $body:expr) => {
        $crate::with_numeric_dtype!($dtype, $T => $body,
            panic!("{}: not supported for bool tensors (cast to a number type first)", $op))
    };
}

#[cfg(test)]
mod tests {
    use super::num_like::FloatOps;

    /// Distance in units in the last place between two finite f32 of the same sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn f32_tanh_is_within_one_ulp_of_the_exact_value() {
        let mut worst = 0;
        // Every scale from 1e-9 to 20, densely, both signs.
        let mut x = 1e-9f32;
        while x < 20.0 {
            for v in [x, -x] {
                let exact = (v as f64).tanh() as f32;
                let got = FloatOps::tanh(v);
                worst = worst.max(ulps(got, exact));
            }
            x *= 1.0001;
        }
        assert!(worst <= 1, "tanh_f32 is off by {worst} ulp");
        assert_eq!(FloatOps::tanh(0.0f32).to_bits(), 0.0f32.to_bits());
        assert_eq!(FloatOps::tanh(-0.0f32).to_bits(), (-0.0f32).to_bits());
        assert_eq!(FloatOps::tanh(f32::INFINITY), 1.0);
        assert_eq!(FloatOps::tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(FloatOps::tanh(100.0f32), 1.0);
        assert!(FloatOps::tanh(f32::NAN).is_nan());
    }

    #[test]
    fn f32_exp_is_within_one_ulp_of_the_exact_value() {
        let mut worst = 0;
        let mut x = -103.0f32;
        while x < 88.7 {
            let exact = (x as f64).exp() as f32;
            let got = FloatOps::exp(x);
            if exact.is_normal() {
                worst = worst.max(ulps(got, exact));
            } else {
                assert!((got - exact).abs() <= f32::from_bits(1), "exp({x})");
            }
            x += 0.000_37;
        }
        assert!(worst <= 1, "exp_f32 is off by {worst} ulp");
        assert_eq!(FloatOps::exp(0.0f32), 1.0);
        assert_eq!(FloatOps::exp(89.0f32), f32::INFINITY);
        assert_eq!(FloatOps::exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(FloatOps::exp(-200.0f32), 0.0);
        assert_eq!(FloatOps::exp(f32::NEG_INFINITY), 0.0);
        assert!(FloatOps::exp(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_saturates_without_overflow() {
        assert_eq!(FloatOps::sigmoid(0.0f32), 0.5);
        assert_eq!(FloatOps::sigmoid(-200.0f32), 0.0);
        assert_eq!(FloatOps::sigmoid(200.0f32), 1.0);
        assert!((FloatOps::sigmoid(2.0f64) - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-16);
        assert!(FloatOps::sigmoid(f64::NAN).is_nan());
    }
}
