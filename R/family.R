# Exponential families: the common constructor and the family-level
# functions of api.md. Each family kind lives in its own family-<name>.R and
# supplies closures for source <-> natural coordinates, data encoding and
# support checks; the engine supplies everything else (statistics,
# log-partition, mean and natural maps, sampling).

# Family kinds (src/engine/hm_engine.h, enum hm_family_kind).
fam_kind <- c(
  normal = 1L, categorical = 2L, bernoulli = 3L, binomial = 4L, poisson = 5L,
  von_mises = 6L, com_poisson = 7L, dirichlet = 8L, gamma = 9L, boltzmann = 10L,
  product = 11L
)

# Harmonium kinds (src/engine/hm_engine.h, enum hm_hm_kind).
hm_kind <- c(mixture = 1L, lgm = 2L, boltzmann_lgm = 3L, lgm_diag = 4L, boltzmann_lgm_mf = 5L,
  categorical_dirichlet = 6L, hmog = 7L, mixture_of = 8L,
  hmog_diag = 9L)

new_family <- function(name, n, rep = 0L, trials = 0L, label, to_nat, to_src, encode = encode_numeric,
                       decode = NULL, support, features = NULL, scaling = NULL, affine = NULL,
                       levels = NULL, ...) {
  spec <- c(fam_kind[[name]], as.integer(n), as.integer(rep), as.integer(trials))
  info <- native_family_info(spec)
  structure(
    list(
      name = name, n = as.integer(n), rep = as.integer(rep), trials = as.integer(trials),
      spec = spec, d = info[1], dim = info[2], closed = info[3] == 1L, label = label,
      to_nat = to_nat, to_src = to_src, encode = encode, decode = decode, support = support,
      features = features, scaling = scaling, affine = affine, levels = levels, ...
    ),
    class = c(paste0("ef_", name), "ef_family")
  )
}

#' @export
print.ef_family <- function(x, ...) {
  cat("<ef_family> ", x$label, "\n", sep = "")
  cat("  data columns: ", x$d, ", natural parameters: ", x$dim,
    if (x$closed) " (closed-form mean -> natural map)" else " (numerical mean -> natural map)", "\n",
    sep = ""
  )
  invisible(x)
}

# Control of the engine's mean -> natural maps (hm_ctrl): c(reg, tol, maxit,
# floor, lower). `floor` moves discrete families' boundary means just inside
# the domain; the mixture M-step uses mixture_floor, single-family fits none.
# `lower` bounds a factor model's uniquenesses (fit_lower()).
fam_ctrl <- function(reg = 0, tol = 1e-12, maxit = 200, floor = 0, lower = 0) c(reg, tol, maxit, floor, lower)
mixture_floor <- 1e-12

# --- data --------------------------------------------------------------------

encode_numeric <- function(x, fam, arg, call) {
  out <- lapply(seq_len(ncol(x)), function(j) {
    v <- x[[j]]
    if (is.factor(v) || is.character(v)) {
      abort_hm(c("Column {.val {names(x)[j]}} of {.arg {arg}} is categorical but the family is {fam$label}.",
        i = "Use {.code ef_categorical()} for it, for example inside {.code ef_product()}."),
        "data", call = call)
    }
    as.double(v)
  })
  matrix(unlist(out, use.names = FALSE), nrow(x), ncol(x))
}

# Turns user data (matrix, data frame or vector) into the engine's numeric
# matrix for `fam`: factor columns become 0-based codes, columns are checked
# against the family's support, and offending rows are named; one pass in C
# (data_pass(), R/data-path.R). `data` may also be a data source.
family_encode <- function(fam, data, arg = "data", call = rlang::caller_env(), threads = 1L) {
  src <- if (is_data_source(data)) data else data_source(data, arg, call)
  if (src$d != fam$d) {
    abort_hm(c("{.arg {arg}} has {src$d} column{?s} but the model's family ({fam$label}) needs {fam$d}.",
      i = "Select the columns with a formula, e.g. {.code fit_lvm(~ a + b, data, model)}."),
      "data", call = call)
  }
  if (src$n == 0L) {
    abort_hm("{.arg {arg}} has no rows.", "data", call = call)
  }
  data_pass(fam, src, arg, call, threads)$x
}

as_data_frame_cols <- function(data, arg, call) {
  if (is.data.frame(data)) {
    return(data)
  }
  if (is.matrix(data) && (is.numeric(data) || is.logical(data) || is.character(data))) {
    df <- as.data.frame(data, stringsAsFactors = FALSE)
    if (is.null(colnames(data)) && ncol(df) > 0L) names(df) <- paste0("V", seq_len(ncol(df)))
    return(df)
  }
  if (is.factor(data) || is.character(data) || ((is.numeric(data) || is.logical(data)) && is.null(dim(data)))) {
    return(data.frame(x = data, stringsAsFactors = FALSE))
  }
  if (inherits(data, "ts")) {
    return(data.frame(x = as.numeric(data)))
  }
  abort_hm("{.arg {arg}} must be a numeric matrix, a data frame or a vector, not {.obj_type_friendly {data}}.",
    "data", call = call)
}

