//! Joining, indexing and reordering ops against naive references (plain loops over `Vec<f64>`
//! with multi-index arithmetic) on random shapes, dtypes and layouts, plus PyTorch doc examples.

use std::cmp::Ordering;

use baeum::ops::transform::PadMode;
use baeum::{DType, Generator, Tensor};

const DTYPES: [DType; 6] = [
    DType::F32,
    DType::F64,
    DType::I64,
    DType::I32,
    DType::U8,
    DType::Bool,
];

fn unravel(mut p: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        idx[d] = p % dims[d];
        p /= dims[d];
    }
    idx
}

fn ravel(idx: &[usize], dims: &[usize]) -> usize {
    idx.iter().zip(dims).fold(0, |acc, (&i, &n)| acc * n + i)
}

fn numel(dims: &[usize]) -> usize {
    dims.iter().product()
}

fn vals(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

/// Values of `dtype` with a random layout: contiguous, permuted, stepped or expanded.
fn rand_tensor(g: &mut Generator, dims: &[usize], dtype: DType) -> Tensor {
    let base = |g: &mut Generator, dims: &[usize]| {
        if dtype.is_float() {
            Tensor::uniform_with(dims, -3.0, 3.0, dtype, g)
        } else {
            Tensor::randint_with(-4, 5, dims, g).to_dtype(dtype)
        }
    };
    let r = dims.len();
    let t = match if r == 0 { 0 } else { g.below(4) } {
        0 => base(g, dims),
        1 => {
            let rev: Vec<usize> = dims.iter().rev().copied().collect();
            let order: Vec<isize> = (0..r as isize).rev().collect();
            base(g, &rev).permute(&order)
        }
        2 => {
            let mut big = dims.to_vec();
            big[0] = 2 * dims[0] + 1;
            base(g, &big).slice(0, 1, (2 * dims[0] + 1) as isize, 2)
        }
        _ => {
            let k = g.below(r as u64) as usize;
            let mut one = dims.to_vec();
            one[k] = 1;
            let target: Vec<isize> = dims.iter().map(|&n| n as isize).collect();
            base(g, &one).expand(&target)
        }
    };
    assert_eq!(t.dims(), dims);
    t
}

fn rand_dims(g: &mut Generator, min_rank: usize, max_rank: usize) -> Vec<usize> {
    let r = min_rank + g.below((max_rank - min_rank + 1) as u64) as usize;
    (0..r)
        .map(|_| {
            if g.below(8) == 0 {
                0
            } else {
                1 + g.below(4) as usize
            }
        })
        .collect()
}

fn rand_dtype(g: &mut Generator) -> DType {
    DTYPES[g.below(6) as usize]
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        let ok = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * (1.0 + b.abs());
        assert!(
            ok,
            "{what}: element {i}: got {a}, want {b}\n got {got:?}\nwant {want:?}"
        );
    }
}

fn rand_dim(g: &mut Generator, rank: usize) -> isize {
    let r = rank.max(1) as isize;
    g.below(2 * r as u64) as isize - r
}

fn resolve(d: isize, rank: usize) -> usize {
    if d < 0 {
        (d + rank.max(1) as isize) as usize
    } else {
        d as usize
    }
}

#[test]
fn cat_matches_reference() {
    let mut g = Generator::new(1);
    for _ in 0..200 {
        let dims = rand_dims(&mut g, 1, 4);
        let r = dims.len();
        let dim = rand_dim(&mut g, r);
        let d = resolve(dim, r);
        let k = 1 + g.below(3) as usize;
        let parts: Vec<Tensor> = (0..k)
            .map(|_| {
                let mut s = dims.clone();
                s[d] = g.below(4) as usize;
                {
                    let dt = rand_dtype(&mut g);
                    rand_tensor(&mut g, &s, dt)
                }
            })
            .collect();
        let refs: Vec<&Tensor> = parts.iter().collect();
        let out = Tensor::cat(&refs, dim);
        let dtype = parts
            .iter()
            .fold(parts[0].dtype(), |a, t| DType::promote(a, t.dtype()));
        assert_eq!(out.dtype(), dtype);
        let mut want_dims = dims.clone();
        want_dims[d] = parts.iter().map(|t| t.dims()[d]).sum();
        assert_eq!(out.dims(), &want_dims[..]);
        let pv: Vec<Vec<f64>> = parts.iter().map(|t| vals(&t.to_dtype(dtype))).collect();
        let want: Vec<f64> = (0..numel(&want_dims))
            .map(|p| {
                let mut idx = unravel(p, &want_dims);
                let mut which = 0;
                while idx[d] >= parts[which].dims()[d] {
                    idx[d] -= parts[which].dims()[d];
                    which += 1;
                }
                pv[which][ravel(&idx, parts[which].dims())]
            })
            .collect();
        assert_close(&vals(&out), &want, 0.0, "cat");
    }
}

