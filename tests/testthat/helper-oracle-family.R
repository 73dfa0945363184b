# Slow, obviously correct plain-R references for the family tests
# (style.md 3.11, theory.md 2 and 7.4), plus thin accessors for the engine's
# family entry points and a few expectations with explicit tolerances.
#
# Nothing here calls the package's own R helpers for the mathematics: the
# densities are written from the textbook formulas (dnorm-style Cholesky
# algebra, dpois, dbinom, besselI, direct series summation, lgamma, and
# enumeration of all 2^n binary states), so that a test comparing the
# package with them compares two independent implementations.

# --- engine accessors ---------------------------------------------------------

# The value of a native list(value, status) result; an engine failure turns
# into an R error naming what was being computed, so the test fails loudly.
fam_value <- function(res, what) {
  if (!is.list(res) || is.null(res$status) || res$status != 0L) {
    stop(sprintf("engine failure (status %s) computing %s", format(res$status), what), call. = FALSE)
  }
  res$value
}

fam_psi <- function(fam, theta) {
  fam_value(harmonium:::native_family_log_partition(fam$spec, as.double(theta)), "the log-partition")
}

fam_eta <- function(fam, theta) {
  fam_value(harmonium:::native_family_to_mean(fam$spec, as.double(theta)), "the mean parameters")
}

fam_theta <- function(fam, eta, ctrl = harmonium:::fam_ctrl()) {
  fam_value(harmonium:::native_family_to_natural(fam$spec, as.double(eta), ctrl), "the natural parameters")
}

fam_phi <- function(fam, eta, ctrl = harmonium:::fam_ctrl()) {
  fam_value(harmonium:::native_family_neg_entropy(fam$spec, as.double(eta), ctrl), "the negative entropy")
}

# Sufficient statistics of engine-coded data (a numeric matrix, one row per
# datum; categorical data as 0-based codes).
fam_stat <- function(fam, x) {
  x <- matrix(as.double(x), ncol = fam$d)
  harmonium:::native_family_stat(fam$spec, x)
}

# --- numerics -----------------------------------------------------------------

log_sum_exp <- function(a) {
  m <- max(a)
  m + log(sum(exp(a - m)))
}

# Central five-point finite-difference gradient of a scalar function (error
# O(h^4)); the step is relative to each coordinate's size.
fd_grad <- function(f, x, h = 1e-4) {
  vapply(seq_along(x), function(j) {
    hj <- h * max(1, abs(x[j]))
    e <- numeric(length(x))
    e[j] <- hj
    (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * hj)
  }, numeric(1))
}

# Packed upper triangle row by row (theory.md section 0): for a symmetric
# matrix, its column-major lower triangle.
oracle_pack <- function(M) {
  n <- nrow(M)
  out <- numeric(0)
  for (i in seq_len(n)) {
    for (j in i:n) out <- c(out, M[i, j])
  }
  out
}

# --- expectations --------------------------------------------------------------

# Elementwise |object - expected| <= atol + rtol * |expected| (vectorised in
# atol); identical infinities pass, NA/NaN never does. `info` (e.g. the seed)
# is printed on failure.
expect_close <- function(object, expected, rtol = 1e-10, atol = 0, info = NULL) {
  act <- testthat::quasi_label(rlang::enquo(object), arg = "object")
  ex <- testthat::quasi_label(rlang::enquo(expected), arg = "expected")
  x <- as.vector(unlist(act$val), mode = "double")
  y <- as.vector(unlist(ex$val), mode = "double")
  if (length(x) != length(y)) {
    testthat::expect(FALSE, sprintf("%s has length %d, %s has length %d.", act$lab, length(x), ex$lab,
      length(y)), info = info)
    return(invisible(act$val))
  }
  err <- abs(x - y)
  lim <- atol + rtol * abs(y)
  same <- !is.na(x) & !is.na(y) & x == y
  ok <- same | (!is.na(err) & err <= lim)
  msg <- if (all(ok)) {
    ""
  } else {
    i <- which(!ok)[which.max((err / pmax(lim, .Machine$double.xmin))[!ok])]
    if (length(i) == 0L) i <- which(!ok)[1]
    sprintf("%s differs from %s in %d of %d entries; worst [%d]: %.17g vs %.17g (|diff| %.3g, allowed %.3g).",
      act$lab, ex$lab, sum(!ok), length(ok), i, x[i], y[i], err[i], lim[i])
  }
  testthat::expect(all(ok), msg, info = info)
  invisible(act$val)
}

# Sample averages of sufficient statistics against mean parameters: with
# `atol` an absolute tolerance (bounded statistics), otherwise `z` standard
# errors estimated from the draws themselves.
expect_sample_moments <- function(stats, eta, seed, atol = NULL, z = 5) {
  m <- colMeans(stats)
  tol <- if (is.null(atol)) z * apply(stats, 2, stats::sd) / sqrt(nrow(stats)) else rep(atol, length(m))
  expect_close(m, eta, rtol = 0, atol = tol, info = sprintf("seed %d, %d draws", seed, nrow(stats)))
}

# A harmonium_error of subclass harmonium_error_<what>, whose message
# mentions `mentions` (usually the argument at fault).
expect_hm_error <- function(expr, what, mentions = NULL) {
  err <- testthat::expect_error(expr, class = paste0("harmonium_error_", what))
  if (inherits(err, "condition")) {
    testthat::expect_s3_class(err, "harmonium_error")
    if (!is.null(mentions)) testthat::expect_match(conditionMessage(err), mentions, fixed = TRUE)
  }
  invisible(err)
}

# --- normal ----------------------------------------------------------------------

