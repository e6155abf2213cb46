//! ONNX operators mapped onto baeum's tensor operations: the seed of an ONNX importer.
//!
//! [`run_node`] evaluates one node from its op type, attributes, input tensors (by slot; `None`
//! for an omitted optional input) and the model's opset, following that opset's version of the
//! operator (e.g. Clip's bounds and Squeeze's axes are inputs from opset 13, attributes before)
//! and taking ONNX's default for every absent attribute.

use baeum::nn::functional::{self as F, ConvOptions, ConvTransposeOptions, PoolGeometry};
use baeum::ops::transform::PadMode;
use baeum::{DType, Tensor};

use crate::case::{AttrValue, Attrs, Case};

/// Result of an op: the output tensors by slot, or why the node cannot be evaluated.
pub type OpResult = Result<Vec<Tensor>, String>;

/// Runs one ONNX node. Unsupported ops answer `Err("unsupported op X")`.
pub fn run_node(op: &str, attrs: &Attrs, inputs: &[Option<Tensor>], opset: i64) -> OpResult {
    run_node_with_outputs(op, attrs, inputs, opset, None)
}

/// [`run_node`] knowing how many output slots the node has (`n_outputs`), which decides the
/// number of parts of a Split that gives neither `split` nor `num_outputs`.
pub fn run_node_with_outputs(
    op: &str,
    attrs: &Attrs,
    inputs: &[Option<Tensor>],
    opset: i64,
    n_outputs: Option<usize>,
) -> OpResult {
    let one = |t: Tensor| Ok(vec![t]);
    let x = || input(inputs, 0, op);
    match op {
        // Element-wise, one input.
        "Abs" => one(x()?.abs()),
        "Neg" => one(x()?.neg()),
        "Exp" => one(float_only(op, x()?)?.exp()),
        "Log" => one(float_only(op, x()?)?.log()),
        "Sqrt" => one(float_only(op, x()?)?.sqrt()),
        "Reciprocal" => one(float_only(op, x()?)?.reciprocal()),
        "Sin" => one(float_only(op, x()?)?.sin()),
        "Cos" => one(float_only(op, x()?)?.cos()),
        "Tanh" => one(float_only(op, x()?)?.tanh()),
        "Sigmoid" => one(float_only(op, x()?)?.sigmoid()),
        "Erf" => one(float_only(op, x()?)?.erf()),
        "Relu" => one(x()?.relu()),
        "LeakyRelu" => one(float_only(op, x()?)?.leaky_relu(attrs.float("alpha", 0.01)? as f64)),
        "Elu" => one(float_only(op, x()?)?.elu(attrs.float("alpha", 1.0)? as f64)),
        "Selu" => {
            let alpha = attrs.float("alpha", 1.673_263_2)? as f64;
            let gamma = attrs.float("gamma", 1.050_701)?;
            one(float_only(op, x()?)?.elu(alpha).mul_scalar(gamma))
        }
        "Gelu" => {
            let t = float_only(op, x()?)?;
            match attrs.string("approximate", "none")?.as_str() {
                "none" => one(t.gelu()),
                "tanh" => one(t.gelu_tanh()),
                a => Err(format!("Gelu: unknown approximate=\"{a}\"")),
            }
        }
        "Softplus" => one(float_only(op, x()?)?.softplus(1.0, 20.0)),
        "Softsign" => one(float_only(op, x()?)?.softsign()),
        "Mish" => one(float_only(op, x()?)?.mish()),
        "HardSigmoid" => {
            let alpha = attrs.float("alpha", 0.2)?;
            let beta = attrs.float("beta", 0.5)?;
            let t = float_only(op, x()?)?;
            one(t
                .mul_scalar(alpha)
                .add_scalar(beta)
                .clamp(Some(0.0), Some(1.0)))
        }
        "HardSwish" => one(float_only(op, x()?)?.hardswish()),
        "Sign" => one(x()?.sign()),
        "Floor" => one(x()?.floor()),
        "Ceil" => one(x()?.ceil()),
        "Round" => one(x()?.round()),
        "ThresholdedRelu" => {
            let t = float_only(op, x()?)?;
            let alpha = attrs.float("alpha", 1.0)?;
            one(Tensor::where_(&t.gt_scalar(alpha), &t, &t.zeros_like()))
        }
        "PRelu" => {
            let t = x()?;
            let slope = input(inputs, 1, op)?;
            let neg = t.lt(&t.zeros_like());
            one(Tensor::where_(&neg, &t.mul(&slope), &t))
        }
        "Not" => one(x()?.logical_not()),
        "Identity" => one(x()?),
        "Cast" => one(x()?.to_dtype(onnx_dtype(attrs.int("to", 1)?)?)),

        // Element-wise, two or more inputs.
        "Add" => one(x()?.add(&input(inputs, 1, op)?)),
        "Sub" => one(x()?.sub(&input(inputs, 1, op)?)),
        "Mul" => one(x()?.mul(&input(inputs, 1, op)?)),
        "Div" => one(div(&x()?, &input(inputs, 1, op)?)),
        "Pow" => {
            let base = x()?;
            one(base.pow(&input(inputs, 1, op)?).to_dtype(base.dtype()))
        }
        "Max" => variadic(inputs, op, |a, b| a.maximum(b)).map(|t| vec![t]),
        "Min" => variadic(inputs, op, |a, b| a.minimum(b)).map(|t| vec![t]),
        "Sum" => variadic(inputs, op, |a, b| a.add(b)).map(|t| vec![t]),
        "Mean" => {
            let n = inputs.iter().flatten().count();
            let s = variadic(inputs, op, |a, b| a.add(b))?;
            one(s.div_scalar(n as f64).to_dtype(s.dtype()))
        }
        "Equal" => one(x()?.eq(&input(inputs, 1, op)?)),
        "Greater" => one(x()?.gt(&input(inputs, 1, op)?)),
        "Less" => one(x()?.lt(&input(inputs, 1, op)?)),
        "GreaterOrEqual" => one(x()?.ge(&input(inputs, 1, op)?)),
        "LessOrEqual" => one(x()?.le(&input(inputs, 1, op)?)),
        "And" => one(x()?.logical_and(&input(inputs, 1, op)?)),
        "Or" => one(x()?.logical_or(&input(inputs, 1, op)?)),
        "Xor" => one(x()?.logical_xor(&input(inputs, 1, op)?)),
        "Where" => one(Tensor::where_(
            &x()?,
            &input(inputs, 1, op)?,
            &input(inputs, 2, op)?,
        )),
        "Clip" => {
            let t = x()?;
            let (lo, hi) = if opset >= 11 {
                let bound = |i: usize| -> Result<Option<f64>, String> {
                    opt_input(inputs, i)
                        .map(|b| scalar_f64(&b, "Clip bound"))
                        .transpose()
                };
                (bound(1)?, bound(2)?)
            } else {
                let lo = attrs
                    .get("min")
                    .map(|_| attrs.float("min", 0.0))
                    .transpose()?;
                let hi = attrs
                    .get("max")
                    .map(|_| attrs.float("max", 0.0))
                    .transpose()?;
                (lo.map(f64::from), hi.map(f64::from))
            };
            one(t.clamp(lo, hi))
        }

        // Linear algebra.
        "MatMul" => one(x()?
            .try_matmul(&input(inputs, 1, op)?)
            .map_err(|e| e.to_string())?),
        "Gemm" => gemm(attrs, inputs).map(|t| vec![t]),

        // Shapes and views.
        "Reshape" => reshape(attrs, inputs, opset).map(|t| vec![t]),
        "Transpose" => {
            let t = x()?;
            let perm: Vec<isize> = match attrs.ints("perm")? {
                Some(p) => p.iter().map(|&d| d as isize).collect(),
                None => (0..t.rank() as isize).rev().collect(),
            };
            if perm.len() != t.rank() {
                return Err(format!("Transpose: perm {perm:?} for rank {}", t.rank()));
            }
            one(t.permute(&perm))
        }
        "Squeeze" => {
            let t = x()?;
            let axes = axes_from(attrs, inputs, 1, opset >= 13)?;
            match axes {
                None => one(t.squeeze()),
                Some(axes) => {
                    let mut dims = Vec::new();
                    for a in axes {
                        let d = axis(a, t.rank())?;
                        if t.dims()[d] != 1 {
                            return Err(format!(
                                "Squeeze: dimension {d} of shape {:?} is not 1",
                                t.dims()
                            ));
                        }
                        dims.push(d);
                    }
                    let keep: Vec<isize> = (0..t.rank())
                        .filter(|d| !dims.contains(d))
                        .map(|d| t.dims()[d] as isize)
                        .collect();
                    one(t.reshape(&keep))
                }
            }
        }
        "Unsqueeze" => {
            let t = x()?;
            let axes =
                axes_from(attrs, inputs, 1, opset >= 13)?.ok_or("Unsqueeze: axes are required")?;
            let out_rank = t.rank() + axes.len();
            let mut axes = axes
                .iter()
                .map(|&a| axis(a, out_rank))
                .collect::<Result<Vec<_>, _>>()?;
            axes.sort_unstable();
            axes.dedup();
            if axes.len() + t.rank() != out_rank {
                return Err("Unsqueeze: repeated axis".into());
            }
            let mut out = t;
            for a in axes {
                out = out.unsqueeze(a);
            }
            one(out)
        }
        "Flatten" => {
            let t = x()?;
            let r = t.rank() as i64;
            let mut a = attrs.int("axis", 1)?;
            if a < 0 {
                a += r;
            }
            if a < 0 || a > r {
                return Err(format!("Flatten: axis {a} out of range for rank {r}"));
            }
            let outer: usize = t.dims()[..a as usize].iter().product();
            let inner: usize = t.dims()[a as usize..].iter().product();
            one(t.reshape(&[outer as isize, inner as isize]))
        }
        "Expand" => {
            let t = x()?;
            let shape: Vec<usize> = ints_of(&input(inputs, 1, op)?)?
                .into_iter()
                .map(|d| d.max(0) as usize)
                .collect();
            let target = baeum::tensor::broadcast_shapes(t.dims(), &shape).ok_or_else(|| {
                format!(
                    "Expand: shape {:?} does not broadcast with {shape:?}",
                    t.dims()
                )
            })?;
            one(t.broadcast_to(target))
        }
        "Shape" => {
            let t = x()?;
            let r = t.rank() as i64;
            let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let start = clampi(attrs.int("start", 0)?);
            let end = clampi(attrs.int("end", r)?);
            let dims: Vec<i64> = if start < end {
                t.dims()[start..end].iter().map(|&d| d as i64).collect()
            } else {
                Vec::new()
            };
            let n = dims.len();
            one(Tensor::from_vec(dims, [n]))
        }
        "Size" => one(Tensor::scalar(x()?.numel() as i64)),
        "Constant" => constant(attrs).map(|t| vec![t]),
        "Range" => range(inputs).map(|t| vec![t]),
        "Slice" => slice(attrs, inputs, opset).map(|t| vec![t]),

        // Reductions and normalizations.
        "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" => {
            reduce(op, attrs, inputs, opset).map(|t| vec![t])
        }
        "ArgMax" | "ArgMin" => arg_extreme(op, attrs, &x()?).map(|t| vec![t]),
        "Softmax" | "LogSoftmax" => softmax(op, attrs, &x()?, opset).map(|t| vec![t]),
        "LpNormalization" => {
            let t = float_only(op, x()?)?;
            let a = axis(attrs.int("axis", -1)?, t.rank())? as isize;
            let p = attrs.int("p", 2)?;
            if p != 1 && p != 2 {
                return Err(format!("LpNormalization: p must be 1 or 2, got {p}"));
            }
            // A zero norm (all of the lane zero) gives zeros, as ONNX's reference does.
            let norm = t.norm_dims(p as f64, &[a], true);
            let norm = Tensor::where_(&norm.eq_scalar(0), &norm.ones_like(), &norm);
            one(t.div(&norm))
        }
        "Einsum" => {
            let eq: String = attrs
                .string("equation", "")?
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let ops: Vec<Tensor> = inputs.iter().flatten().cloned().collect();
            let refs: Vec<&Tensor> = ops.iter().collect();
            one(Tensor::einsum(&eq, &refs))
        }

        // Joining, splitting and indexing.
        "Concat" => {
            let ts: Vec<Tensor> = inputs.iter().flatten().cloned().collect();
            let first = ts.first().ok_or("Concat: no inputs")?;
            let a = axis(attrs.int("axis", 0)?, first.rank())?;
            let refs: Vec<&Tensor> = ts.iter().collect();
            one(Tensor::cat(&refs, a))
        }
        "Split" => split(attrs, inputs, opset, n_outputs),
        "Gather" => gather(attrs, &x()?, &input(inputs, 1, op)?).map(|t| vec![t]),
        "OneHot" => one_hot(attrs, inputs).map(|t| vec![t]),
        "Pad" => pad(attrs, inputs, opset).map(|t| vec![t]),
        "Tile" => {
            let t = x()?;
            let reps = ints_of(&input(inputs, 1, op)?)?;
            if reps.len() != t.rank() || reps.iter().any(|&r| r < 0) {
                return Err(format!("Tile: repeats {reps:?} for shape {:?}", t.dims()));
            }
            let reps: Vec<usize> = reps.iter().map(|&r| r as usize).collect();
            one(t.tile(&reps))
        }
        "Trilu" => {
            let t = x()?;
            let k = match opt_input(inputs, 1) {
                Some(k) => k.try_item::<i64>().map_err(|e| format!("Trilu k: {e}"))?,
                None => 0,
            };
            if attrs.int("upper", 1)? != 0 {
                one(t.triu(k))
            } else {
                one(t.tril(k))
            }
        }
        "CumSum" => cumsum(attrs, &x()?, &input(inputs, 1, op)?).map(|t| vec![t]),
        "TopK" => {
            let t = x()?;
            let k = input(inputs, 1, op)?;
            let k = ints_of(&k)?.first().copied().ok_or("TopK: K is empty")?;
            if k < 0 {
                return Err(format!("TopK: negative K {k}"));
            }
            let a = axis(attrs.int("axis", -1)?, t.rank())?;
            let largest = attrs.int("largest", 1)? != 0;
            let sorted = attrs.int("sorted", 1)? != 0;
            let (v, i) = t
                .try_topk(k as usize, a as isize, largest, sorted)
                .map_err(|e| e.to_string())?;
            Ok(vec![v, i])
        }
        // Neural-network layers: baeum::nn::functional.
        "Conv" => conv(attrs, inputs).map(|t| vec![t]),
        "ConvTranspose" => conv_transpose(attrs, inputs).map(|t| vec![t]),
        "MaxPool" => max_pool(attrs, &x()?),
        "AveragePool" => average_pool(attrs, &x()?).map(|t| vec![t]),
        "GlobalAveragePool" | "GlobalMaxPool" => {
            let t = float_only(op, x()?)?;
            if t.rank() < 3 {
                return Err(format!("{op}: input of shape {:?}", t.dims()));
            }
            let dims: Vec<isize> = (2..t.rank() as isize).collect();
            one(if op == "GlobalAveragePool" {
                t.mean_dims(&dims, true)
            } else {
                t.amax(&dims, true)
            })
        }
        "BatchNormalization" => batch_normalization(attrs, inputs),
        "LayerNormalization" => layer_normalization(attrs, inputs),
        "InstanceNormalization" => {
            let eps = attrs.float("epsilon", 1e-5)? as f64;
            let (scale, bias) = (opt_input(inputs, 1), opt_input(inputs, 2));
            one(F::instance_norm(
                &x()?,
                None,
                None,
                scale.as_ref(),
                bias.as_ref(),
                true,
                0.1,
                eps,
            )
            .map_err(|e| e.to_string())?)
        }
        "LRN" => {
            let size = attrs.int("size", 0)?;
            // ONNX centres an even window one later than PyTorch does: only odd sizes agree.
            if size <= 0 || size % 2 == 0 {
                return Err(format!("LRN: size {size} (only odd sizes are mapped)"));
            }
            one(F::local_response_norm(
                &float_only(op, x()?)?,
                size as usize,
                attrs.float("alpha", 1e-4)? as f64,
                attrs.float("beta", 0.75)? as f64,
                attrs.float("bias", 1.0)? as f64,
            )
            .map_err(|e| e.to_string())?)
        }
        "Dropout" => dropout(attrs, inputs, opset),
        "MeanVarianceNormalization" => {
            let t = float_only(op, x()?)?;
            let axes = attrs.ints("axes")?.unwrap_or_else(|| vec![0, 2, 3]);
            let dims = axes_isize(&axes, t.rank())?;
            let mean = t.mean_dims(&dims, true);
            // Biased variance, and ONNX's ε of 1e-9 under the root.
            let var = t.var_dims(&dims, false, true);
            one(t.sub(&mean).div(&var.add_scalar(1e-9).sqrt()))
        }

        // Losses: baeum::nn::functional's, whose mean divides by the total weight of the
        // counted targets exactly as ONNX's does.
        "NegativeLogLikelihoodLoss" => {
            let o = loss_options(op, attrs, inputs)?;
            one(
                F::nll_loss(&float_only(op, x()?)?, &input(inputs, 1, op)?, &o)
                    .map_err(|e| e.to_string())?,
            )
        }
        "SoftmaxCrossEntropyLoss" => {
            let scores = float_only(op, x()?)?;
            let o = loss_options(op, attrs, inputs)?;
            let loss =
                F::cross_entropy(&scores, &input(inputs, 1, op)?, &o).map_err(|e| e.to_string())?;
            Ok(vec![loss, scores.log_softmax(1)])
        }

        // Recurrent layers: baeum::nn::functional::rnn.
        "RNN" | "GRU" | "LSTM" => recurrent_layer(op, attrs, inputs),
        _ => Err(format!("unsupported op {op}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Convolution, pooling, normalisation, dropout.

/// The spatial dimensions of a 1-D, 2-D or 3-D layer input `[N, C, ...]`.
fn spatial_rank(op: &str, x: &Tensor) -> Result<usize, String> {
    match x.rank() {
        3 => Ok(1),
        4 => Ok(2),
        5 => Ok(3),
        r => Err(format!(
            "{op}: input of shape {:?} (rank {r}): only 1-D, 2-D and 3-D layers are mapped",
            x.dims()
        )),
    }
}

/// A per-spatial-dimension attribute (`strides`, `dilations`, ...), `default` when absent.
fn per_dim(attrs: &Attrs, name: &str, n: usize, default: usize) -> Result<Vec<usize>, String> {
    match attrs.ints(name)? {
        None => Ok(vec![default; n]),
        Some(v) if v.len() == n && v.iter().all(|&x| x >= 0) => {
            Ok(v.iter().map(|&x| x as usize).collect())
        }
        Some(v) => Err(format!(
            "attribute {name} = {v:?} for {n} spatial dimension(s)"
        )),
    }
}

/// (pads before, pads after) per spatial dimension from `pads` and `auto_pad`, for windows
/// of `kernel` (dilated by `dilation`) stepping `stride` over `sizes`.
fn window_pads(
    attrs: &Attrs,
    sizes: &[usize],
    kernel: &[usize],
    stride: &[usize],
    dilation: &[usize],
) -> Result<(Vec<usize>, Vec<usize>), String> {
    let n = sizes.len();
    match attrs.string("auto_pad", "NOTSET")?.as_str() {
        "NOTSET" => {
            let pads = match attrs.ints("pads")? {
                None => vec![0; 2 * n],
                Some(p) if p.len() == 2 * n && p.iter().all(|&x| x >= 0) => {
                    p.iter().map(|&x| x as usize).collect()
                }
                Some(p) => return Err(format!("pads {p:?} for {n} spatial dimension(s)")),
            };
            Ok((pads[..n].to_vec(), pads[n..].to_vec()))
        }
        "VALID" => Ok((vec![0; n], vec![0; n])),
        mode @ ("SAME_UPPER" | "SAME_LOWER") => {
            let (mut before, mut after) = (vec![0; n], vec![0; n]);
            for d in 0..n {
                let out = sizes[d].div_ceil(stride[d]);
                let span = dilation[d] * (kernel[d] - 1) + 1;
                let total = ((out - 1) * stride[d] + span).saturating_sub(sizes[d]);
                let small = total / 2;
                if mode == "SAME_UPPER" {
                    (before[d], after[d]) = (small, total - small);
                } else {
                    (before[d], after[d]) = (total - small, small);
                }
            }
            Ok((before, after))
        }
        other => Err(format!("auto_pad \"{other}\"")),
    }
}

/// `Tensor::pad` arguments (last dimension first) for `before`/`after` per spatial dimension;
/// negative values crop.
fn pad_list(before: &[isize], after: &[isize]) -> Vec<isize> {
    (0..before.len())
        .rev()
        .flat_map(|d| [before[d], after[d]])
        .collect()
}

fn conv(attrs: &Attrs, inputs: &[Option<Tensor>]) -> Result<Tensor, String> {
    let op = "Conv";
    let x = float_only(op, input(inputs, 0, op)?)?;
    let w = input(inputs, 1, op)?;
    let b = opt_input(inputs, 2);
    let n = spatial_rank(op, &x)?;
    if w.rank() != n + 2 {
        return Err(format!("Conv: weight of shape {:?}", w.dims()));
    }
    let stride = per_dim(attrs, "strides", n, 1)?;
    let dilation = per_dim(attrs, "dilations", n, 1)?;
    let kernel = w.dims()[2..].to_vec();
    let (before, after) = window_pads(attrs, &x.dims()[2..], &kernel, &stride, &dilation)?;
    // Asymmetric padding: zeros added explicitly, then a convolution without padding.
    let x = if before.iter().chain(&after).any(|&p| p > 0) {
        let b: Vec<isize> = before.iter().map(|&p| p as isize).collect();
        let a: Vec<isize> = after.iter().map(|&p| p as isize).collect();
        x.try_pad(&pad_list(&b, &a), PadMode::Constant(0.0))
            .map_err(|e| e.to_string())?
    } else {
        x
    };
    let o = ConvOptions::default()
        .stride(stride)
        .dilation(dilation)
        .groups(attrs.int("group", 1)?.max(1) as usize);
    match n {
        1 => F::conv1d(&x, &w, b.as_ref(), &o),
        2 => F::conv2d(&x, &w, b.as_ref(), &o),
        _ => F::conv3d(&x, &w, b.as_ref(), &o),
    }
    .map_err(|e| e.to_string())
}

fn conv_transpose(attrs: &Attrs, inputs: &[Option<Tensor>]) -> Result<Tensor, String> {
    let op = "ConvTranspose";
    let x = float_only(op, input(inputs, 0, op)?)?;
    let w = input(inputs, 1, op)?;
    let b = opt_input(inputs, 2);
    let n = spatial_rank(op, &x)?;
    if w.rank() != n + 2 {
        return Err(format!("ConvTranspose: weight of shape {:?}", w.dims()));
    }
    let stride = per_dim(attrs, "strides", n, 1)?;
    let dilation = per_dim(attrs, "dilations", n, 1)?;
    let output_padding = per_dim(attrs, "output_padding", n, 0)?;
    let kernel = w.dims()[2..].to_vec();
    let sizes = x.dims()[2..].to_vec();
    // The full transposed convolution (no padding) has (n − 1)·s + d(k − 1) + 1 positions;
    // ONNX's pads crop it (negative pads extend it with zeros) and output_padding extends it.
    let full: Vec<isize> = (0..n)
        .map(|d| ((sizes[d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1) as isize)
        .collect();
    let auto_pad = attrs.string("auto_pad", "NOTSET")?;
    let output_shape = match attrs.ints("output_shape")? {
        Some(s) if s.len() == n => Some(s),
        Some(s) => return Err(format!("output_shape {s:?}")),
        None if auto_pad.starts_with("SAME") => Some(
            (0..n)
                .map(|d| (sizes[d] * stride[d]) as i64)
                .collect::<Vec<i64>>(),
        ),
        None => None,
    };
    let (before, after): (Vec<isize>, Vec<isize>) = match output_shape {
        Some(shape) => (0..n)
            .map(|d| {
                let total = full[d] + output_padding[d] as isize - shape[d] as isize;
                let half = total.div_euclid(2);
                if auto_pad == "SAME_UPPER" {
                    (half, total - half)
                } else {
                    (total - half, half)
                }
            })
            .unzip(),
        None => {
            let pads = match attrs.ints("pads")? {
                None => vec![0; 2 * n],
                Some(p) if p.len() == 2 * n => p,
                Some(p) => return Err(format!("pads {p:?}")),
            };
            (
                pads[..n].iter().map(|&p| p as isize).collect(),
                pads[n..].iter().map(|&p| p as isize).collect(),
            )
        }
    };
    let o = ConvTransposeOptions::default()
        .stride(stride)
        .dilation(dilation)
        .groups(attrs.int("group", 1)?.max(1) as usize);
    let y = match n {
        1 => F::conv_transpose1d(&x, &w, None, &o),
        2 => F::conv_transpose2d(&x, &w, None, &o),
        _ => F::conv_transpose3d(&x, &w, None, &o),
    }
    .map_err(|e| e.to_string())?;
    let crop_before: Vec<isize> = before.iter().map(|&p| -p).collect();
    let crop_after: Vec<isize> = (0..n)
        .map(|d| output_padding[d] as isize - after[d])
        .collect();
    let y = y
        .try_pad(&pad_list(&crop_before, &crop_after), PadMode::Constant(0.0))
        .map_err(|e| e.to_string())?;
    Ok(match b {
        Some(b) => {
            let mut shape = vec![1isize; y.rank()];
            shape[1] = -1;
            y.add(&b.reshape(&shape))
        }
        None => y,
    })
}

/// The geometry of an ONNX MaxPool / AveragePool.
fn pool_geometry(attrs: &Attrs, x: &Tensor, op: &str) -> Result<(usize, PoolGeometry), String> {
    let n = spatial_rank(op, x)?;
    let kernel = attrs
        .ints("kernel_shape")?
        .ok_or_else(|| format!("{op}: attribute kernel_shape is required"))?;
    if kernel.len() != n || kernel.iter().any(|&k| k <= 0) {
        return Err(format!("{op}: kernel_shape {kernel:?}"));
    }
    let kernel: Vec<usize> = kernel.iter().map(|&k| k as usize).collect();
    let stride = per_dim(attrs, "strides", n, 1)?;
    let dilation = per_dim(attrs, "dilations", n, 1)?;
    let (pad_before, pad_after) = window_pads(attrs, &x.dims()[2..], &kernel, &stride, &dilation)?;
    Ok((
        n,
        PoolGeometry {
            kernel,
            stride,
            dilation,
            pad_before,
            pad_after,
            ceil_mode: attrs.int("ceil_mode", 0)? != 0,
        },
    ))
}

/// MaxPool: values, and indices flattened over the whole tensor (row-major, or column-major
/// within each plane with storage_order 1).
fn max_pool(attrs: &Attrs, x: &Tensor) -> OpResult {
    let x = float_only("MaxPool", x.clone())?;
    let (n, g) = pool_geometry(attrs, &x, "MaxPool")?;
    let (v, i) = F::max_pool_with_geometry(&x, n, &g).map_err(|e| e.to_string())?;
    let dims = x.dims();
    let sizes: Vec<i64> = dims[2..].iter().map(|&s| s as i64).collect();
    let plane: i64 = sizes.iter().product();
    let column_major = attrs.int("storage_order", 0)? == 1;
    let per_plane = i.numel() / (dims[0] * dims[1]).max(1);
    let flat: Vec<i64> = i
        .to_vec::<i64>()
        .iter()
        .enumerate()
        .map(|(k, &idx)| {
            let base = (k / per_plane.max(1)) as i64 * plane;
            base + if column_major {
                // The same position with the first spatial dimension varying fastest.
                let (mut rest, mut at, mut stride) = (idx, 0, 1);
                let mut coords = vec![0; sizes.len()];
                for d in (0..sizes.len()).rev() {
                    coords[d] = rest % sizes[d];
                    rest /= sizes[d];
                }
                for (c, s) in coords.iter().zip(&sizes) {
                    at += c * stride;
                    stride *= s;
                }
                at
            } else {
                idx
            }
        })
        .collect();
    Ok(vec![v, Tensor::from_vec(flat, i.shape().clone())])
}

fn average_pool(attrs: &Attrs, x: &Tensor) -> Result<Tensor, String> {
    let x = float_only("AveragePool", x.clone())?;
    let (n, g) = pool_geometry(attrs, &x, "AveragePool")?;
    let include = attrs.int("count_include_pad", 0)? != 0;
    F::avg_pool_with_geometry(&x, n, &g, include, None).map_err(|e| e.to_string())
}

/// BatchNormalization: inference with the given statistics, or (training_mode) with the
/// batch's, returning the running statistics too. ONNX's momentum weighs the old value and
/// its running variance takes the biased batch variance (unlike PyTorch).
fn batch_normalization(attrs: &Attrs, inputs: &[Option<Tensor>]) -> OpResult {
    let op = "BatchNormalization";
    let x = float_only(op, input(inputs, 0, op)?)?;
    let (scale, bias) = (input(inputs, 1, op)?, input(inputs, 2, op)?);
    let (mean, var) = (input(inputs, 3, op)?, input(inputs, 4, op)?);
    let eps = attrs.float("epsilon", 1e-5)? as f64;
    let momentum = attrs.float("momentum", 0.9)? as f64;
    let err = |e: baeum::Error| e.to_string();
    if attrs.int("training_mode", 0)? == 0 {
        let y = F::batch_norm(
            &x,
            Some(&mean),
            Some(&var),
            Some(&scale),
            Some(&bias),
            false,
            0.0,
            eps,
        )
        .map_err(err)?;
        return Ok(vec![y]);
    }
    let y =
        F::batch_norm(&x, None, None, Some(&scale), Some(&bias), true, 0.0, eps).map_err(err)?;
    let dims: Vec<isize> = (0..x.rank() as isize).filter(|&d| d != 1).collect();
    let batch_mean = x.mean_dims(&dims, false);
    let batch_var = x.var_dims(&dims, false, false);
    let running_mean = mean
        .mul_scalar(momentum)
        .add(&batch_mean.mul_scalar(1.0 - momentum));
    let running_var = var
        .mul_scalar(momentum)
        .add(&batch_var.mul_scalar(1.0 - momentum));
    Ok(vec![y, running_mean, running_var])
}

/// The options of NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: `reduction`,
/// `ignore_index` (none when absent) and the optional class weights (input 2).
fn loss_options(
    op: &str,
    attrs: &Attrs,
    inputs: &[Option<Tensor>],
) -> Result<F::CrossEntropyOptions, String> {
    let reduction = match attrs.string("reduction", "mean")?.as_str() {
        "none" => F::Reduction::None,
        "mean" => F::Reduction::Mean,
        "sum" => F::Reduction::Sum,
        r => return Err(format!("{op}: unknown reduction=\"{r}\"")),
    };
    // Without the attribute no class is ignored: a value no target can take stands for that.
    let ignore_index = match attrs.get("ignore_index") {
        Some(_) => attrs.int("ignore_index", 0)?,
        None => i64::MIN,
    };
    Ok(F::CrossEntropyOptions {
        weight: opt_input(inputs, 2),
        ignore_index,
        reduction,
        label_smoothing: 0.0,
    })
}

/// Reorders the gate blocks of `t` along `dim` (block size `hidden`): block `k` of the result
/// is block `order[k]` of `t`. ONNX stacks LSTM gates i, o, f, c and GRU gates z, r, h, where
/// baeum (as PyTorch) expects i, f, g, o and r, z, n.
fn reorder_gates(t: &Tensor, dim: isize, hidden: usize, order: &[usize]) -> Tensor {
    let blocks: Vec<Tensor> = order
        .iter()
        .map(|&k| t.narrow(dim, k * hidden, hidden))
        .collect();
    let refs: Vec<&Tensor> = blocks.iter().collect();
    Tensor::cat(&refs, dim)
}

/// RNN, GRU and LSTM (one layer, forward or bidirectional). ONNX's W `[dirs, gates·H, I]`,
/// R `[dirs, gates·H, H]` and B `[dirs, 2·gates·H]` (input biases, then recurrent ones) are
/// split per direction with their gates reordered; Y is `[T, dirs, B, H]` (`[B, T, dirs, H]`
/// with layout 1) and Y_h, Y_c `[dirs, B, H]` (`[B, dirs, H]`).
fn recurrent_layer(op: &str, attrs: &Attrs, inputs: &[Option<Tensor>]) -> OpResult {
    use baeum::nn::functional::rnn::{CellWeights, RecurrentOptions, RnnMode, recurrent};
    let x = float_only(op, input(inputs, 0, op)?)?;
    let (w, r) = (input(inputs, 1, op)?, input(inputs, 2, op)?);
    let bias = opt_input(inputs, 3);
    let hidden = attrs.int("hidden_size", 0)?;
    if hidden <= 0 {
        return Err(format!(
            "{op}: hidden_size {hidden} (the attribute is required)"
        ));
    }
    let hidden = hidden as usize;
    let batch_first = attrs.int("layout", 0)? != 0;
    if x.rank() != 3 {
        return Err(format!("{op}: X of shape {:?} must be 3-D", x.dims()));
    }
    let steps = x.dims()[usize::from(batch_first)];
    let dirs = match attrs.string("direction", "forward")?.as_str() {
        "forward" => 1,
        "bidirectional" => 2,
        d => {
            return Err(format!(
                "{op}: direction \"{d}\" is not mapped (only forward and bidirectional)"
            ));
        }
    };
    if attrs.get("clip").is_some() {
        return Err(format!(
            "{op}: the clip attribute is not mapped (baeum's cells do not clip)"
        ));
    }
    if opt_input(inputs, 7).is_some() {
        return Err(format!(
            "{op}: peepholes (input P) are not mapped: baeum's LSTM has none"
        ));
    }
    if let Some(lens) = opt_input(inputs, 4)
        && ints_of(&lens)?.iter().any(|&l| l != steps as i64)
    {
        return Err(format!(
            "{op}: sequence_lens {:?} shorter than the {steps} steps are not mapped",
            ints_of(&lens)?
        ));
    }
    let activations: Option<Vec<String>> = match attrs.get("activations") {
        None => None,
        Some(AttrValue::Strings(a)) => Some(a.clone()),
        Some(v) => {
            return Err(format!(
                "{op}: attribute activations: expected STRINGS, got {v:?}"
            ));
        }
    };
    let (mode, gates, order): (RnnMode, usize, &[usize]) = match op {
        "RNN" => {
            let mode = match activations.as_deref() {
                None => RnnMode::Tanh,
                Some([a, ..]) if a == "Tanh" => RnnMode::Tanh,
                Some([a, ..]) if a == "Relu" => RnnMode::Relu,
                Some(a) => return Err(format!("RNN: activations {a:?} are not mapped")),
            };
            (mode, 1, &[0])
        }
        "GRU" => (RnnMode::Gru, 3, &[1, 0, 2]),
        _ => (RnnMode::Lstm, 4, &[0, 2, 3, 1]),
    };
    if op != "RNN" && activations.is_some() {
        return Err(format!(
            "{op}: custom activations {activations:?} are not mapped"
        ));
    }
    let g_h = gates * hidden;
    if w.rank() != 3 || w.dims()[0] != dirs || w.dims()[1] != g_h {
        return Err(format!(
            "{op}: W of shape {:?} for {dirs} direction(s) and {gates}·{hidden} rows",
            w.dims()
        ));
    }
    if r.dims() != [dirs, g_h, hidden] {
        return Err(format!(
            "{op}: R of shape {:?}, expected {:?}",
            r.dims(),
            [dirs, g_h, hidden]
        ));
    }
    if let Some(b) = &bias
        && b.dims() != [dirs, 2 * g_h]
    {
        return Err(format!(
            "{op}: B of shape {:?}, expected {:?}",
            b.dims(),
            [dirs, 2 * g_h]
        ));
    }
    // Per direction: (w_ih, w_hh, b_ih, b_hh) in baeum's gate order.
    let per_dir: Vec<[Tensor; 4]> = (0..dirs)
        .map(|d| {
            let d = d as isize;
            let wb_rb = match &bias {
                Some(b) => b.select(0, d),
                None => Tensor::zeros_dtype([2 * g_h], x.dtype()),
            };
            [
                reorder_gates(&w.select(0, d), 0, hidden, order),
                reorder_gates(&r.select(0, d), 0, hidden, order),
                reorder_gates(&wb_rb.narrow(0, 0, g_h), 0, hidden, order),
                reorder_gates(&wb_rb.narrow(0, g_h, g_h), 0, hidden, order),
            ]
        })
        .collect();
    // Initial states come as [dirs, B, H] ([B, dirs, H] with layout 1).
    let state =
        |i: usize| opt_input(inputs, i).map(|s| if batch_first { s.transpose(0, 1) } else { s });
    let (h0, c0) = (state(5), state(6));
    let (y, y_h, y_c) = if op == "GRU" && attrs.int("linear_before_reset", 0)? == 0 {
        if dirs != 1 {
            return Err(
                "GRU: linear_before_reset=0 is mapped for the forward direction only".into(),
            );
        }
        let x = if batch_first { x.transpose(0, 1) } else { x };
        let (y, h) = gru_reset_before_linear(&x, h0.map(|h| h.select(0, 0)), &per_dir[0], hidden);
        (y, h.unsqueeze(0), None)
    } else {
        let weights: Vec<CellWeights> = per_dir
            .iter()
            .map(|[w_ih, w_hh, b_ih, b_hh]| CellWeights::new(w_ih, w_hh, Some(b_ih), Some(b_hh)))
            .collect();
        let opts = RecurrentOptions {
            mode,
            num_layers: 1,
            bidirectional: dirs == 2,
            batch_first: false,
            dropout: 0.0,
            training: false,
        };
        let x = if batch_first { x.transpose(0, 1) } else { x };
        let mut generator = baeum::Generator::new(0);
        let out = recurrent(&x, h0.as_ref(), c0.as_ref(), &weights, opts, &mut generator)
            .map_err(|e| e.to_string())?;
        (out.output, out.h_n, out.c_n)
    };
    // y is [T, B, dirs·H]; ONNX wants [T, dirs, B, H].
    let (t, b) = (y.dims()[0] as isize, y.dims()[1] as isize);
    let y = y
        .reshape(&[t, b, dirs as isize, hidden as isize])
        .permute(&[0, 2, 1, 3]);
    let mut outs = if batch_first {
        vec![y.permute(&[2, 0, 1, 3]), y_h.transpose(0, 1)]
    } else {
        vec![y, y_h]
    };
    if let Some(c) = y_c {
        outs.push(if batch_first { c.transpose(0, 1) } else { c });
    }
    Ok(outs)
}

/// ONNX's default GRU (linear_before_reset = 0), which PyTorch lacks: the reset gate scales
/// the hidden state before the recurrent product, `n = tanh(W_n x + b_in + R_n (r ⊙ h) + b_hn)`.
/// `weights` are in PyTorch's gate order r, z, n. Returns Y `[T, B, H]` and the last state.
fn gru_reset_before_linear(
    x: &Tensor,
    h0: Option<Tensor>,
    weights: &[Tensor; 4],
    hidden: usize,
) -> (Tensor, Tensor) {
    let [w_ih, w_hh, b_ih, b_hh] = weights;
    let (steps, batch) = (x.dims()[0], x.dims()[1]);
    let mut h = h0.unwrap_or_else(|| Tensor::zeros_dtype([batch, hidden], x.dtype()));
    let gate = |t: &Tensor, k: usize| t.narrow(1, k * hidden, hidden);
    let w_hh_rz = w_hh.narrow(0, 0, 2 * hidden);
    let w_hh_n = w_hh.narrow(0, 2 * hidden, hidden);
    let b_hh_rz = b_hh.narrow(0, 0, 2 * hidden);
    let b_hh_n = b_hh.narrow(0, 2 * hidden, hidden);
    let mut ys = Vec::with_capacity(steps);
    for s in 0..steps {
        let xi = x.select(0, s as isize).matmul(&w_ih.t()).add(b_ih);
        let hi = h.matmul(&w_hh_rz.t()).add(&b_hh_rz);
        let r = gate(&xi, 0).add(&gate(&hi, 0)).sigmoid();
        let z = gate(&xi, 1).add(&gate(&hi, 1)).sigmoid();
        let n = gate(&xi, 2)
            .add(&r.mul(&h).matmul(&w_hh_n.t()))
            .add(&b_hh_n)
            .tanh();
        // h' = (1 − z) ⊙ n + z ⊙ h
        h = n.add(&z.mul(&h.sub(&n)));
        ys.push(h.clone());
    }
    let refs: Vec<&Tensor> = ys.iter().collect();
    (Tensor::stack(&refs, 0), h)
}

/// LayerNormalization over the dimensions from `axis` on: Y, Mean and InvStdDev (the latter
/// two with the normalised dimensions kept as 1).
fn layer_normalization(attrs: &Attrs, inputs: &[Option<Tensor>]) -> OpResult {
    let op = "LayerNormalization";
    let x = float_only(op, input(inputs, 0, op)?)?;
    let a = axis(attrs.int("axis", -1)?, x.rank())?;
    let eps = attrs.float("epsilon", 1e-5)? as f64;
    let shape = x.dims()[a..].to_vec();
    let scale = input(inputs, 1, op)?;
    let bias = opt_input(inputs, 2);
    let exact = |t: &Tensor| t.dims() == shape.as_slice();
    let y = if exact(&scale) && bias.as_ref().is_none_or(exact) {
        F::layer_norm(&x, &shape, Some(&scale), bias.as_ref(), eps)
    } else {
        // Scale and bias that only broadcast: normalise, then apply them as plain products.
        F::layer_norm(&x, &shape, None, None, eps).map(|y| {
            let y = y.mul(&scale);
            match &bias {
                Some(b) => y.add(b),
                None => y,
            }
        })
    }
    .map_err(|e| e.to_string())?;
    let dims: Vec<isize> = (a as isize..x.rank() as isize).collect();
    let mean = x.mean_dims(&dims, true);
    let inv_std = x.var_dims(&dims, false, true).add_scalar(eps).rsqrt();
    Ok(vec![y, mean, inv_std])
}

/// Dropout: the identity outside training (always before opset 12) or with ratio 0, with an
/// all-true mask; in training a seeded random mask.
fn dropout(attrs: &Attrs, inputs: &[Option<Tensor>], opset: i64) -> OpResult {
    let op = "Dropout";
    let x = input(inputs, 0, op)?;
    let (ratio, training) = if opset >= 12 {
        let ratio = match opt_input(inputs, 1) {
            Some(r) => scalar_f64(&r, "Dropout ratio")?,
            None => 0.5,
        };
        let training = match opt_input(inputs, 2) {
            Some(t) => scalar_f64(&t, "Dropout training_mode")? != 0.0,
            None => false,
        };
        (ratio, training)
    } else {
        (attrs.float("ratio", 0.5)? as f64, false)
    };
    if !training || ratio == 0.0 {
        let mask = Tensor::ones_dtype(x.shape().clone(), DType::Bool);
        return Ok(vec![x, mask]);
    }
    let mut g = baeum::Generator::new(attrs.int("seed", 0)? as u64);
    let y = F::dropout(&float_only(op, x)?, ratio, true, &mut g).map_err(|e| e.to_string())?;
    let mask = y.ne_scalar(0.0);
    Ok(vec![y, mask])
}

/// Runs an ONNX node case: loads its inputs, evaluates the node and returns the requested
/// outputs as (file name, tensor).
pub fn run_case(case: &Case) -> Result<Vec<(String, Tensor)>, String> {
    let inputs = case.load_inputs()?;
    let outs = run_node_with_outputs(
        &case.op,
        &case.attrs,
        &inputs,
        case.opset,
        Some(case.outputs.len()),
    )?;
    case.requested_outputs()
        .into_iter()
        .map(|(i, file)| {
            outs.get(i)
                .cloned()
                .map(|t| (file, t))
                .ok_or_else(|| format!("{} produced no output {i}", case.op))
        })
        .collect()
}

fn opt_input(inputs: &[Option<Tensor>], i: usize) -> Option<Tensor> {
    inputs.get(i).cloned().flatten()
}

fn input(inputs: &[Option<Tensor>], i: usize, op: &str) -> Result<Tensor, String> {
    opt_input(inputs, i).ok_or_else(|| format!("{op}: missing input {i}"))
}

fn float_only(op: &str, t: Tensor) -> Result<Tensor, String> {
    if t.dtype().is_float() {
        Ok(t)
    } else {
        Err(format!("{op}: expects a float tensor, got {}", t.dtype()))
    }
}

/// The TensorProto data type enum, for the dtypes baeum has.
pub fn onnx_dtype(code: i64) -> Result<DType, String> {
    Ok(match code {
        1 => DType::F32,
        2 => DType::U8,
        6 => DType::I32,
        7 => DType::I64,
        9 => DType::Bool,
        11 => DType::F64,
        c => return Err(format!("unsupported ONNX data type {c}")),
    })
}

fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let d = if a < 0 { a + r } else { a };
    if d < 0 || d >= r {
        return Err(format!("axis {a} out of range for rank {rank}"));
    }
    Ok(d as usize)
}

fn ints_of(t: &Tensor) -> Result<Vec<i64>, String> {
    if t.dtype().is_float() || t.dtype() == DType::Bool || t.rank() > 1 {
        return Err(format!(
            "expected a 1-D integer tensor, got {} of shape {:?}",
            t.dtype(),
            t.dims()
        ));
    }
    Ok(t.to_vec::<i64>())
}

fn scalar_f64(t: &Tensor, what: &str) -> Result<f64, String> {
    t.try_item::<f64>().map_err(|e| format!("{what}: {e}"))
}

/// Axes from input `i` (when `as_input`) or from the `axes` attribute.
fn axes_from(
    attrs: &Attrs,
    inputs: &[Option<Tensor>],
    i: usize,
    as_input: bool,
) -> Result<Option<Vec<i64>>, String> {
    if as_input {
        opt_input(inputs, i).map(|t| ints_of(&t)).transpose()
    } else {
        attrs.ints("axes")
    }
}

fn variadic(
    inputs: &[Option<Tensor>],
    op: &str,
    f: impl Fn(&Tensor, &Tensor) -> Tensor,
) -> Result<Tensor, String> {
    let mut it = inputs.iter().flatten();
    let first = it.next().ok_or_else(|| format!("{op}: no inputs"))?.clone();
    Ok(it.fold(first, |acc, t| f(&acc, t)))
}

/// ONNX Div: true division for floats, truncation toward zero for integers.
fn div(a: &Tensor, b: &Tensor) -> Tensor {
    let dtype = DType::promote(a.dtype(), b.dtype());
    if dtype.is_float() {
        return a.div(b);
    }
    // floor_divide rounds toward -inf; step back by one where the signs differ and the
    // division is inexact.
    let q = a.floor_divide(b);
    let inexact = a.remainder(b).ne_scalar(0);
    let signs_differ = a.lt_scalar(0).logical_xor(&b.lt_scalar(0));
    q.add(&inexact.logical_and(&signs_differ).to_dtype(dtype))
}

fn gemm(attrs: &Attrs, inputs: &[Option<Tensor>]) -> Result<Tensor, String> {
    let alpha = attrs.float("alpha", 1.0)?;
    let beta = attrs.float("beta", 1.0)?;
    let mut a = input(inputs, 0, "Gemm")?;
    let mut b = input(inputs, 1, "Gemm")?;
    if attrs.int("transA", 0)? != 0 {
        a = a.t();
    }
    if attrs.int("transB", 0)? != 0 {
        b = b.t();
    }
    let mut y = a.try_matmul(&b).map_err(|e| e.to_string())?;
    if alpha != 1.0 {
        y = y.mul_scalar(alpha);
    }
    if let Some(c) = opt_input(inputs, 2) {
        let c = if beta != 1.0 { c.mul_scalar(beta) } else { c };
        baeum::ops::try_broadcast("Gemm", &y, &c).map_err(|e| e.to_string())?;
        y = y.add(&c);
    }
    Ok(y)
}

fn reshape(attrs: &Attrs, inputs: &[Option<Tensor>], opset: i64) -> Result<Tensor, String> {
    let t = input(inputs, 0, "Reshape")?;
    let shape = if opset >= 5 {
        ints_of(&input(inputs, 1, "Reshape")?)?
    } else {
        attrs.ints("shape")?.ok_or("Reshape: no shape")?
    };
    let allowzero = attrs.int("allowzero", 0)? != 0;
    let target: Vec<isize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d == 0 && !allowzero {
                t.dims()
                    .get(i)
                    .map(|&n| n as isize)
                    .ok_or_else(|| format!("Reshape: 0 at position {i} beyond input rank"))
            } else {
                Ok(d as isize)
            }
        })
        .collect::<Result<_, _>>()?;
    t.try_reshape(&target).map_err(|e| e.to_string())
}

fn constant(attrs: &Attrs) -> Result<Tensor, String> {
    let (name, v) = attrs
        .0
        .iter()
        .next()
        .ok_or("Constant: no value attribute")?;
    Ok(match (name.as_str(), v) {
        ("value", AttrValue::Tensor(t)) => t.clone(),
        ("value_float", AttrValue::Float(f)) => Tensor::scalar(*f),
        ("value_floats", AttrValue::Floats(f)) => Tensor::from_vec(f.clone(), [f.len()]),
        ("value_int", AttrValue::Int(i)) => Tensor::scalar(*i),
        ("value_ints", AttrValue::Ints(i)) => Tensor::from_vec(i.clone(), [i.len()]),
        _ => return Err(format!("Constant: unsupported attribute {name}")),
    })
}

fn range(inputs: &[Option<Tensor>]) -> Result<Tensor, String> {
    let start = input(inputs, 0, "Range")?;
    let limit = input(inputs, 1, "Range")?;
    let delta = input(inputs, 2, "Range")?;
    let dtype = start.dtype();
    if dtype.is_float() {
        let (s, l, d) = (
            scalar_f64(&start, "Range start")?,
            scalar_f64(&limit, "Range limit")?,
            scalar_f64(&delta, "Range delta")?,
        );
        if d == 0.0 {
            return Err("Range: delta is 0".into());
        }
        let n = ((l - s) / d).ceil().max(0.0) as usize;
        let v: Vec<f64> = (0..n).map(|i| s + i as f64 * d).collect();
        Ok(Tensor::from_vec(v, [n]).to_dtype(dtype))
    } else {
        let (s, l, d) = (
            start.try_item::<i64>().map_err(|e| e.to_string())?,
            limit.try_item::<i64>().map_err(|e| e.to_string())?,
            delta.try_item::<i64>().map_err(|e| e.to_string())?,
        );
        if d == 0 {
            return Err("Range: delta is 0".into());
        }
        let n = if (d > 0 && l > s) || (d < 0 && l < s) {
            ((l - s).abs() + d.abs() - 1) / d.abs()
        } else {
            0
        } as usize;
        let v: Vec<i64> = (0..n as i64).map(|i| s + i * d).collect();
        Ok(Tensor::from_vec(v, [n]).to_dtype(dtype))
    }
}

fn slice(attrs: &Attrs, inputs: &[Option<Tensor>], opset: i64) -> Result<Tensor, String> {
    let t = input(inputs, 0, "Slice")?;
    let r = t.rank();
    let (starts, ends, axes, steps) = if opset >= 10 {
        let get = |i: usize| opt_input(inputs, i).map(|t| ints_of(&t)).transpose();
        (
            get(1)?.ok_or("Slice: missing starts")?,
            get(2)?.ok_or("Slice: missing ends")?,
            get(3)?,
            get(4)?,
        )
    } else {
        (
            attrs.ints("starts")?.ok_or("Slice: missing starts")?,
            attrs.ints("ends")?.ok_or("Slice: missing ends")?,
            attrs.ints("axes")?,
            None,
        )
    };
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err("Slice: starts, ends, axes and steps differ in length".into());
    }
    let mut out = t;
    for i in 0..starts.len() {
        let a = axis(axes[i], r)?;
        let n = out.dims()[a] as i64;
        let step = steps[i];
        if step == 0 {
            return Err("Slice: step 0".into());
        }
        let norm = |v: i64| if v < 0 { v.saturating_add(n) } else { v };
        let (s, e) = (norm(starts[i]), norm(ends[i]));
        if step > 0 {
            let (s, e) = (s.clamp(0, n), e.clamp(0, n));
            out = out.slice(a, s as isize, e.max(s) as isize, step as usize);
        } else {
            let (s, e) = (s.clamp(0, n - 1), e.clamp(-1, n - 1));
            let mut idx = Vec::new();
            let mut k = s;
            while k > e {
                idx.push(k);
                k += step;
            }
            let len = idx.len();
            out = out.index_select(a, &Tensor::from_vec(idx, [len]));
        }
    }
    Ok(out)
}

/// Resolves ONNX axes (negative from the back) for a tensor of rank `rank`.
fn axes_isize(axes: &[i64], rank: usize) -> Result<Vec<isize>, String> {
    axes.iter()
        .map(|&a| axis(a, rank).map(|d| d as isize))
        .collect()
}

fn reduce(
    op: &str,
    attrs: &Attrs,
    inputs: &[Option<Tensor>],
    opset: i64,
) -> Result<Tensor, String> {
    let t = input(inputs, 0, op)?;
    let as_input = if op == "ReduceSum" {
        opset >= 13
    } else {
        opset >= 18
    };
    let axes = axes_from(attrs, inputs, 1, as_input)?.unwrap_or_default();
    let keepdim = attrs.int("keepdims", 1)? != 0;
    if axes.is_empty() && attrs.int("noop_with_empty_axes", 0)? != 0 {
        return Ok(t);
    }
    let dims: Vec<isize> = if axes.is_empty() {
        (0..t.rank() as isize).collect()
    } else {
        axes_isize(&axes, t.rank())?
    };
    let dtype = t.dtype();
    Ok(match op {
        "ReduceSum" => t.sum_dims(&dims, keepdim).to_dtype(dtype),
        "ReduceMean" => t.mean_dims(&dims, keepdim).to_dtype(dtype),
        _ => {
            let max = op == "ReduceMax";
            let empty = dims.iter().any(|&d| t.dims()[d as usize] == 0);
            if empty {
                // ONNX: the identity of the reduction (−inf for max, +inf for min; the
                // extreme values of an integer type).
                let shape: Vec<usize> = (0..t.rank())
                    .filter_map(|d| {
                        if !dims.contains(&(d as isize)) {
                            Some(t.dims()[d])
                        } else if keepdim {
                            Some(1)
                        } else {
                            None
                        }
                    })
                    .collect();
                let v = match (dtype, max) {
                    (DType::Bool, m) => f64::from(u8::from(!m)),
                    (DType::I32, true) => f64::from(i32::MIN),
                    (DType::I32, false) => f64::from(i32::MAX),
                    (DType::I64, true) => i64::MIN as f64,
                    (DType::I64, false) => i64::MAX as f64,
                    (DType::U8, true) => 0.0,
                    (DType::U8, false) => 255.0,
                    (_, true) => f64::NEG_INFINITY,
                    (_, false) => f64::INFINITY,
                };
                Tensor::full(shape, v, dtype)
            } else if max {
                t.amax(&dims, keepdim)
            } else {
                t.amin(&dims, keepdim)
            }
        }
    })
}

fn arg_extreme(op: &str, attrs: &Attrs, t: &Tensor) -> Result<Tensor, String> {
    let a = axis(attrs.int("axis", 0)?, t.rank())?;
    let keepdim = attrs.int("keepdims", 1)? != 0;
    let last = attrs.int("select_last_index", 0)? != 0;
    let f = |t: &Tensor| {
        if op == "ArgMax" {
            t.argmax_dim(a, keepdim)
        } else {
            t.argmin_dim(a, keepdim)
        }
    };
    if last {
        // The first extreme of the flipped axis is the last one of the original.
        let n = t.dims()[a] as i64;
        let i = f(&t.flip(&[a as isize]));
        Ok(Tensor::scalar(n - 1).sub(&i).to_dtype(DType::I64))
    } else {
        Ok(f(t).to_dtype(DType::I64))
    }
}

fn softmax(op: &str, attrs: &Attrs, t: &Tensor, opset: i64) -> Result<Tensor, String> {
    let log = op == "LogSoftmax";
    let t = float_only(op, t.clone())?;
    let f = |t: &Tensor, d: usize| if log { t.log_softmax(d) } else { t.softmax(d) };
    if opset >= 13 {
        let a = axis(attrs.int("axis", -1)?, t.rank())?;
        Ok(f(&t, a))
    } else {
        // Before opset 13: coerced to 2-D [prod(dims[..axis]), prod(dims[axis..])].
        let r = t.rank() as i64;
        let mut a = attrs.int("axis", 1)?;
        if a < 0 {
            a += r;
        }
        if a < 0 || a > r {
            return Err(format!("{op}: axis {a} out of range for rank {r}"));
        }
        let outer: usize = t.dims()[..a as usize].iter().product();
        let inner: usize = t.dims()[a as usize..].iter().product();
        let shape: Vec<isize> = t.dims().iter().map(|&d| d as isize).collect();
        Ok(f(&t.reshape(&[outer as isize, inner as isize]), 1).reshape(&shape))
    }
}

fn split(
    attrs: &Attrs,
    inputs: &[Option<Tensor>],
    opset: i64,
    n_outputs: Option<usize>,
) -> OpResult {
    let t = input(inputs, 0, "Split")?;
    let a = axis(attrs.int("axis", 0)?, t.rank())?;
    let n = t.dims()[a];
    let sizes = if opset >= 13 {
        opt_input(inputs, 1).map(|s| ints_of(&s)).transpose()?
    } else {
        attrs.ints("split")?
    };
    let sizes: Vec<usize> = match sizes {
        Some(s) => {
            if s.iter().any(|&v| v < 0) {
                return Err(format!("Split: negative split {s:?}"));
            }
            s.iter().map(|&v| v as usize).collect()
        }
        None => {
            let parts = match attrs.get("num_outputs") {
                Some(_) if opset >= 18 => attrs.int("num_outputs", 0)? as usize,
                _ => n_outputs.ok_or("Split: the number of outputs is unknown")?,
            };
            if parts == 0 {
                return Err("Split: zero outputs".into());
            }
            if opset >= 18 && attrs.get("num_outputs").is_some() {
                // Parts of ceil(n / parts), the last one smaller.
                let chunk = n.div_ceil(parts);
                (0..parts)
                    .map(|i| chunk.min(n.saturating_sub(i * chunk)))
                    .collect()
            } else {
                if !n.is_multiple_of(parts) {
                    return Err(format!(
                        "Split: {n} does not split into {parts} equal parts"
                    ));
                }
                vec![n / parts; parts]
            }
        }
    };
    if sizes.iter().sum::<usize>() != n {
        return Err(format!("Split: sizes {sizes:?} do not sum to {n}"));
    }
    Ok(t.split_sizes(&sizes, a))
}

fn gather(attrs: &Attrs, t: &Tensor, idx: &Tensor) -> Result<Tensor, String> {
    let a = axis(attrs.int("axis", 0)?, t.rank())?;
    let n = t.dims()[a] as i64;
    if !idx.dtype().is_int() {
        return Err(format!(
            "Gather: indices must be integers, got {}",
            idx.dtype()
        ));
    }
    let flat: Vec<i64> = idx
        .to_vec::<i64>()
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + n } else { i };
            if (0..n).contains(&j) {
                Ok(j)
            } else {
                Err(format!("Gather: index {i} out of range for size {n}"))
            }
        })
        .collect::<Result<_, _>>()?;
    let len = flat.len();
    let sel = t.index_select(a, &Tensor::from_vec(flat, [len]));
    let shape: Vec<isize> = t.dims()[..a]
        .iter()
        .chain(idx.dims())
        .chain(&t.dims()[a + 1..])
        .map(|&d| d as isize)
        .collect();
    Ok(sel.reshape(&shape))
}