support_error <- function(rows, what, arg, call) {
  abort_hm(c("{.arg {arg}} has values outside the support in row{?s} {head(rows, 10)}.", x = what),
    "data_support", call = call)
}

# Checks integer-valued columns within [lo, hi] (in C, data_pass(); this R
# check is the reference the data pass is tested against).
support_counts <- function(lo = 0, hi = Inf, what) {
  support_code(function(x, arg, call) {
    bad <- which(rowSums(x != round(x) | x < lo | x > hi) > 0)
    if (length(bad)) support_error(bad, what, arg, call)
    invisible(x)
  }, lo = lo, hi = hi, whole = TRUE, what = what)
}

# Checks strictly positive columns.
support_positive <- function(what) {
  support_code(function(x, arg, call) {
    bad <- which(rowSums(x <= 0) > 0)
    if (length(bad)) support_error(bad, what, arg, call)
    invisible(x)
  }, lo = 0, lo_open = TRUE, what = what)
}

support_any <- support_code(function(x, arg, call) invisible(x))

# --- packing of symmetric matrices ---------------------------------------------

# Packed upper triangle row by row: for a symmetric matrix this is the
# column-major lower triangle.
pack_sym <- function(M) M[lower.tri(M, diag = TRUE)]
unpack_sym <- function(v, n) {
  M <- matrix(0, n, n)
  M[lower.tri(M, diag = TRUE)] <- v
  M + t(M) - diag(diag(M), n)
}

# --- family-level functions of api.md ------------------------------------------

#' Fit an exponential family by maximum likelihood
#'
#' The maximum-likelihood estimate of an exponential family is the mean of
#' its sufficient statistics mapped to natural coordinates; families without
#' a closed-form map use the engine's numerical inverse.
#'
#' @param family An exponential family, e.g. [ef_normal()].
#' @param data A numeric matrix, data frame or vector with the family's
#'   columns.
#' @param weights Optional non-negative case weights.
#' @return The source parameters (a named list, see [ef_family]).
#' @examples
#' ef_fit(ef_poisson(), c(2, 4, 3, 5, 1))
#' ef_fit(ef_normal(2), as.matrix(faithful))
#' @export
ef_fit <- function(family, data, weights = NULL) {
  check_family(family)
  x <- family_encode(family, data)
  s <- native_family_stat(family$spec, x)
  w <- if (is.null(weights)) rep(1, nrow(x)) else check_weights(weights, nrow(x))
  eta <- colSums(s * w) / sum(w)
  res <- native_family_to_natural(family$spec, eta, fam_ctrl())
  stop_status(res, "the maximum-likelihood estimate")
  family$to_src(res$value)
}

#' Log density of an exponential family
#'
#' @inheritParams ef_fit
#' @param params Source parameters (see [ef_family]).
#' @param x Data, one row per observation.
#' @return The log density of each row.
#' @examples
#' ef_log_density(ef_normal(), list(mean = 0, cov = matrix(1)), c(-1, 0, 1))
#' @export
ef_log_density <- function(family, params, x) {
  check_family(family)
  theta <- family$to_nat(params)
  xx <- family_encode(family, x, "x")
  res <- native_family_log_density(family$spec, theta, xx)
  stop_status(res, "the log density")
  res$value
}

#' Draw from an exponential family
#'
#' Exact draws through R's random number generator (Gibbs sampling for
#' Boltzmann machines), so [set.seed()] makes them reproducible.
#'
#' @inheritParams ef_log_density
#' @param n Number of draws.
#' @return A matrix with one row per draw (a data frame when the family has
#'   categorical columns).
#' @examples
#' set.seed(1)
#' ef_sample(ef_von_mises(), list(mean = 1, kappa = 4), 5)
#' @export
ef_sample <- function(family, params, n) {
  check_family(family)
  n <- check_draws(n, width = family$d)
  theta <- family$to_nat(params)
  res <- native_family_sample(family$spec, theta, n)
  stop_status(res, "samples")
  family_decode(family, res$value)
}