# log N(x; mean, cov) by the Cholesky factor cov = R'R: the quadratic form is
# |R^{-T} (x - mean)|^2 and log|cov| = 2 sum log diag R.
oracle_normal_logpdf <- function(x, mean, cov) {
  d <- length(mean)
  x <- matrix(x, ncol = d)
  R <- chol(cov)
  z <- backsolve(R, t(x) - mean, transpose = TRUE)
  -0.5 * d * log(2 * pi) - sum(log(diag(R))) - 0.5 * colSums(z^2)
}

# Natural parameters of theory.md 2.7 for each covariance representation.
oracle_normal_natural <- function(mean, cov, covariance = "full") {
  d <- length(mean)
  P <- solve(cov)
  th1 <- as.vector(P %*% mean)
  th2 <- switch(covariance,
    full = {
      M <- -P
      diag(M) <- -diag(P) / 2
      oracle_pack(M)
    },
    diagonal = -diag(P) / 2,
    isotropic = -(d / 2) * P[1, 1]
  )
  c(th1, th2)
}

# Sufficient statistics (x, S(x)) of theory.md 2.7 for one datum.
oracle_normal_stat <- function(x, covariance = "full") {
  c(x, switch(covariance,
    full = oracle_pack(outer(x, x)),
    diagonal = x^2,
    isotropic = mean(x^2)
  ))
}

# --- discrete families -------------------------------------------------------------

# Row log-probabilities of a matrix of counts under independent columns.
oracle_indep_logpmf <- function(x, logpmf_col) {
  x <- as.matrix(x)
  out <- numeric(nrow(x))
  for (j in seq_len(ncol(x))) out <- out + logpmf_col(x[, j], j)
  out
}

oracle_bernoulli_logpmf <- function(x, prob) {
  oracle_indep_logpmf(x, function(v, j) stats::dbinom(v, 1, prob[j], log = TRUE))
}

oracle_binomial_logpmf <- function(x, trials, prob) {
  oracle_indep_logpmf(x, function(v, j) stats::dbinom(v, trials, prob[j], log = TRUE))
}

oracle_poisson_logpmf <- function(x, rate) {
  oracle_indep_logpmf(x, function(v, j) stats::dpois(v, rate[j], log = TRUE))
}

# Categorical data as 1-based positions in `prob`.
oracle_categorical_logpmf <- function(pos, prob) log(prob[pos])

# Conway-Maxwell-Poisson: log Z = log sum_j (mode^j / j!)^nu, summed
# directly over j = 0..terms (the omitted tail must be negligible).
oracle_com_poisson_terms <- function(mode, nu, terms = 5000) {
  j <- 0:terms
  a <- nu * (j * log(mode) - lgamma(j + 1))
  stopifnot(a[length(a)] < max(a) - 60)
  list(j = j, a = a)
}

oracle_com_poisson_log_z <- function(mode, nu) {
  t <- oracle_com_poisson_terms(mode, nu)
  log_sum_exp(t$a)
}

oracle_com_poisson_logpmf <- function(x, mode, nu) {
  oracle_indep_logpmf(x, function(v, j) {
    nu[j] * (v * log(mode[j]) - lgamma(v + 1)) - oracle_com_poisson_log_z(mode[j], nu[j])
  })
}

# (E[x], E[log x!]) by the same direct summation.
oracle_com_poisson_mean <- function(mode, nu) {
  t <- oracle_com_poisson_terms(mode, nu)
  p <- exp(t$a - log_sum_exp(t$a))
  c(sum(p * t$j), sum(p * lgamma(t$j + 1)))
}

# --- continuous families -------------------------------------------------------------

oracle_von_mises_logpdf <- function(x, mean, kappa) {
  oracle_indep_logpmf(x, function(v, j) {
    kappa[j] * cos(v - mean[j]) - log(2 * pi) - log(besselI(kappa[j], 0))
  })
}

oracle_dirichlet_logpdf <- function(x, alpha) {
  x <- matrix(x, ncol = length(alpha))
  lgamma(sum(alpha)) - sum(lgamma(alpha)) + as.vector(log(x) %*% (alpha - 1))
}

oracle_gamma_logpdf <- function(x, shape, rate) {
  oracle_indep_logpmf(x, function(v, j) {
    shape[j] * log(rate[j]) - lgamma(shape[j]) + (shape[j] - 1) * log(v) - rate[j] * v
  })
}

# --- Boltzmann machines -----------------------------------------------------------------

# All 2^n binary states, LSB-first: row s + 1 holds the bits of s.
boltzmann_states <- function(n) {
  s <- 0:(2^n - 1)
  outer(s, 0:(n - 1), function(s, i) (s %/% 2^i) %% 2)
}

# Energy bias . x + sum_{i<j} coupling_ij x_i x_j of each row of x.
oracle_boltzmann_energy <- function(x, bias, coupling) {
  x <- matrix(x, ncol = length(bias))
  e <- as.vector(x %*% bias)
  n <- length(bias)
  for (i in seq_len(n - 1)) {
    for (j in (i + 1):n) e <- e + coupling[i, j] * x[, i] * x[, j]
  }
  e
}

oracle_boltzmann_log_z <- function(bias, coupling) {
  log_sum_exp(oracle_boltzmann_energy(boltzmann_states(length(bias)), bias, coupling))
}

oracle_boltzmann_logpmf <- function(x, bias, coupling) {
  oracle_boltzmann_energy(x, bias, coupling) - oracle_boltzmann_log_z(bias, coupling)
}

# Packed E[x x^T] by enumeration.
oracle_boltzmann_mean <- function(bias, coupling) {
  X <- boltzmann_states(length(bias))
  p <- exp(oracle_boltzmann_logpmf(X, bias, coupling))
  oracle_pack(t(X) %*% (X * p))
}
