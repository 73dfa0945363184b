# Composite models (theory.md section 4): the hierarchical mixture of
# Gaussians and mixtures of models, against the explicit Gaussian mixtures
# they marginalise to, their special cases, the identities of theory.md
# 7.4, and EMMIXmfa as a live oracle.

hm <- function(name) get(name, envir = asNamespace("harmonium"))

rel_diff <- function(a, b) max(abs(a - b) / (1 + abs(b)))

test_that("HMoG log p(x) and cluster posteriors equal the explicit Gaussian mixture at random parameters", {
  set.seed(11)
  for (cv in c("diagonal", "isotropic", "full")) {
    for (k in c(1L, 3L)) {
      params <- oracle_random_hmog(5, 2, k, cv)
      x <- oracle_composite_sample(params, 60)$x
      f <- with_params(hmog(5, 2, k, covariance = cv), params, data = x)
      expect_lt(rel_diff(log_density(f), oracle_composite_logp(params, x)), 1e-8)
      expect_lt(max(abs(posterior(f) - oracle_composite_post(params, x))), 1e-8)
      # The reported (standardised, rotated) parameters are the same model.
      expect_lt(rel_diff(oracle_composite_logp(coef(f), x), oracle_composite_logp(params, x)), 1e-8)
    }
  }
})

test_that("HMoG log p(x) stays exact near a vanishing noise variance", {
  # Noise variances 1e-6 of the data's make the posterior precisions and
  # locations of order 1e6: the E-step must not lose the digits there.
  set.seed(41)
  params <- oracle_random_hmog(10, 4, 2)
  params$cov <- diag(c(1e-6, 2e-6, stats::runif(8, 0.3, 1.5)))
  x <- oracle_composite_sample(params, 200)$x
  f <- with_params(hmog(10, 4, 2), params, data = x)
  expect_lt(max(abs(log_density(f) - oracle_composite_logp(params, x))), 1e-7)
  expect_lt(max(abs(posterior(f) - oracle_composite_post(params, x))), 1e-8)
  # The same for factor analysis and its mixtures (the linear-Gaussian
  # E-step).
  pm <- oracle_random_mfa(10, 4, 2)
  for (j in 1:2) pm$components[[j]]$cov <- diag(c(1e-6, 2e-6, stats::runif(8, 0.3, 1.5)))
  xm <- oracle_composite_sample(pm, 200)$x
  fm <- with_params(mfa(10, 4, 2), pm, data = xm)
  expect_lt(max(abs(log_density(fm) - oracle_composite_logp(pm, xm))), 1e-7)
  p1 <- list(weights = 1, components = pm$components[1])
  f1 <- with_params(factor_analysis(10, 4), pm$components[[1]], data = xm)
  expect_lt(max(abs(log_density(f1) - oracle_composite_logp(p1, xm))), 1e-7)
})

test_that("MFA log p(x) and cluster posteriors equal the explicit Gaussian mixture at random parameters", {
  set.seed(12)
  for (k in c(1L, 2L, 4L)) {
    params <- oracle_random_mfa(6, 2, k)
    x <- oracle_composite_sample(params, 80)$x
    f <- with_params(mfa(6, 2, k), params, data = x)
    expect_lt(rel_diff(log_density(f), oracle_composite_logp(params, x)), 1e-8)
    expect_lt(max(abs(posterior(f) - oracle_composite_post(params, x))), 1e-8)
    expect_lt(rel_diff(oracle_composite_logp(coef(f), x), oracle_composite_logp(params, x)), 1e-8)
  }
})