# Engine codes back to user data (factors for categorical columns).
family_decode <- function(fam, x) {
  blocks <- if (fam$name == "product") fam$blocks else list(fam)
  if (!any(vapply(blocks, function(b) b$name == "categorical", logical(1)))) {
    colnames(x) <- family_colnames(fam)
    return(x)
  }
  cols <- list()
  off <- 0L
  for (b in blocks) {
    for (j in seq_len(b$d)) {
      v <- x[, off + j]
      cols[[length(cols) + 1L]] <- if (b$name == "categorical") factor(b$levels[v + 1], levels = b$levels) else v
    }
    off <- off + b$d
  }
  names(cols) <- family_colnames(fam)
  as.data.frame(cols, stringsAsFactors = FALSE, optional = TRUE)
}

family_colnames <- function(fam) {
  if (!is.null(fam$colnames)) return(fam$colnames)
  paste0("x", seq_len(fam$d))
}

#' Coordinates of an exponential family or model
#'
#' `to_natural()` maps source parameters (the named lists of [ef_family] and
#' of each model) to the flat natural-parameter vector the engine works
#' with, `to_mean()` to mean coordinates (expected sufficient statistics),
#' and `to_source()` maps a natural-parameter vector back.
#'
#' @param family An exponential family or an `lvm_model`.
#' @param params Source parameters.
#' @param theta A natural-parameter vector.
#' @return A numeric vector (`to_natural()`, `to_mean()`) or a list of source
#'   parameters (`to_source()`).
#' @examples
#' f <- ef_normal(2)
#' p <- list(mean = c(1, -1), cov = matrix(c(2, 0.5, 0.5, 1), 2))
#' th <- to_natural(f, p)
#' to_source(f, th)
#' to_mean(f, p)
#' @export
to_natural <- function(family, params) UseMethod("to_natural")

#' @rdname to_natural
#' @export
to_mean <- function(family, params) UseMethod("to_mean")

#' @rdname to_natural
#' @export
to_source <- function(family, theta) UseMethod("to_source")

#' @export
to_natural.default <- function(family, params) not_a_family(family)

#' @export
to_mean.default <- function(family, params) not_a_family(family)

#' @export
to_source.default <- function(family, theta) not_a_family(family)

not_a_family <- function(x, call = rlang::caller_env()) {
  abort_hm("{.arg family} must be an exponential family or a model, not {.obj_type_friendly {x}}.",
    "argument", call = call)
}

#' @export
to_natural.ef_family <- function(family, params) family$to_nat(params)

#' @export
to_mean.ef_family <- function(family, params) {
  res <- native_family_to_mean(family$spec, family$to_nat(params))
  stop_status(res, "mean parameters")
  res$value
}

#' @export
to_source.ef_family <- function(family, theta) {
  theta <- check_numeric_vector(theta, family$dim)
  if (native_family_check(family$spec, theta) != 0L) {
    abort_hm("{.arg theta} is not a valid natural parameter of {family$label}.", "params")
  }
  family$to_src(theta)
}

