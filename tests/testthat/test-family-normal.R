# ef_normal() (R/family-normal.R; theory.md 2.7 and 7.4): full, diagonal and
# isotropic covariance against the Cholesky oracle of helper-oracle-family.R.

normal_cases <- function() {
  mu <- c(1.25, -0.615, 0.382)
  list(
    full = list(mean = mu, cov = matrix(c(
      2.385, 0.617, -0.413,
      0.617, 1.342, 0.284,
      -0.413, 0.284, 0.951
    ), 3)),
    diagonal = list(mean = mu, cov = diag(c(2.385, 0.713, 1.466))),
    isotropic = list(mean = mu, cov = diag(1.873, 3))
  )
}

normal_points <- rbind(
  c(0, 0, 0),
  c(1.25, -0.615, 0.382),
  c(-2.2, 3.1, 0.7),
  c(4.05, -1.9, -2.6),
  c(0.3, 0.1, 1.9)
)

test_that("normal sufficient statistics follow the packed layout of theory.md 2.7", {
  for (cv in names(normal_cases())) {
    f <- ef_normal(3, cv)
    want <- t(apply(normal_points, 1, oracle_normal_stat, covariance = cv))
    expect_close(fam_stat(f, normal_points), want, rtol = 1e-14, info = cv)
  }
})

test_that("normal dimensions match the documented sizes", {
  expect_identical(c(ef_normal(3)$d, ef_normal(3)$dim), c(3L, 9L))
  expect_identical(ef_normal(3, "diagonal")$dim, 6L)
  expect_identical(ef_normal(3, "isotropic")$dim, 4L)
  expect_identical(ef_normal()$dim, 2L)
})

test_that("normal to_natural gives P mu and the scaled packed precision", {
  for (cv in names(normal_cases())) {
    p <- normal_cases()[[cv]]
    f <- ef_normal(3, cv)
    expect_close(to_natural(f, p), oracle_normal_natural(p$mean, p$cov, cv), rtol = 1e-12, info = cv)
  }
})

test_that("normal log density equals the Cholesky oracle", {
  for (cv in names(normal_cases())) {
    p <- normal_cases()[[cv]]
    f <- ef_normal(3, cv)
    expect_close(ef_log_density(f, p, normal_points), oracle_normal_logpdf(normal_points, p$mean, p$cov),
      rtol = 1e-10, info = cv
    )
  }
})

test_that("univariate normal log density equals dnorm", {
  x <- c(-3.7, -0.2, 0.731, 1.9, 6.4)
  f <- ef_normal()
  p <- list(mean = 0.731, cov = matrix(2.385))
  expect_close(ef_log_density(f, p, x), dnorm(x, 0.731, sqrt(2.385), log = TRUE), rtol = 1e-10)
})

test_that("univariate normal density integrates to 1", {
  f <- ef_normal()
  p <- list(mean = 0.731, cov = matrix(2.385))
  val <- stats::integrate(function(x) exp(ef_log_density(f, p, x)), -Inf, Inf, rel.tol = 1e-10)$value
  expect_close(val, 1, rtol = 1e-8)
})

test_that("bivariate normal density equals the oracle on a grid", {
  f <- ef_normal(2)
  p <- list(mean = c(0.4, -1.1), cov = matrix(c(2.385, -0.81, -0.81, 0.93), 2))
  g <- as.matrix(expand.grid(seq(-4, 5, by = 0.75), seq(-4.5, 2.5, by = 0.7)))
  expect_close(ef_log_density(f, p, g), oracle_normal_logpdf(g, p$mean, p$cov), rtol = 1e-10)
})

test_that("normal source parameters round trip through natural coordinates", {
  for (cv in names(normal_cases())) {
    p <- normal_cases()[[cv]]
    f <- ef_normal(3, cv)
    back <- to_source(f, to_natural(f, p))
    expect_equal(back, p, tolerance = 1e-10, info = cv)
  }
})

test_that("normal natural -> mean -> natural round trips", {
  for (cv in names(normal_cases())) {
    f <- ef_normal(3, cv)
    th <- to_natural(f, normal_cases()[[cv]])
    expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-10, info = cv)
  }
})

test_that("normal log-partition equals 1/2 theta1' Sigma theta1 + 1/2 log|Sigma|", {
  for (cv in names(normal_cases())) {
    p <- normal_cases()[[cv]]
    f <- ef_normal(3, cv)
    th1 <- solve(p$cov, p$mean)
    want <- 0.5 * sum(th1 * (p$cov %*% th1)) + 0.5 * as.numeric(determinant(p$cov)$modulus)
    expect_close(fam_psi(f, to_natural(f, p)), want, rtol = 1e-12, info = cv)
  }
})