test_that("fitted HMoG and MFA match the explicit mixture, and EM is monotone", {
  set.seed(13)
  truth <- oracle_random_mfa(5, 1, 3)
  d <- oracle_composite_sample(truth, 400)
  fm <- suppressWarnings(fit_lvm(mfa(5, 1, 3), d$x, control = lvm_control(maxit = 300, n_init = 3)))
  expect_lt(rel_diff(log_density(fm), oracle_composite_logp(coef(fm), d$x)), 1e-8)
  expect_lt(max(abs(posterior(fm) - oracle_composite_post(coef(fm), d$x))), 1e-8)
  expect_equal(fm$loglik, sum(oracle_composite_logp(coef(fm), d$x)), tolerance = 1e-10)
  expect_true(all(diff(fm$trace) > -1e-10 * abs(fm$trace[-1])))
  # The clusters are recovered about as well as the true model's Bayes rule
  # recovers them.
  acc <- function(lab) sum(apply(table(lab, d$cluster), 1, max)) / 400
  bayes <- max.col(oracle_composite_post(truth, d$x))
  expect_gt(acc(predict(fm)), acc(bayes) - 0.05)

  th <- oracle_random_hmog(6, 2, 3)
  d2 <- oracle_composite_sample(th, 400)
  fh <- suppressWarnings(fit_lvm(hmog(6, 2, 3), d2$x, control = lvm_control(maxit = 300)))
  expect_lt(rel_diff(log_density(fh), oracle_composite_logp(coef(fh), d2$x)), 1e-8)
  expect_lt(max(abs(posterior(fh) - oracle_composite_post(coef(fh), d2$x))), 1e-8)
  expect_true(all(diff(fh$trace) > -1e-10 * abs(fh$trace[-1])))
  # The reported latent is standardised: overall mean 0, covariance I.
  lat <- coef(fh)$latent
  mbar <- Reduce(`+`, Map(function(w, c) w * c$mean, lat$weights, lat$components))
  S <- Reduce(`+`, Map(function(w, c) w * (c$cov + tcrossprod(c$mean)), lat$weights, lat$components))
  expect_lt(max(abs(mbar)), 1e-8)
  expect_lt(max(abs(S - diag(2))), 1e-8)
})

test_that("the latent posterior mean and covariance are the mixture of the per-cluster Gaussian posteriors", {
  set.seed(14)
  params <- oracle_random_hmog(4, 2, 2)
  x <- oracle_composite_sample(params, 30)$x
  f <- with_params(hmog(4, 2, 2), params, data = x)
  lat <- posterior(f, type = "latent")
  r <- posterior(f, type = "cluster")
  p <- coef(f)
  # Brute force per row: the joint Gaussian of (x, y) given k, conditioned.
  A <- p$loadings
  for (i in c(1, 17, 30)) {
    ms <- list()
    ss <- list()
    for (k in 1:2) {
      ck <- p$latent$components[[k]]
      Sxx <- A %*% ck$cov %*% t(A) + p$cov
      Syx <- ck$cov %*% t(A)
      ms[[k]] <- as.vector(ck$mean + Syx %*% solve(Sxx, x[i, ] - p$mean - A %*% ck$mean))
      ss[[k]] <- ck$cov - Syx %*% solve(Sxx, t(Syx))
    }
    mu <- r[i, 1] * ms[[1]] + r[i, 2] * ms[[2]]
    second <- r[i, 1] * (ss[[1]] + tcrossprod(ms[[1]])) + r[i, 2] * (ss[[2]] + tcrossprod(ms[[2]]))
    expect_lt(max(abs(lat[i, ] - mu)), 1e-8)
    expect_lt(max(abs(unname(attr(lat, "cov")[, , i]) - (second - tcrossprod(mu)))), 1e-8)
  }
  fm <- with_params(mfa(5, 2, 2), oracle_random_mfa(5, 2, 2), data = oracle_composite_sample(oracle_random_mfa(5, 2, 2), 10)$x)
  lm <- posterior(fm, type = "latent")
  expect_equal(dim(lm), c(10L, 2L))
  expect_equal(dim(attr(lm, "cov")), c(2L, 2L, 10L))
})

test_that("theory 7.4 identities hold for HMoG and MFA", {
  set.seed(15)
  ctrl <- hm("fam_ctrl")()
  for (m in list(hmog(5, 2, 3), hmog(5, 2, 2, "full"), mfa(5, 2, 3), mixture(ppca(5, 2), 2))) {
    params <- if (m$kind == "hmog") oracle_random_hmog(5, 2, m$k, m$obs$covariance) else
      if (m$base$obs$covariance == "isotropic") {
        list(weights = c(0.4, 0.6), components = lapply(1:2, function(j) {
          list(mean = rnorm(5), loadings = matrix(rnorm(10), 5, 2), cov = diag(0.5, 5))
        }))
      } else oracle_random_mfa(5, 2, m$k)
    th <- hm("model_to_nat")(m, params)
    x <- oracle_composite_sample(if (m$kind == "hmog" || m$base$obs$covariance == "diagonal") params else
      params, 50)$x
    # to_natural(to_mean(theta)) = theta.
    eta <- hm("native_model_to_mean")(m, th)$value
    back <- hm("native_model_to_natural")(m, eta, ctrl)
    expect_equal(back$status, 0L)
    expect_lt(max(abs(back$value - th)) / (1 + max(abs(th))), 1e-8)
    # Whitening leaves log p(x) unchanged.
    wh <- hm("native_model_whiten")(m, eta)
    expect_equal(wh$status, 0L)
    thw <- hm("native_model_to_natural")(m, wh$value, ctrl)$value
    lp <- hm("native_model_estep")(m, th, x, post = FALSE)$logp
    lpw <- hm("native_model_estep")(m, thw, x, post = FALSE)$logp
    expect_lt(rel_diff(lpw, lp), 1e-8)
    # The log-partition: psi = log sum_k exp(...) and logp integrates the
    # joint; the statistics are additive over a split of the data.
    es <- hm("native_model_estep")(m, th, x, post = FALSE)
    e1 <- hm("native_model_estep")(m, th, x[1:20, ], post = FALSE)
    e2 <- hm("native_model_estep")(m, th, x[21:50, ], post = FALSE)
    expect_lt(max(abs(e1$stats + e2$stats - es$stats)) / (1 + max(abs(es$stats))), 1e-12)
  }
})