#' Exponential families
#'
#' Constructors for the base exponential families of the engine. Each
#' family has *source parameters*, the conventional parameterisation users
#' read and write:
#'
#' | family | source parameters |
#' |---|---|
#' | normal | `mean` (length d), `cov` (d x d matrix, for every covariance type) |
#' | categorical | `prob` (length k, named by level, sums to 1) |
#' | bernoulli | `prob` (length dim) |
#' | binomial | `prob` (length dim) |
#' | poisson | `rate` (length dim) |
#' | von_mises | `mean` (radians), `kappa` (each length dim) |
#' | com_poisson | `mode`, `nu` (dispersion; 1 is Poisson) |
#' | dirichlet | `alpha` |
#' | gamma | `shape`, `rate` |
#' | boltzmann | `bias` (length dim), `coupling` (symmetric, zero diagonal) |
#' | product | an unnamed list, one element per block |
#'
#' @section Covariance structures:
#' Inside [mixture()], a normal component may carry one of the 14
#' parsimonious structures of Celeux and Govaert (1995), under mclust's
#' names. Each component covariance is decomposed as
#' \deqn{\Sigma_k = \lambda_k D_k A_k D_k^\top,}{Sigma_k = lambda_k D_k A_k D_k',}
#' with volume \eqn{\lambda_k = |\Sigma_k|^{1/d}}{lambda_k = |Sigma_k|^(1/d)},
#' shape \eqn{A_k} (diagonal, determinant 1) and orientation \eqn{D_k}
#' (orthogonal: the eigenvectors). The three letters say, in that order,
#' whether volume, shape and orientation are equal across the components
#' (`E`), vary (`V`), or are the identity (`I`: a spherical shape, or axes
#' along the coordinates):
#'
#' | structure | \eqn{\Sigma_k} | covariance parameters |
#' |---|---|---|
#' | `EII` | \eqn{\lambda I} | 1 |
#' | `VII` (= `"isotropic"`) | \eqn{\lambda_k I} | k |
#' | `EEI` | \eqn{\lambda A} | d |
#' | `VEI` | \eqn{\lambda_k A} | k + d - 1 |
#' | `EVI` | \eqn{\lambda A_k} | 1 + k (d - 1) |
#' | `VVI` (= `"diagonal"`) | \eqn{\lambda_k A_k} | k d |
#' | `EEE` | \eqn{\lambda D A D'} | d (d + 1) / 2 |
#' | `VEE` | \eqn{\lambda_k D A D'} | k + d (d + 1) / 2 - 1 |
#' | `EVE` | \eqn{\lambda D A_k D'} | 1 + k (d - 1) + d (d - 1) / 2 |
#' | `VVE` | \eqn{\lambda_k D A_k D'} | k d + d (d - 1) / 2 |
#' | `EEV` | \eqn{\lambda D_k A D_k'} | d + k d (d - 1) / 2 |
#' | `VEV` | \eqn{\lambda_k D_k A D_k'} | k + d - 1 + k d (d - 1) / 2 |
#' | `EVV` | \eqn{\lambda D_k A_k D_k'} | 1 + k (d (d + 1) / 2 - 1) |
#' | `VVV` (= `"full"`) | \eqn{\lambda_k D_k A_k D_k'} | k d (d + 1) / 2 |
#'
#' The fit's `df` (and so [BIC()]) counts k - 1 weights, k d means and
#' these covariance parameters, as mclust does, so `BIC(fit)` is minus
#' mclust's BIC of the same fit.
#'
#' EM handles every structure in its M-step: the weights, means and
#' scatter matrices of the components in closed form, then the covariances
#' that maximise the expected log-likelihood under the structure. That is
#' closed-form for EII, VII, EEI, EVI, VVI, EEE, EEV, EVV and VVV; VEI, VEE
#' and VEV alternate volumes and the common shape (or matrix) to
#' convergence; EVE and VVE find the common orientation by the
#' majorisation-minimisation algorithm of Browne and McNicholas (2014), as
#' mclust does. (For VVE mclust's orientation step leaves out the volumes,
#' so its M-step is not the exact maximiser; here it is, and the two fits
#' can differ.) The equal-covariance structures EII, EEI and EEE share one
#' precision matrix: the mixture is then a harmonium whose interaction acts
#' only on the linear statistic x, which the engine uses (one factorisation,
#' and class scores from x alone).
#'
#' The data are standardised internally; structures that rescaling columns
#' one by one would change (EII, VII, EEV, VEV, EVE, VVE) are fitted with
#' one common scale factor, so every fit equals the fit on the raw data,
#' and parameters and log-likelihoods are in the data's units.
#'
#' Outside a mixture, a structure only fixes the form of a single normal:
#' names ending in `II` are isotropic, other names ending in `I` diagonal,
#' the rest full. Source parameters always hold the full d x d `cov`.
#' [with_params()] and the other functions that take parameters refuse
#' component covariances that do not have the structure; as `init` of
#' [fit_lvm()] such parameters (for example a full-covariance fit) are
#' projected onto it by one M-step of the structure from their posterior
#' class probabilities. `method = "gradient"` is not available for the
#' structures that tie components.
#'
#' @param dim Number of columns (independent units for the replicated
#'   families; the dimension for the normal).
#' @param covariance Covariance structure of the normal: `"full"`,
#'   `"diagonal"` or `"isotropic"`, or one of mclust's 14 structure names
#'   `"EII"`, `"VII"`, `"EEI"`, `"VEI"`, `"EVI"`, `"VVI"`, `"EEE"`,
#'   `"VEE"`, `"EVE"`, `"VVE"`, `"EEV"`, `"VEV"`, `"EVV"`, `"VVV"` (and, for
#'   `dim = 1`, `"E"` and `"V"`); see "Covariance structures".
#' @param levels Number of categories, or a character vector of level names.
#' @param trials Number of binomial trials.
#' @param ... Families for `ef_product()` (or one list of families).
#' @return An object of class `ef_family`.
#' @name ef_family
#' @examples
#' ef_normal(2)
#' ef_normal(2, "EEV")
#' fit <- fit_lvm(mixture(ef_normal(2, "EEE"), 2), faithful)
#' fit
#' BIC(fit)
#' ef_categorical(c("no", "yes"))
#' ef_product(ef_normal(1), ef_categorical(3))
NULL

check_weights <- function(weights, n, arg = "weights", call = rlang::caller_env()) {
  if (!is.numeric(weights) || length(weights) != n || anyNA(weights) || any(!is.finite(weights)) ||
    any(weights < 0) || sum(weights) <= 0) {
    abort_hm("{.arg {arg}} must be {n} finite non-negative numbers with a positive sum.", "argument",
      call = call)
  }
  as.double(weights)
}
