# Mixtures as conjugated harmoniums (theory.md 3.1, 7.4): the conjugation
# identity, log p(x) against brute-force marginalisation, the posterior,
# to_natural(to_mean(theta)) = theta, and split/join round trips.

gmm_params <- list(
  weights = c(0.3, 0.45, 0.25),
  components = list(
    list(mean = c(0.3, -1.2), cov = matrix(c(1.3, 0.4, 0.4, 0.8), 2)),
    list(mean = c(2.1, 0.4), cov = matrix(c(0.6, -0.2, -0.2, 2.385), 2)),
    list(mean = c(-1.5, 1.7), cov = matrix(c(0.9, 0, 0, 0.5), 2))
  )
)

test_that("mixture() builds the harmonium descriptor", {
  m <- mixture(ef_normal(2), 3)
  expect_s3_class(m, c("mixture_model", "lvm_model"))
  expect_equal(m$dim, 5 + 5 * 2 + 2)
  expect_equal(m$n_free, 2 + 3 * 5)
  expect_equal(exactness(m), "analytic")
  expect_equal(exactness(mixture(ef_von_mises(), 2)), "differentiable")
  expect_equal(exactness(mixture(ef_product(ef_poisson(), ef_categorical(3)), 2)), "analytic")
  expect_output(print(m), "mixture of 3")
})

test_that("source parameters round trip through natural coordinates", {
  m <- mixture(ef_normal(2), 3)
  th <- to_natural(m, gmm_params)
  back <- to_source(m, th)
  expect_equal(back$weights, gmm_params$weights, tolerance = 1e-12)
  for (j in 1:3) {
    expect_equal(back$components[[j]]$mean, gmm_params$components[[j]]$mean, tolerance = 1e-12)
    expect_equal(back$components[[j]]$cov, gmm_params$components[[j]]$cov, tolerance = 1e-12)
  }
})

test_that("the conjugation identity holds at every class", {
  m <- mixture(ef_normal(2), 3)
  th <- to_natural(m, gmm_params)
  rc <- harmonium:::model_rho_chi(m, th)
  sp <- harmonium:::mixture_split(m, th)
  psi <- function(t) harmonium:::native_family_log_partition(m$component$spec, t)$value
  # psi_X(theta_X + Theta e_k) = rho . e_k + chi, and chi = psi_X(theta_X) at class 1.
  expect_equal(psi(sp$components[1, ]), rc$chi, tolerance = 1e-12)
  for (k in 2:3) expect_equal(psi(sp$components[k, ]), rc$rho[k - 1] + rc$chi, tolerance = 1e-12)
  # The prior theta_Z + rho gives the mixture weights.
  expect_equal(sp$prior, log(gmm_params$weights[-1] / gmm_params$weights[1]), tolerance = 1e-12)
})

test_that("to_natural(to_mean(theta)) = theta for mixtures of several families", {
  cases <- list(
    list(mixture(ef_normal(2), 3), gmm_params),
    list(mixture(ef_normal(2, "diagonal"), 2), list(weights = c(0.35, 0.65), components = list(
      list(mean = c(1, 2), cov = diag(c(0.5, 2.385))), list(mean = c(-1, 0), cov = diag(c(1.7, 0.3)))))),
    list(mixture(ef_normal(3, "isotropic"), 2), list(weights = c(0.6, 0.4), components = list(
      list(mean = c(1, 2, 3), cov = diag(0.7, 3)), list(mean = c(-1, 0, 1), cov = diag(2.385, 3))))),
    list(mixture(ef_poisson(2), 2), list(weights = c(0.3, 0.7), components = list(
      list(rate = c(1.5, 7)), list(rate = c(6.2, 2.385))))),
    list(mixture(ef_product(ef_bernoulli(2), ef_categorical(3)), 2), list(weights = c(0.45, 0.55),
      components = list(list(list(prob = c(0.2, 0.7)), list(prob = c(0.5, 0.3, 0.2))),
        list(list(prob = c(0.9, 0.35)), list(prob = c(0.1, 0.6, 0.3))))))
  )
  for (cs in cases) {
    m <- cs[[1]]
    th <- to_natural(m, cs[[2]])
    eta <- harmonium:::native_model_to_mean(m, th)
    expect_equal(eta$status, 0L)
    back <- harmonium:::native_model_to_natural(m, eta$value, harmonium:::fam_ctrl())
    expect_equal(back$status, 0L)
    expect_equal(back$value, th, tolerance = 1e-8, info = m$label)
  }
})

test_that("log p(x) and the posterior equal brute-force marginalisation", {
  m <- mixture(ef_normal(2), 3)
  set.seed(11)
  x <- matrix(rnorm(200, sd = 2), 100, 2)
  f <- with_params(m, gmm_params, data = x)
  expect_equal(log_density(f), oracle_mixture_logp(m$component, gmm_params, x), tolerance = 1e-10)
  expect_equal(unname(posterior(f)), oracle_mixture_post(m$component, gmm_params, x), tolerance = 1e-10)
  expect_equal(as.numeric(logLik(f)), sum(oracle_mixture_logp(m$component, gmm_params, x)),
    tolerance = 1e-10)
  expect_equal(rowSums(posterior(f)), rep(1, 100), tolerance = 1e-14)
})