#[test]
fn cat_skips_legacy_empty_and_reports_shapes() {
    let a = Tensor::from_vec(vec![1i64, 2, 3, 4, 5, 6], [2, 3]);
    let e = Tensor::zeros([0]);
    let c = Tensor::concat(&[&e, &a, &e], 0);
    assert_eq!(c.dims(), &[2, 3]);
    assert_eq!(c.dtype(), DType::F32);
    assert_eq!(c.to_vec::<f64>(), vec![1., 2., 3., 4., 5., 6.]);
    let b = Tensor::zeros([2, 4]);
    let err = Tensor::try_cat(&[&a, &b], 0).unwrap_err().to_string();
    assert!(
        err.contains("cat") && err.contains("[2, 3]") && err.contains("[2, 4]"),
        "{err}"
    );
    assert!(Tensor::try_cat(&[&a, &b], -1).is_ok());
    assert!(Tensor::try_cat(&[&a], 2).is_err());
    assert!(Tensor::try_cat(&[], 0).is_err());
    assert!(Tensor::try_cat(&[&Tensor::scalar(1.0f32)], 0).is_err());
}

#[test]
fn stack_matches_reference() {
    let mut g = Generator::new(2);
    for _ in 0..100 {
        let dims = rand_dims(&mut g, 0, 3);
        let r = dims.len();
        let dim = rand_dim(&mut g, r + 1);
        let d = resolve(dim, r + 1);
        let k = 1 + g.below(3) as usize;
        let dtype = rand_dtype(&mut g);
        let parts: Vec<Tensor> = (0..k).map(|_| rand_tensor(&mut g, &dims, dtype)).collect();
        let refs: Vec<&Tensor> = parts.iter().collect();
        let out = Tensor::stack(&refs, dim);
        let mut want_dims = dims.clone();
        want_dims.insert(d, k);
        assert_eq!(out.dims(), &want_dims[..]);
        let pv: Vec<Vec<f64>> = parts.iter().map(vals).collect();
        let want: Vec<f64> = (0..numel(&want_dims))
            .map(|p| {
                let mut idx = unravel(p, &want_dims);
                let which = idx.remove(d);
                pv[which][ravel(&idx, &dims)]
            })
            .collect();
        assert_close(&vals(&out), &want, 0.0, "stack");
    }
    let a = Tensor::zeros([2, 3]);
    let err = Tensor::try_stack(&[&a, &Tensor::zeros([3, 2])], 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("stack") && err.contains("[3, 2]"), "{err}");
}

#[test]
fn split_chunk_unbind_are_views_that_rebuild_the_tensor() {
    let mut g = Generator::new(3);
    for _ in 0..100 {
        let dims = rand_dims(&mut g, 1, 3);
        let r = dims.len();
        let dim = rand_dim(&mut g, r);
        let d = resolve(dim, r);
        let n = dims[d];
        let x = rand_tensor(&mut g, &dims, DType::F32);
        let ss = 1 + g.below(4) as usize;
        let pieces = x.split(ss, dim);
        let sizes: Vec<usize> = pieces.iter().map(|p| p.dims()[d]).collect();
        let want: Vec<usize> = if n == 0 {
            vec![0]
        } else {
            (0..n.div_ceil(ss)).map(|i| ss.min(n - i * ss)).collect()
        };
        assert_eq!(sizes, want, "split {dims:?} by {ss} along {d}");
        assert!(pieces.iter().all(|p| p.shares_storage(&x)));
        let refs: Vec<&Tensor> = pieces.iter().collect();
        assert_eq!(vals(&Tensor::cat(&refs, d)), vals(&x));

        let chunks = 1 + g.below(5) as usize;
        let cs: Vec<usize> = x.chunk(chunks, dim).iter().map(|p| p.dims()[d]).collect();
        let want: Vec<usize> = if n == 0 {
            vec![0; chunks]
        } else {
            let c = n.div_ceil(chunks);
            (0..n.div_ceil(c)).map(|i| c.min(n - i * c)).collect()
        };
        assert_eq!(cs, want, "chunk {dims:?} into {chunks} along {d}");

        let mut rest = n;
        let mut custom = vec![];
        while rest > 0 {
            let s = 1 + g.below(rest as u64) as usize;
            custom.push(s);
            rest -= s;
        }
        custom.push(0);
        let pieces = x.split_sizes(&custom, dim);
        let refs: Vec<&Tensor> = pieces.iter().collect();
        assert_eq!(vals(&Tensor::cat(&refs, d)), vals(&x));

        let u = x.unbind(dim);
        assert_eq!(u.len(), n);
        for (i, t) in u.iter().enumerate() {
            assert_eq!(vals(t), vals(&x.select(d, i as isize)));
        }
    }
    // torch.arange(10).chunk(6) has 5 chunks of 2.
    assert_eq!(Tensor::arange(10).chunk(6, 0).len(), 5);
    assert_eq!(Tensor::arange(5).split(2, -1).len(), 3);
}

#[test]
#[should_panic(expected = "split_sizes")]
fn split_sizes_must_sum_to_the_size() {
    Tensor::arange(5).split_sizes(&[2, 2], 0);
}

