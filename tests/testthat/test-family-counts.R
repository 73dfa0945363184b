# ef_bernoulli(), ef_binomial(), ef_poisson() and ef_com_poisson()
# (R/family-counts.R; theory.md 2.1, 2.2, 2.4, 2.5 and 7.4).

softplus <- function(a) log1p(exp(a))
sigmoid <- function(a) 1 / (1 + exp(-a))

# --- Bernoulli ------------------------------------------------------------------

bern_prob <- c(0.2385, 0.6172, 0.4531)

test_that("Bernoulli pmf sums to 1 over all binary vectors", {
  f <- ef_bernoulli(3)
  expect_close(sum(exp(ef_log_density(f, list(prob = bern_prob), boltzmann_states(3)))), 1, rtol = 1e-13)
})

test_that("Bernoulli log density equals dbinom(size = 1)", {
  f <- ef_bernoulli(3)
  x <- boltzmann_states(3)
  expect_close(ef_log_density(f, list(prob = bern_prob), x), oracle_bernoulli_logpmf(x, bern_prob), rtol = 1e-10)
})

test_that("Bernoulli statistic is the datum", {
  x <- boltzmann_states(3)
  expect_identical(fam_stat(ef_bernoulli(3), x), x * 1)
})

test_that("Bernoulli log-partition is softplus and its mean map the sigmoid", {
  f <- ef_bernoulli(3)
  th <- c(-1.17, 0.4785, 2.385)
  expect_close(fam_psi(f, th), sum(softplus(th)), rtol = 1e-13)
  expect_close(fam_eta(f, th), sigmoid(th), rtol = 1e-13)
})

test_that("Bernoulli source parameters and natural coordinates round trip", {
  f <- ef_bernoulli(3)
  th <- to_natural(f, list(prob = bern_prob))
  expect_equal(to_source(f, th), list(prob = bern_prob), tolerance = 1e-12)
  expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-12)
})

test_that("Bernoulli Legendre identity, and phi(1/2) = -log 2", {
  f <- ef_bernoulli(3)
  th <- to_natural(f, list(prob = bern_prob))
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-10)
  expect_close(fam_phi(ef_bernoulli(), 0.5), -log(2), rtol = 1e-13)
})

test_that("Bernoulli to_mean is the gradient of the log-partition", {
  f <- ef_bernoulli(3)
  th <- to_natural(f, list(prob = bern_prob))
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("Bernoulli draws have the model's means", {
  f <- ef_bernoulli(3)
  seed <- 1201L
  set.seed(seed)
  x <- ef_sample(f, list(prob = bern_prob), 50000)
  expect_true(all(x == 0 | x == 1))
  expect_sample_moments(fam_stat(f, x), bern_prob, seed, atol = 0.01)
})

test_that("Bernoulli MLE is the column means", {
  set.seed(31)
  x <- matrix(rbinom(600, 1, rep(bern_prob, each = 200)), 200)
  expect_close(ef_fit(ef_bernoulli(3), x)$prob, colMeans(x), rtol = 1e-10)
})

test_that("Bernoulli accepts two-level factors and logical data", {
  f <- ef_bernoulli()
  p <- list(prob = 0.2385)
  want <- log(c(0.7615, 0.2385, 0.2385))
  expect_close(ef_log_density(f, p, factor(c("no", "yes", "yes"))), want, rtol = 1e-10)
  expect_close(ef_log_density(f, p, c(FALSE, TRUE, TRUE)), want, rtol = 1e-10)
})

test_that("non-binary Bernoulli data give harmonium_error_data_support", {
  f <- ef_bernoulli(2)
  p <- list(prob = bern_prob[1:2])
  expect_hm_error(ef_log_density(f, p, rbind(c(0, 1), c(2, 0))), "data_support", "row")
  expect_hm_error(ef_fit(f, rbind(c(0, 1), c(0.5, 0))), "data_support")
  expect_hm_error(ef_fit(f, rbind(c(0, 1), c(-1, 0))), "data_support")
})

test_that("missing Bernoulli data give harmonium_error_data_na naming the row", {
  expect_hm_error(ef_fit(ef_bernoulli(), c(0, 1, NA, 1)), "data_na", "3")
})

# --- Binomial ---------------------------------------------------------------------

binom_prob <- c(0.2385, 0.6817)

test_that("binomial pmf sums to 1 over 0..trials", {
  f <- ef_binomial(7, dim = 2)
  g <- as.matrix(expand.grid(0:7, 0:7))
  expect_close(sum(exp(ef_log_density(f, list(prob = binom_prob), g))), 1, rtol = 1e-13)
})

test_that("binomial log density equals dbinom", {
  f <- ef_binomial(7, dim = 2)
  g <- as.matrix(expand.grid(0:7, c(0, 3, 7)))
  expect_close(ef_log_density(f, list(prob = binom_prob), g), oracle_binomial_logpmf(g, 7, binom_prob),
    rtol = 1e-10
  )
})

test_that("binomial log-partition is trials * softplus, mean map trials * sigmoid", {
  f <- ef_binomial(7, dim = 2)
  th <- c(-0.913, 2.385)
  expect_close(fam_psi(f, th), 7 * sum(softplus(th)), rtol = 1e-13)
  expect_close(fam_eta(f, th), 7 * sigmoid(th), rtol = 1e-13)
})

test_that("binomial coordinates round trip", {
  f <- ef_binomial(7, dim = 2)
  th <- to_natural(f, list(prob = binom_prob))
  expect_equal(to_source(f, th), list(prob = binom_prob), tolerance = 1e-12)
  expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-12)
})

test_that("binomial Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_binomial(7, dim = 2)
  th <- to_natural(f, list(prob = binom_prob))
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-10)
})

