# Linear Gaussian models (theory.md 3.2): the closed-form PPCA solution,
# stats::factanal as a live oracle, whitening, EM monotonicity, and the
# methods (scores, uniquenesses, rotations, simulation).

food_texture <- function() {
  p <- file.path(test_path(), "..", "..", "..", "shared", "data", "food-texture.csv")
  skip_if_not(file.exists(p), "shared data not found")
  d <- utils::read.csv(p)
  as.matrix(d[, c("Oil", "Density", "Crispy", "Fracture", "Hardness")])
}

# factanal's log-likelihood on raw data (r-ecosystem.md 7): on the
# correlation scale l = -(n/2)(p log 2 pi + log|R| + p + F); raw data adds the
# Jacobian -n sum log s_j of the standardisation (divisor-n standard
# deviations).
factanal_loglik <- function(fa, x) {
  n <- nrow(x)
  p <- ncol(x)
  R <- stats::cor(x)
  s <- sqrt(colMeans(sweep(x, 2, colMeans(x))^2))
  -(n / 2) * (p * log(2 * pi) + as.numeric(determinant(R)$modulus) + p + fa$criteria[["objective"]]) -
    n * sum(log(s))
}

# Plain-R Gaussian log-likelihood of N(mean, L L' + Psi).
lgm_oracle_loglik <- function(x, params) {
  S <- tcrossprod(params$loadings) + params$cov
  sum(oracle_dmvnorm(x, params$mean, S))
}

test_that("PPCA reaches the Tipping-Bishop closed-form maximum on iris", {
  x <- as.matrix(iris[, 1:4])
  n <- nrow(x)
  S <- crossprod(sweep(x, 2, colMeans(x))) / n
  lam <- eigen(S, symmetric = TRUE)$values
  for (q in 1:2) {
    s2 <- mean(lam[-seq_len(q)])
    ll <- -(n / 2) * (4 * log(2 * pi) + sum(log(lam[seq_len(q)])) + (4 - q) * log(s2) + 4)
    f <- fit_lvm(ppca(4, q), x, control = lvm_control(tol = 1e-13, maxit = 20000))
    expect_equal(f$loglik, ll, tolerance = 1e-8, info = paste("q =", q))
    expect_equal(unname(diag(f$params$cov)), rep(s2, 4), tolerance = 1e-5)
    # W W' = U (Lambda - s2) U' up to rotation.
    e <- eigen(S, symmetric = TRUE)
    WWt <- e$vectors[, seq_len(q), drop = FALSE] %*% diag(lam[seq_len(q)] - s2, q) %*%
      t(e$vectors[, seq_len(q), drop = FALSE])
    expect_equal(unname(tcrossprod(f$params$loadings)), WWt, tolerance = 1e-4)
    expect_equal(f$loglik, lgm_oracle_loglik(x, f$params), tolerance = 1e-10)
  }
})

test_that("factor analysis matches stats::factanal on food-texture", {
  x <- food_texture()
  for (q in 1:2) {
    fa <- stats::factanal(x, q, rotation = "none", control = list(opt = list(maxit = 10000), lower = 1e-6))
    f <- fit_lvm(factor_analysis(5, q), x, control = lvm_control(tol = 1e-14, maxit = 50000, lower = 1e-6))
    s <- summary(f)
    expect_equal(unname(s$uniquenesses), unname(fa$uniquenesses), tolerance = 1e-4, info = paste("q =", q))
    expect_equal(f$loglik, factanal_loglik(fa, x), tolerance = 1e-6, info = paste("q =", q))
    # The implied correlation matrices agree (loadings only up to rotation).
    L <- rotate_loadings(f, "none")
    expect_equal(unname(tcrossprod(L) + diag(s$uniquenesses)),
      unname(tcrossprod(fa$loadings) + diag(fa$uniquenesses)), tolerance = 1e-4)
  }
})