/// A random index tensor for gather/scatter: same rank as `dims`, sizes no larger than `dims`
/// (and `limit`) outside `d`, values in `0..dims[d]`.
fn rand_index(g: &mut Generator, dims: &[usize], limit: &[usize], d: usize) -> Tensor {
    let idims: Vec<usize> = (0..dims.len())
        .map(|k| {
            let cap = if k == d {
                limit[k].min(4)
            } else {
                dims[k].min(limit[k])
            };
            g.below(cap as u64 + 1) as usize
        })
        .collect();
    let n = dims[d].max(1) as i64;
    let t = Tensor::randint_with(0, n, &idims, g);
    if g.below(2) == 0 && idims.len() >= 2 {
        // A non-contiguous index with the same values.
        let c = t.contiguous();
        let tt = c.transpose(0, 1).contiguous().transpose(0, 1);
        assert_eq!(tt.to_vec::<i64>(), c.to_vec::<i64>());
        tt
    } else {
        t
    }
}

#[test]
fn gather_matches_reference() {
    let mut g = Generator::new(4);
    let mut checked = 0;
    for _ in 0..300 {
        let dims = rand_dims(&mut g, 1, 4);
        let r = dims.len();
        let dim = rand_dim(&mut g, r);
        let d = resolve(dim, r);
        if dims[d] == 0 {
            continue;
        }
        let dt = rand_dtype(&mut g);
        let x = rand_tensor(&mut g, &dims, dt);
        let unlimited = vec![usize::MAX; r];
        let index = rand_index(&mut g, &dims, &unlimited, d);
        let out = x.gather(dim, &index);
        assert_eq!(out.dims(), index.dims());
        assert_eq!(out.dtype(), x.dtype());
        let xv = vals(&x);
        let iv = index.to_vec::<i64>();
        let want: Vec<f64> = (0..index.numel())
            .map(|p| {
                let mut idx = unravel(p, index.dims());
                idx[d] = iv[p] as usize;
                xv[ravel(&idx, &dims)]
            })
            .collect();
        assert_close(&vals(&out), &want, 0.0, "gather");
        checked += 1;
    }
    assert!(checked > 150);
}

#[test]
fn gather_known_values_and_errors() {
    let t = Tensor::from_vec(vec![1i64, 2, 3, 4], [2, 2]);
    let i = Tensor::from_vec(vec![0i64, 0, 1, 0], [2, 2]);
    assert_eq!(t.gather(1, &i).to_vec::<i64>(), vec![1, 1, 4, 3]);
    assert_eq!(t.gather(-1, &i).to_vec::<i64>(), vec![1, 1, 4, 3]);
    assert_eq!(t.gather(0, &i).to_vec::<i64>(), vec![1, 2, 3, 2]);
    let neg = Tensor::from_vec(vec![0i64, -1, 1, 0], [2, 2]);
    let err = t.try_gather(1, &neg).unwrap_err().to_string();
    assert!(err.contains("gather") && err.contains("-1"), "{err}");
    let big = Tensor::from_vec(vec![0i64, 2, 1, 0], [2, 2]);
    assert!(t.try_gather(1, &big).is_err());
    assert!(t.try_gather(1, &Tensor::zeros([2, 2])).is_err());
    assert!(
        t.try_gather(1, &Tensor::from_vec(vec![0i64; 6], [3, 2]))
            .is_err()
    );
    assert!(
        t.try_gather(1, &Tensor::from_vec(vec![0i64; 2], [2]))
            .is_err()
    );
    // Empty index: empty output.
    let e = t.gather(1, &Tensor::from_vec(Vec::<i64>::new(), [2, 0]));
    assert_eq!(e.dims(), &[2, 0]);
}

#[test]
fn scatter_family_matches_reference() {
    let mut g = Generator::new(5);
    for _ in 0..300 {
        let dims = rand_dims(&mut g, 1, 4);
        let r = dims.len();
        let dim = rand_dim(&mut g, r);
        let d = resolve(dim, r);
        if dims[d] == 0 {
            continue;
        }
        let mut dtype = rand_dtype(&mut g);
        if dtype == DType::Bool {
            dtype = DType::I32;
        }
        let x = rand_tensor(&mut g, &dims, dtype);
        let src_dims: Vec<usize> = (0..r).map(|_| 1 + g.below(4) as usize).collect();
        let src = rand_tensor(&mut g, &src_dims, dtype);
        let index = rand_index(&mut g, &dims, &src_dims, d);
        let iv = index.to_vec::<i64>();
        let (xv, sv) = (vals(&x), vals(&src));
        let mut set = xv.clone();
        let mut add = xv.clone();
        let mut val = xv.clone();
        for (p, &ip) in iv.iter().enumerate() {
            let sidx = unravel(p, index.dims());
            let mut oidx = sidx.clone();
            oidx[d] = ip as usize;
            let o = ravel(&oidx, &dims);
            let s = sv[ravel(&sidx, &src_dims)];
            set[o] = s;
            add[o] += s;
            val[o] = 2.0;
        }
        let ours = x.scatter(dim, &index, &src);
        assert_eq!(ours.dims(), &dims[..]);
        assert_eq!(ours.dtype(), dtype);
        assert_close(&vals(&ours), &set, 0.0, "scatter");
        // Integer sums may wrap in the narrow dtypes; compare through the dtype.
        let wrap = |v: f64| match dtype {
            DType::U8 => (v as i64).rem_euclid(256) as f64,
            DType::I32 => v as i64 as i32 as f64,
            _ => v,
        };
        let want_add: Vec<f64> = add.into_iter().map(wrap).collect();
        let want_add = Tensor::from_vec(want_add, &dims).to_dtype(dtype);
        assert_close(
            &vals(&x.scatter_add(dim, &index, &src)),
            &vals(&want_add),
            1e-6,
            "scatter_add",
        );
        assert_close(
            &vals(&x.scatter_value(dim, &index, 2.0)),
            &val,
            0.0,
            "scatter_value",
        );
        // Out of place: the input is unchanged.
        assert_close(&vals(&x), &xv, 0.0, "scatter input");
    }
}