test_that("binomial to_mean is the gradient of the log-partition", {
  f <- ef_binomial(7, dim = 2)
  th <- to_natural(f, list(prob = binom_prob))
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("binomial draws lie in 0..trials with the model's means", {
  f <- ef_binomial(7, dim = 2)
  seed <- 5150L
  set.seed(seed)
  x <- ef_sample(f, list(prob = binom_prob), 50000)
  expect_true(all(x >= 0 & x <= 7 & x == round(x)))
  expect_sample_moments(fam_stat(f, x), 7 * binom_prob, seed)
})

test_that("binomial MLE is the column means over trials", {
  set.seed(32)
  x <- matrix(rbinom(400, 7, rep(binom_prob, each = 200)), 200)
  expect_close(ef_fit(ef_binomial(7, 2), x)$prob, colMeans(x) / 7, rtol = 1e-10)
})

test_that("binomial with one trial equals Bernoulli", {
  fb <- ef_binomial(1, dim = 3)
  fe <- ef_bernoulli(3)
  p <- list(prob = bern_prob)
  x <- boltzmann_states(3)
  expect_close(ef_log_density(fb, p, x), ef_log_density(fe, p, x), rtol = 1e-13)
  th <- to_natural(fe, p)
  expect_close(c(fam_psi(fb, th), fam_eta(fb, th)), c(fam_psi(fe, th), fam_eta(fe, th)), rtol = 1e-13)
})

test_that("binomial data above trials or fractional give harmonium_error_data_support", {
  f <- ef_binomial(7)
  expect_hm_error(ef_log_density(f, list(prob = 0.3), c(3, 8)), "data_support", "2")
  expect_hm_error(ef_fit(f, c(3, 2.5)), "data_support")
  expect_hm_error(ef_fit(f, c(3, -1)), "data_support")
})

# --- Poisson ------------------------------------------------------------------------

pois_rate <- c(2.385, 7.413)

test_that("Poisson pmf sums to 1", {
  f <- ef_poisson(2)
  g <- as.matrix(expand.grid(0:60, 0:60))
  expect_close(sum(exp(ef_log_density(f, list(rate = pois_rate), g))), 1, rtol = 1e-12)
})

test_that("Poisson log density equals dpois, including large counts", {
  f <- ef_poisson(2)
  x <- cbind(c(0, 1, 2, 5, 17, 170, 1000), c(3, 0, 11, 7, 1, 2, 400))
  expect_close(ef_log_density(f, list(rate = pois_rate), x), oracle_poisson_logpmf(x, pois_rate), rtol = 1e-10)
})

test_that("Poisson log-partition and mean map are exp(theta)", {
  f <- ef_poisson(2)
  th <- log(pois_rate)
  expect_close(fam_psi(f, th), sum(pois_rate), rtol = 1e-13)
  expect_close(fam_eta(f, th), pois_rate, rtol = 1e-13)
})

test_that("Poisson negative entropy is eta log eta - eta", {
  f <- ef_poisson(2)
  expect_close(fam_phi(f, pois_rate), sum(pois_rate * log(pois_rate) - pois_rate), rtol = 1e-12)
})

test_that("Poisson coordinates round trip", {
  f <- ef_poisson(2)
  th <- to_natural(f, list(rate = pois_rate))
  expect_equal(to_source(f, th), list(rate = pois_rate), tolerance = 1e-12)
  expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-12)
})

test_that("Poisson Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_poisson(2)
  th <- to_natural(f, list(rate = pois_rate))
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-10)
})

