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
        ($t:ty, $erf:path) => {
            impl FloatOps for $t {
                const INFINITY: Self = <$t>::INFINITY;
                const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
                const NAN: Self = <$t>::NAN;
                const EPSILON: Self = <$t>::EPSILON;
                #[inline(always)]
                fn exp(self) -> Self {
                    <$t>::exp(self)
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
                    <$t>::tanh(self)
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
    impl_float_ops!(f32, libm::erff);
    impl_float_ops!(f64, libm::erf);
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
