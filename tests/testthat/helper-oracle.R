# Slow, obviously correct plain-R references for mixtures (style.md 3.11):
# densities written out by hand, the mixture log-likelihood by explicit
# marginalisation over classes, and one textbook EM step.

oracle_dmvnorm <- function(x, mean, cov, log = TRUE) {
  x <- as.matrix(x)
  L <- chol(cov)
  z <- backsolve(L, t(x) - mean, transpose = TRUE)
  out <- -0.5 * colSums(z^2) - sum(log(diag(L))) - 0.5 * ncol(x) * log(2 * pi)
  if (log) out else exp(out)
}

# Component log densities by hand for the families used in the mixture
# tests.
oracle_component_logpdf <- function(fam, p, x) {
  x <- as.matrix(x)
  switch(fam$name,
    normal = oracle_dmvnorm(x, p$mean, p$cov),
    poisson = rowSums(stats::dpois(x, rep(p$rate, each = nrow(x)), log = TRUE) |> matrix(nrow(x))),
    bernoulli = rowSums(matrix(stats::dbinom(x, 1, rep(p$prob, each = nrow(x)), log = TRUE), nrow(x))),
    binomial = rowSums(matrix(stats::dbinom(x, fam$trials, rep(p$prob, each = nrow(x)), log = TRUE), nrow(x))),
    categorical = log(p$prob[x[, 1] + 1]),
    von_mises = rowSums(matrix(
      rep(p$kappa, each = nrow(x)) * cos(x - rep(p$mean, each = nrow(x))) -
        log(2 * pi * besselI(rep(p$kappa, each = nrow(x)), 0)), nrow(x))),
    stop("no oracle for ", fam$name)
  )
}

# Per-row log p(x) = log sum_k w_k p_k(x), by explicit marginalisation. x is
# the engine coding of the data (0-based categories).
oracle_mixture_logp <- function(fam, params, x) {
  lp <- vapply(seq_along(params$weights), function(j) {
    log(params$weights[j]) + oracle_component_logpdf(fam, params$components[[j]], x)
  }, numeric(nrow(as.matrix(x))))
  lp <- matrix(lp, ncol = length(params$weights))
  m <- apply(lp, 1, max)
  m + log(rowSums(exp(lp - m)))
}

oracle_mixture_post <- function(fam, params, x) {
  lp <- vapply(seq_along(params$weights), function(j) {
    log(params$weights[j]) + oracle_component_logpdf(fam, params$components[[j]], x)
  }, numeric(nrow(as.matrix(x))))
  lp <- matrix(lp, ncol = length(params$weights))
  m <- apply(lp, 1, max)
  e <- exp(lp - m)
  e / rowSums(e)
}

# One textbook EM step for a Gaussian mixture (full, diagonal or isotropic
# covariances), case weights optional.
oracle_gmm_em_step <- function(x, params, covariance = "full", w = NULL) {
  x <- as.matrix(x)
  n <- nrow(x)
  d <- ncol(x)
  if (is.null(w)) w <- rep(1, n)
  fam <- list(name = "normal")
  r <- oracle_mixture_post(fam, params, x) * w
  nk <- colSums(r)
  comps <- lapply(seq_along(nk), function(j) {
    mu <- colSums(r[, j] * x) / nk[j]
    xc <- sweep(x, 2, mu)
    S <- crossprod(xc * r[, j], xc) / nk[j]
    S <- switch(covariance,
      full = S,
      diagonal = diag(diag(S), d),
      isotropic = diag(mean(diag(S)), d)
    )
    list(mean = mu, cov = S)
  })
  list(weights = nk / sum(nk), components = comps)
}

# Relative difference, for tolerances on log-likelihoods.
rel_diff <- function(a, b) abs(a - b) / (1 + abs(b))