test_that("Poisson to_mean is the gradient of the log-partition", {
  f <- ef_poisson(2)
  th <- to_natural(f, list(rate = pois_rate))
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("Poisson draws have the model's means", {
  f <- ef_poisson(2)
  seed <- 8080L
  set.seed(seed)
  x <- ef_sample(f, list(rate = pois_rate), 50000)
  expect_true(all(x >= 0 & x == round(x)))
  expect_sample_moments(fam_stat(f, x), pois_rate, seed)
})

test_that("Poisson MLE is the column means", {
  set.seed(33)
  x <- matrix(rpois(400, rep(pois_rate, each = 200)), 200)
  expect_close(ef_fit(ef_poisson(2), x)$rate, colMeans(x), rtol = 1e-10)
})

test_that("negative or fractional counts give harmonium_error_data_support", {
  f <- ef_poisson()
  expect_hm_error(ef_fit(f, c(2, -1, 3)), "data_support", "2")
  expect_hm_error(ef_log_density(f, list(rate = 2.385), c(1, 2.5)), "data_support")
})

test_that("missing or infinite counts give harmonium_error_data_na", {
  f <- ef_poisson()
  expect_hm_error(ef_fit(f, c(2, NA, 3)), "data_na", "2")
  expect_hm_error(ef_log_density(f, list(rate = 2.385), c(1, Inf)), "data_na")
})

# --- Conway-Maxwell-Poisson -------------------------------------------------------------

# Over- and under-dispersed, a wide over-dispersed case, and a small mode.
com_cases <- list(
  list(mode = 2.385, nu = 0.613),
  list(mode = 4.17, nu = 1.735),
  list(mode = 23.7, nu = 0.45),
  list(mode = 0.31, nu = 2.2)
)

test_that("CoM-Poisson statistic is (x, log x!)", {
  x <- c(0, 1, 4, 30)
  expect_close(fam_stat(ef_com_poisson(), x), cbind(x, lgamma(x + 1)), rtol = 1e-14)
})

test_that("CoM-Poisson natural parameters are (nu log mode, -nu), interleaved by unit", {
  f <- ef_com_poisson(2)
  p <- list(mode = c(2.385, 4.17), nu = c(0.613, 1.735))
  want <- c(0.613 * log(2.385), -0.613, 1.735 * log(4.17), -1.735)
  expect_close(to_natural(f, p), want, rtol = 1e-14)
})

test_that("CoM-Poisson log-partition equals the directly summed series", {
  f <- ef_com_poisson()
  for (p in com_cases) {
    expect_close(fam_psi(f, to_natural(f, p)), oracle_com_poisson_log_z(p$mode, p$nu), rtol = 1e-12,
      info = sprintf("mode %g, nu %g", p$mode, p$nu)
    )
  }
})

test_that("CoM-Poisson pmf sums to 1", {
  f <- ef_com_poisson()
  for (p in com_cases) {
    tot <- sum(exp(ef_log_density(f, p, 0:600)))
    expect_close(tot, 1, rtol = 1e-10, info = sprintf("mode %g, nu %g", p$mode, p$nu))
  }
})

test_that("CoM-Poisson log density equals the oracle", {
  f <- ef_com_poisson()
  x <- c(0, 1, 2, 3, 7, 12, 25, 60)
  for (p in com_cases) {
    expect_close(ef_log_density(f, p, x), oracle_com_poisson_logpmf(x, p$mode, p$nu), rtol = 1e-10,
      info = sprintf("mode %g, nu %g", p$mode, p$nu)
    )
  }
})

test_that("CoM-Poisson with two units adds the units' log densities", {
  f <- ef_com_poisson(2)
  p <- list(mode = c(2.385, 23.7), nu = c(0.613, 0.45))
  x <- cbind(c(0, 3, 9, 1), c(20, 31, 4, 0))
  expect_close(ef_log_density(f, p, x), oracle_com_poisson_logpmf(x, p$mode, p$nu), rtol = 1e-10)
})

test_that("CoM-Poisson mean parameters are E[x] and E[log x!]", {
  f <- ef_com_poisson()
  for (p in com_cases) {
    expect_close(to_mean(f, p), oracle_com_poisson_mean(p$mode, p$nu), rtol = 1e-10,
      info = sprintf("mode %g, nu %g", p$mode, p$nu)
    )
  }
})

test_that("CoM-Poisson with nu = 1 is the Poisson", {
  fc <- ef_com_poisson()
  fp <- ef_poisson()
  x <- c(0, 1, 2, 5, 9, 23)
  pc <- list(mode = 2.385, nu = 1)
  pp <- list(rate = 2.385)
  expect_close(ef_log_density(fc, pc, x), ef_log_density(fp, pp, x), rtol = 1e-12)
  expect_close(fam_psi(fc, to_natural(fc, pc)), 2.385, rtol = 1e-12)
  expect_close(to_mean(fc, pc)[1], 2.385, rtol = 1e-12)
})

test_that("CoM-Poisson source parameters round trip", {
  f <- ef_com_poisson()
  for (p in com_cases) {
    expect_equal(to_source(f, to_natural(f, p)), p, tolerance = 1e-12)
  }
})

test_that("CoM-Poisson natural -> mean -> natural round trips (numerical inverse)", {
  f <- ef_com_poisson()
  for (p in com_cases) {
    th <- to_natural(f, p)
    expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-10,
      info = sprintf("mode %g, nu %g", p$mode, p$nu)
    )
  }
})

test_that("CoM-Poisson Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_com_poisson()
  for (p in com_cases) {
    th <- to_natural(f, p)
    eta <- fam_eta(f, th)
    expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-9, atol = 1e-11,
      info = sprintf("mode %g, nu %g", p$mode, p$nu)
    )
  }
})

