# harmonium() (api.md) and the Categorical-Dirichlet harmonium of theory.md
# 3.5: exact sequential posteriors, the Dirichlet-categorical predictive,
# the Dirichlet-multinomial marginal likelihood, the conjugation identity,
# the closed-form moments, EM on the prior, dispatch to the linear Gaussian
# models, classed errors; and the engine's generic posterior fold on the
# other symmetric kinds against plain-R Bayesian updating.

lev3 <- c("a", "b", "c")
catdir3 <- function() harmonium(ef_categorical(lev3), ef_dirichlet(3))

# A fixed sequence with every level, in user coding.
seq30 <- function() {
  set.seed(20240501)
  sample(lev3, 30, replace = TRUE, prob = c(0.5, 0.2, 0.3))
}

test_that("harmonium() builds the Categorical-Dirichlet model", {
  m <- catdir3()
  expect_s3_class(m, c("conjugate_model", "lvm_model"), exact = TRUE)
  expect_identical(m$kind, "categorical_dirichlet")
  expect_identical(m$hm_kind, 6L)
  expect_identical(m$obs$name, "categorical")
  expect_identical(m$lat$name, "dirichlet")
  expect_equal(m$dim, 2 + 2 * 3 + 3)
  expect_equal(m$post_len, 3)
  expect_equal(m$n_free, 2)
  expect_output(print(m), "Categorical-Dirichlet harmonium \\(3 levels\\)")
  th <- to_natural(m, list(alpha = c(0.5, 1.5, 2.385)))
  # theta_X = 0, W rows e_i - e_0, theta_Z = alpha - rho = alpha + e_0.
  expect_equal(th, c(0, 0, -1, 1, 0, -1, 0, 1, 1.5, 1.5, 2.385))
  expect_equal(to_source(m, th)$alpha, c(a = 0.5, b = 1.5, c = 2.385))
  # Named alpha in another order is matched to the levels.
  expect_equal(to_natural(m, list(alpha = c(c = 2.385, a = 0.5, b = 1.5))), th)
})

test_that("the posterior after each observation is alpha plus the running counts", {
  m <- catdir3()
  x <- seq30()
  alpha <- c(0.5, 0.5, 0.5)
  fit <- with_params(m, list(alpha = alpha), data = x)
  post <- posterior(fit)
  expect_equal(dim(post), c(30L, 3L))
  expect_identical(colnames(post), lev3)
  counts <- apply(outer(x, lev3, "=="), 2, cumsum)
  expect_equal(unname(post), unname(sweep(counts, 2, alpha, "+")), tolerance = 1e-14)
  # A high-entropy prior and a factor column give the same update.
  alpha2 <- c(0.73, 2.385, 1.1)
  post2 <- posterior(with_params(m, list(alpha = alpha2), data = data.frame(y = factor(x, lev3))))
  expect_equal(unname(post2), unname(sweep(counts, 2, alpha2, "+")), tolerance = 1e-14)
  # newdata: the fold over the new rows from the fit's prior.
  expect_equal(unname(posterior(fit, c("c", "c", "a"))),
    rbind(c(0.5, 0.5, 1.5), c(0.5, 0.5, 2.5), c(1.5, 0.5, 2.5)))
})

test_that("log p(x) is the Dirichlet-categorical predictive at the prior", {
  m <- catdir3()
  x <- seq30()
  alpha <- c(0.73, 2.385, 1.1)
  fit <- with_params(m, list(alpha = alpha), data = x)
  code <- match(x, lev3)
  expect_equal(log_density(fit), log(alpha[code] / sum(alpha)), tolerance = 1e-14)
  expect_equal(as.numeric(logLik(fit)), sum(log(alpha[code] / sum(alpha))), tolerance = 1e-13)
  expect_equal(sum(exp(log_density(fit, lev3))), 1, tolerance = 1e-14)
})

