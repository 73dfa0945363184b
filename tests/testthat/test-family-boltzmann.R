# ef_boltzmann() (R/family-boltzmann.R; theory.md 2.11 and 7.4): every
# quantity against enumeration of all 2^n states in plain R.

bm_bias <- c(0.31, -0.72, 1.13, -0.25)
bm_coupling <- matrix(c(
  0, 0.85, -0.6, 0.2,
  0.85, 0, 0.47, -1.1,
  -0.6, 0.47, 0, 0.35,
  0.2, -1.1, 0.35, 0
), 4)
bm_par <- list(bias = bm_bias, coupling = bm_coupling)

# Packed natural parameters (theory.md 2.11) -> bias and coupling, in plain R.
bm_unpack <- function(theta, n) {
  M <- matrix(0, n, n)
  k <- 0
  for (i in seq_len(n)) {
    for (j in i:n) {
      k <- k + 1
      M[i, j] <- M[j, i] <- theta[k]
    }
  }
  list(bias = diag(M), coupling = M - diag(diag(M), n))
}

bm_stat_oracle <- function(x) t(apply(x, 1, function(r) oracle_pack(outer(r, r))))

test_that("Boltzmann family has n(n+1)/2 natural parameters", {
  f <- ef_boltzmann(4)
  expect_identical(c(f$d, f$dim), c(4L, 10L))
})

test_that("Boltzmann statistic is the packed outer product x x'", {
  x <- boltzmann_states(4)
  expect_identical(fam_stat(ef_boltzmann(4), x), bm_stat_oracle(x))
})

test_that("Boltzmann natural parameters pack biases on the diagonal and couplings off it", {
  M <- bm_coupling
  diag(M) <- bm_bias
  expect_close(to_natural(ef_boltzmann(4), bm_par), oracle_pack(M), rtol = 0)
})

test_that("Boltzmann energy theta . s(x) is bias . x + sum_{i<j} coupling_ij x_i x_j", {
  f <- ef_boltzmann(4)
  x <- boltzmann_states(4)
  expect_close(as.vector(fam_stat(f, x) %*% to_natural(f, bm_par)), oracle_boltzmann_energy(x, bm_bias, bm_coupling),
    rtol = 1e-14, atol = 1e-15
  )
})

test_that("Boltzmann pmf sums to 1 over all 2^n states", {
  ld <- ef_log_density(ef_boltzmann(4), bm_par, boltzmann_states(4))
  expect_close(sum(exp(ld)), 1, rtol = 1e-13)
})

test_that("Boltzmann log density equals enumeration", {
  x <- boltzmann_states(4)
  expect_close(ef_log_density(ef_boltzmann(4), bm_par, x), oracle_boltzmann_logpmf(x, bm_bias, bm_coupling),
    rtol = 1e-10
  )
})

test_that("Boltzmann log-partition equals log-sum-exp over all states", {
  f <- ef_boltzmann(4)
  expect_close(fam_psi(f, to_natural(f, bm_par)), oracle_boltzmann_log_z(bm_bias, bm_coupling), rtol = 1e-13)
})

test_that("Boltzmann mean parameters are the enumerated second moments", {
  expect_close(to_mean(ef_boltzmann(4), bm_par), oracle_boltzmann_mean(bm_bias, bm_coupling), rtol = 1e-12)
})

test_that("a larger Boltzmann machine agrees with enumeration too", {
  n <- 9
  set.seed(909)
  b <- round(rnorm(n, 0, 0.8), 3)
  C <- matrix(0, n, n)
  C[upper.tri(C)] <- round(rnorm(n * (n - 1) / 2, 0, 0.4), 3)
  C <- C + t(C)
  f <- ef_boltzmann(n)
  p <- list(bias = b, coupling = C)
  expect_close(fam_psi(f, to_natural(f, p)), oracle_boltzmann_log_z(b, C), rtol = 1e-12)
  expect_close(to_mean(f, p), oracle_boltzmann_mean(b, C), rtol = 1e-10, atol = 1e-14)
})

test_that("Boltzmann source parameters round trip", {
  f <- ef_boltzmann(4)
  expect_equal(to_source(f, to_natural(f, bm_par)), bm_par, tolerance = 1e-14)
})