test_that("factor analysis matches stats::factanal on base R data", {
  # attitude (30 x 7) with 2 factors; swiss (47 x 6) with 2 factors.
  for (cs in list(list(as.matrix(attitude), 2L), list(as.matrix(swiss), 2L))) {
    x <- cs[[1]]
    q <- cs[[2]]
    fa <- stats::factanal(x, q, rotation = "none", control = list(lower = 1e-6))
    # swiss is a Heywood case (Education's uniqueness tends to 0), which EM
    # approaches slowly; 50000 iterations get within the tolerances below.
    # The same bound on the uniquenesses as factanal's here (lower = 1e-6).
    f <- withCallingHandlers(
      fit_lvm(factor_analysis(ncol(x), q), x, control = lvm_control(tol = 1e-12, maxit = 50000, lower = 1e-6)),
      harmonium_warning_not_converged = function(w) invokeRestart("muffleWarning"),
      harmonium_warning_heywood = function(w) invokeRestart("muffleWarning")
    )
    expect_identical("harmonium_warning_heywood" %in% f$warnings$class, min(fa$uniquenesses) < 0.005)
    expect_equal(unname(summary(f)$uniquenesses), unname(fa$uniquenesses), tolerance = 2e-4)
    expect_equal(f$loglik, factanal_loglik(fa, x), tolerance = 1e-6)
  }
})

# EM over the rows (the engine's E-step, native_em_run) and EM from the data's
# moments (what fit_lvm() runs for a Normal latent) from the same start.
lgm_em_both <- function(m, x, w, iters) {
  sc <- harmonium:::make_scaler(m$obs, x)
  xs <- harmonium:::scale_data(sc, x)
  ctrl <- harmonium:::fam_ctrl(lower = harmonium:::fit_lower(m, lvm_control()))
  th <- harmonium:::model_start(m, xs, x, w, 1L, lvm_control(), ctrl, 1L)
  rows <- harmonium:::native_em_run(m, th, xs, w, ctrl, c(0, iters, NA), 1L)
  mom <- harmonium:::lgm_data_moments(m, xs, w, 1L)
  list(rows = rows, moments = harmonium:::native_lgm_em_moments(m, th, mom, ctrl, c(0, iters, NA)))
}

test_that("EM from the data's moments is EM over the rows, weighted or not, in every noise rep", {
  set.seed(11)
  n <- 700
  A <- matrix(stats::rnorm(12), 6, 2)
  x <- matrix(stats::rnorm(2 * n), n, 2) %*% t(A) + matrix(stats::rnorm(6 * n, sd = 0.6), n, 6)
  x <- sweep(x, 2, c(3, -1, 0, 10, 2, -4), "+")
  w <- stats::runif(n, 0.1, 3)
  for (m in list(factor_analysis(6, 2), ppca(6, 2), lgm(ef_normal(6), 2))) {
    expect_true(m$em_moments, info = m$label)
    for (wt in list(NULL, w)) {
      r <- lgm_em_both(m, x, wt, 40L)
      expect_identical(r$moments$status, r$rows$status)
      expect_length(r$moments$trace, 40L)
      # Each trace entry is one E-step's log-likelihood; theta is the
      # parameters after 40 M-steps.
      expect_equal(r$moments$trace, r$rows$trace, tolerance = 1e-12, info = m$label)
      expect_equal(r$moments$theta, r$rows$theta, tolerance = 1e-10, info = m$label)
    }
  }
  # A near-Heywood case (swiss: Education's uniqueness tends to 0): after
  # 20000 iterations the two still agree.
  x <- as.matrix(swiss)
  m <- factor_analysis(6, 2)
  sc <- harmonium:::make_scaler(m$obs, x)
  xs <- harmonium:::scale_data(sc, x)
  ctrl <- harmonium:::fam_ctrl(lower = 1e-6)
  th <- harmonium:::model_start(m, xs, x, NULL, 1L, lvm_control(), ctrl, 1L)
  a <- harmonium:::native_em_run(m, th, xs, NULL, ctrl, c(0, 20000, NA), 1L)
  b <- harmonium:::native_lgm_em_moments(m, th, harmonium:::lgm_data_moments(m, xs, NULL, 1L), ctrl,
    c(0, 20000, NA))
  expect_equal(b$trace, a$trace, tolerance = 1e-12)
  expect_equal(b$theta, a$theta, tolerance = 1e-8)
  # Its successive gains stay smooth (no rounding noise above 1e-10 of them).
  g <- diff(utils::tail(b$trace, 50))
  expect_lt(max(abs(diff(g))), 1e-10)
})