#[test]
fn scatter_known_values_and_errors() {
    // torch.zeros(3, 5).scatter_(0, [[0, 1, 2, 0]], arange(1, 11).view(2, 5))
    let src = Tensor::arange_step(1.0, 11.0, 1.0, DType::F32).reshape(&[2, 5]);
    let index = Tensor::from_vec(vec![0i64, 1, 2, 0], [1, 4]);
    let out = Tensor::zeros([3, 5]).scatter(0, &index, &src);
    assert_eq!(
        out.to_vec::<f32>(),
        vec![1., 0., 0., 4., 0., 0., 2., 0., 0., 0., 0., 0., 3., 0., 0.]
    );
    let ones = Tensor::ones([2, 5]);
    let idx = Tensor::from_vec(vec![0i64, 1, 2, 0, 0, 0, 1, 2, 2, 2], [2, 5]);
    let out = Tensor::zeros([3, 5]).scatter_add(0, &idx, &ones);
    assert_eq!(
        out.to_vec::<f32>(),
        vec![2., 0., 0., 1., 1., 0., 2., 0., 0., 0., 0., 0., 2., 1., 1.]
    );
    let err = Tensor::zeros([3, 5])
        .try_scatter(0, &idx, &Tensor::ones([1, 5]))
        .unwrap_err();
    assert!(err.to_string().contains("scatter"), "{err}");
    assert!(
        Tensor::zeros([3, 5])
            .try_scatter_value(1, &Tensor::from_vec(vec![5i64], [1, 1]), 1.0)
            .is_err()
    );
    assert!(
        Tensor::zeros_dtype([3], DType::Bool)
            .try_scatter_add(
                0,
                &Tensor::from_vec(vec![0i64], [1]),
                &Tensor::ones_dtype([1], DType::Bool)
            )
            .is_err()
    );
}

