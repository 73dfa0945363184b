# ef_von_mises(), ef_dirichlet() and ef_gamma() (R/family-continuous.R;
# theory.md 2.6, 2.9, 2.10 and 7.4). Their mean -> natural maps are
# numerical, so the MLE is checked through the moment equation and against
# stats::optim on the plain-R log-likelihood.

# --- von Mises ------------------------------------------------------------------

vm_one <- list(mean = 0.913, kappa = 2.385)
vm_two <- list(mean = c(0.913, -2.2), kappa = c(2.385, 0.37))
vm_kappas <- c(0.37, 2.385, 45)

test_that("von Mises statistic is (cos x, sin x), interleaved by unit", {
  x <- cbind(c(0, 1.3, -2.9), c(0.5, 3.1, 6))
  want <- cbind(cos(x[, 1]), sin(x[, 1]), cos(x[, 2]), sin(x[, 2]))
  expect_close(fam_stat(ef_von_mises(2), x), want, rtol = 1e-14, atol = 1e-16)
})

test_that("von Mises natural parameters are kappa (cos m, sin m)", {
  want <- c(2.385 * cos(0.913), 2.385 * sin(0.913), 0.37 * cos(-2.2), 0.37 * sin(-2.2))
  expect_close(to_natural(ef_von_mises(2), vm_two), want, rtol = 1e-14)
})

test_that("von Mises density integrates to 1 over the circle", {
  f <- ef_von_mises()
  for (k in vm_kappas) {
    p <- list(mean = 0.913, kappa = k)
    val <- stats::integrate(function(x) exp(ef_log_density(f, p, x)), -pi, pi, rel.tol = 1e-11,
      subdivisions = 500L)$value
    expect_close(val, 1, rtol = 1e-8, info = sprintf("kappa %g", k))
  }
})

test_that("von Mises log density equals the Bessel-function oracle", {
  x <- cbind(c(-3, -1.1, 0, 0.913, 2.7, 5.5), c(0.2, -2.2, 3.1, -0.5, 1, 4))
  expect_close(ef_log_density(ef_von_mises(2), vm_two, x), oracle_von_mises_logpdf(x, vm_two$mean, vm_two$kappa),
    rtol = 1e-10
  )
})

test_that("von Mises density is periodic and uniform at kappa = 0", {
  f <- ef_von_mises()
  x <- c(-2.5, 0.3, 1.9)
  # Beyond 2 pi the angles are still angles, with a warning that von Mises
  # data are radians (the data look like degrees).
  expect_warning(shifted <- ef_log_density(f, vm_one, x + 2 * pi), class = "harmonium_warning_radians")
  expect_close(shifted, ef_log_density(f, vm_one, x), rtol = 1e-12)
  expect_no_warning(ef_log_density(f, vm_one, x + pi))
  expect_close(ef_log_density(f, list(mean = 0, kappa = 0), x), rep(-log(2 * pi), 3), rtol = 1e-14)
})

test_that("von Mises log-partition is log I0(kappa), stable for large kappa", {
  f <- ef_von_mises()
  for (k in c(vm_kappas, 2000)) {
    th <- k * c(cos(0.913), sin(0.913))
    expect_close(fam_psi(f, th), log(besselI(k, 0, expon.scaled = TRUE)) + k, rtol = 1e-12,
      info = sprintf("kappa %g", k)
    )
  }
})

test_that("von Mises mean parameters are A(kappa) (cos m, sin m)", {
  f <- ef_von_mises()
  for (k in vm_kappas) {
    a <- besselI(k, 1, expon.scaled = TRUE) / besselI(k, 0, expon.scaled = TRUE)
    expect_close(to_mean(f, list(mean = 0.913, kappa = k)), a * c(cos(0.913), sin(0.913)), rtol = 1e-12,
      info = sprintf("kappa %g", k)
    )
  }
})

test_that("von Mises mean map tends to theta / 2 at kappa -> 0", {
  f <- ef_von_mises()
  expect_close(fam_eta(f, c(0, 0)), c(0, 0), rtol = 0, atol = 1e-300)
  expect_close(fam_eta(f, c(3e-9, -4e-9)), c(1.5e-9, -2e-9), rtol = 1e-8)
})

test_that("von Mises source parameters round trip", {
  f <- ef_von_mises(2)
  expect_equal(to_source(f, to_natural(f, vm_two)), vm_two, tolerance = 1e-12)
})