test_that("the hierarchy's conjugation: psi_X(theta_x + W y) = rho . s(y) + chi", {
  set.seed(16)
  m <- hmog(4, 2, 2)
  th <- hm("model_to_nat")(m, oracle_random_hmog(4, 2, 2))
  rc <- hm("native_model_rho_chi")(m, th)$value
  dl <- length(rc) - 1L
  rho <- rc[seq_len(dl)]
  chi <- rc[dl + 1L]
  dx <- m$obs$dim
  W <- matrix(th[dx + 1:8], 4, 2, byrow = TRUE)
  # rho is zero outside the anchor's Normal(q) block (theory.md 4.1).
  expect_true(all(rho[-(1:5)] == 0))
  for (r in 1:5) {
    y <- rnorm(2)
    tx <- th[seq_len(dx)]
    tx[1:4] <- tx[1:4] + W %*% y
    psi <- hm("native_family_log_partition")(m$obs$spec, tx)$value
    s <- c(y, y[1]^2, y[1] * y[2], y[2]^2)
    expect_equal(psi, sum(rho[1:5] * s) + chi, tolerance = 1e-10)
  }
})

test_that("mfa() is mixture(factor_analysis()), and k = 1 reaches factor analysis's maximum", {
  x <- scale(as.matrix(mtcars[, c("mpg", "disp", "hp", "drat", "wt", "qsec")]))
  a <- suppressWarnings(fit_lvm(mfa(6, 2, 2), x, control = lvm_control(maxit = 200)))
  b <- suppressWarnings(fit_lvm(mixture(factor_analysis(6, 2), 2), x, control = lvm_control(maxit = 200)))
  expect_identical(a$theta, b$theta)
  expect_identical(a$loglik, b$loglik)
  ctl <- lvm_control(tol = 1e-13, maxit = 20000)
  fa <- fit_lvm(factor_analysis(6, 2), x, control = ctl)
  m1 <- fit_lvm(mfa(6, 2, 1), x, control = ctl)
  h1 <- fit_lvm(hmog(6, 2, 1), x, control = ctl)
  expect_equal(m1$loglik, fa$loglik, tolerance = 1e-7)
  expect_equal(h1$loglik, fa$loglik, tolerance = 1e-7)
  # factanal's optimum as a log-likelihood (divisor-n covariance).
  n <- nrow(x)
  S <- cov(x) * (n - 1) / n
  ff <- factanal(x, 2)
  Sig <- tcrossprod(ff$loadings) + diag(ff$uniquenesses)
  s <- sqrt(diag(S))
  Sig <- Sig * outer(s, s)
  ll_fa <- -n / 2 * (6 * log(2 * pi) + determinant(Sig)$modulus[1] + sum(diag(solve(Sig, S))))
  expect_gt(m1$loglik, ll_fa - 1e-4)
  expect_equal(df.residual <- m1$df, fa$df)
  expect_equal(h1$df, fa$df)
})