#[test]
fn one_hot_like_pytorch() {
    let t = Tensor::from_vec(vec![0i64, 1, 2, 3, 4], [5]);
    let oh = t.one_hot(None);
    assert_eq!(oh.dims(), &[5, 5]);
    assert_eq!(oh.dtype(), DType::I64);
    assert_eq!(vals(&oh), vals(&Tensor::eye(5)));
    let t = Tensor::from_vec(vec![0i32, 2, 1, 0], [2, 2]);
    let oh = t.one_hot(Some(4));
    assert_eq!(oh.dims(), &[2, 2, 4]);
    assert_eq!(
        oh.to_vec::<i64>(),
        vec![1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    );
    assert!(t.try_one_hot(Some(2)).is_err());
    assert!(
        Tensor::from_vec(vec![-1i64], [1])
            .try_one_hot(None)
            .is_err()
    );
    assert!(Tensor::zeros([2]).try_one_hot(None).is_err());
    assert!(
        Tensor::from_vec(Vec::<i64>::new(), [0])
            .try_one_hot(None)
            .is_err()
    );
    assert_eq!(
        Tensor::from_vec(Vec::<i64>::new(), [0])
            .one_hot(Some(3))
            .dims(),
        &[0, 3]
    );
}

#[test]
fn masked_select_nonzero_take_match_reference() {
    let mut g = Generator::new(6);
    for _ in 0..100 {
        let dims = rand_dims(&mut g, 0, 4);
        let dt = rand_dtype(&mut g);
        let x = rand_tensor(&mut g, &dims, dt);
        let xv = vals(&x);
        // Mask broadcast from a shape with some dims set to 1.
        let mdims: Vec<usize> = dims
            .iter()
            .map(|&n| if g.below(2) == 0 { 1 } else { n })
            .collect();
        let mask = rand_tensor(&mut g, &mdims, DType::Bool);
        let mv = vals(&mask);
        let want: Vec<f64> = (0..xv.len())
            .filter(|&p| {
                let idx = unravel(p, &dims);
                let midx: Vec<usize> = idx
                    .iter()
                    .zip(&mdims)
                    .map(|(&i, &m)| if m == 1 { 0 } else { i })
                    .collect();
                mv[ravel(&midx, &mdims)] != 0.0
            })
            .map(|p| xv[p])
            .collect();
        let got = x.masked_select(&mask);
        assert_eq!(got.dims(), &[want.len()]);
        assert_close(&vals(&got), &want, 0.0, "masked_select");

        let nz = x.nonzero();
        let want: Vec<f64> = (0..xv.len())
            .filter(|&p| xv[p] != 0.0)
            .flat_map(|p| unravel(p, &dims).into_iter().map(|i| i as f64))
            .collect();
        let count = xv.iter().filter(|&&v| v != 0.0).count();
        assert_eq!(nz.dims(), &[count, dims.len()][..]);
        assert_eq!(nz.dtype(), DType::I64);
        assert_close(&vals(&nz), &want, 0.0, "nonzero");

        if !xv.is_empty() {
            let n = xv.len() as i64;
            let idx = Tensor::randint_with(-n, n, [2, 3], &mut g);
            let want: Vec<f64> = idx
                .to_vec::<i64>()
                .iter()
                .map(|&i| xv[if i < 0 { i + n } else { i } as usize])
                .collect();
            assert_close(&vals(&x.take(&idx)), &want, 0.0, "take");
            assert!(x.try_take(&Tensor::from_vec(vec![n], [1])).is_err());
        }
    }
    let t = Tensor::from_vec(
        vec![
            0.6f32, 0.0, 0.0, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0, 0.0, 1.2, 0.0, 0.0, 0.0, 0.0, -0.4,
        ],
        [4, 4],
    );
    assert_eq!(t.nonzero().to_vec::<i64>(), vec![0, 0, 1, 1, 2, 2, 3, 3]);
    assert_eq!(Tensor::scalar(3i64).nonzero().dims(), &[1, 0]);
    assert!(t.try_masked_select(&Tensor::ones([4, 4])).is_err());
}

#[test]
fn index_select_on_non_contiguous_input() {
    let x = Tensor::arange(12).reshape(&[3, 4]).t();
    let i = Tensor::from_vec(vec![2i64, -1, 0], [3]);
    let out = x.index_select(1, &i);
    assert_eq!(out.dims(), &[4, 3]);
    assert_eq!(
        out.to_vec::<i64>(),
        vec![8, 8, 0, 9, 9, 1, 10, 10, 2, 11, 11, 3]
    );
    assert!(
        x.try_index_select(1, &Tensor::from_vec(vec![3i64], [1]))
            .is_err()
    );
}

/// PyTorch's source index for output index `i` of a padded dimension, or None for the fill.
fn pad_source(i: isize, b: isize, n: isize, mode: PadMode) -> Option<usize> {
    let mut j = i - b;
    match mode {
        PadMode::Constant(_) => (0..n).contains(&j).then_some(j as usize),
        PadMode::Reflect => {
            while j < 0 || j >= n {
                if j < 0 {
                    j = -j;
                }
                if j >= n {
                    j = 2 * (n - 1) - j;
                }
            }
            Some(j as usize)
        }
        PadMode::Replicate => Some(j.max(0).min(n - 1) as usize),
        PadMode::Circular => Some(((j % n + n) % n) as usize),
    }
}

#[test]
fn pad_matches_reference() {
    let mut g = Generator::new(7);
    for it in 0..300 {
        let dims = rand_dims(&mut g, 1, 4);
        let r = dims.len();
        let mode = match it % 4 {
            0 => PadMode::Constant(1.5),
            1 => PadMode::Reflect,
            2 => PadMode::Replicate,
            _ => PadMode::Circular,
        };
        let npairs = 1 + g.below(r as u64) as usize;
        let mut pads = vec![];
        for k in 0..npairs {
            let n = dims[r - 1 - k] as isize;
            for _ in 0..2 {
                let p = match mode {
                    PadMode::Constant(_) => g.below(5) as isize - 2,
                    PadMode::Reflect => g.below(n.max(1) as u64) as isize,
                    PadMode::Replicate => {
                        if n == 0 {
                            0
                        } else {
                            g.below(4) as isize
                        }
                    }
                    PadMode::Circular => g.below(n as u64 + 1) as isize,
                };
                pads.push(p);
            }
        }
        let dtype = rand_dtype(&mut g);
        let x = rand_tensor(&mut g, &dims, dtype);
        let res = x.try_pad(&pads, mode);
        let mut out_dims = dims.clone();
        for k in 0..npairs {
            out_dims[r - 1 - k] =
                (dims[r - 1 - k] as isize + pads[2 * k] + pads[2 * k + 1]).max(-1) as usize;
        }
        if out_dims.contains(&usize::MAX) {
            assert!(res.is_err());
            continue;
        }
        let out = res.unwrap_or_else(|e| panic!("pad {dims:?} by {pads:?} {mode:?}: {e}"));
        assert_eq!(out.dims(), &out_dims[..], "pad {dims:?} by {pads:?}");
        assert_eq!(out.dtype(), dtype);
        let xv = vals(&x);
        let fill = vals(&Tensor::full([1], 1.5, dtype))[0];
        let want: Vec<f64> = (0..numel(&out_dims))
            .map(|p| {
                let oidx = unravel(p, &out_dims);
                let mut sidx = oidx.clone();
                for k in 0..npairs {
                    let d = r - 1 - k;
                    match pad_source(oidx[d] as isize, pads[2 * k], dims[d] as isize, mode) {
                        Some(s) => sidx[d] = s,
                        None => return fill,
                    }
                }
                xv[ravel(&sidx, &dims)]
            })
            .collect();
        assert_close(
            &vals(&out),
            &want,
            0.0,
            &format!("pad {dims:?} by {pads:?} {mode:?}"),
        );
    }
}

#[test]
fn pad_known_values_and_errors() {
    let t = Tensor::from_vec(vec![0., 1., 2., 3.], [4]);
    assert_eq!(
        vals(&t.pad(&[2, 1], PadMode::Reflect)),
        vec![2., 1., 0., 1., 2., 3., 2.]
    );
    assert_eq!(
        vals(&t.pad(&[2, 1], PadMode::Replicate)),
        vec![0., 0., 0., 1., 2., 3., 3.]
    );
    assert_eq!(
        vals(&t.pad(&[2, 1], PadMode::Circular)),
        vec![2., 3., 0., 1., 2., 3., 0.]
    );
    assert_eq!(
        vals(&t.pad(&[1, -2], PadMode::Constant(9.0))),
        vec![9., 0., 1.]
    );
    let m = Tensor::from_vec(vec![1i64, 2, 3, 4], [2, 2]);
    assert_eq!(
        m.pad(&[1, 0, 0, 1], PadMode::Constant(0.0)).to_vec::<i64>(),
        vec![0, 1, 2, 0, 3, 4, 0, 0, 0]
    );
    assert!(t.try_pad(&[4, 0], PadMode::Reflect).is_err());
    assert!(t.try_pad(&[1], PadMode::Reflect).is_err());
    assert!(t.try_pad(&[1, 1, 1, 1], PadMode::Reflect).is_err());
    assert!(t.try_pad(&[-3, -3], PadMode::Constant(0.0)).is_err());
    assert!(t.try_pad(&[5, 0], PadMode::Circular).is_err());
}

#[test]
fn repeat_tile_flip_roll_match_reference() {
    let mut g = Generator::new(8);
    for _ in 0..200 {
        let dims = rand_dims(&mut g, 0, 3);
        let r = dims.len();
        let dt = rand_dtype(&mut g);
        let x = rand_tensor(&mut g, &dims, dt);
        let xv = vals(&x);

        // repeat with 0 to 2 extra leading dims.
        let extra = g.below(3) as usize;
        let reps: Vec<usize> = (0..r + extra).map(|_| g.below(4) as usize).collect();
        let mut padded = vec![1; extra];
        padded.extend_from_slice(&dims);
        let out_dims: Vec<usize> = padded.iter().zip(&reps).map(|(n, k)| n * k).collect();
        let want: Vec<f64> = (0..numel(&out_dims))
            .map(|p| {
                let idx: Vec<usize> = unravel(p, &out_dims)
                    .iter()
                    .zip(&padded)
                    .map(|(i, n)| i % n)
                    .collect();
                xv[ravel(&idx[extra..], &dims)]
            })
            .collect();
        let out = x.repeat(&reps);
        assert_eq!(out.dims(), &out_dims[..]);
        assert_close(&vals(&out), &want, 0.0, "repeat");
        // tile with fewer reps than dims is repeat with leading 1s.
        let few: Vec<usize> = (0..g.below(r as u64 + 1))
            .map(|_| 1 + g.below(3) as usize)
            .collect();
        let mut full = vec![1; r - few.len()];
        full.extend_from_slice(&few);
        assert_eq!(vals(&x.tile(&few)), vals(&x.repeat(&full)));
        assert_eq!(x.tile(&few).dims(), x.repeat(&full).dims());

        // flip a random subset of dims, named with random signs.
        let mut fdims: Vec<isize> = vec![];
        for d in 0..r {
            let (take, neg) = (g.below(2) == 0, g.below(2) == 0);
            if take {
                fdims.push(if neg {
                    d as isize - r as isize
                } else {
                    d as isize
                });
            }
        }
        let flipped: Vec<usize> = fdims.iter().map(|&d| resolve(d, r)).collect();
        let want: Vec<f64> = (0..xv.len())
            .map(|p| {
                let mut idx = unravel(p, &dims);
                for &d in &flipped {
                    idx[d] = dims[d] - 1 - idx[d];
                }
                xv[ravel(&idx, &dims)]
            })
            .collect();
        assert_close(&vals(&x.flip(&fdims)), &want, 0.0, "flip");

        // roll along one dim, and flattened.
        if r > 0 {
            let d = g.below(r as u64) as usize;
            let s = g.below(11) as isize - 5;
            let want: Vec<f64> = (0..xv.len())
                .map(|p| {
                    let mut idx = unravel(p, &dims);
                    let n = dims[d] as isize;
                    idx[d] = ((idx[d] as isize - s) % n + n) as usize % dims[d];
                    xv[ravel(&idx, &dims)]
                })
                .collect();
            assert_close(&vals(&x.roll(&[s], &[d as isize])), &want, 0.0, "roll");
            let n = xv.len() as isize;
            let want: Vec<f64> = (0..n)
                .map(|p| xv[(((p - s) % n + n) % n) as usize])
                .collect();
            let flat = x.roll(&[s], &[]);
            assert_eq!(flat.dims(), &dims[..]);
            assert_close(&vals(&flat), &want, 0.0, "roll flat");
        }
    }
    let x = Tensor::arange(4).reshape(&[2, 2]);
    assert_eq!(x.flip(&[0, 1]).to_vec::<i64>(), vec![3, 2, 1, 0]);
    assert_eq!(
        Tensor::from_vec(vec![1i64, 2, 3], [3])
            .repeat(&[4, 2])
            .dims(),
        &[4, 6]
    );
    assert_eq!(
        Tensor::from_vec(vec![1i64, 2, 3], [3])
            .repeat(&[2])
            .to_vec::<i64>(),
        vec![1, 2, 3, 1, 2, 3]
    );
}

#[test]
fn tril_triu_match_reference() {
    let a = Tensor::arange(1 + 12).narrow(0, 1, 12).reshape(&[3, 4]);
    assert_eq!(
        a.tril(0).to_vec::<i64>(),
        vec![1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0]
    );
    assert_eq!(
        a.tril(-1).to_vec::<i64>(),
        vec![0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0]
    );
    assert_eq!(
        a.tril(1).to_vec::<i64>(),
        vec![1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12]
    );
    assert_eq!(
        a.triu(0).to_vec::<i64>(),
        vec![1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12]
    );
    assert_eq!(
        a.triu(1).to_vec::<i64>(),
        vec![0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12]
    );
    assert_eq!(
        a.triu(-1).to_vec::<i64>(),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12]
    );
    let mut g = Generator::new(9);
    for _ in 0..100 {
        let dims = rand_dims(&mut g, 2, 4);
        let r = dims.len();
        let dt = rand_dtype(&mut g);
        let x = rand_tensor(&mut g, &dims, dt);
        let k = g.below(7) as i64 - 3;
        let xv = vals(&x);
        let (mut lo, mut up) = (xv.clone(), xv.clone());
        for p in 0..xv.len() {
            let idx = unravel(p, &dims);
            let (i, j) = (idx[r - 2] as i64, idx[r - 1] as i64);
            if j - i > k {
                lo[p] = 0.0;
            }
            if j - i < k {
                up[p] = 0.0;
            }
        }
        assert_close(&vals(&x.tril(k)), &lo, 0.0, "tril");
        assert_close(&vals(&x.triu(k)), &up, 0.0, "triu");
        assert_eq!(x.tril(k).dtype(), x.dtype());
    }
}

