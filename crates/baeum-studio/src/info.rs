//! `baeum info`: the build, the machine, and the tensor examples of COURSE §1.

use baeum::{DType, Tensor, tensor};

pub fn run() {
    println!("baeum {} (배움)", env!("CARGO_PKG_VERSION"));
    println!("threads: {}", rayon::current_num_threads());
    println!();
    println!("COURSE §1: a tensor is a rank, a shape and a dtype.");
    let t = tensor!([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    show("t", &t);
    let s = tensor!(483);
    show("scalar", &s);
    let v = tensor!([1.1, 2.2, 3.3]);
    show("vector", &v);
    let r3 = tensor!([[[2], [4], [6]], [[8], [10], [12]], [[14], [16], [18]]]);
    show("rank 3", &r3);
    println!();
    println!("Matrix products are not commutative:");
    let a = tensor!([[1., 3.], [5., 7.]]);
    let b = tensor!([[1., 2.], [2., 5.]]);
    println!("A·B = {}", a.matmul(&b));
    println!("B·A = {}", b.matmul(&a));
    let x = tensor!([[1., 2., 3.], [4., 5., 6.]]);
    let y = tensor!([[7., 8.], [9., 10.], [11., 12.]]);
    println!("[2×3]·[3×2] = {}", x.matmul(&y));
    println!("transpose: {}", tensor!([[6, 4, 24], [1, -9, 8]]).t());
    println!(
        "broadcasting [2,3] + [3]: {}",
        &x + &tensor!([10., 20., 30.])
    );
    let err = Tensor::ones([7, 3]).try_matmul(&Tensor::ones([5, 3]));
    if let Err(e) = err {
        println!("7×3 · 5×3 → error: {e}");
    }
    println!();
    let r = Tensor::randn([2, 3]).to_dtype(DType::F64);
    println!("seeded randn (the same on every run): {r}");
}

fn show(name: &str, t: &Tensor) {
    println!(
        "{name}: rank {}, shape {}, dtype {} → {t}",
        t.rank(),
        t.shape(),
        t.dtype()
    );
}
