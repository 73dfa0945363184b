# The data path into the engine (src/engine/columns.c, src/glue/glue_data.c).
#
# The user's data (a numeric or logical matrix, a data frame, a vector) is
# described once as a "data source": its columns as the engine will read
# them, without copying a matrix or binding data frame columns in R. A plan
# per family block says, column by column, what the engine subtracts (1 for
# 1-based category codes) and which support it checks; one threaded C pass
# then finds rows with missing or non-finite values, checks the supports,
# converts integer, logical and factor columns to doubles (only when a
# converted copy is needed) and takes the moments of the columns that are
# standardised. A second pass writes the standardised copy. R raises the
# same classed conditions as before from the pass's counts and first rows.

# --- data sources ------------------------------------------------------------------

# list(x = a plain double/integer/logical matrix or a list of column
# vectors, sel = the columns of x in order (a matrix) , names, n, d,
# frame = TRUE when x is a list of columns).
data_source <- function(data, arg, call) {
  if (is.matrix(data) && !is.object(data) && (is.double(data) || is.integer(data) || is.logical(data))) {
    d <- ncol(data)
    return(new_data_source(data, seq_len(d), matrix_col_names(data), nrow(data), d, FALSE))
  }
  if (!is.data.frame(data) && !is.object(data) && is.null(dim(data)) &&
    (is.double(data) || is.integer(data) || is.logical(data))) {
    return(new_data_source(list(x = data), 1L, "x", length(data), 1L, TRUE))
  }
  # Data frames, factors, character data, ts and other classed objects: the
  # columns as_data_frame_cols() gives them.
  df <- as_data_frame_cols(data, arg, call)
  d <- length(df)
  new_data_source(unclass_frame(df), seq_len(d), names(df), nrow(df), d, TRUE)
}

new_data_source <- function(x, sel, names, n, d, frame) {
  structure(list(x = x, sel = sel, names = names, n = n, d = d, frame = frame), class = "hm_data_source")
}

is_data_source <- function(x) inherits(x, "hm_data_source")

# The column names as.data.frame() gives a matrix: its column names, "V<j>"
# where there are none or a name is empty.
matrix_col_names <- function(x) {
  d <- ncol(x)
  nm <- colnames(x)
  if (is.null(nm)) return(if (d > 0L) paste0("V", seq_len(d)) else character(0))
  empty <- !is.na(nm) & !nzchar(nm)
  nm[empty] <- paste0("V", which(empty))
  nm
}

# A data frame's columns as a plain named list (no copy of the columns).
unclass_frame <- function(df) {
  cols <- as.list(df)
  names(cols) <- names(df)
  cols
}

# The source restricted to columns `idx` (in that order).
data_select <- function(src, idx) {
  if (src$frame) {
    src$x <- src$x[idx]
    src$sel <- seq_along(idx)
  } else {
    src$sel <- src$sel[idx]
  }
  src$names <- src$names[idx]
  src$d <- length(idx)
  src
}

# Rows with no missing value (NA or NaN, as stats::complete.cases) in the
# source's columns.
data_complete <- function(src) {
  if (src$frame) return(do.call(stats::complete.cases, unname(src$x)))
  if (identical(src$sel, seq_len(ncol(src$x)))) return(stats::complete.cases(src$x))
  stats::complete.cases(src$x[, src$sel, drop = FALSE])
}

data_rows <- function(src, keep) {
  if (src$frame) {
    src$x <- lapply(src$x, function(v) v[keep])
  } else {
    src$x <- src$x[keep, src$sel, drop = FALSE]
    src$sel <- seq_len(ncol(src$x))
  }
  src$n <- sum(keep)
  src
}

# Column j of the source as an R vector when it can be a factor (data frame
# columns); NULL for matrix columns, which are numeric.
data_column <- function(src, j) {
  if (is.data.frame(src)) return(if (j <= length(src)) src[[j]] else NULL)
  if (isTRUE(src$frame) && j <= length(src$x)) return(src$x[[j]])
  NULL
}

data_names <- function(src) if (is.data.frame(src)) names(src) else src$names

# A plain double matrix with only a dim attribute is handed to the engine
# as it is; dimnames and other attributes are dropped without copying the
# values (R shares them with the user's matrix).
plain_double_matrix <- function(x) {
  if (!identical(names(attributes(x)), "dim")) attributes(x) <- list(dim = dim(x))
  x
}