test_that("deeper hierarchies: log p(x) and cluster posteriors equal the explicit Gaussian mixture", {
  set.seed(21)
  deep <- function(k) harmonium(ef_normal(6, "diagonal"), harmonium(ef_normal(3), mixture(ef_normal(2), k)))
  for (k in c(1L, 3L, 7L)) {
    m <- deep(k)
    expect_equal(m$depth, 2L)
    expect_equal(m$k, k)
    params <- oracle_random_deep(6, 3, 2, k)
    x <- oracle_composite_sample(params, 60)$x
    f <- with_params(m, params, data = x)
    expect_lt(rel_diff(log_density(f), oracle_composite_logp(params, x)), 1e-8)
    expect_lt(max(abs(posterior(f) - oracle_composite_post(params, x))), 1e-8)
    expect_lt(rel_diff(oracle_composite_logp(coef(f), x), oracle_composite_logp(params, x)), 1e-8)
    # The posterior mean of y is the mixture of the per-cluster posteriors
    # of the mixture over y it marginalises to (in the reported latent
    # coordinates).
    pc <- coef(f)
    g <- oracle_composite_gaussians(pc$latent)
    ybar <- Reduce(`+`, lapply(seq_len(k), function(j) {
      A <- pc$loadings
      Si <- solve(g$covs[[j]])
      Sig <- solve(Si + crossprod(A, solve(pc$cov, A)))
      M <- (sweep(x, 2, pc$mean) %*% solve(pc$cov, A) + matrix(Si %*% g$means[[j]], 60, 3, byrow = TRUE)) %*% Sig
      posterior(f)[, j] * M
    }))
    expect_lt(max(abs(unclass(posterior(f, type = "latent"))[, 1:3] - ybar)), 1e-8)
  }
  # Three levels of latent variables.
  m3 <- harmonium(ef_normal(7, "diagonal"), harmonium(ef_normal(4), harmonium(ef_normal(3), mixture(ef_normal(2), 2))))
  expect_equal(m3$depth, 3L)
  p3 <- oracle_random_hmog(7, 4, 1L)
  p3$latent <- oracle_random_deep(4, 3, 2, 2L)
  p3$latent$cov <- oracle_spd(4, 0.5)
  x3 <- oracle_composite_sample(p3, 40)$x
  expect_lt(rel_diff(log_density(with_params(m3, p3, data = x3)), oracle_composite_logp(p3, x3)), 1e-8)
  # A mixture of hierarchies: each cluster is a whole deeper model.
  mm <- mixture(deep(2), 2)
  pm <- list(weights = c(0.3, 0.7), components = list(oracle_random_deep(6, 3, 2, 2), oracle_random_deep(6, 3, 2, 2)))
  xm <- matrix(rnorm(300), 50, 6)
  gm <- lapply(pm$components, oracle_composite_gaussians)
  lj <- do.call(cbind, lapply(1:2, function(c) {
    sapply(1:2, function(j) log(pm$weights[c] * gm[[c]]$weights[j]) + oracle_dmvnorm(xm, gm[[c]]$means[[j]], gm[[c]]$covs[[j]]))
  }))
  ref <- apply(lj, 1, function(v) max(v) + log(sum(exp(v - max(v)))))
  expect_lt(rel_diff(log_density(with_params(mm, pm, data = xm)), ref), 1e-8)
})

test_that("deeper hierarchies: free parameters are the rank of the map to the mixture they marginalise to", {
  set.seed(22)
  rank_of <- function(m, params) {
    th <- hm("model_to_nat")(m, params)
    marg <- function(t) {
      g <- oracle_composite_gaussians(hm("model_to_src")(m, t))
      unlist(lapply(seq_along(g$weights), function(j) c(g$weights[j], g$means[[j]], g$covs[[j]][upper.tri(g$covs[[j]], TRUE)])))
    }
    J <- vapply(seq_along(th), function(j) {
      e <- numeric(length(th))
      e[j] <- 1e-6
      (marg(th + e) - marg(th - e)) / 2e-6
    }, numeric(length(marg(th))))
    d <- svd(J)$d
    sum(d > 1e-6 * d[1])
  }
  m <- harmonium(ef_normal(6, "diagonal"), harmonium(ef_normal(3), mixture(ef_normal(2), 3)))
  expect_equal(rank_of(m, oracle_random_deep(6, 3, 2, 3)), m$n_free)
  m1 <- hmog(6, 3, 3)
  expect_equal(rank_of(m1, oracle_random_hmog(6, 3, 3)), m1$n_free)
  expect_equal(attr(logLik(with_params(m, oracle_random_deep(6, 3, 2, 3), data = matrix(rnorm(60), 10))), "df"), 41L)
})