test_that("von Mises natural -> mean -> natural round trips (numerical inverse)", {
  f <- ef_von_mises()
  for (k in vm_kappas) {
    th <- k * c(cos(-1.4), sin(-1.4))
    expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-10, info = sprintf("kappa %g", k))
  }
})

test_that("von Mises Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_von_mises(2)
  th <- to_natural(f, vm_two)
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-9, atol = 1e-11)
})

test_that("von Mises to_mean is the gradient of the log-partition", {
  f <- ef_von_mises(2)
  th <- to_natural(f, vm_two)
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("von Mises draws have the model's mean statistics", {
  f <- ef_von_mises(2)
  seed <- 3141L
  set.seed(seed)
  x <- ef_sample(f, vm_two, 50000)
  expect_sample_moments(fam_stat(f, x), to_mean(f, vm_two), seed, atol = 0.02)
})

test_that("von Mises draws at tiny kappa are (nearly) uniform", {
  f <- ef_von_mises()
  seed <- 3142L
  set.seed(seed)
  x <- ef_sample(f, list(mean = 1, kappa = 0.004), 50000)
  expect_sample_moments(fam_stat(f, x), to_mean(f, list(mean = 1, kappa = 0.004)), seed, atol = 0.02)
})

vm_data <- function() {
  set.seed(35)
  (rnorm(300, 0.9, 0.8) + 0.4 * rnorm(300)^3) %% (2 * pi)
}

vm_loglik <- function(par, x) mean(oracle_von_mises_logpdf(x, par[1], exp(par[2])))

test_that("von Mises MLE solves the moment equation and has the circular mean", {
  f <- ef_von_mises()
  x <- vm_data()
  fit <- ef_fit(f, x)
  expect_close(to_mean(f, fit), colMeans(fam_stat(f, x)), rtol = 1e-6)
  expect_close(fit$mean, atan2(mean(sin(x)), mean(cos(x))), rtol = 1e-8)
})

test_that("von Mises MLE matches optim on the plain-R log-likelihood", {
  x <- vm_data()
  fit <- ef_fit(ef_von_mises(), x)
  opt <- stats::optim(c(0, 0), vm_loglik, x = x, method = "BFGS",
    control = list(fnscale = -1, reltol = 1e-14, maxit = 500))
  expect_gte(vm_loglik(c(fit$mean, log(fit$kappa)), x), opt$value - 1e-10)
  expect_close(c(fit$mean, fit$kappa), c(opt$par[1], exp(opt$par[2])), rtol = 1e-4)
})

test_that("missing angles give harmonium_error_data_na", {
  expect_hm_error(ef_fit(ef_von_mises(), c(0.1, NA, 2)), "data_na", "2")
})

# --- Dirichlet ---------------------------------------------------------------------

dir_alpha <- c(2.385, 3.1, 1.7)

dir_points <- rbind(
  c(0.2, 0.3, 0.5),
  c(1 / 3, 1 / 3, 1 / 3),
  c(0.01, 0.9, 0.09),
  c(0.7, 0.05, 0.25)
)

test_that("Dirichlet statistic is log x", {
  expect_close(fam_stat(ef_dirichlet(3), dir_points), log(dir_points), rtol = 1e-14)
})

test_that("Dirichlet log density equals the textbook formula", {
  f <- ef_dirichlet(3)
  expect_close(ef_log_density(f, list(alpha = dir_alpha), dir_points), oracle_dirichlet_logpdf(dir_points, dir_alpha),
    rtol = 1e-10
  )
})

test_that("Dirichlet(1, 1, 1) has density 2 on the simplex", {
  ld <- ef_log_density(ef_dirichlet(3), list(alpha = c(1, 1, 1)), dir_points)
  expect_close(ld, rep(log(2), 4), rtol = 1e-12)
})

test_that("two-part Dirichlet density integrates to 1 (the Beta)", {
  f <- ef_dirichlet(2)
  p <- list(alpha = c(2.385, 0.713))
  val <- stats::integrate(function(u) exp(ef_log_density(f, p, cbind(u, 1 - u))), 0, 1, rel.tol = 1e-10)$value
  expect_close(val, 1, rtol = 1e-7)
})

test_that("three-part Dirichlet density integrates to 1 over the simplex", {
  f <- ef_dirichlet(3)
  p <- list(alpha = dir_alpha)
  inner <- function(u) {
    vapply(u, function(ui) {
      stats::integrate(function(v) exp(ef_log_density(f, p, cbind(ui, v, 1 - ui - v))), 0, 1 - ui,
        rel.tol = 1e-10)$value
    }, numeric(1))
  }
  expect_close(stats::integrate(inner, 0, 1, rel.tol = 1e-9)$value, 1, rtol = 1e-7)
})

test_that("Dirichlet log-partition and mean map are lgamma and digamma sums", {
  f <- ef_dirichlet(3)
  expect_close(fam_psi(f, dir_alpha), sum(lgamma(dir_alpha)) - lgamma(sum(dir_alpha)), rtol = 1e-13)
  expect_close(fam_eta(f, dir_alpha), digamma(dir_alpha) - digamma(sum(dir_alpha)), rtol = 1e-13)
})

test_that("Dirichlet coordinates round trip (numerical inverse)", {
  f <- ef_dirichlet(3)
  expect_equal(to_source(f, to_natural(f, list(alpha = dir_alpha))), list(alpha = dir_alpha), tolerance = 1e-14)
  for (a in list(dir_alpha, c(0.21, 0.35, 0.6), c(41, 7.5, 120))) {
    expect_close(fam_theta(f, fam_eta(f, a)), a, rtol = 1e-8, info = paste(a, collapse = ", "))
  }
})

test_that("Dirichlet Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_dirichlet(3)
  eta <- fam_eta(f, dir_alpha)
  expect_close(fam_phi(f, eta), sum(dir_alpha * eta) - fam_psi(f, dir_alpha), rtol = 1e-9, atol = 1e-11)
})

test_that("Dirichlet to_mean is the gradient of the log-partition", {
  f <- ef_dirichlet(3)
  expect_close(fam_eta(f, dir_alpha), fd_grad(function(t) fam_psi(f, t), dir_alpha), rtol = 1e-6, atol = 1e-8)
})

test_that("Dirichlet draws lie on the simplex with the model's E[log x]", {
  f <- ef_dirichlet(3)
  p <- list(alpha = dir_alpha)
  seed <- 2718L
  set.seed(seed)
  x <- ef_sample(f, p, 50000)
  expect_true(all(x > 0) && max(abs(rowSums(x) - 1)) < 1e-12)
  expect_sample_moments(fam_stat(f, x), to_mean(f, p), seed)
})

dir_data <- function() {
  set.seed(36)
  g <- matrix(rgamma(600, shape = rep(c(1.4, 2.9, 0.8), each = 200)), 200)
  g / rowSums(g)
}

dir_loglik <- function(par, x) mean(oracle_dirichlet_logpdf(x, exp(par)))

test_that("Dirichlet MLE solves the moment equation", {
  f <- ef_dirichlet(3)
  x <- dir_data()
  expect_close(to_mean(f, ef_fit(f, x)), colMeans(log(x)), rtol = 1e-6)
})

test_that("Dirichlet MLE matches optim on the plain-R log-likelihood", {
  x <- dir_data()
  fit <- ef_fit(ef_dirichlet(3), x)
  opt <- stats::optim(c(0, 0, 0), dir_loglik, x = x, method = "BFGS",
    control = list(fnscale = -1, reltol = 1e-14, maxit = 500))
  expect_gte(dir_loglik(log(fit$alpha), x), opt$value - 1e-10)
  expect_close(fit$alpha, exp(opt$par), rtol = 1e-4)
})

test_that("Dirichlet rows that do not sum to 1 give harmonium_error_data_support", {
  f <- ef_dirichlet(3)
  p <- list(alpha = dir_alpha)
  expect_hm_error(ef_log_density(f, p, rbind(c(0.2, 0.3, 0.5), c(0.2, 0.3, 0.6))), "data_support", "2")
  expect_hm_error(ef_log_density(f, p, rbind(c(0, 0.5, 0.5))), "data_support")
  expect_hm_error(ef_fit(f, rbind(c(-0.1, 0.6, 0.5), c(0.2, 0.3, 0.5))), "data_support")
})

# --- Gamma --------------------------------------------------------------------------

gam_two <- list(shape = c(2.385, 0.713), rate = c(1.37, 4.2))

test_that("Gamma statistic is (log x, x), interleaved by unit", {
  x <- cbind(c(0.5, 2, 7.1), c(0.01, 1, 3))
  want <- cbind(log(x[, 1]), x[, 1], log(x[, 2]), x[, 2])
  expect_close(fam_stat(ef_gamma(2), x), want, rtol = 1e-14)
})

test_that("Gamma natural parameters are (shape - 1, -rate)", {
  expect_close(to_natural(ef_gamma(2), gam_two), c(1.385, -1.37, -0.287, -4.2), rtol = 1e-14)
})

test_that("Gamma log density equals the textbook formula and dgamma", {
  f <- ef_gamma(2)
  x <- cbind(c(0.05, 0.7, 1.9, 4.4, 12), c(0.002, 0.1, 0.3, 1.5, 2))
  ld <- ef_log_density(f, gam_two, x)
  expect_close(ld, oracle_gamma_logpdf(x, gam_two$shape, gam_two$rate), rtol = 1e-10)
  want <- dgamma(x[, 1], 2.385, 1.37, log = TRUE) + dgamma(x[, 2], 0.713, 4.2, log = TRUE)
  expect_close(ld, want, rtol = 1e-10)
})

test_that("Gamma density integrates to 1", {
  f <- ef_gamma()
  for (i in 1:2) {
    p <- list(shape = gam_two$shape[i], rate = gam_two$rate[i])
    dens <- function(x) exp(ef_log_density(f, p, x))
    val <- stats::integrate(dens, 0, 1, rel.tol = 1e-10)$value + stats::integrate(dens, 1, Inf, rel.tol = 1e-10)$value
    expect_close(val, 1, rtol = 1e-7, info = sprintf("shape %g", p$shape))
  }
})

test_that("Gamma log-partition and mean map are closed form", {
  f <- ef_gamma(2)
  th <- to_natural(f, gam_two)
  a <- gam_two$shape
  b <- gam_two$rate
  expect_close(fam_psi(f, th), sum(lgamma(a) - a * log(b)), rtol = 1e-13)
  expect_close(fam_eta(f, th), c(rbind(digamma(a) - log(b), a / b)), rtol = 1e-13)
})

test_that("Gamma coordinates round trip (numerical inverse)", {
  f <- ef_gamma(2)
  th <- to_natural(f, gam_two)
  expect_equal(to_source(f, th), gam_two, tolerance = 1e-12)
  expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-10)
  th_wide <- to_natural(ef_gamma(), list(shape = 157.3, rate = 0.021))
  expect_close(fam_theta(ef_gamma(), fam_eta(ef_gamma(), th_wide)), th_wide, rtol = 1e-8)
})