#[test]
fn cumsum_cumprod_match_reference() {
    let mut g = Generator::new(10);
    for _ in 0..200 {
        let dims = rand_dims(&mut g, 0, 4);
        let r = dims.len();
        let dtype = rand_dtype(&mut g);
        let x = rand_tensor(&mut g, &dims, dtype);
        let dim = rand_dim(&mut g, r);
        let d = resolve(dim, r);
        let xv = vals(&x);
        let (mut s, mut pr) = (xv.clone(), xv.clone());
        for p in 0..xv.len() {
            let idx = unravel(p, &dims);
            if r > 0 && idx[d] > 0 {
                let mut prev = idx.clone();
                prev[d] -= 1;
                let q = ravel(&prev, &dims);
                s[p] += s[q];
                pr[p] *= pr[q];
            }
        }
        let cs = x.cumsum(dim);
        let cp = x.cumprod(dim);
        let want_dtype = if dtype.is_float() { dtype } else { DType::I64 };
        assert_eq!((cs.dtype(), cp.dtype()), (want_dtype, want_dtype));
        assert_eq!(cs.dims(), &dims[..]);
        let tol = if dtype == DType::F32 { 1e-6 } else { 1e-12 };
        assert_close(&vals(&cs), &s, tol, "cumsum");
        assert_close(&vals(&cp), &pr, tol, "cumprod");
    }
    let t = Tensor::from_vec(vec![1i32, 2, 3, 4], [2, 2]);
    assert_eq!(t.cumsum(0).to_vec::<i64>(), vec![1, 2, 4, 6]);
    assert_eq!(t.cumsum(-1).to_vec::<i64>(), vec![1, 3, 3, 7]);
    assert_eq!(t.cumprod(1).to_vec::<i64>(), vec![1, 2, 3, 12]);
    // f32 accumulates in f64: 1e8 + 1 + 1 - 1e8 stays exact.
    let f = Tensor::from_vec(vec![1e8f32, 1.0, 1.0, -1e8], [4]);
    assert_eq!(f.cumsum(0).to_vec::<f32>()[3], 2.0);
    // f64 sums are compensated.
    let h = Tensor::from_vec(vec![1e17f64, 1.0, 1.0, -1e17], [4]);
    assert_eq!(h.cumsum(0).to_vec::<f64>()[3], 2.0);
}