test_that("the sequential predictive sums to the Dirichlet-multinomial marginal likelihood", {
  m <- catdir3()
  x <- seq30()
  alpha <- c(0.73, 2.385, 1.1)
  post <- posterior(with_params(m, list(alpha = alpha), data = x))
  prev <- rbind(alpha, post[-nrow(post), ])
  code <- match(x, lev3)
  seq_lp <- log(prev[cbind(seq_along(code), code)] / rowSums(prev))
  n <- tabulate(code, 3)
  dm <- lgamma(sum(alpha)) - lgamma(sum(alpha) + length(x)) + sum(lgamma(alpha + n) - lgamma(alpha))
  expect_equal(sum(seq_lp), dm, tolerance = 1e-12)
})

test_that("the conjugation identity holds at random points of the simplex", {
  m <- harmonium(ef_categorical(4), ef_dirichlet(4))
  th <- to_natural(m, list(alpha = c(0.73, 2.385, 1.1, 0.41)))
  rc <- harmonium:::model_rho_chi(m, th)
  expect_equal(rc$rho, c(-1, 0, 0, 0))
  expect_equal(rc$chi, 0)
  W <- matrix(th[3 + seq_len(12)], 3, 4, byrow = TRUE)
  set.seed(7)
  for (r in 1:20) {
    z <- stats::rexp(4)
    z <- z / sum(z)
    lik <- th[1:3] + as.vector(W %*% log(z))
    psi_x <- harmonium:::native_family_log_partition(m$obs$spec, lik)$value
    expect_equal(psi_x, sum(rc$rho * log(z)) + rc$chi, tolerance = 1e-13)
    # ... which is the categorical log-partition of the log-odds of z.
    expect_equal(psi_x, log(1 + sum(z[-1] / z[1])), tolerance = 1e-13)
  }
  # The log-partition is psi_Dir(alpha) + chi.
  a <- c(0.73, 2.385, 1.1, 0.41)
  expect_equal(harmonium:::model_log_partition(m, th), sum(lgamma(a)) - lgamma(sum(a)), tolerance = 1e-14)
})

test_that("mean coordinates are the closed-form Dirichlet-categorical moments", {
  m <- harmonium(ef_categorical(4), ef_dirichlet(4))
  a <- c(0.73, 2.385, 1.1, 0.41)
  A <- sum(a)
  eta <- to_mean(m, list(alpha = a))
  cross <- t(vapply(2:4, function(i) {
    a[i] / A * (digamma(a + (seq_along(a) == i)) - digamma(A + 1))
  }, numeric(4)))
  expect_equal(eta, c(a[-1] / A, as.vector(t(cross)), digamma(a) - digamma(A)), tolerance = 1e-13)
  # E[z_1 log z_0] at K = 2 by integrating the Beta density.
  m2 <- harmonium(ef_categorical(2), ef_dirichlet(2))
  a2 <- c(3.1, 2.385)
  e2 <- to_mean(m2, list(alpha = a2))
  f <- function(t, g) g(t) * stats::dbeta(t, a2[2], a2[1])
  expect_equal(e2[2], stats::integrate(f, 0, 1, g = function(t) t * log1p(-t), rel.tol = 1e-12)$value,
    tolerance = 1e-9)
  expect_equal(e2[3], stats::integrate(f, 0, 1, g = function(t) t * log(t), rel.tol = 1e-12)$value,
    tolerance = 1e-9)
})

test_that("EM on the prior is monotone and reaches the observed frequencies", {
  m <- catdir3()
  x <- seq30()
  fit <- fit_lvm(m, x, control = lvm_control(tol = 1e-12, maxit = 5000))
  expect_s3_class(fit, c("categorical_dirichlet_fit", "lvm_fit"))
  expect_true(fit$converged)
  expect_true(all(diff(fit$trace) >= -1e-12 * abs(fit$trace[-1])))
  p_hat <- as.vector(table(factor(x, lev3))) / length(x)
  a <- coef(fit)$alpha
  expect_identical(names(a), lev3)
  expect_equal(unname(a / sum(a)), p_hat, tolerance = 1e-4)
  # The maximum of the independent-rows likelihood sum n_i log p_i.
  expect_equal(fit$loglik, sum(30 * p_hat * log(p_hat)), tolerance = 1e-6)
  # The total concentration stays near the start's (the number of levels).
  expect_lt(abs(sum(a) - 3), 0.5)
  # posterior() of the fit is the fold from the fitted prior.
  post <- posterior(fit)
  expect_equal(unname(post[30, ]), unname(a + as.vector(table(factor(x, lev3)))), tolerance = 1e-12)
  expect_output(print(fit), "prior alpha: a = ")
})

