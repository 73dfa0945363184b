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
  expect_true(all(diff(gr2$trace) >= 0))
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