test_that("the statistics from the moments are the rows' at any parameters, both Normal latents", {
  # The gradient is the E-step's statistics minus the total weight times the
  # mean coordinates, so it compares every statistic. Unstandardised data
  # (sum w x far from 0) and parameters off every EM path (a prior that is
  # not N(0, I), a posterior location unrelated to the data's mean) make
  # every cross term of the moment formulas count.
  set.seed(13)
  n <- 900
  A <- matrix(stats::rnorm(10), 5, 2)
  x <- matrix(stats::rnorm(2 * n), n, 2) %*% t(A) + matrix(stats::rnorm(5 * n, sd = 0.7), n, 5)
  x <- sweep(x, 2, c(4, -2, 1, 7, -3), "+")
  w <- stats::runif(n, 0.1, 3)
  models <- list(factor_analysis(5, 2), ppca(5, 2), lgm(ef_normal(5), 2),
    lgm(ef_normal(5, "diagonal"), 2, posterior = "diagonal"), lgm(ef_normal(5), 2, posterior = "diagonal"))
  for (m in models) {
    expect_true(m$grad_moments, info = m$label)
    cv <- switch(m$obs$covariance, isotropic = diag(0.9, 5), diagonal = diag(c(0.8, 1.1, 0.5, 0.9, 1.4)),
      full = diag(c(0.8, 1.1, 0.5, 0.9, 1.4)) + 0.2)
    p0 <- list(mean = c(3, -1, 0, 6, -2), loadings = A + 0.3, cov = cv)
    th <- harmonium:::model_to_nat(m, p0)
    # Move the latent block off the standard prior.
    off <- m$obs$dim + 5L * 2L
    th[off + 1:2] <- th[off + 1:2] + c(0.7, -0.4)
    for (wt in list(NULL, w)) {
      rows <- harmonium:::native_model_gradient(m, th, x, wt, 1L)
      mom <- harmonium:::native_lgm_moments_gradient(m, th, harmonium:::lgm_data_moments(m, x, wt, 1L))
      expect_identical(c(rows$status, mom$status), c(0L, 0L))
      expect_equal(mom$value, rows$value, tolerance = 1e-12, info = m$label)
      expect_equal(mom$gradient, rows$gradient, tolerance = 1e-10, info = m$label)
    }
  }
})

test_that("the data's moments are the weighted sums, the same for any thread count", {
  set.seed(12)
  # Not a multiple of the block size, and several rounds of blocks.
  n <- 20011
  x <- matrix(stats::rnorm(n * 2), n, 2) %*% matrix(stats::rnorm(10), 2) + matrix(stats::rnorm(n * 5), n, 5)
  w <- stats::rexp(n)
  m <- factor_analysis(5, 2)
  for (wt in list(NULL, w)) {
    m1 <- harmonium:::lgm_data_moments(m, x, wt, 1L)
    m2 <- harmonium:::lgm_data_moments(m, x, wt, 2L)
    m4 <- harmonium:::lgm_data_moments(m, x, wt, 4L)
    expect_identical(m2, m1)
    expect_identical(m4, m1)
    ww <- if (is.null(wt)) rep(1, n) else wt
    expect_equal(m1[1], sum(ww))
    expect_equal(m1[1 + 1:5], colSums(x * ww), tolerance = 1e-12)
    expect_equal(matrix(m1[-(1:6)], 5, 5), crossprod(x * sqrt(ww)), tolerance = 1e-12)
  }
  # The engine's pass is the only check of the values: a non-finite one is
  # outside the Normal's support, whichever block it falls in.
  xb <- x
  xb[n - 3L, 4L] <- NaN
  expect_error(harmonium:::lgm_data_moments(m, xb, NULL, 2L), class = "harmonium_error")
  xb[n - 3L, 4L] <- -Inf
  expect_error(harmonium:::lgm_data_moments(m, xb, w, 1L), class = "harmonium_error")
  # The fit from them is identical across thread counts too.
  f1 <- fit_lvm(m, x, weights = w, control = lvm_control(threads = 1))
  f2 <- fit_lvm(m, x, weights = w, control = lvm_control(threads = 2))
  expect_identical(f2$trace, f1$trace)
  expect_identical(f2$params, f1$params)
})