fn ref_order(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap(),
    }
}

#[test]
fn sort_argsort_topk_match_reference() {
    let mut g = Generator::new(11);
    for it in 0..200 {
        let dims = rand_dims(&mut g, 0, 3);
        let r = dims.len();
        let dtype = rand_dtype(&mut g);
        let mut x = rand_tensor(&mut g, &dims, dtype);
        if dtype.is_float() && it % 2 == 0 {
            // Rounded values so ties occur, and a NaN sometimes.
            let mut v = x
                .to_vec::<f64>()
                .iter()
                .map(|v| v.round())
                .collect::<Vec<_>>();
            if !v.is_empty() && it % 4 == 0 {
                v[0] = f64::NAN;
            }
            x = Tensor::from_vec(v, &dims).to_dtype(dtype);
        }
        let dim = rand_dim(&mut g, r);
        let d = resolve(dim, r);
        let n = if r == 0 { 1 } else { dims[d] };
        let xv = vals(&x);
        let desc = g.below(2) == 0;
        // (k = 0 on a 0-D tensor would give an empty 1-D result; not compared here.)
        let k = if r == 0 {
            1
        } else {
            g.below(n as u64 + 1) as usize
        };
        let largest = g.below(2) == 0;
        // Reference: stable sort of every lane.
        let lane_of = |p: usize| -> (Vec<usize>, Vec<usize>) {
            // (positions of the lane, the lane index along d) for output position p.
            let idx = if r == 0 { vec![] } else { unravel(p, &dims) };
            let pos: Vec<usize> = (0..n)
                .map(|i| {
                    if r == 0 {
                        0
                    } else {
                        let mut j = idx.clone();
                        j[d] = i;
                        ravel(&j, &dims)
                    }
                })
                .collect();
            (pos, idx)
        };
        let (mut sv, mut si) = (vec![0.0; xv.len()], vec![0.0; xv.len()]);
        let mut tk_dims = dims.clone();
        if r > 0 {
            tk_dims[d] = k;
        }
        let (mut tv, mut ti) = (vec![0.0; numel(&tk_dims)], vec![0.0; numel(&tk_dims)]);
        for p in 0..xv.len() {
            let (pos, idx) = lane_of(p);
            let at = if r == 0 { 0 } else { idx[d] };
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| {
                let o = ref_order(xv[pos[a]], xv[pos[b]]);
                if desc { o.reverse() } else { o }
            });
            sv[p] = xv[pos[order[at]]];
            si[p] = order[at] as f64;
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| {
                let o = ref_order(xv[pos[a]], xv[pos[b]]);
                if largest { o.reverse() } else { o }
            });
            if at < k {
                let mut o = idx.clone();
                if r > 0 {
                    o[d] = at;
                }
                let q = if r == 0 { 0 } else { ravel(&o, &tk_dims) };
                tv[q] = xv[pos[order[at]]];
                ti[q] = order[at] as f64;
            }
        }
        let (v, i) = x.sort(dim, desc);
        assert_eq!(v.dtype(), dtype);
        assert_eq!(i.dtype(), DType::I64);
        assert_close(&vals(&v), &sv, 0.0, "sort values");
        assert_close(&vals(&i), &si, 0.0, "sort indices");
        assert_close(&vals(&x.argsort(dim, desc)), &si, 0.0, "argsort");
        let (v, i) = x.topk(k, dim, largest, true);
        assert_eq!(v.dims(), &tk_dims[..]);
        assert_close(&vals(&v), &tv, 0.0, "topk values");
        assert_close(&vals(&i), &ti, 0.0, "topk indices");
    }
}