test_that("normal mean parameters are the mean and packed second moments", {
  for (cv in names(normal_cases())) {
    p <- normal_cases()[[cv]]
    f <- ef_normal(3, cv)
    M <- p$cov + outer(p$mean, p$mean)
    second <- switch(cv, full = oracle_pack(M), diagonal = diag(M), isotropic = mean(diag(M)))
    expect_close(to_mean(f, p), c(p$mean, second), rtol = 1e-12, info = cv)
  }
})

test_that("normal Legendre identity phi(eta) = theta . eta - psi(theta)", {
  for (cv in names(normal_cases())) {
    f <- ef_normal(3, cv)
    th <- to_natural(f, normal_cases()[[cv]])
    eta <- fam_eta(f, th)
    expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-10, info = cv)
  }
})

test_that("normal negative entropy is -1/2 log|Sigma| - d/2 (pure Legendre dual)", {
  for (cv in names(normal_cases())) {
    p <- normal_cases()[[cv]]
    f <- ef_normal(3, cv)
    want <- -0.5 * as.numeric(determinant(p$cov)$modulus) - 3 / 2
    expect_close(fam_phi(f, to_mean(f, p)), want, rtol = 1e-10, info = cv)
  }
})

test_that("normal to_mean is the gradient of the log-partition", {
  for (cv in names(normal_cases())) {
    f <- ef_normal(3, cv)
    th <- to_natural(f, normal_cases()[[cv]])
    expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-7, info = cv)
  }
})

test_that("normal draws have the model's mean statistics", {
  for (cv in names(normal_cases())) {
    p <- normal_cases()[[cv]]
    f <- ef_normal(3, cv)
    seed <- 7301L
    set.seed(seed)
    x <- ef_sample(f, p, 50000)
    expect_sample_moments(fam_stat(f, x), to_mean(f, p), seed)
  }
})

test_that("normal draws are an n x d numeric matrix", {
  set.seed(11)
  x <- ef_sample(ef_normal(3), normal_cases()$full, 7)
  expect_true(is.matrix(x) && is.double(x))
  expect_identical(dim(x), c(7L, 3L))
})

test_that("ef_sample is reproducible under set.seed", {
  f <- ef_normal(3)
  set.seed(2385)
  a <- ef_sample(f, normal_cases()$full, 25)
  set.seed(2385)
  b <- ef_sample(f, normal_cases()$full, 25)
  expect_identical(a, b)
})

normal_data <- function() {
  set.seed(20240917)
  S <- normal_cases()$full$cov
  z <- matrix(rnorm(600), 200, 3) %*% chol(S)
  sweep(z, 2, c(1.25, -0.615, 0.382), "+")
}

cov_n <- function(x) {
  xc <- sweep(x, 2, colMeans(x))
  crossprod(xc) / nrow(x)
}

test_that("full normal MLE is the sample mean and divisor-n covariance", {
  x <- normal_data()
  fit <- ef_fit(ef_normal(3), x)
  expect_close(fit$mean, colMeans(x), rtol = 1e-10)
  expect_close(fit$cov, cov_n(x), rtol = 1e-9)
})

test_that("diagonal normal MLE is the sample mean and divisor-n variances", {
  x <- normal_data()
  fit <- ef_fit(ef_normal(3, "diagonal"), x)
  expect_close(c(fit$mean, fit$cov), c(colMeans(x), diag(diag(cov_n(x)))), rtol = 1e-9, atol = 1e-14)
})

test_that("isotropic normal MLE pools the divisor-n variances", {
  x <- normal_data()
  fit <- ef_fit(ef_normal(3, "isotropic"), x)
  expect_close(c(fit$mean, fit$cov), c(colMeans(x), diag(mean(diag(cov_n(x))), 3)), rtol = 1e-9, atol = 1e-14)
})

test_that("integer case weights equal replicated rows in ef_fit", {
  x <- normal_data()[1:40, ]
  w <- rep(1:4, 10)
  expect_equal(ef_fit(ef_normal(3), x, weights = w), ef_fit(ef_normal(3), x[rep(1:40, w), ]),
    tolerance = 1e-10
  )
})

test_that("a data frame gives the same log density as a matrix", {
  p <- normal_cases()$full
  df <- as.data.frame(normal_points)
  expect_identical(ef_log_density(ef_normal(3), p, df), ef_log_density(ef_normal(3), p, normal_points))
})

test_that("the three covariance types agree at an isotropic covariance", {
  p <- list(mean = c(-0.42, 1.7, 0.05), cov = diag(2.385, 3))
  ld <- vapply(c("full", "diagonal", "isotropic"), function(cv) ef_log_density(ef_normal(3, cv), p, normal_points),
    numeric(nrow(normal_points)))
  expect_close(ld[, "diagonal"], ld[, "full"], rtol = 1e-12)
  expect_close(ld[, "isotropic"], ld[, "full"], rtol = 1e-12)
})
