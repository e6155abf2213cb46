//! In-place operations (PyTorch's trailing underscore): they write into this tensor's storage,
//! so every view of that storage sees the change. Optimizers update parameters this way.

use crate::kernels::map::copy_into;
use crate::tensor::{Element, Tensor};
use crate::with_dtype;

impl Tensor {
    /// Copies `src` (broadcast to this tensor's shape, converted to its dtype) into this
    /// tensor's elements.
    ///
    /// With gradients on, a tensor in the autograd graph (a parameter, or a recorded result)
    /// cannot be changed in place, nor can a copy take values that require grad: in-place
    /// writes are not recorded, so either would silently give wrong gradients. Update
    /// parameters inside [`crate::autograd::no_grad`], as optimizers do.
    pub fn copy_(&self, src: &Tensor) {
        if crate::autograd::is_grad_enabled() {
            assert!(
                !self.requires_grad(),
                "copy_: this tensor requires grad (a parameter or a recorded result), and                  in-place changes are not recorded; update it inside no_grad, or compute a                  new tensor"
            );
            assert!(
                !src.requires_grad(),
                "copy_: the source requires grad, but an in-place copy is not recorded, so                  its gradient would be lost; copy src.detach() or compute a new tensor"
            );
        }
        let shape = crate::tensor::broadcast_shapes(src.dims(), self.dims());
        assert!(
            shape.as_ref() == Some(self.shape()),
            "copy_: source of shape {} does not broadcast to the destination's shape {}",
            src.shape(),
            self.shape()
        );
        let mut src = src.to_dtype(self.dtype());
        if src.shares_storage(self) {
            // Reading and writing one storage at once would need both locks: copy out first.
            src = with_dtype!(src.dtype(), T => Tensor::from_vec(src.to_vec::<T>(), src.shape().clone()));
        }
        let mut guard = self.storage().write();
        with_dtype!(self.dtype(), T => {
            let dst = T::unwrap_mut(&mut guard).expect("storage dtype matches its tensor");
            copy_into::<T>(&src, dst, self.layout());
        });
    }

    /// `self += other` in place (broadcast into this tensor's shape). Like every in-place
    /// operation it is refused on a tensor in the autograd graph unless gradients are off:
    /// `no_grad(|| w.sub_(&(&w.grad().unwrap() * lr)))` is a gradient-descent step.
    pub fn add_(&self, other: &Tensor) {
        self.copy_(&self.add(other));
    }

    /// `self -= other` in place.
    pub fn sub_(&self, other: &Tensor) {
        self.copy_(&self.sub(other));
    }

    /// `self *= other` in place.
    pub fn mul_(&self, other: &Tensor) {
        self.copy_(&self.mul(other));
    }

    /// `self /= other` in place.
    pub fn div_(&self, other: &Tensor) {
        self.copy_(&self.div(other));
    }

    /// Sets every element to `value`.
    pub fn fill_(&self, value: f64) {
        self.copy_(&Tensor::full([], value, self.dtype()));
    }

    /// Sets every element to zero.
    pub fn zero_(&self) {
        self.fill_(0.0);
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor;

    #[test]
    fn writes_through_views() {
        let a = tensor!([[1., 2.], [3., 4.]]);
        a.select(0, 1).fill_(9.0);
        assert_eq!(a.to_vec::<f32>(), vec![1., 2., 9., 9.]);
        a.t().copy_(&tensor!([[1., 2.], [3., 4.]]));
        assert_eq!(a.to_vec::<f32>(), vec![1., 3., 2., 4.]);
        a.copy_(&a.t());
        assert_eq!(a.to_vec::<f32>(), vec![1., 2., 3., 4.]);
    }

    #[test]
    fn arithmetic_in_place() {
        let a = tensor!([[1., 2.], [3., 4.]]);
        a.add_(&tensor!([1., 1.]));
        a.mul_(&tensor!(2.));
        a.sub_(&tensor!([[1., 1.], [1., 1.]]));
        a.div_(&tensor!([1., 3.]));
        assert_eq!(a.to_vec::<f32>(), vec![3., 5. / 3., 7., 3.]);
    }
}
