# Sequence data shared by the sequence models (hmm(), lds()).
#
# A sequence model's data is one of: a vector, matrix, data frame or `ts`
# (one sequence); a list of those (one per sequence); or a data frame whose
# rows are grouped by the `| id` term of a formula. Whatever the form, it is
# normalised once here into the rows of all sequences stacked in order (a
# data frame with the model's columns) and the length of each sequence, which
# is the layout the engine's sequence drivers take.

# Sequence models carry this class so that fit_lvm() and with_params() hand
# them to their own drivers (fit_sequence(), with_params_sequence()).
is_sequence_model <- function(m) inherits(m, "lvm_sequence_model")

# list(data = stacked rows (data frame), lengths = integer, ids = character,
# start = 0-based first row of each sequence).
as_sequences <- function(data, group = NULL, arg = "data", call = rlang::caller_env(), min_length = 2L) {
  if (is.null(data)) abort_hm("{.arg {arg}} is missing.", "data", call = call)
  if (!is.null(group)) {
    df <- as_data_frame_cols(data, arg, call)
    if (length(group) != nrow(df)) {
      abort_hm("The grouping variable has {length(group)} value{?s} but {.arg {arg}} has {nrow(df)} row{?s}.",
        "data", call = call)
    }
    if (anyNA(group)) {
      abort_hm("The grouping variable of {.arg {arg}} has missing values in row{?s} {head(which(is.na(group)), 10)}.",
        "data_na", call = call)
    }
    # Sequences in order of first appearance, rows in their given order.
    key <- as.character(group)
    ids <- unique(key)
    idx <- split(seq_len(nrow(df)), factor(key, levels = ids))
    parts <- lapply(idx, function(r) df[r, , drop = FALSE])
  } else if (is.list(data) && !is.data.frame(data)) {
    if (length(data) == 0L) abort_hm("{.arg {arg}} is an empty list of sequences.", "data", call = call)
    parts <- lapply(seq_along(data), function(i) {
      as_data_frame_cols(data[[i]], paste0(arg, "[[", i, "]]"), call)
    })
    ids <- names(data)
    if (is.null(ids) || any(!nzchar(ids))) ids <- as.character(seq_along(data))
    nc <- vapply(parts, ncol, 1L)
    if (any(nc != nc[1L])) {
      bad <- which(nc != nc[1L])[1L]
      abort_hm(c("Every sequence in {.arg {arg}} must have the same columns.",
        x = "Sequence 1 has {nc[1L]} column{?s}, sequence {bad} has {nc[bad]}."), "data", call = call)
    }
    nm <- names(parts[[1L]])
    parts <- lapply(parts, function(p) stats::setNames(p, nm))
  } else {
    parts <- list(as_data_frame_cols(data, arg, call))
    ids <- "1"
  }
  lengths <- vapply(parts, nrow, 1L)
  short <- which(lengths < min_length)
  if (length(short)) {
    abort_hm(c("Every sequence in {.arg {arg}} needs at least {min_length} time points.",
      x = "Sequence{?s} {.val {ids[short][seq_len(min(5L, length(short)))]}} {?is/are} shorter."),
      "data", call = call)
  }
  stacked <- if (length(parts) == 1L) parts[[1L]] else do.call(rbind, unname(parts))
  rownames(stacked) <- NULL
  list(data = stacked, lengths = unname(lengths), ids = ids, start = unname(c(0L, cumsum(lengths))[seq_along(lengths)]))
}

# Encodes stacked sequence rows for a family, keeping missing observations:
# a row with any missing value is missing as a whole (NA in every encoded
# column), and is skipped by the update step. Complete rows are validated as
# independent data are.
sequence_encode <- function(fam, df, arg = "data", call = rlang::caller_env()) {
  if (ncol(df) != fam$d) {
    abort_hm(c("{.arg {arg}} has {ncol(df)} column{?s} but the emission ({fam$label}) needs {fam$d}.",
      i = columns_hint(arg, fam$colnames, group = TRUE)), "data", call = call)
  }
  ok <- stats::complete.cases(df)
  if (!any(ok)) abort_hm("{.arg {arg}} has no complete observation.", "data_na", call = call)
  xo <- family_encode(fam, df[ok, , drop = FALSE], arg, call)
  if (all(ok)) return(xo)
  x <- matrix(NA_real_, nrow(df), ncol(xo), dimnames = list(NULL, colnames(xo)))
  x[ok, ] <- xo
  x
}

# Per-sequence case weights (NULL: all 1).
sequence_weights <- function(weights, seqs, call = rlang::caller_env()) {
  if (is.null(weights)) return(NULL)
  check_weights(weights, length(seqs$lengths), arg = "weights", call = call)
}

# Driver of a sequence model's fit, called by fit_lvm() with the normalised
# sequences; each sequence model kind has a method.
fit_sequence <- function(model, seqs, init, method, control, weights, call, env) {
  UseMethod("fit_sequence")
}

# with_params() for a sequence model; `seqs` is NULL without data.
with_params_sequence <- function(model, params, seqs, call, env) {
  UseMethod("with_params_sequence")
}
