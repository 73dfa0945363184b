# Categorical(K): category 0 (the first level) is the
# reference; natural parameters theta_i = log(p_i / p_0), i = 1..K-1.

#' @rdname ef_family
#' @export
ef_categorical <- function(levels) {
  if (is.character(levels) || is.factor(levels)) {
    levels <- as.character(levels)
    if (length(levels) < 2L || anyDuplicated(levels) || anyNA(levels)) {
      abort_hm("{.arg levels} must name at least 2 distinct categories.", "argument")
    }
    default <- FALSE
  } else {
    k <- check_count(levels, arg = "levels", min = 2L)
    levels <- as.character(seq_len(k))
    default <- TRUE
  }
  k <- length(levels)
  to_nat <- function(params) {
    check_params_list(params, "prob", arg = "params")
    p <- check_prob_vector(params$prob, k, arg = "params$prob", simplex = TRUE)
    if (!is.null(names(params$prob)) && !identical(names(params$prob), levels)) {
      p <- as.double(params$prob[levels])
      if (anyNA(p)) abort_hm("{.arg params$prob} names must be the levels {.val {levels}}.", "params")
    }
    if (any(p <= 0)) {
      abort_hm("{.arg params$prob} must be positive (a zero probability has no natural parameter).", "params")
    }
    log(p[-1] / p[1])
  }
  to_src <- function(theta) {
    a <- c(0, theta)
    p <- exp(a - max(a))
    p <- p / sum(p)
    list(prob = stats::setNames(p, levels))
  }
  encode <- function(x, fam, arg, call) {
    v <- x[[1]]
    lev <- fam$levels
    if (is.factor(v) || is.character(v)) {
      codes <- if (is.factor(v) && fam$default_levels && nlevels(v) == length(lev)) {
        as.integer(v)
      } else {
        match(as.character(v), lev)
      }
      unseen <- which(is.na(codes) & !is.na(v))
      if (length(unseen)) abort_unseen_levels(v, unseen, fam, names(x)[1], arg, call)
      return(matrix(as.double(codes) - 1, ncol = 1))
    }
    if (is.logical(v)) v <- as.integer(v) + 1L
    if (!is.numeric(v)) {
      abort_hm("{.arg {arg}} must be a factor or integer codes 1..{length(lev)}.", "data", call = call)
    }
    matrix(as.double(v) - 1, ncol = 1)
  }
  new_family("categorical", k,
    label = sprintf("Categorical(%d)", k), to_nat = to_nat, to_src = to_src,
    encode = encode, support = support_counts(0, k - 1, sprintf("Codes must be 1..%d.", k)),
    features = function(x) outer(as.vector(x), seq_len(k) - 1, "==") * 1,
    levels = levels, default_levels = default, n_free = k - 1L
  )
}

# Data levels the family does not have. A family made from a count
# (ef_categorical(k)) is told in words how many levels the column has and
# which k it was given; one made from level names is told which are new.
abort_unseen_levels <- function(v, unseen, fam, col, arg, call) {
  lev <- fam$levels
  k <- length(lev)
  data_lev <- if (is.factor(v)) levels(v) else sort(unique(as.character(v[!is.na(v)])))
  n_lev <- length(data_lev)
  col <- if (is.null(col) || !nzchar(col)) "" else paste0(" ", col)
  new <- unique(as.character(v[unseen]))
  if (isTRUE(fam$default_levels)) {
    abort_hm(c("Column{col} of {.arg {arg}} has {n_lev} level{?s} ({.val {data_lev}}), but the family is {.code ef_categorical({k})}, with {k} categories.",
      i = if (n_lev > k) {
        "Use {.code ef_categorical({n_lev})}, or {.code ef_categorical(levels(x))} to name them."
      } else {
        "Use {.code ef_categorical({n_lev})}, or {.code ef_categorical(<all {k} levels>)} to keep {k} categories."
      }), "data_levels", call = call)
  }
  abort_hm(c("Column{col} of {.arg {arg}} has {length(new)} level{?s} ({.val {new}}) that the family's {k} categories ({.val {lev}}) do not include.",
    i = "Give {.fn ef_categorical} every level, e.g. {.code ef_categorical(levels(x))}."),
    "data_levels", call = call)
}

# A categorical family created from a level count takes the level names of
# the factor it is fitted to. `df` is a data frame or a data source
# (R/data-path.R); the family's columns start after column `off`.
family_adopt_levels <- function(fam, df, off = 0L) {
  nm <- data_names(df)[off + seq_len(fam$d)]
  if (fam$name == "product") {
    o <- off
    for (b in seq_along(fam$blocks)) {
      blk <- fam$blocks[[b]]
      fam$blocks[[b]] <- family_adopt_levels(blk, df, o)
      o <- o + blk$d
    }
    # The product's conversions were made over its original blocks: remade over
    # the blocks that adopted the data's levels, so its source parameters carry
    # the level names both ways.
    blocks <- fam$blocks
    po <- fam$par_off
    dims <- vapply(blocks, `[[`, integer(1), "dim")
    fam$to_src <- function(theta) {
      lapply(seq_along(blocks), function(b) blocks[[b]]$to_src(theta[po[b] + seq_len(dims[b])]))
    }
    fam$to_nat <- function(params) {
      if (!is.list(params) || length(params) != length(blocks)) {
        abort_hm("{.arg params} must be a list with one element per block ({length(blocks)}).", "params")
      }
      unlist(lapply(seq_along(blocks), function(b) blocks[[b]]$to_nat(params[[b]])))
    }
    fam$colnames <- nm
    return(fam)
  }
  v <- data_column(df, off + 1L)
  if (fam$name == "categorical" && isTRUE(fam$default_levels) && is.factor(v) &&
    nlevels(v) == length(fam$levels)) {
    # The family remade over the data's level names, so both of its
    # conversions (source parameters in and out) use them.
    fam <- ef_categorical(levels(v))
  }
  fam$colnames <- nm
  fam
}
