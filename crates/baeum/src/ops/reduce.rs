//! Reductions over all elements or given dimensions (sum, mean, max, min, argmax, argmin, prod,
//! var, std, logsumexp, norm) and softmax / log-softmax along a dimension.
