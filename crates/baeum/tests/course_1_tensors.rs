//! COURSE §1 (Tensors): every number the notes compute, asserted.

use baeum::{DType, Tensor, tensor};

#[test]
fn rank_shape_and_dtype_of_the_notes_examples() {
    let t = tensor!([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    assert_eq!((t.rank(), t.dims()), (2, &[3usize, 3][..]));
    let s = tensor!(483);
    assert_eq!((s.rank(), s.dims()), (0, &[][..]));
    assert_eq!(s.item::<i64>(), 483);
    let v = tensor!([1.1, 2.2, 3.3]);
    assert_eq!(
        (v.rank(), v.dims(), v.dtype()),
        (1, &[3usize][..], DType::F32)
    );
    let r3 = tensor!([[[2], [4], [6]], [[8], [10], [12]], [[14], [16], [18]]]);
    assert_eq!((r3.rank(), r3.dims()), (3, &[3usize, 3, 1][..]));
    assert_eq!(r3.get(&[2, 1, 0]), 16.0);
    let six = Tensor::zeros([1, 2, 1, 3, 1, 2]);
    assert_eq!((six.rank(), six.numel()), (6, 12));
    for dtype in DType::ALL {
        assert_eq!(t.to_dtype(dtype).dtype(), dtype);
    }
}

#[test]
fn matrix_products_are_not_commutative() {
    let a = tensor!([[1., 3.], [5., 7.]]);
    let b = tensor!([[1., 2.], [2., 5.]]);
    assert_eq!(a.matmul(&b).to_vec::<f32>(), vec![7., 17., 19., 45.]);
    assert_eq!(b.matmul(&a).to_vec::<f32>(), vec![11., 17., 27., 41.]);
    let x = tensor!([[1., 2., 3.], [4., 5., 6.]]);
    let y = tensor!([[7., 8.], [9., 10.], [11., 12.]]);
    let xy = x.matmul(&y);
    assert_eq!(xy.dims(), &[2, 2]);
    assert_eq!(xy.to_vec::<f32>(), vec![58., 64., 139., 154.]);
}

#[test]
fn transpose_of_the_notes_matrix() {
    let m = tensor!([[6, 4, 24], [1, -9, 8]]);
    let t = m.t();
    assert_eq!(t.dims(), &[3, 2]);
    assert_eq!(t.to_vec::<i64>(), vec![6, 1, 4, -9, 24, 8]);
}

#[test]
fn product_shapes_and_the_mismatch_error() {
    let ok = Tensor::ones([7, 5]).matmul(&Tensor::ones([5, 3]));
    assert_eq!(ok.dims(), &[7, 3]);
    assert!(ok.to_vec::<f32>().iter().all(|&v| v == 5.0));
    let err = Tensor::ones([7, 3])
        .try_matmul(&Tensor::ones([5, 3]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: cannot multiply [7, 3] by [5, 3]: inner dimensions 3 and 5 differ"
    );
    let panic = std::panic::catch_unwind(|| Tensor::ones([7, 3]).matmul(&Tensor::ones([5, 3])));
    let msg = panic.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("inner dimensions 3 and 5 differ"), "{msg}");
}

#[test]
fn broadcasting_of_element_wise_operations() {
    let x = tensor!([[1., 2., 3.], [4., 5., 6.]]);
    assert_eq!(
        (&x + &tensor!([10., 20., 30.])).to_vec::<f32>(),
        vec![11., 22., 33., 14., 25., 36.]
    );
    assert_eq!((&x * 2.0).to_vec::<f32>(), vec![2., 4., 6., 8., 10., 12.]);
    assert_eq!(
        (tensor!([[1.], [2.]]) - tensor!([1., 2., 3.])).to_vec::<f32>(),
        vec![0., -1., -2., 1., 0., -1.]
    );
    let gt = x.gt(&tensor!([2., 2., 7.]));
    assert_eq!(
        gt.to_vec::<bool>(),
        vec![false, false, false, true, true, false]
    );
}