test_that("EM is monotone and whitening leaves log p(x) unchanged", {
  x <- as.matrix(swiss)
  for (m in list(factor_analysis(6, 2), ppca(6, 2), lgm(ef_normal(6), 2))) {
    f <- suppressWarnings(fit_lvm(m, x, control = lvm_control(tol = 1e-10, maxit = 500)))
    tr <- f$trace
    expect_true(all(diff(tr) >= -1e-9 * (1 + abs(tr[-1]))), info = m$label)
    # Whitening the E-step's mean coordinates at a non-standard prior.
    th <- f$theta
    sp <- harmonium:::lgm_split(m, th)
    xs <- harmonium:::scale_data(f$scaler, x)
    es <- harmonium:::native_model_estep(m, th, xs, logp = FALSE, post = FALSE)
    eta <- es$stats[seq_len(m$dim)] / es$stats[m$dim + 2]
    wh <- harmonium:::native_model_whiten(m, eta)
    expect_equal(wh$status, 0L)
    # M-step from whitened and from raw statistics: same observable marginal.
    ctrl <- harmonium:::fam_ctrl()
    a <- harmonium:::native_model_to_natural(m, eta, ctrl)$value
    b <- harmonium:::native_model_to_natural(m, wh$value, ctrl)$value
    la <- harmonium:::native_model_estep(m, a, xs, post = FALSE)$logp
    lb <- harmonium:::native_model_estep(m, b, xs, post = FALSE)$logp
    expect_equal(la, lb, tolerance = 1e-8, info = m$label)
  }
})

test_that("source parameters round trip and log p(x) is the Gaussian marginal", {
  m <- factor_analysis(4, 2)
  p <- list(mean = c(1, -2, 0.5, 3), loadings = matrix(c(0.9, 0.4, -0.3, 0.2, 0.1, 0.8, 0.5, -0.6), 4),
    cov = diag(c(0.5, 0.2, 2.385, 0.7)))
  th <- to_natural(m, p)
  back <- to_source(m, th)
  expect_equal(back$mean, p$mean, tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(back$cov, p$cov, tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(tcrossprod(back$loadings), tcrossprod(p$loadings), tolerance = 1e-12, ignore_attr = TRUE)
  set.seed(4)
  x <- matrix(rnorm(400), 100, 4)
  f <- with_params(m, p, x)
  expect_equal(log_density(f), oracle_dmvnorm(x, p$mean, tcrossprod(p$loadings) + p$cov), tolerance = 1e-10)
  eta <- harmonium:::native_model_to_mean(m, th)$value
  expect_equal(harmonium:::native_model_to_natural(m, eta, harmonium:::fam_ctrl())$value, th, tolerance = 1e-9)
})

test_that("factor scores are the posterior means and covariances", {
  x <- as.matrix(mtcars)
  f <- fit_lvm(factor_analysis(11, 2), x)
  z <- posterior(f)
  expect_equal(dim(z), c(32L, 2L))
  p <- f$params
  A <- p$loadings
  Pi <- solve(p$cov)
  V <- solve(diag(2) + t(A) %*% Pi %*% A)
  expect_equal(unname(attr(z, "cov")), unname(V), tolerance = 1e-8)
  mu <- t(V %*% t(A) %*% Pi %*% t(sweep(x, 2, p$mean)))
  expect_equal(unname(z[, 1:2]), unname(mu), tolerance = 1e-8)
  expect_equal(predict(f), z)
})

test_that("summary, rotations, simulation and plots", {
  x <- as.matrix(attitude)
  f <- fit_lvm(factor_analysis(7, 2), x)
  s <- summary(f)
  expect_s3_class(s, "summary.lgm_fit")
  expect_output(print(s), "Uniquenesses")
  expect_equal(unname(s$variance["Proportion Var", ]), unname(colSums(s$loadings^2) / 7))
  v <- rotate_loadings(f, "varimax")
  expect_equal(tcrossprod(unclass(v)), tcrossprod(rotate_loadings(f, "none")), tolerance = 1e-8,
    ignore_attr = TRUE)
  ref <- stats::varimax(rotate_loadings(f, "none"))
  expect_equal(unclass(v), unclass(ref$loadings), ignore_attr = TRUE)
  pr <- rotate_loadings(f, "promax")
  expect_equal(dim(pr), c(7L, 2L))
  sim <- simulate(f, 20000, seed = 3)
  expect_equal(dim(sim), c(20000L, 7L))
  expect_equal(unname(colMeans(sim)), unname(f$params$mean), tolerance = 0.02)
  expect_equal(unname(cov(sim)), unname(tcrossprod(f$params$loadings) + f$params$cov), tolerance = 0.05)
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(f))
  expect_invisible(plot(f, type = "trace"))
  expect_error(lgm(ef_poisson(2), 1), class = "harmonium_error_argument")
  expect_error(factor_analysis(3, 3), class = "harmonium_error_argument")
  expect_error(rotate_loadings(fit_lvm(mixture(ef_normal(1), 2), faithful$waiting)),
    class = "harmonium_error_argument")
})
