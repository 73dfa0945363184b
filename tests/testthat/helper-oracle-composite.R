# Plain-R references for the composite models (style.md 3.11): the explicit
# Gaussian mixture that a hierarchical mixture of Gaussians or a mixture of
# factor analysers marginalises to, written out component by component.

# Component k of an HMoG: mean + A m_k, cov + A S_k A'; of an MFA: mean_k,
# cov_k + A_k A_k'. Returns list(weights, means, covs).
oracle_composite_gaussians <- function(params) {
  if (!is.null(params$latent)) {
    A <- params$loadings
    lat <- params$latent
    if (is.null(lat$weights)) {
      # A deeper hierarchy: its latent marginalises to y | k ~ N(mean_y +
      # B m_k, cov_y + B S_k B'), a mixture over y, by the same rule.
      g <- oracle_composite_gaussians(lat)
      lat <- list(weights = g$weights, components = Map(function(m, S) list(mean = m, cov = S), g$means, g$covs))
    }
    params$latent <- lat
    comps <- lat$components
    return(list(
      weights = params$latent$weights,
      means = lapply(comps, function(ck) as.vector(params$mean + A %*% ck$mean)),
      covs = lapply(comps, function(ck) params$cov + A %*% ck$cov %*% t(A))
    ))
  }
  list(
    weights = params$weights,
    means = lapply(params$components, function(ck) as.vector(ck$mean)),
    covs = lapply(params$components, function(ck) ck$cov + tcrossprod(ck$loadings))
  )
}

# n x k matrix of log w_k + log N(x; mu_k, Sigma_k).
oracle_composite_joint <- function(params, x) {
  g <- oracle_composite_gaussians(params)
  vapply(seq_along(g$weights), function(k) {
    log(g$weights[k]) + oracle_dmvnorm(x, g$means[[k]], g$covs[[k]])
  }, numeric(nrow(as.matrix(x))))
}

oracle_composite_logp <- function(params, x) {
  lj <- oracle_composite_joint(params, x)
  m <- apply(lj, 1, max)
  m + log(rowSums(exp(lj - m)))
}

# Bayes' rule on the explicit mixture.
oracle_composite_post <- function(params, x) {
  lj <- oracle_composite_joint(params, x)
  exp(lj - oracle_composite_logp(params, x))
}

oracle_spd <- function(d, scale = 1) {
  M <- matrix(stats::rnorm(d * d), d, d)
  scale * (crossprod(M) / d + diag(d) * 0.5)
}

# Random source parameters of hmog(p, q, k, covariance) and mfa(p, q, k).
oracle_random_hmog <- function(p, q, k, covariance = "diagonal") {
  cov <- switch(covariance,
    diagonal = diag(stats::runif(p, 0.3, 1.5), p),
    isotropic = diag(0.7, p),
    full = oracle_spd(p, 0.5)
  )
  w <- stats::runif(k, 0.5, 1.5)
  list(
    mean = stats::rnorm(p), loadings = matrix(stats::rnorm(p * q), p, q), cov = cov,
    latent = list(weights = w / sum(w), components = lapply(seq_len(k), function(j) {
      list(mean = stats::rnorm(q, sd = 2), cov = oracle_spd(q, 0.3))
    }))
  )
}

# harmonium(ef_normal(p, "diagonal"), harmonium(ef_normal(q), mixture(ef_normal(r), k))).
oracle_random_deep <- function(p, q, r, k) {
  inner <- oracle_random_hmog(q, r, k, "full")
  outer <- oracle_random_hmog(p, q, 1L)
  outer$latent <- inner
  outer
}

oracle_random_mfa <- function(p, q, k) {
  w <- stats::runif(k, 0.5, 1.5)
  list(weights = w / sum(w), components = lapply(seq_len(k), function(j) {
    list(mean = stats::rnorm(p, sd = 3), loadings = matrix(stats::rnorm(p * q), p, q),
      cov = diag(stats::runif(p, 0.2, 1.2), p))
  }))
}

# Data drawn from the explicit mixture.
oracle_composite_sample <- function(params, n) {
  g <- oracle_composite_gaussians(params)
  cl <- sample.int(length(g$weights), n, replace = TRUE, prob = g$weights)
  p <- length(g$means[[1]])
  x <- matrix(0, n, p)
  for (k in seq_along(g$weights)) {
    idx <- which(cl == k)
    if (length(idx)) {
      x[idx, ] <- matrix(stats::rnorm(length(idx) * p), length(idx), p) %*% chol(g$covs[[k]]) +
        matrix(g$means[[k]], length(idx), p, byrow = TRUE)
    }
  }
  colnames(x) <- paste0("x", seq_len(p))
  list(x = x, cluster = cl)
}
