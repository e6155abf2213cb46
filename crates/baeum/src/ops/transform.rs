//! Shape-changing copies and orderings: pad, repeat, tile, flip, tril/triu, cumsum, sort,
//! argsort, topk.