fn one_hot(attrs: &Attrs, inputs: &[Option<Tensor>]) -> Result<Tensor, String> {
    let idx = input(inputs, 0, "OneHot")?;
    let depth = scalar_f64(&input(inputs, 1, "OneHot")?, "OneHot depth")?;
    let values = input(inputs, 2, "OneHot")?;
    if values.numel() != 2 {
        return Err(format!("OneHot: values of shape {:?}", values.dims()));
    }
    if depth < 1.0 {
        return Err(format!("OneHot: depth {depth}"));
    }
    let depth = depth as i64;
    let values = values.reshape(&[2]);
    let out_rank = idx.rank() + 1;
    let a = axis(attrs.int("axis", -1)?, out_rank)?;
    // A bool mask with the class dimension last, then moved to `axis`.
    let mut mask = Vec::with_capacity(idx.numel() * depth as usize);
    for v in idx.to_vec::<f64>() {
        let mut c = v as i64;
        if c < 0 {
            c += depth;
        }
        mask.extend((0..depth).map(|k| k == c));
    }
    let mut shape = idx.dims().to_vec();
    shape.push(depth as usize);
    let mask = Tensor::from_vec(mask, shape);
    let mut perm: Vec<isize> = (0..idx.rank() as isize).collect();
    perm.insert(a, idx.rank() as isize);
    let mask = mask.permute(&perm);
    let off = values.narrow(0, 0, 1).reshape(&[]);
    let on = values.narrow(0, 1, 1).reshape(&[]);
    Ok(Tensor::where_(&mask, &on, &off))
}