test_that("gradient ascent on log(alpha) reaches the same maximum", {
  m <- catdir3()
  x <- seq30()
  fe <- fit_lvm(m, x, control = lvm_control(tol = 1e-12, maxit = 5000))
  fg <- fit_lvm(m, x, method = "gradient", control = lvm_control(tol = 1e-12, maxit = 500))
  expect_equal(fg$loglik, fe$loglik, tolerance = 1e-8)
  a <- coef(fg)$alpha
  expect_equal(unname(a / sum(a)), as.vector(table(factor(x, lev3))) / 30, tolerance = 1e-4)
})

test_that("simulation draws categories and Dirichlet latents", {
  m <- catdir3()
  fit <- with_params(m, list(alpha = c(2, 1, 1)))
  s <- simulate(fit, 2000, seed = 3)
  expect_s3_class(s[[1]], "factor")
  z <- attr(s, "latent")
  expect_equal(dim(z), c(2000L, 3L))
  expect_equal(rowSums(z), rep(1, 2000), tolerance = 1e-12)
  expect_equal(as.vector(table(s[[1]])) / 2000, c(0.5, 0.25, 0.25), tolerance = 0.1)
})

test_that("harmonium() dispatches the Normal pairs to lgm() and boltzmann_lgm()", {
  h1 <- harmonium(ef_normal(4, "diagonal"), ef_normal(2))
  l1 <- lgm(ef_normal(4, "diagonal"), 2)
  expect_s3_class(h1, "lgm_model")
  expect_identical(h1[c("kind", "hm_kind", "p", "q", "label", "n_free")], l1[c("kind", "hm_kind", "p", "q", "label", "n_free")])
  h2 <- harmonium(ef_normal(2), ef_boltzmann(3))
  b2 <- boltzmann_lgm(ef_normal(2), 3)
  expect_identical(h2[c("kind", "hm_kind", "p", "q", "label", "n_free")], b2[c("kind", "hm_kind", "p", "q", "label", "n_free")])
})

test_that("unsupported pairs and wrong levels are classed errors", {
  expect_error(harmonium(ef_poisson(), ef_gamma()), class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_poisson(), ef_gamma()), "ef_categorical\\(k\\)")
  expect_error(harmonium(ef_dirichlet(3), ef_categorical(3)), class = "harmonium_error_unsupported")
  expect_s3_class(harmonium(ef_normal(3), mixture(ef_normal(1), 2)), "hmog_model")
  expect_error(harmonium(ef_poisson(), mixture(ef_normal(1), 2)), class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_normal(3), ef_normal(1, "diagonal")), class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_normal(3), "normal"), class = "harmonium_error_argument")
  expect_error(harmonium(ef_categorical(3), ef_dirichlet(4)), class = "harmonium_error_argument")
  expect_error(harmonium(ef_categorical(3), ef_dirichlet(4)), "ef_dirichlet\\(3\\)")
  m <- catdir3()
  expect_error(with_params(m, list(alpha = c(1, 1, 1)), data = c("a", "z")), class = "harmonium_error_data_levels")
  expect_error(with_params(m, list(alpha = c(1, 1, 1)), data = c(1, 4)), class = "harmonium_error_data_support")
  expect_error(to_natural(m, list(alpha = c(x = 1, y = 1, z = 1))), class = "harmonium_error_params")
  expect_error(to_natural(m, list(alpha = c(1, 0, 1))), class = "harmonium_error_argument")
  expect_error(to_natural(m, list(alpha = c(1, 1))), class = "harmonium_error_argument")
  expect_error(to_natural(m, list(prob = c(1, 1, 1))), class = "harmonium_error_params")
  expect_error(posterior(with_params(m, list(alpha = c(1, 1, 1)))), class = "harmonium_error_argument")
  # The engine refuses a likelihood other than the fixed one.
  th <- to_natural(m, list(alpha = c(1, 1, 1)))
  th[3] <- -0.5
  expect_identical(harmonium:::native_model_log_partition(m, th)$status, 2L)
  expect_identical(harmonium:::native_model_posterior_fold(m, th, matrix(0))$status, 2L)
})