test_that("deeper hierarchies: theory 7.4 identities, monotone EM, threads, methods", {
  set.seed(23)
  ctrl <- hm("fam_ctrl")()
  m <- harmonium(ef_normal(6, "diagonal"), harmonium(ef_normal(3), mixture(ef_normal(2), 3)))
  params <- oracle_random_deep(6, 3, 2, 3)
  th <- hm("model_to_nat")(m, params)
  x <- oracle_composite_sample(params, 80)$x
  eta <- hm("native_model_to_mean")(m, th)$value
  back <- hm("native_model_to_natural")(m, eta, ctrl)
  expect_equal(back$status, 0L)
  expect_lt(max(abs(back$value - th)) / (1 + max(abs(th))), 1e-8)
  wh <- hm("native_model_whiten")(m, eta)
  expect_equal(wh$status, 0L)
  thw <- hm("native_model_to_natural")(m, wh$value, ctrl)$value
  lp <- hm("native_model_estep")(m, th, x, post = FALSE)$logp
  expect_lt(rel_diff(hm("native_model_estep")(m, thw, x, post = FALSE)$logp, lp), 1e-8)
  # The whitened latent has overall mean 0 and covariance I.
  ew <- wh$value[m$obs$dim + 6 * 3 + 1:9]
  expect_lt(max(abs(ew - c(0, 0, 0, 1, 0, 0, 1, 0, 1))), 1e-10)
  e1 <- hm("native_model_estep")(m, th, x[1:30, ], post = FALSE)
  e2 <- hm("native_model_estep")(m, th, x[31:80, ], post = FALSE)
  es <- hm("native_model_estep")(m, th, x, post = FALSE)
  expect_lt(max(abs(e1$stats + e2$stats - es$stats)) / (1 + max(abs(es$stats))), 1e-12)
  # The E-step statistics are the data's average of the exact posterior
  # expectations: their mean coordinates' M-step is EM, which never
  # decreases the likelihood.
  f <- suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 60, seed = 1)))
  expect_true(all(diff(f$trace) > -1e-9 * abs(f$trace[-1])))
  f1 <- suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 60, seed = 1, threads = 1)))
  f2 <- suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 60, seed = 1, threads = 2)))
  expect_identical(f1$trace, f2$trace)
  expect_identical(coef(f1), coef(f2))
  expect_equal(with_params(m, coef(f), data = x)$loglik, f$loglik, tolerance = 1e-9)
  expect_equal(names(coef(f)$latent), c("mean", "loadings", "cov", "latent"))
  expect_equal(rownames(coef(f)$latent$loadings), paste0("F", 1:3))
  expect_equal(colnames(coef(f)$latent$loadings), paste0("G", 1:2))
  expect_equal(sum(summary(f)$sizes), 80L)
  sim <- simulate(f, 15, seed = 4)
  expect_equal(dim(sim), c(15L, 6L))
  expect_true(all(attr(sim, "cluster") %in% 1:3))
  expect_equal(dim(attr(sim, "latent")), c(15L, 3L))
  expect_equal(dim(attr(posterior(f, type = "latent"), "cov")), c(3L, 3L, 80L))
  png(tf <- tempfile(fileext = ".png"))
  plot(f)
  dev.off()
  expect_gt(file.size(tf), 0)
  # A hierarchy fits at least as well as its own special case in which
  # the lower level is the identity: from the fitted HMoG's parameters
  # (y = 0 + I u + small noise), EM can only go up.
  h <- suppressWarnings(fit_lvm(hmog(6, 2, 3), x, control = lvm_control(maxit = 200, seed = 1)))
  hp <- coef(h)
  ip <- list(mean = hp$mean, loadings = cbind(hp$loadings, 0), cov = hp$cov, latent = list(mean = numeric(3),
    loadings = rbind(diag(2), 0), cov = diag(c(1e-4, 1e-4, 1)), latent = hp$latent))
  expect_equal(with_params(m, ip, data = x)$loglik, h$loglik, tolerance = 1e-3)
  g <- suppressWarnings(fit_lvm(m, x, init = ip, control = lvm_control(maxit = 50)))
  expect_gte(g$loglik, with_params(m, ip, data = x)$loglik - 1e-8)
})

test_that("deeper hierarchies: unsupported shapes are classed errors", {
  expect_error(harmonium(ef_normal(6), harmonium(ef_normal(3, "diagonal"), mixture(ef_normal(2), 2))),
    class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_normal(3), harmonium(ef_normal(3), mixture(ef_normal(2), 2))),
    class = "harmonium_error_argument")
  expect_error(harmonium(ef_normal(9), harmonium(ef_normal(8), harmonium(ef_normal(7), harmonium(ef_normal(6),
    harmonium(ef_normal(5), mixture(ef_normal(2), 2)))))), class = "harmonium_error_unsupported")
})

test_that("fits are bit-identical for 1 and 2 threads", {
  set.seed(17)
  d <- oracle_composite_sample(oracle_random_mfa(5, 1, 3), 3000)$x
  for (m in list(mfa(5, 1, 3), hmog(5, 2, 3))) {
    a <- suppressWarnings(fit_lvm(m, d, control = lvm_control(maxit = 30, threads = 1)))
    b <- suppressWarnings(fit_lvm(m, d, control = lvm_control(maxit = 30, threads = 2)))
    expect_identical(a$theta, b$theta)
    expect_identical(a$trace, b$trace)
  }
})