fn pad(attrs: &Attrs, inputs: &[Option<Tensor>], opset: i64) -> Result<Tensor, String> {
    use baeum::ops::transform::PadMode;
    let t = input(inputs, 0, "Pad")?;
    let r = t.rank();
    let (pads, value, axes) = if opset >= 11 {
        let pads = ints_of(&input(inputs, 1, "Pad")?)?;
        let value = opt_input(inputs, 2)
            .filter(|v| v.numel() > 0)
            .map(|v| scalar_f64(&v, "Pad constant_value"))
            .transpose()?
            .unwrap_or(0.0);
        let axes = opt_input(inputs, 3).map(|a| ints_of(&a)).transpose()?;
        (pads, value, axes)
    } else {
        let pads = attrs.ints("pads")?.ok_or("Pad: no pads")?;
        (pads, f64::from(attrs.float("value", 0.0)?), None)
    };
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&a| axis(a, r)).collect::<Result<_, _>>()?,
        None => (0..r).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(format!("Pad: {} pads for {} axes", pads.len(), axes.len()));
    }
    let mut begin = vec![0isize; r];
    let mut end = vec![0isize; r];
    for (i, &d) in axes.iter().enumerate() {
        begin[d] = pads[i] as isize;
        end[d] = pads[i + axes.len()] as isize;
    }
    // baeum's order: (before, after) pairs from the last dimension.
    let torch: Vec<isize> = (0..r).rev().flat_map(|d| [begin[d], end[d]]).collect();
    let mode = match attrs.string("mode", "constant")?.as_str() {
        "constant" => PadMode::Constant(value),
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Replicate,
        "wrap" => PadMode::Circular,
        m => return Err(format!("Pad: unknown mode \"{m}\"")),
    };
    t.try_pad(&torch, mode).map_err(|e| e.to_string())
}