test_that("Gamma Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_gamma(2)
  th <- to_natural(f, gam_two)
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-9, atol = 1e-11)
})

test_that("Gamma to_mean is the gradient of the log-partition", {
  f <- ef_gamma(2)
  th <- to_natural(f, gam_two)
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("Gamma draws are positive with the model's mean statistics", {
  f <- ef_gamma(2)
  seed <- 1618L
  set.seed(seed)
  x <- ef_sample(f, gam_two, 50000)
  expect_true(all(x > 0))
  expect_sample_moments(fam_stat(f, x), to_mean(f, gam_two), seed)
})

gam_data <- function() {
  set.seed(37)
  rgamma(400, shape = 1.9, rate = 0.6) * exp(rnorm(400, 0, 0.2))
}

gam_loglik <- function(par, x) mean(oracle_gamma_logpdf(x, exp(par[1]), exp(par[2])))

test_that("Gamma MLE solves the moment equation", {
  f <- ef_gamma()
  x <- gam_data()
  expect_close(to_mean(f, ef_fit(f, x)), c(mean(log(x)), mean(x)), rtol = 1e-6)
})

test_that("Gamma MLE matches optim on the plain-R log-likelihood", {
  x <- gam_data()
  fit <- ef_fit(ef_gamma(), x)
  opt <- stats::optim(c(0, 0), gam_loglik, x = x, method = "BFGS",
    control = list(fnscale = -1, reltol = 1e-14, maxit = 500))
  expect_gte(gam_loglik(log(c(fit$shape, fit$rate)), x), opt$value - 1e-10)
  expect_close(c(fit$shape, fit$rate), exp(opt$par), rtol = 1e-4)
})

test_that("non-positive Gamma data give harmonium_error_data_support", {
  expect_hm_error(ef_fit(ef_gamma(), c(1.2, 0, 3)), "data_support", "2")
  expect_hm_error(ef_log_density(ef_gamma(), list(shape = 2, rate = 1), c(-1, 3)), "data_support")
})