test_that("methods work on composite fits", {
  fit <- suppressWarnings(fit_lvm(hmog(4, 2, 3), iris[, 1:4], control = lvm_control(maxit = 100)))
  expect_s3_class(fit, "hmog_fit")
  expect_equal(exactness(fit), "analytic")
  expect_equal(attr(logLik(fit), "df"), 27L)
  expect_equal(BIC(fit), -2 * fit$loglik + 27 * log(150))
  expect_setequal(unique(predict(fit)), 1:3)
  expect_equal(rowSums(predict(fit, type = "posterior")), rep(1, 150))
  nd <- iris[1:5, 1:4]
  expect_equal(log_density(fit, nd), log_density(fit)[1:5], tolerance = 1e-12)
  s <- summary(fit)
  expect_equal(sum(s$sizes), 150L)
  expect_equal(s$latent_dim, 2L)
  expect_true(all(s$explained > 0 & s$explained < 1))
  expect_output(print(s), "Clustering table")
  sim <- simulate(fit, 20, seed = 3)
  expect_equal(dim(sim), c(20L, 4L))
  expect_true(all(attr(sim, "cluster") %in% 1:3))
  expect_equal(dim(attr(sim, "latent")), c(20L, 2L))
  expect_identical(simulate(fit, 20, seed = 3), sim)
  co <- coef(fit)
  expect_equal(names(co), c("mean", "loadings", "cov", "latent"))
  expect_equal(dim(co$loadings), c(4L, 2L))
  png(tf <- tempfile(fileext = ".png"))
  plot(fit)
  plot(fit, type = "trace")
  dev.off()
  expect_gt(file.size(tf), 0)
  u <- suppressWarnings(update(fit, control = lvm_control(maxit = 5)))
  expect_equal(u$iterations, 5L)

  # Iris with one factor per cluster sits near a Heywood case, where EM
  # creeps (3e-5 per iteration after 1000); the methods do not need the limit.
  f2 <- suppressWarnings(fit_lvm(mfa(4, 1, 2), iris[, 1:4], control = lvm_control(maxit = 300)))
  expect_s3_class(f2, "mixture_of_fit")
  expect_equal(length(coef(f2)$components), 2L)
  expect_equal(names(coef(f2)$components[[1]]), c("mean", "loadings", "cov"))
  expect_equal(names(coef(f2)$components[[2]]$mean), names(iris)[1:4])
  expect_equal(rownames(summary(f2)$explained), names(iris)[1:4])
  expect_equal(dim(summary(f2)$explained), c(4L, 2L))
  s2 <- simulate(f2, 10, seed = 1)
  expect_equal(dim(attr(s2, "latent")), c(10L, 1L))
  # Starting from the fit's own parameters changes nothing.
  again <- suppressWarnings(fit_lvm(mfa(4, 1, 2), iris[, 1:4], init = f2, control = lvm_control(maxit = 1)))
  expect_gte(again$loglik, f2$loglik - 1e-10)
  f3 <- suppressWarnings(fit_lvm(mfa(4, 1, 2), iris[, 1:4], control = lvm_control(maxit = 301)))
  expect_equal(again$loglik, f3$loglik, tolerance = 1e-10)
  # Labels as a start.
  lab <- fit_lvm(mfa(4, 1, 3), iris[, 1:4], init = as.integer(iris$Species))
  expect_gt(mean(apply(table(predict(lab), iris$Species), 1, max)) * 3 / 150, 0.85)
})

test_that("several starts, a seed and a ridge; degenerate starts are not preferred", {
  x <- iris[, 1:4]
  f <- fit_lvm(mfa(4, 1, 3), x, control = lvm_control(n_init = 4, seed = 5))
  expect_equal(nrow(f$starts), 4L)
  g <- fit_lvm(mfa(4, 1, 3), x, control = lvm_control(n_init = 4, seed = 5))
  expect_identical(f$theta, g$theta)
  ok <- !grepl("stopped", f$starts$status)
  if (any(ok)) expect_true(ok[f$best_start])
  r <- suppressWarnings(fit_lvm(hmog(4, 2, 3), x, control = lvm_control(n_init = 2, reg = 1e-4, maxit = 100)))
  expect_true(is.finite(r$loglik))
})