# --- the generic fold on the other symmetric kinds ------------------------------

test_that("the posterior fold of a mixture is Bayesian updating of one shared class", {
  m <- mixture(ef_poisson(), 3)
  p <- list(weights = c(0.2, 0.5, 0.3), components = list(list(rate = 1.3), list(rate = 4.2), list(rate = 9.1)))
  th <- to_natural(m, p)
  x <- c(3, 5, 2, 4, 6)
  res <- harmonium:::native_model_posterior_fold(m, th, matrix(as.double(x)))
  expect_identical(res$status, 0L)
  rates <- c(1.3, 4.2, 9.1)
  lw <- log(p$weights)
  for (t in seq_along(x)) {
    lw <- lw + stats::dpois(x[t], rates, log = TRUE)
    expect_equal(res$value[t, ], lw[-1] - lw[1], tolerance = 1e-12)
  }
})

test_that("the posterior fold of a linear Gaussian model is the shared-z Gaussian posterior", {
  m <- lgm(ef_normal(2, "diagonal"), 1)
  p <- list(mean = c(0.4, -1.1), loadings = matrix(c(1.2, -0.7), 2), cov = diag(c(0.5, 2.385)))
  th <- to_natural(m, p)
  x <- rbind(c(1.0, -2.0), c(0.3, 0.2), c(2.2, -1.5))
  res <- harmonium:::native_model_posterior_fold(m, th, x)
  expect_identical(res$status, 0L)
  A <- p$loadings
  Pi <- solve(p$cov)
  for (t in 1:3) {
    P <- diag(1) + t * crossprod(A, Pi %*% A)
    h <- crossprod(A, Pi %*% colSums(sweep(x[1:t, , drop = FALSE], 2, p$mean)))
    # Normal(1) natural parameters: (P mu, -P / 2), with P mu = h.
    expect_equal(res$value[t, ], c(h, -P / 2), tolerance = 1e-12)
  }
})

test_that("the posterior fold of a Gaussian-Boltzmann harmonium matches enumeration", {
  m <- boltzmann_lgm(ef_normal(2, "diagonal"), 2)
  p <- list(offset = c(0.1, -0.3), loadings = matrix(c(1.2, -0.4, 0.5, 2.0), 2), cov = diag(c(0.6, 1.4)),
    prior = list(bias = c(-0.2, 0.35), coupling = matrix(c(0, 0.8, 0.8, 0), 2)))
  th <- to_natural(m, p)
  x <- rbind(c(1.3, 0.4), c(-0.2, 2.1), c(0.9, 1.8))
  res <- harmonium:::native_model_posterior_fold(m, th, x)
  expect_identical(res$status, 0L)
  states <- as.matrix(expand.grid(0:1, 0:1))
  energy <- function(theta, z) theta[1] * z[1] + theta[2] * z[1] * z[2] + theta[3] * z[2]
  prior_lp <- apply(states, 1, function(z) sum(p$prior$bias * z) + p$prior$coupling[1, 2] * z[1] * z[2])
  for (t in 1:3) {
    lp <- prior_lp + apply(states, 1, function(z) {
      mu <- as.vector(p$loadings %*% z) + p$offset
      sum(stats::dnorm(x[1:t, , drop = FALSE], rep(mu, each = t), rep(sqrt(diag(p$cov)), each = t), log = TRUE))
    })
    fold_lp <- apply(states, 1, energy, theta = res$value[t, ])
    expect_equal(fold_lp - fold_lp[1], lp - lp[1], tolerance = 1e-10)
  }
})