test_that("Boltzmann natural -> mean -> natural round trips (numerical inverse)", {
  f <- ef_boltzmann(4)
  th <- to_natural(f, bm_par)
  expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-10)
})

test_that("Boltzmann Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_boltzmann(4)
  th <- to_natural(f, bm_par)
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-9, atol = 1e-11)
})

test_that("Boltzmann to_mean is the gradient of the log-partition", {
  f <- ef_boltzmann(4)
  th <- to_natural(f, bm_par)
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("Gibbs draws have the model's second moments", {
  f <- ef_boltzmann(4)
  seed <- 2024L
  set.seed(seed)
  x <- ef_sample(f, bm_par, 50000)
  expect_true(all(x == 0 | x == 1))
  expect_sample_moments(fam_stat(f, x), to_mean(f, bm_par), seed, atol = 0.03)
})

test_that("Gibbs draws visit the states with the enumerated probabilities", {
  f <- ef_boltzmann(4)
  seed <- 2025L
  set.seed(seed)
  x <- ef_sample(f, bm_par, 50000)
  freq <- tabulate(as.vector(x %*% 2^(0:3)) + 1, 16) / nrow(x)
  expect_close(freq, exp(oracle_boltzmann_logpmf(boltzmann_states(4), bm_bias, bm_coupling)), rtol = 0,
    atol = 0.02, info = sprintf("seed %d", seed)
  )
})

test_that("ef_sample of a Boltzmann machine is reproducible under set.seed", {
  f <- ef_boltzmann(4)
  set.seed(77)
  a <- ef_sample(f, bm_par, 40)
  set.seed(77)
  expect_identical(ef_sample(f, bm_par, 40), a)
})

test_that("a Boltzmann machine without couplings is independent Bernoullis", {
  x <- boltzmann_states(4)
  p0 <- list(bias = bm_bias, coupling = matrix(0, 4, 4))
  expect_close(ef_log_density(ef_boltzmann(4), p0, x),
    ef_log_density(ef_bernoulli(4), list(prob = 1 / (1 + exp(-bm_bias))), x),
    rtol = 1e-12
  )
})

bm_data <- function() {
  set.seed(38)
  R <- matrix(0.35, 4, 4) + diag(0.65, 4)
  R[1, 4] <- R[4, 1] <- -0.3
  z <- matrix(rnorm(2000), 500) %*% chol(R)
  (z > matrix(c(0.2, -0.3, 0.5, 0), 500, 4, byrow = TRUE)) * 1
}

bm_loglik <- function(theta, x) {
  p <- bm_unpack(theta, ncol(x))
  mean(oracle_boltzmann_logpmf(x, p$bias, p$coupling))
}

bm_loglik_grad <- function(theta, x) {
  p <- bm_unpack(theta, ncol(x))
  colMeans(bm_stat_oracle(x)) - oracle_boltzmann_mean(p$bias, p$coupling)
}

test_that("Boltzmann MLE solves the moment equation", {
  f <- ef_boltzmann(4)
  x <- bm_data()
  expect_close(to_mean(f, ef_fit(f, x)), colMeans(bm_stat_oracle(x)), rtol = 1e-6)
})

test_that("Boltzmann MLE matches optim on the plain-R log-likelihood", {
  f <- ef_boltzmann(4)
  x <- bm_data()
  fit <- ef_fit(f, x)
  opt <- stats::optim(numeric(10), bm_loglik, bm_loglik_grad, x = x, method = "BFGS",
    control = list(fnscale = -1, reltol = 1e-15, maxit = 1000))
  expect_gte(bm_loglik(to_natural(f, fit), x), opt$value - 1e-10)
  expect_close(to_natural(f, fit), opt$par, rtol = 1e-4, atol = 1e-5)
})

test_that("more than 20 units give harmonium_error_too_large", {
  expect_hm_error(ef_boltzmann(21), "too_large", "20")
})

test_that("non-binary Boltzmann data give harmonium_error_data_support", {
  x <- rbind(c(0, 1, 1, 0), c(1, 0, 0.5, 1))
  expect_hm_error(ef_log_density(ef_boltzmann(4), bm_par, x), "data_support", "2")
})