test_that("mixtures of other conjugated models are exact", {
  set.seed(18)
  m <- mixture(ppca(4, 1), 2)
  params <- list(weights = c(0.3, 0.7), components = list(
    list(mean = c(0, 0, 0, 0), loadings = matrix(c(1, 2, 0, 1), 4, 1), cov = diag(0.3, 4)),
    list(mean = c(4, 4, 0, 1), loadings = matrix(c(0, 1, 1, 1), 4, 1), cov = diag(0.6, 4))))
  x <- oracle_composite_sample(params, 100)$x
  f <- with_params(m, params, data = x)
  expect_lt(rel_diff(log_density(f), oracle_composite_logp(params, x)), 1e-8)
  # A mixture of Gaussian-Boltzmann harmoniums: brute force over classes and
  # the 2^q binary states.
  mb <- mixture(boltzmann_lgm(ef_normal(2, "diagonal"), 2), 2)
  pb <- list(weights = c(0.5, 0.5), components = lapply(1:2, function(j) {
    list(offset = c(j, -j), loadings = matrix(c(1, 0, 0.5, 1) * j, 2, 2), cov = diag(c(0.4, 0.7)),
      prior = list(bias = c(0.2, -0.3) * j, coupling = matrix(c(0, 0.4, 0.4, 0), 2, 2)))
  }))
  xb <- matrix(rnorm(20, sd = 2), 10, 2)
  fb <- with_params(mb, pb, data = xb)
  states <- as.matrix(expand.grid(0:1, 0:1))
  brute <- sapply(1:10, function(i) {
    log(sum(sapply(1:2, function(j) {
      cj <- pb$components[[j]]
      C <- cj$prior$coupling
      e <- apply(states, 1, function(z) sum(cj$prior$bias * z) + z[1] * z[2] * C[1, 2])
      pz <- exp(e) / sum(exp(e))
      pb$weights[j] * sum(sapply(1:4, function(s) {
        pz[s] * exp(oracle_dmvnorm(xb[i, , drop = FALSE], as.vector(cj$offset + cj$loadings %*% states[s, ]), cj$cov))
      }))
    })))
  })
  expect_lt(rel_diff(log_density(fb), brute), 1e-8)
  fit <- suppressWarnings(fit_lvm(mb, xb, control = lvm_control(maxit = 20)))
  expect_true(all(diff(fit$trace) > -1e-10 * abs(fit$trace[-1])))
})

test_that("select_k compares clusters and factors", {
  sel <- suppressWarnings(select_k(function(k, factors) mfa(4, factors, k), iris[, 1:4], k = 1:2, factors = 1:2,
    control = lvm_control(maxit = 300)))
  expect_equal(nrow(sel$table), 4L)
  expect_true(all(c("k", "factors", "BIC") %in% names(sel$table)))
  expect_true(sel$best$k %in% 1:2)
  expect_true(sel$best$factors %in% 1:2)
})

test_that("bad input is a classed error before any C work", {
  expect_error(harmonium(ef_normal(4), mixture(ef_poisson(), 2)), class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_normal(4), mixture(ef_normal(2, "diagonal"), 2)),
    class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_poisson(4), mixture(ef_normal(2), 2)), class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_normal(4), factor_analysis(3, 1)), class = "harmonium_error_unsupported")
  expect_error(harmonium(ef_normal(2), mixture(ef_normal(2), 2)), class = "harmonium_error_argument")
  expect_error(hmog(4, 4, 2), class = "harmonium_error_argument")
  expect_error(mfa(4, 4, 2), class = "harmonium_error_argument")
  expect_error(mfa(4, 1, 0), class = "harmonium_error_argument")
  expect_error(mixture(lgm(ef_normal(4), 1, posterior = "diagonal"), 2), class = "harmonium_error_unsupported")
  expect_error(mixture(mfa(4, 1, 2), 2), class = "harmonium_error_unsupported")
  expect_error(fit_lvm(mfa(4, 1, 10), iris[1:5, 1:4]), class = "harmonium_error_data")
  expect_error(fit_lvm(hmog(4, 1, 2), iris[, 1:3]), class = "harmonium_error_data")
  expect_error(with_params(hmog(4, 2, 2), list(mean = 1:4)), class = "harmonium_error_params")
  expect_error(with_params(mfa(4, 1, 2), list(weights = c(0.5, 0.5), components = list(list()))),
    class = "harmonium_error_params")
  expect_error(fit_lvm(mfa(4, 1, 2), iris[, 1:4], init = rep(3L, 150)), class = "harmonium_error_init")
})

# --- EMMIXmfa as a live oracle -------------------------------------------------

emmix_quiet <- function(expr) {
  out <- NULL
  utils::capture.output(out <- suppressWarnings(expr))
  out
}

# EMMIXmfa's mfa parameters (sigma_type = D_type = "unique") as harmonium's.
emmix_to_mfa <- function(r) {
  list(weights = as.vector(r$pivec), components = lapply(seq_len(r$g), function(k) {
    list(mean = r$mu[, k], loadings = matrix(r$B[, , k], ncol = r$q), cov = r$D[, , k])
  }))
}