# --- supports ------------------------------------------------------------------------

# The support codes the data pass checks in C: finite values in [lo, hi]
# (open ends when lo_open / hi_open), whole numbers when `whole`; with
# `radians` no bound but a count of the values beyond 2 pi. Families carry
# them as the "hm_support" attribute of their `support` function, so that
# the R check and the C one are the same object.
support_code <- function(fun, lo = -Inf, hi = Inf, whole = FALSE, lo_open = FALSE, hi_open = FALSE,
                         radians = FALSE, what = "") {
  attr(fun, "hm_support") <- list(lo = lo, hi = hi, whole = whole, lo_open = lo_open, hi_open = hi_open,
    radians = radians, what = what)
  fun
}

# --- the plan --------------------------------------------------------------------------

# The family's blocks with their columns (1..d of the data source) and, per
# column, the vector or matrix column the engine reads and the offset it
# subtracts. Raises the encoding errors of the family's encode function
# (categorical columns for a numeric family, unseen levels, a column that
# is not numeric) exactly as it does.
data_plan <- function(fam, src, arg, call) {
  fb <- fam_blocks(fam)
  d <- src$d
  cols <- vector("list", d)
  spec <- matrix(0, d, 4L)
  sup <- matrix(0, 0L, 6L)
  groups <- list()
  offset <- numeric(d)
  for (b in seq_along(fb$blocks)) {
    blk <- fb$blocks[[b]]
    idx <- fb$cols[[b]]
    for (j in idx) {
      enc <- plan_column(blk, src, j, arg, call)
      offset[j] <- enc$offset
      if (src$frame) cols[j] <- list(enc$v)
    }
    code <- attr(blk$support, "hm_support")
    g <- 0L
    if (!is.null(code)) {
      sup <- rbind(sup, c(code$whole, code$lo, code$hi, code$lo_open, code$hi_open, code$radians))
      g <- nrow(sup)
    }
    groups[[b]] <- list(group = g, cols = idx, code = code)
    spec[idx, 3L] <- g
    spec[idx, 4L] <- if (is.null(blk$scaling)) 0 else 1
  }
  spec[, 1L] <- if (src$frame) seq_len(d) else src$sel
  spec[, 2L] <- offset
  storage.mode(sup) <- "double"
  list(x = if (src$frame) cols else src$x, spec = spec, sup = sup, blocks = fb$blocks, groups = groups,
    moments = spec[, 4L] == 1)
}

# One column for the engine: list(v = an R vector the C pass reads (NULL for
# a matrix column), offset). The semantics of encode_numeric(),
# encode_binary() and the categorical family's encode.
plan_column <- function(blk, src, j, arg, call) {
  v <- if (src$frame) src$x[[j]] else NULL
  name <- src$names[j]
  kind <- blk$name
  if (kind == "categorical") {
    lev <- blk$levels
    if (is.null(v)) {
      # A numeric or logical matrix column: codes 1..k (logical: FALSE, TRUE
      # are the first two levels).
      return(list(v = NULL, offset = if (is.logical(src$x)) 0 else 1))
    }
    if (is.factor(v) || is.character(v)) {
      codes <- if (is.factor(v) && blk$default_levels && nlevels(v) == length(lev)) {
        v
      } else if (is.factor(v)) {
        match(levels(v), lev)[as.integer(v)]
      } else {
        match(v, lev)
      }
      unseen <- which(is.na(codes) & !is.na(v))
      if (length(unseen)) abort_unseen_levels(v, unseen, blk, name, arg, call)
      return(list(v = unclass_codes(codes), offset = 1))
    }
    if (is.logical(v)) return(list(v = v, offset = 0))
    if (!is.numeric(v)) {
      abort_hm("{.arg {arg}} must be a factor or integer codes 1..{length(lev)}.", "data", call = call)
    }
    return(list(v = engine_vector(v, src$n, name, arg, call), offset = 1))
  }
  if (is.null(v)) return(list(v = NULL, offset = 0))
  if (kind %in% c("bernoulli", "boltzmann")) {
    if (is.factor(v) && nlevels(v) == 2L) return(list(v = unclass_codes(v), offset = 1))
    if (is.factor(v) || is.character(v)) {
      abort_hm("{.arg {arg}} must hold 0/1 values (or two-level factors) for {blk$label}.", "data", call = call)
    }
    return(list(v = engine_vector(v, src$n, name, arg, call), offset = 0))
  }
  if (is.factor(v) || is.character(v)) {
    abort_hm(c("Column {.val {name}} of {.arg {arg}} is categorical but the family is {blk$label}.",
      i = "Use {.code ef_categorical()} for it, for example inside {.code ef_product()}."),
      "data", call = call)
  }
  list(v = engine_vector(v, src$n, name, arg, call), offset = 0)
}

