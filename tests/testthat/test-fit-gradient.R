# Gradient learning (theory.md 1.5): the engine's exact gradient against
# finite differences of the exact log-likelihood, the chain rule through the
# reparameterisation, and gradient fits reaching EM's optimum.

fd_gradient <- function(f, x, h = 1e-5) {
  vapply(seq_along(x), function(i) {
    e <- numeric(length(x))
    e[i] <- h
    (f(x + e) - f(x - e)) / (2 * h)
  }, numeric(1))
}

test_that("the engine gradient equals finite differences of log p(x)", {
  set.seed(21)
  cases <- list(
    list(mixture(ef_von_mises(), 3), matrix(c(rnorm(40, 1), rnorm(40, -2)), ncol = 1)),
    list(mixture(ef_poisson(2), 2), matrix(rpois(60, 4), ncol = 2)),
    list(mixture(ef_normal(2, "diagonal"), 2), matrix(rnorm(80), ncol = 2)),
    list(mixture(ef_com_poisson(), 2), matrix(rpois(50, 6), ncol = 1))
  )
  for (cs in cases) {
    m <- cs[[1]]
    x <- cs[[2]]
    storage.mode(x) <- "double"
    f <- suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 2)))
    th <- f$theta
    g <- harmonium:::native_model_gradient(m, th, x)
    expect_equal(g$status, 0L)
    ll <- function(t) harmonium:::native_model_estep(m, t, x, logp = FALSE, post = FALSE)$stats[m$dim + 1]
    expect_equal(g$value, ll(th), tolerance = 1e-12)
    expect_equal(g$gradient, fd_gradient(ll, th), tolerance = 1e-5, info = m$label)
  }
})

test_that("the reparameterised gradient equals finite differences in u", {
  set.seed(22)
  x <- matrix(as.double(c(rpois(40, 2), rpois(40, 12))), ncol = 1)
  for (m in list(mixture(ef_com_poisson(), 2), mixture(ef_gamma(), 2))) {
    xx <- if (m$component$name == "gamma") x + 0.5 else x
    f <- suppressWarnings(fit_lvm(m, xx, control = lvm_control(maxit = 2)))
    pr <- harmonium:::gradient_problem(m, NULL)
    u <- pr$to_u(f$theta)
    expect_equal(pr$from_u(u), f$theta, tolerance = 1e-12)
    g <- harmonium:::native_model_gradient(m, f$theta, xx)
    gu <- pr$grad_u(u, f$theta, g$gradient)
    ll <- function(v) harmonium:::native_model_gradient(m, pr$from_u(v), xx)$value
    expect_equal(gu, fd_gradient(ll, u), tolerance = 1e-5, info = m$label)
  }
})

test_that("gradient fits reach the EM optimum for von Mises and CoM-Poisson mixtures", {
  set.seed(23)
  xv <- c(rnorm(150, 0.5, 0.4), rnorm(100, 2.8, 0.6))
  mv <- mixture(ef_von_mises(), 2)
  em <- fit_lvm(mv, xv, control = lvm_control(tol = 1e-12))
  gr <- fit_lvm(mv, xv, method = "gradient", control = lvm_control(tol = 1e-14, maxit = 5000))
  expect_equal(gr$loglik, em$loglik, tolerance = 1e-7)
  expect_equal(sort(gr$params$weights), sort(em$params$weights), tolerance = 1e-4)
  ad <- fit_lvm(mv, xv, method = "gradient",
    control = lvm_control(optimizer = "adam", lr = 0.05, maxit = 4000, tol = 1e-12))
  expect_equal(ad$loglik, em$loglik, tolerance = 1e-5)
  yc <- c(rpois(200, 3), rpois(100, 15))
  mc <- mixture(ef_com_poisson(), 2)
  em2 <- fit_lvm(mc, yc, control = lvm_control(tol = 1e-12))
  gr2 <- fit_lvm(mc, yc, method = "gradient", control = lvm_control(tol = 1e-14, maxit = 5000))
  expect_equal(gr2$loglik, em2$loglik, tolerance = 1e-7)
  modes_em <- sort(vapply(em2$params$components, function(p) p$mode, 0))
  modes_gr <- sort(vapply(gr2$params$components, function(p) p$mode, 0))
  expect_equal(modes_gr, modes_em, tolerance = 1e-3)
  expect_true(gr2$converged)
  expect_identical(gr2$method, "gradient")
})