test_that("EMMIXmfa: its fitted MFA and MCFA evaluate to its log-likelihood; our maxima are at least as high", {
  skip_if_not_installed("EMMIXmfa")
  Y <- as.matrix(iris[, 1:4])
  set.seed(1)
  r <- emmix_quiet(EMMIXmfa::mfa(Y, 3, 1, sigma_type = "unique", D_type = "unique", nkmeans = 2, nrandom = 0,
    tol = 1e-8, itmax = 1000, warn_messages = FALSE))
  ev <- with_params(mfa(4, 1, 3), emmix_to_mfa(r), data = Y)
  expect_equal(ev$loglik, r$logL, tolerance = 1e-7)
  # (a start whose component collapses is reported and discarded)
  ours <- withCallingHandlers(fit_lvm(mfa(4, 1, 3), Y, control = lvm_control(n_init = 3, tol = 1e-12, maxit = 20000)),
    harmonium_warning_discarded_start = function(w) invokeRestart("muffleWarning"))
  expect_false(ours$best_start %in% ours$warnings$start)
  expect_gt(ours$loglik, r$logL - 1e-6 * abs(r$logL))

  set.seed(2)
  rc <- emmix_quiet(EMMIXmfa::mcfa(Y, 3, 2, nkmeans = 1, nrandom = 0, tol = 1e-8, itmax = 500,
    warn_messages = FALSE))
  pc <- list(mean = numeric(4), loadings = rc$A, cov = rc$D, latent = list(weights = as.vector(rc$pivec),
    components = lapply(1:3, function(k) list(mean = rc$xi[, k], cov = rc$omega[, , k]))))
  evc <- with_params(hmog(4, 2, 3), pc, data = Y)
  expect_equal(evc$loglik, rc$logL, tolerance = 1e-7)
  oc <- suppressWarnings(fit_lvm(hmog(4, 2, 3), Y, control = lvm_control(n_init = 3, maxit = 3000)))
  expect_gt(oc$loglik, rc$logL - 1e-6 * abs(rc$logL))
})

test_that("EMMIXmfa: from the same start, the same optimum or a better one", {
  skip_if_not_installed("EMMIXmfa")
  x <- as.matrix(datasets::swiss[, 1:5])
  m <- mfa(5, 1, 2)
  f0 <- suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 1)))
  st <- hm("model_start")(m, hm("scale_data")(f0$scaler, x), x, NULL, 1L, lvm_control(), hm("fam_ctrl")(), 1L)
  start <- hm("model_affine")(m, f0$scaler, hm("model_to_src")(m, st), inverse = TRUE)
  ip <- list(g = 2, q = 1, pivec = matrix(start$weights, 1), sigma_type = "unique", D_type = "unique",
    mu = sapply(start$components, `[[`, "mean"),
    B = array(sapply(start$components, `[[`, "loadings"), c(5, 1, 2)),
    D = array(sapply(start$components, function(c) diag(diag(c$cov))), c(5, 5, 2)))
  r <- emmix_quiet(EMMIXmfa::mfa(x, 2, 1, sigma_type = "unique", D_type = "unique", init_para = ip,
    nkmeans = 0, nrandom = 0, tol = 1e-9, itmax = 2000, warn_messages = FALSE))
  ours <- suppressWarnings(fit_lvm(m, x, init = start, control = lvm_control(tol = 1e-13, maxit = 20000)))
  # The same start: our first E-step is at EMMIXmfa's initial parameters.
  expect_equal(with_params(m, start, data = x)$loglik,
    with_params(m, emmix_to_mfa(c(ip, list(g = 2, q = 1))), data = x)$loglik, tolerance = 1e-10)
  expect_gt(ours$loglik, r$logL - 1e-6 * abs(r$logL))
})

test_that("the one-pass column standardisation equals R's", {
  set.seed(31)
  x <- matrix(rnorm(600, mean = 5, sd = 3), 200, 3)
  mo <- hm("data_moments")(x)
  expect_equal(mo$mean, colMeans(x), tolerance = 1e-14)
  expect_equal(mo$rms, sqrt(colMeans(sweep(x, 2, colMeans(x))^2)), tolerance = 1e-14)
  sc <- hm("native_data_scale")(x, mo$mean, mo$rms, 1L)$x
  expect_equal(sc, sweep(sweep(x, 2, mo$mean), 2, mo$rms, "/"), tolerance = 1e-14)
  expect_equal(hm("data_moments")(x[1, , drop = FALSE])$rms, c(0, 0, 0))
})