# Integer codes without the factor class (the values are shared, not copied,
# when only attributes go).
unclass_codes <- function(codes) {
  if (!is.null(attributes(codes))) attributes(codes) <- NULL
  codes
}

# A numeric column the C pass reads: double, integer and logical vectors as
# they are; anything else through as.double(), as the encode functions did.
engine_vector <- function(v, n, name, arg, call) {
  if (!(is.double(v) || is.integer(v) || is.logical(v)) || is.object(v)) v <- as.double(v)
  if (length(v) != n) {
    abort_hm("Column {.val {name}} of {.arg {arg}} has {length(v)} value{?s} for {n} row{?s}.", "data",
      call = call)
  }
  v
}

# --- the pass ----------------------------------------------------------------------------

# The engine's matrix for `fam` from a data source: list(x, mean, rms,
# sumsq) (moments of the standardised columns, NA for others; every
# column's sum of squares). Raises, in the order
# the encode and support functions did, the encoding errors, missing values
# (harmonium_error_data_na), each block's support (harmonium_error_data_support,
# blocks left to right) and the radians warning.
#
# For a chunk of larger data (R/chunked-fit.R): `row0` is the number of
# rows before it (errors name global rows) and `part` = c(b0, block_rows,
# shifts) makes the moments tree nodes of a block-aligned part
# (native_data_scan_part()); the result then holds `nodes` and no matrix.
data_pass <- function(fam, src, arg, call, threads = 1L, row0 = 0, part = NULL) {
  plan <- data_plan(fam, src, arg, call)
  direct <- !src$frame && is.double(src$x) && identical(src$sel, seq_len(ncol(src$x))) &&
    all(plan$spec[, 2L] == 0)
  res <- if (is.null(part)) {
    native_data_scan(plan$x, plan$spec, plan$sup, !direct, as.integer(threads))
  } else {
    native_data_scan_part(plan$x, plan$spec, plan$sup, threads, part)
  }
  if (res$n_bad > 0) {
    bad <- row0 + as.integer(res$bad_rows)
    abort_hm(c("{.arg {arg}} has missing or non-finite values in row{?s} {bad}.",
      i = "Remove them or use {.code na_action = \"omit\"}."), "data_na", call = call)
  }
  x <- if (is.null(part)) (if (direct) plain_double_matrix(src$x) else res$raw)
  for (b in seq_along(plan$blocks)) {
    gr <- plan$groups[[b]]
    if (gr$group == 0L) {
      if (is.null(x)) x <- native_data_scan(plan$x, plan$spec, plan$sup, TRUE, 1L)$raw
      plan$blocks[[b]]$support(x[, gr$cols, drop = FALSE], arg, call)
      next
    }
    st <- res$group[, gr$group]
    if (st[1L] > 0) {
      support_error(row0 + as.integer(st[1L + seq_len(min(st[1L], 10))]), gr$code$what, arg, call)
    }
    if (gr$code$radians && st[12L] > 0) warn_radians(count_int(st[12L]), st[13L], arg)
  }
  list(x = x, mean = res$mean, rms = res$rms, sumsq = res$sumsq, shift = res$shift, nodes = res$nodes,
    moments = plan$spec[, 4L])
}

# Means and root mean squared deviations (divisor n) of the columns of a
# numeric matrix, by the data pass (moments only: no copy, no checks).
data_moments <- function(x, threads = 1L) {
  if (!is.double(x)) storage.mode(x) <- "double"
  d <- ncol(x)
  res <- native_data_scan(plain_double_matrix(x), cbind(seq_len(d), 0, 0, rep(1, d)), matrix(0, 0L, 6L), FALSE,
    as.integer(threads))
  list(mean = res$mean, rms = res$rms)
}

count_int <- function(v) if (v <= .Machine$integer.max) as.integer(v) else v
