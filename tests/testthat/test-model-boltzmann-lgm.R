# Gaussian-Boltzmann harmoniums (theory.md 3.3): p(x) is the explicit
# mixture of 2^units Gaussians, the posterior over binary states normalises,
# the conjugation identity holds at every state, and EM is monotone.

blgm_params <- list(
  offset = c(0.4, -1.1),
  loadings = matrix(c(1.7, -0.3, 0.2, 2.385, -1.2, 0.8), 2),
  cov = diag(c(0.35, 0.6)),
  prior = list(bias = c(-0.5, 0.9, 0.1), coupling = matrix(c(0, 0.7, -1.1, 0.7, 0, 0.4, -1.1, 0.4, 0), 3))
)

blgm_states <- function(q) as.matrix(expand.grid(rep(list(0:1), q)))

# log p(z) for every state, by enumeration in plain R.
blgm_log_prior <- function(prior, Z) {
  e <- as.vector(Z %*% prior$bias) + rowSums((Z %*% prior$coupling) * Z) / 2
  e - max(e) - log(sum(exp(e - max(e))))
}

blgm_oracle <- function(p, x) {
  Z <- blgm_states(length(p$prior$bias))
  lpz <- blgm_log_prior(p$prior, Z)
  comp <- sapply(seq_len(nrow(Z)), function(s) {
    lpz[s] + oracle_dmvnorm(x, as.vector(p$loadings %*% Z[s, ]) + p$offset, p$cov)
  })
  comp <- matrix(comp, nrow(x))
  mx <- apply(comp, 1, max)
  logp <- mx + log(rowSums(exp(comp - mx)))
  post_states <- exp(comp - logp)
  list(logp = logp, post_states = post_states, unit_means = post_states %*% Z)
}

test_that("p(x) is the explicit mixture of 2^units Gaussians", {
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 3)
  set.seed(8)
  x <- matrix(rnorm(60, sd = 2), 30, 2)
  f <- with_params(m, blgm_params, x)
  o <- blgm_oracle(blgm_params, x)
  expect_equal(log_density(f), o$logp, tolerance = 1e-10)
  expect_equal(rowSums(o$post_states), rep(1, 30), tolerance = 1e-12)
  expect_equal(unname(posterior(f)), unname(o$unit_means), tolerance = 1e-10)
  expect_true(all(posterior(f) >= 0 & posterior(f) <= 1))
})

test_that("the conjugation identity holds at all 2^units states", {
  m <- boltzmann_lgm(ef_normal(2), 3)
  p <- blgm_params
  p$cov <- matrix(c(0.35, 0.1, 0.1, 0.6), 2)
  th <- to_natural(m, p)
  rc <- harmonium:::model_rho_chi(m, th)
  sp <- harmonium:::lgm_split(m, th)
  psi <- function(t) harmonium:::native_family_log_partition(m$obs$spec, t)$value
  Z <- blgm_states(3)
  for (s in seq_len(nrow(Z))) {
    z <- Z[s, ]
    t_x <- sp$th_x
    t_x[1:2] <- t_x[1:2] + as.vector(sp$W %*% z)
    s_z <- harmonium:::pack_sym(outer(z, z))
    expect_equal(psi(t_x), sum(rc$rho * s_z) + rc$chi, tolerance = 1e-10, info = paste(z, collapse = ""))
  }
  expect_equal(rc$chi, psi(sp$th_x), tolerance = 1e-12)
})

test_that("source parameters round trip and the mean map inverts", {
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 3)
  th <- to_natural(m, blgm_params)
  back <- to_source(m, th)
  expect_equal(back$offset, blgm_params$offset, tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(back$loadings, blgm_params$loadings, tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(back$prior$bias, blgm_params$prior$bias, tolerance = 1e-10)
  expect_equal(back$prior$coupling, blgm_params$prior$coupling, tolerance = 1e-10)
  eta <- harmonium:::native_model_to_mean(m, th)$value
  back_th <- harmonium:::native_model_to_natural(m, eta, harmonium:::fam_ctrl())$value
  expect_equal(back_th, th, tolerance = 1e-7)
  expect_equal(exactness(m), "differentiable")
})

test_that("EM is monotone and reaches at least the truth's log-likelihood", {
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 3)
  sim <- simulate(with_params(m, blgm_params), 3000, seed = 12)
  f <- fit_lvm(m, sim, control = lvm_control(tol = 1e-10, maxit = 3000, n_init = 3, seed = 2))
  tr <- f$trace
  expect_true(all(diff(tr) >= -1e-8 * (1 + abs(tr[-1]))))
  truth <- sum(blgm_oracle(blgm_params, sim)$logp)
  expect_gte(f$loglik, truth - 1e-6 * abs(truth))
  expect_equal(f$loglik, sum(blgm_oracle(f$params, sim)$logp), tolerance = 1e-10)
  expect_equal(dim(attr(sim, "latent")), c(3000L, 3L))
  expect_output(print(summary(f)), "Boltzmann prior")
})

test_that("too many units is a clear error", {
  expect_error(boltzmann_lgm(ef_normal(2), 21), class = "harmonium_error_too_large")
  expect_error(boltzmann_lgm(ef_poisson(2), 2), class = "harmonium_error_argument")
})

test_that("contrastive divergence with long chains averages to the exact gradient", {
  # CD-k (theory.md 1.6) with the exact gradient's sign and row sums: its
  # mean over independent chains tends to the exact gradient as k grows.
  # With 30 sweeps the chain's bias is negligible for these three-unit
  # models (one whose components are far apart relative to the noise mixes
  # much more slowly and needs more sweeps), so the average of 2000
  # estimates is within 5 standard errors in every coordinate; CD-1 is
  # visibly biased. Also through the mean-field kind (independent-unit
  # posterior, Boltzmann prior; engine kind 5).
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 3)
  th <- to_natural(m, blgm_params)
  set.seed(8)
  x <- matrix(rnorm(40, sd = 2), 20, 2)
  p5 <- blgm_params
  p5$loadings <- p5$loadings / 2
  p5$cov <- diag(c(0.8, 0.9))
  m5 <- list(hm_kind = 5L, obs_spec = m$obs_spec, lat_spec = ef_bernoulli(3)$spec)
  th5 <- c(to_natural(m, p5)[1:10], c(-0.4, 0.25, -0.45))
  for (mm in list(list(m, th), list(m5, th5))) {
    exact <- harmonium:::native_model_gradient(mm[[1]], mm[[2]], x)
    expect_identical(exact$status, 0L)
    set.seed(21)
    cd <- replicate(2000, harmonium:::native_model_cd_gradient(mm[[1]], mm[[2]], x, 30)$gradient)
    z <- (rowMeans(cd) - exact$gradient) / (apply(cd, 1, sd) / sqrt(ncol(cd)))
    expect_lt(max(abs(z)), 5)
    cd1 <- replicate(2000, harmonium:::native_model_cd_gradient(mm[[1]], mm[[2]], x, 1)$gradient)
    z1 <- (rowMeans(cd1) - exact$gradient) / (apply(cd1, 1, sd) / sqrt(ncol(cd1)))
    expect_gt(max(abs(z1)), 10)
  }
  expect_identical(harmonium:::native_model_cd_gradient(m, th, x, 0)$status, 8L)
})