fn cumsum(attrs: &Attrs, t: &Tensor, axis_t: &Tensor) -> Result<Tensor, String> {
    use baeum::ops::transform::PadMode;
    let a = axis(
        axis_t
            .try_item::<i64>()
            .map_err(|e| format!("CumSum axis: {e}"))?,
        t.rank(),
    )?;
    let dtype = t.dtype();
    let reverse = attrs.int("reverse", 0)? != 0;
    let exclusive = attrs.int("exclusive", 0)? != 0;
    let x = if reverse {
        t.flip(&[a as isize])
    } else {
        t.clone()
    };
    let mut y = x.cumsum(a).to_dtype(dtype);
    let n = t.dims()[a];
    if exclusive && n > 0 {
        // Shift by one along the axis: a 0 first, the last running sum dropped.
        let mut pads = vec![0isize; 2 * (t.rank() - a)];
        let k = 2 * (t.rank() - 1 - a);
        pads[k] = 1;
        y = y.narrow(a, 0, n - 1).pad(&pads, PadMode::Constant(0.0));
    }
    if reverse {
        y = y.flip(&[a as isize]);
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run1(op: &str, attrs: &Attrs, inputs: Vec<Tensor>, opset: i64) -> Tensor {
        let inputs: Vec<Option<Tensor>> = inputs.into_iter().map(Some).collect();
        run_node(op, attrs, &inputs, opset).unwrap().remove(0)
    }

    #[test]
    fn integer_div_truncates() {
        let a = Tensor::from_vec(vec![7i32, -7, 7, -7, 6], [5]);
        let b = Tensor::from_vec(vec![2i32, 2, -2, -2, 3], [5]);
        let q = run1("Div", &Attrs::default(), vec![a, b], 14);
        assert_eq!(q.to_vec::<i32>(), vec![3, -3, -3, 3, 2]);
    }

    #[test]
    fn slice_with_negative_steps_and_clamping() {
        let x = Tensor::from_vec((0..10).map(|v| v as f32).collect(), [10]);
        let s = |v: Vec<i64>| Tensor::from_vec(v.clone(), [v.len()]);
        let y = run1(
            "Slice",
            &Attrs::default(),
            vec![
                x.clone(),
                s(vec![-1]),
                s(vec![i64::MIN]),
                s(vec![0]),
                s(vec![-3]),
            ],
            13,
        );
        assert_eq!(y.to_vec::<f32>(), vec![9., 6., 3., 0.]);
        let y = run1(
            "Slice",
            &Attrs::default(),
            vec![x, s(vec![1000]), s(vec![2000])],
            13,
        );
        assert_eq!(y.dims(), &[0]);
    }

    #[test]
    fn unsupported_ops_say_so() {
        let e = run_node("RoiAlign", &Attrs::default(), &[], 22).unwrap_err();
        assert_eq!(e, "unsupported op RoiAlign");
        // A 4-D convolution is refused with its reason.
        let x = Some(Tensor::zeros([1, 1, 3, 3, 3, 3]));
        let e = run_node("Conv", &Attrs::default(), &[x.clone(), x], 22).unwrap_err();
        assert!(e.contains("only 1-D, 2-D and 3-D"), "{e}");
    }

    #[test]
    fn integer_range_counts_like_numpy() {
        let r = run1(
            "Range",
            &Attrs::default(),
            vec![
                Tensor::scalar(10i32),
                Tensor::scalar(6i32),
                Tensor::scalar(-3i32),
            ],
            11,
        );
        assert_eq!(r.to_vec::<i32>(), vec![10, 7]);
        assert_eq!(r.dtype(), DType::I32);
    }

    fn attrs(kv: &[(&str, AttrValue)]) -> Attrs {
        Attrs(kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn max_pool_indices_in_either_storage_order() {
        let pool = |dims: Vec<usize>, kernel: Vec<i64>, order: i64| {
            let n: usize = dims.iter().product();
            let x = Tensor::from_vec((0..n).map(|v| v as f32).collect(), dims);
            let a = attrs(&[
                ("kernel_shape", AttrValue::Ints(kernel)),
                ("storage_order", AttrValue::Int(order)),
            ]);
            let inputs = [Some(x)];
            let out = run_node("MaxPool", &a, &inputs, 12).unwrap();
            (out[0].to_vec::<f32>(), out[1].to_vec::<i64>())
        };
        // [2, 3] plane, 2×1 windows: the maximum of column w is at (1, w).
        let (v, i) = pool(vec![1, 1, 2, 3], vec![2, 1], 0);
        assert_eq!((v, i), (vec![3., 4., 5.], vec![3, 4, 5]));
        assert_eq!(pool(vec![1, 1, 2, 3], vec![2, 1], 1).1, vec![1, 3, 5]);
        // [2, 2, 3] volume, 2×2×1 windows: the maximum is at (1, 1, w); row-major 9 + w,
        // column-major 1 + 1·2 + w·4.
        let (v, i) = pool(vec![1, 1, 2, 2, 3], vec![2, 2, 1], 0);
        assert_eq!((v, i), (vec![9., 10., 11.], vec![9, 10, 11]));
        assert_eq!(
            pool(vec![1, 1, 2, 2, 3], vec![2, 2, 1], 1).1,
            vec![3, 7, 11]
        );
    }

    #[test]
    fn pad_takes_onnx_order() {
        let x = Tensor::from_vec((0..6).map(|v| v as f32).collect(), [2, 3]);
        // Axis 0: 1 before, 0 after; axis 1: 0 before, 2 after.
        let pads = Tensor::from_vec(vec![1i64, 0, 0, 2], [4]);
        let y = run1("Pad", &Attrs::default(), vec![x, pads], 19);
        assert_eq!(y.dims(), &[3, 5]);
        assert_eq!(
            y.to_vec::<f32>(),
            vec![0., 0., 0., 0., 0., 0., 1., 2., 0., 0., 3., 4., 5., 0., 0.]
        );
    }

    #[test]
    fn cumsum_exclusive_reverse() {
        let x = Tensor::from_vec(vec![1i32, 2, 3, 4], [4]);
        let a = attrs(&[
            ("exclusive", AttrValue::Int(1)),
            ("reverse", AttrValue::Int(1)),
        ]);
        let y = run1("CumSum", &a, vec![x, Tensor::scalar(0i32)], 14);
        assert_eq!(y.dtype(), DType::I32);
        assert_eq!(y.to_vec::<i32>(), vec![9, 7, 4, 0]);
    }

    #[test]
    fn argmax_select_last_index() {
        let x = Tensor::from_vec(vec![1f32, 3., 3., 0.], [4]);
        let a = attrs(&[("select_last_index", AttrValue::Int(1))]);
        let y = run1("ArgMax", &a, vec![x], 13);
        assert_eq!(y.dtype(), DType::I64);
        assert_eq!(y.to_vec::<i64>(), vec![2]);
    }

    #[test]
    fn gather_negative_indices_and_shape() {
        let x = Tensor::from_vec((0..6).map(|v| v as f32).collect(), [2, 3]);
        let idx = Tensor::from_vec(vec![-1i64, 0, 1, -3], [2, 2]);
        let a = attrs(&[("axis", AttrValue::Int(1))]);
        let y = run1("Gather", &a, vec![x, idx], 13);
        assert_eq!(y.dims(), &[2, 2, 2]);
        assert_eq!(y.to_vec::<f32>(), vec![2., 0., 1., 0., 5., 3., 4., 3.]);
    }

    #[test]
    fn onehot_axis_and_negative_indices() {
        let idx = Tensor::from_vec(vec![0i64, -1, 5], [3]);
        let a = attrs(&[("axis", AttrValue::Int(0))]);
        let values = Tensor::from_vec(vec![0f32, 1.], [2]);
        let y = run1("OneHot", &a, vec![idx, Tensor::scalar(3i64), values], 11);
        assert_eq!(y.dims(), &[3, 3]);
        // Column j is the one-hot of index j; 5 is out of range: all off.
        assert_eq!(y.to_vec::<f32>(), vec![1., 0., 0., 0., 0., 0., 0., 1., 0.]);
    }

    #[test]
    fn split_uneven_and_by_output_count() {
        let x = Tensor::from_vec((0..7).map(|v| v as f32).collect(), [7]);
        let a = attrs(&[("num_outputs", AttrValue::Int(3))]);
        let parts = run_node("Split", &a, &[Some(x.clone())], 18).unwrap();
        let sizes: Vec<usize> = parts.iter().map(|t| t.dims()[0]).collect();
        assert_eq!(sizes, vec![3, 3, 1]);
        let x = x.narrow(0, 0, 6);
        let parts =
            run_node_with_outputs("Split", &Attrs::default(), &[Some(x)], 13, Some(2)).unwrap();
        assert_eq!(parts[1].to_vec::<f32>(), vec![3., 4., 5.]);
    }

    #[test]
    fn softmax_before_opset_13_coerces_to_2d() {
        let x = Tensor::from_vec(vec![0f32, 0., 0., 0.], [1, 2, 2]);
        let y = run1("Softmax", &Attrs::default(), vec![x], 11);
        assert_eq!(y.dims(), &[1, 2, 2]);
        assert_eq!(y.to_vec::<f32>(), vec![0.25; 4]);
    }

    #[test]
    fn reduce_min_of_empty_set_is_infinity() {
        let x = Tensor::zeros([2, 0]).to_dtype(DType::F32);
        let y = run1(
            "ReduceMin",
            &Attrs::default(),
            vec![x, Tensor::from_vec(vec![1i64], [1])],
            18,
        );
        assert_eq!(y.dims(), &[2, 1]);
        assert_eq!(y.to_vec::<f32>(), vec![f32::INFINITY; 2]);
    }
}