test_that("log p(x) is exact for Poisson, categorical and von Mises mixtures", {
  mp <- mixture(ef_poisson(), 2)
  pp <- list(weights = c(0.4, 0.6), components = list(list(rate = 2.385), list(rate = 9.1)))
  x <- c(0, 1, 3, 7, 12, 20)
  expect_equal(log_density(with_params(mp, pp, x)),
    oracle_mixture_logp(mp$component, pp, matrix(x)), tolerance = 1e-10)
  mc <- mixture(ef_categorical(c("a", "b", "c")), 2)
  pc <- list(weights = c(0.3, 0.7), components = list(
    list(prob = c(0.2, 0.5, 0.3)), list(prob = c(0.6, 0.1, 0.3))))
  xc <- factor(c("a", "c", "b", "a"), levels = c("a", "b", "c"))
  expect_equal(log_density(with_params(mc, pc, xc)),
    oracle_mixture_logp(mc$component, pc, matrix(as.integer(xc) - 1)), tolerance = 1e-10)
  mv <- mixture(ef_von_mises(), 2)
  pv <- list(weights = c(0.5, 0.5), components = list(list(mean = 0.5, kappa = 2.385), list(mean = -2, kappa = 0.7)))
  xv <- c(-3, -1, 0, 0.4, 2.9)
  expect_equal(log_density(with_params(mv, pv, xv)),
    oracle_mixture_logp(mv$component, pv, matrix(xv)), tolerance = 1e-10)
})

test_that("a one-component mixture is the family itself", {
  m <- mixture(ef_normal(2), 1)
  x <- as.matrix(faithful)
  f <- fit_lvm(m, x)
  mle <- ef_fit(ef_normal(2), x)
  expect_equal(f$params$components[[1]]$mean, mle$mean, tolerance = 1e-10, ignore_attr = TRUE)
  expect_equal(f$params$components[[1]]$cov, mle$cov, tolerance = 1e-10, ignore_attr = TRUE)
  expect_equal(f$loglik, sum(ef_log_density(ef_normal(2), mle, x)), tolerance = 1e-10)
})

test_that("the E-step over all rows equals the sum over chunks", {
  m <- mixture(ef_normal(2), 3)
  th <- to_natural(m, gmm_params)
  set.seed(3)
  x <- matrix(rnorm(5000), 2500, 2)
  all <- harmonium:::native_model_estep(m, th, x, logp = FALSE, post = FALSE)$stats
  parts <- harmonium:::native_model_estep(m, th, x[1:1234, ], logp = FALSE, post = FALSE)$stats +
    harmonium:::native_model_estep(m, th, x[1235:2500, ], logp = FALSE, post = FALSE)$stats
  expect_equal(all, parts, tolerance = 1e-12)
})

test_that("the E-step is bit-identical for 1 and 2 threads", {
  m <- mixture(ef_normal(3), 4)
  set.seed(5)
  x <- matrix(rnorm(3 * 20000), 20000, 3)
  f <- fit_lvm(m, x, control = lvm_control(maxit = 3, threads = 1)) |> suppressWarnings()
  s1 <- harmonium:::native_model_estep(m, f$theta, x, threads = 1L)
  s2 <- harmonium:::native_model_estep(m, f$theta, x, threads = 2L)
  expect_identical(s1$stats, s2$stats)
  expect_identical(s1$logp, s2$logp)
  g <- fit_lvm(m, x, control = lvm_control(maxit = 3, threads = 2)) |> suppressWarnings()
  expect_identical(f$params, g$params)
})

test_that("ancestral sampling reproduces the mixture's moments", {
  m <- mixture(ef_normal(2), 3)
  f <- with_params(m, gmm_params)
  s <- simulate(f, 50000, seed = 7)
  expect_equal(dim(s), c(50000L, 2L))
  expect_equal(as.numeric(table(attr(s, "latent")) / 50000), gmm_params$weights, tolerance = 0.02)
  mu <- Reduce(`+`, Map(function(w, p) w * p$mean, gmm_params$weights, gmm_params$components))
  expect_equal(unname(colMeans(s)), mu, tolerance = 0.03)
  expect_identical(simulate(f, 10, seed = 7), simulate(f, 10, seed = 7))
})

# Which path runs (serial below the threshold) is not observable from R; what
# is: the threshold round-trips, and fits do not depend on it or on threads.
test_that("the serial threshold is settable and fits do not depend on it", {
  old <- harmonium:::parallel_min_work(262144)
  on.exit(harmonium:::parallel_min_work(old))
  expect_identical(harmonium:::parallel_min_work(262144), 262144)
  m <- mixture(ef_product(ef_categorical(3), ef_categorical(2), ef_categorical(2), ef_categorical(3)), 3)
  ctl <- function(t) lvm_control(n_init = 2, seed = 3, threads = t, maxit = 50, tol = 0)
  # 50 iterations, short of convergence (a warning before tol = 0 meant "exactly maxit").
  fit <- function(t) suppressWarnings(fit_lvm(m, gss82, control = ctl(t)))
  serial <- fit(2)
  harmonium:::parallel_min_work(0)
  threaded <- fit(2)
  one <- fit(1)
  expect_identical(threaded$params, serial$params)
  expect_identical(threaded$trace, serial$trace)
  expect_identical(one$trace, serial$trace)
  expect_error(harmonium:::parallel_min_work(-1), "non-negative")
})