test_that("method = 'auto' uses EM and unsupported gradients are classed errors", {
  f <- fit_lvm(mixture(ef_normal(2), 2), faithful)
  expect_identical(f$method, "em")
  expect_error(fit_lvm(mixture(ef_normal(2), 2), faithful, method = "gradient"),
    class = "harmonium_error_unsupported")
  expect_error(lvm_control(optimizer = "sgd"), class = "harmonium_error_argument")
})

test_that("Gaussian-Boltzmann harmoniums: exact gradient and the EM optimum", {
  set.seed(24)
  x <- rbind(matrix(rnorm(400, sd = 0.4), 200), matrix(rnorm(400, 2, 0.4), 200),
    cbind(rnorm(200, 2, 0.4), rnorm(200, 0, 0.4)))
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 2)
  em <- fit_lvm(m, x, control = lvm_control(tol = 1e-12, maxit = 5000))
  gr <- fit_lvm(m, x, method = "gradient", control = lvm_control(tol = 1e-15, maxit = 5000))
  expect_equal(gr$loglik, em$loglik, tolerance = 1e-7)
  xs <- harmonium:::scale_data(em$scaler, x)
  th <- em$theta + 0.01
  g <- harmonium:::native_model_gradient(m, th, xs)
  ll <- function(t) harmonium:::native_model_gradient(m, t, xs)$value
  expect_equal(g$gradient, fd_gradient(ll, th), tolerance = 1e-5)
  expect_error(fit_lvm(factor_analysis(4, 1), iris[, 1:4], method = "gradient"),
    class = "harmonium_error_unsupported")
})

test_that("the restricted-posterior LGM reaches factor analysis's maximum by gradient", {
  x <- as.matrix(mtcars[, 1:6])
  # (mtcars is a Heywood case: the reference EM is left unbounded, as the
  # gradient fit is)
  fa <- suppressWarnings(fit_lvm(factor_analysis(6, 2), x, control = lvm_control(tol = 1e-13, maxit = 50000,
    lower = 0)))
  md <- lgm(ef_normal(6, "diagonal"), 2, posterior = "diagonal")
  expect_equal(exactness(md), "differentiable")
  f <- fit_lvm(md, x, control = lvm_control(tol = 1e-15, maxit = 5000))
  expect_identical(f$method, "gradient")
  expect_equal(f$loglik, fa$loglik, tolerance = 1e-6)
  # Its factor scores have a diagonal posterior covariance.
  V <- attr(posterior(f), "cov")
  expect_equal(V[1, 2], 0, tolerance = 1e-8)
  expect_equal(f$loglik, sum(oracle_dmvnorm(x, f$params$mean, tcrossprod(f$params$loadings) + f$params$cov)),
    tolerance = 1e-10)
  expect_error(fit_lvm(md, x, method = "em"), class = "harmonium_error_unsupported")
})