#[test]
fn sort_and_topk_known_values() {
    let t = Tensor::from_vec(vec![2i64, 1, 2, 1], [4]);
    assert_eq!(t.sort(0, false).1.to_vec::<i64>(), vec![1, 3, 0, 2]);
    assert_eq!(t.sort(0, true).1.to_vec::<i64>(), vec![0, 2, 1, 3]);
    let f = Tensor::from_vec(vec![1.0f32, f32::NAN, -1.0, 0.5], [4]);
    let (v, i) = f.sort(0, false);
    assert_eq!(i.to_vec::<i64>(), vec![2, 3, 0, 1]);
    assert!(v.to_vec::<f32>()[3].is_nan());
    assert_eq!(f.sort(0, true).1.to_vec::<i64>(), vec![1, 0, 3, 2]);
    // torch.topk(torch.arange(1., 6.), 3) = values [5, 4, 3], indices [4, 3, 2].
    let x = Tensor::arange_step(1.0, 6.0, 1.0, DType::F32);
    let (v, i) = x.topk(3, 0, true, true);
    assert_eq!(v.to_vec::<f32>(), vec![5., 4., 3.]);
    assert_eq!(i.to_vec::<i64>(), vec![4, 3, 2]);
    let (v, i) = Tensor::from_vec(vec![1i64, 3, 3, 2, 3], [5]).topk(2, -1, true, false);
    assert_eq!(
        (v.to_vec::<i64>(), i.to_vec::<i64>()),
        (vec![3, 3], vec![1, 2])
    );
    let (v, i) = Tensor::from_vec(vec![4i64, 1, 1, 2], [4]).topk(2, 0, false, true);
    assert_eq!(
        (v.to_vec::<i64>(), i.to_vec::<i64>()),
        (vec![1, 1], vec![1, 2])
    );
    let m = Tensor::from_vec(vec![3.0f64, 1., 2., 9., 7., 8.], [2, 3]).t();
    let (v, i) = m.sort(0, false);
    assert_eq!(v.to_vec::<f64>(), vec![1., 7., 2., 8., 3., 9.]);
    assert_eq!(i.to_vec::<i64>(), vec![1, 1, 2, 2, 0, 0]);
    let err = x.try_topk(6, 0, true, true).unwrap_err().to_string();
    assert!(err.contains("topk") && err.contains('6'), "{err}");
    let e = Tensor::zeros([0, 3]);
    assert_eq!(e.sort(0, false).0.dims(), &[0, 3]);
    assert_eq!(e.topk(0, 0, true, true).1.dims(), &[0, 3]);
}