test_that("CoM-Poisson to_mean is the gradient of the log-partition", {
  f <- ef_com_poisson()
  for (p in com_cases) {
    th <- to_natural(f, p)
    expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8,
      info = sprintf("mode %g, nu %g", p$mode, p$nu)
    )
  }
})

test_that("CoM-Poisson draws have the model's mean statistics (both samplers)", {
  f <- ef_com_poisson()
  seed <- 6061L
  for (p in com_cases[1:3]) {
    set.seed(seed)
    x <- ef_sample(f, p, 50000)
    expect_true(all(x >= 0 & x == round(x)))
    expect_sample_moments(fam_stat(f, x), to_mean(f, p), seed)
  }
})

# Over-dispersed (negative binomial, nu < 1) and under-dispersed (binomial,
# nu > 1) counts.
com_data <- function(kind = c("over", "under")) {
  set.seed(34)
  switch(match.arg(kind),
    over = rnbinom(500, size = 3.1, mu = 4.2),
    under = rbinom(500, 12, 0.4)
  )
}

com_loglik <- function(par, x) mean(oracle_com_poisson_logpmf(x, exp(par[1]), exp(par[2])))

test_that("CoM-Poisson MLE solves the moment equation", {
  f <- ef_com_poisson()
  for (kind in c("over", "under")) {
    x <- com_data(kind)
    fit <- ef_fit(f, x)
    expect_close(to_mean(f, fit), colMeans(fam_stat(f, x)), rtol = 1e-6, info = kind)
  }
})

test_that("CoM-Poisson MLE matches optim on the plain-R log-likelihood", {
  f <- ef_com_poisson()
  for (kind in c("over", "under")) {
    x <- com_data(kind)
    fit <- ef_fit(f, x)
    opt <- stats::optim(c(log(3), 0), com_loglik, x = x, method = "BFGS",
      control = list(fnscale = -1, reltol = 1e-14, maxit = 500))
    expect_gte(com_loglik(log(c(fit$mode, fit$nu)), x), opt$value - 1e-10)
    expect_close(c(fit$mode, fit$nu), exp(opt$par), rtol = 1e-4, info = kind)
  }
})

test_that("CoM-Poisson MLE is under- or over-dispersed as the data are", {
  f <- ef_com_poisson()
  expect_lt(ef_fit(f, com_data("over"))$nu, 1)
  expect_gt(ef_fit(f, com_data("under"))$nu, 1)
})

test_that("negative CoM-Poisson counts give harmonium_error_data_support", {
  expect_hm_error(ef_fit(ef_com_poisson(), c(2, 0, -3)), "data_support", "3")
})