test_that("the mean-field Gaussian-Boltzmann harmonium: exact log p(x) and gradient", {
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 2, posterior = "mean_field")
  A <- matrix(c(1.2, 0.3, -0.4, 0.9), 2)
  Psi <- diag(c(0.5, 0.8))
  p <- list(offset = c(0.2, -0.3), loadings = A, cov = Psi, prior = list(bias = c(0.4, -0.7)))
  f <- with_params(m, p, matrix(c(0, 1, -1, 0.5, 2, 0), 3))
  # The prior couplings are implied by the loadings.
  C <- crossprod(A, solve(Psi, A))
  expect_equal(f$params$prior$coupling[1, 2], C[1, 2], tolerance = 1e-10)
  Z <- as.matrix(expand.grid(0:1, 0:1))
  e <- as.vector(Z %*% p$prior$bias) + C[1, 2] * Z[, 1] * Z[, 2]
  lpz <- e - log(sum(exp(e)))
  x <- f$x
  ref <- log(rowSums(sapply(1:4, function(s) exp(lpz[s] + oracle_dmvnorm(x, as.vector(A %*% Z[s, ]) + p$offset, Psi)))))
  expect_equal(log_density(f), ref, tolerance = 1e-10)
  expect_error(with_params(m, list(offset = p$offset, loadings = A, cov = Psi,
    prior = list(bias = c(0, 0), coupling = matrix(c(0, 5, 5, 0), 2)))), class = "harmonium_error_params")
  set.seed(31)
  sim <- simulate(with_params(m, p), 400, seed = 5)
  fit <- fit_lvm(m, sim, control = lvm_control(tol = 1e-14, maxit = 3000))
  truth <- sum(log_density(with_params(m, p, sim)))
  expect_gte(fit$loglik, truth - 1e-6 * abs(truth))
})

test_that("contrastive divergence runs as an option and is checked against the exact gradient", {
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 2, posterior = "mean_field")
  p <- list(offset = c(0.2, -0.3), loadings = matrix(c(0.6, 0.1, -0.2, 0.5), 2), cov = diag(c(0.5, 0.8)),
    prior = list(bias = c(0.4, -0.7)))
  sim <- simulate(with_params(m, p), 300, seed = 6)
  f0 <- with_params(m, p, sim)
  xs <- f0$x
  set.seed(7)
  draws <- sapply(1:400, function(i) harmonium:::native_model_cd_gradient(m, f0$theta, xs, 30)$gradient)
  ex <- harmonium:::native_model_gradient(m, f0$theta, xs)$gradient
  se <- apply(draws, 1, sd) / sqrt(ncol(draws))
  expect_true(all(abs(rowMeans(draws) - ex) < 5 * se + 1e-8), info = "seed 7")
  # From a poor start, CD-5 training must recover most of the log-likelihood
  # gain of the exact fit (a wrong sign or scale would recover none: the fit
  # is the best point seen, so a failing CD returns the start).
  p0 <- list(offset = c(0, 0), loadings = matrix(c(0.3, 0, 0, 0.3), 2), cov = diag(c(1.5, 1.5)),
    prior = list(bias = c(0, 0)))
  l0 <- with_params(m, p0, sim)$loglik
  ex_fit <- fit_lvm(m, sim, init = p0, control = lvm_control(tol = 1e-14, maxit = 3000))
  set.seed(8)
  fit <- suppressWarnings(fit_lvm(m, sim, init = p0, method = "gradient",
    control = lvm_control(cd_k = 5, lr = 0.02, maxit = 2000, tol = 1e-6)))
  expect_gt(fit$loglik, l0 + 0.8 * (ex_fit$loglik - l0))
  expect_lte(fit$loglik, ex_fit$loglik + 1e-6 * abs(ex_fit$loglik))
  expect_error(fit_lvm(mixture(ef_von_mises(), 2), c(0.1, 0.2, 3, 3.1), method = "gradient",
    control = lvm_control(cd_k = 2)), class = "harmonium_error_unsupported")
})

test_that("restricted-posterior models with a full observable say what to change", {
  X <- scale(as.matrix(mtcars[, 1:4]))
  for (m in list(lgm(ef_normal(4), 2, posterior = "diagonal"),
    boltzmann_lgm(ef_normal(4), 2, posterior = "mean_field"))) {
    expect_error(fit_lvm(m, X), "no EM either.*diagonal", class = "harmonium_error_unsupported")
  }
  expect_error(fit_lvm(lgm(ef_normal(4), 2), X, method = "gradient"), "method = \"em\"",
    class = "harmonium_error_unsupported")
})
