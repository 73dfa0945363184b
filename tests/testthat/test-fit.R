# fit_lvm(), lvm_control(), with_params(), select_k() and the fit methods.

test_that("one EM iteration equals a textbook EM step (full, diagonal, isotropic)", {
  x <- as.matrix(faithful)
  for (cv in c("full", "diagonal", "isotropic")) {
    m <- mixture(ef_normal(2, cv), 2)
    p0 <- list(weights = c(0.4, 0.6), components = list(
      list(mean = c(2, 55), cov = diag(c(0.5, 40))), list(mean = c(4.4, 80), cov = diag(c(0.4, 35)))))
    if (cv == "isotropic") p0$components <- lapply(p0$components, function(p) {
      p$cov <- diag(10, 2)
      p
    })
    f <- suppressWarnings(fit_lvm(m, x, init = p0, control = lvm_control(maxit = 1)))
    ref <- oracle_gmm_em_step(x, p0, cv)
    expect_equal(f$params$weights, ref$weights, tolerance = 1e-10, info = cv)
    for (j in 1:2) {
      expect_equal(f$params$components[[j]]$mean, ref$components[[j]]$mean, tolerance = 1e-10,
        info = cv, ignore_attr = TRUE)
      expect_equal(f$params$components[[j]]$cov, ref$components[[j]]$cov, tolerance = 1e-10,
        info = cv, ignore_attr = TRUE)
    }
    expect_equal(f$trace[1], sum(oracle_mixture_logp(list(name = "normal"), p0, x)), tolerance = 1e-10)
  }
})

test_that("weighted EM equals EM on replicated rows", {
  x <- as.matrix(faithful)[1:60, ]
  w <- rep(c(1, 2, 3), 20)
  xr <- x[rep(seq_len(60), w), ]
  p0 <- list(weights = c(0.5, 0.5), components = list(
    list(mean = c(2, 55), cov = diag(c(0.5, 40))), list(mean = c(4.4, 80), cov = diag(c(0.4, 35)))))
  m <- mixture(ef_normal(2), 2)
  fw <- fit_lvm(m, x, init = p0, weights = w)
  fr <- fit_lvm(m, xr, init = p0)
  expect_equal(fw$loglik, fr$loglik, tolerance = 1e-8)
  expect_equal(fw$params$components[[2]]$cov, fr$params$components[[2]]$cov, tolerance = 1e-6)
})

test_that("EM never decreases the log-likelihood", {
  set.seed(2)
  cases <- list(
    list(mixture(ef_normal(2), 3), as.matrix(faithful)),
    list(mixture(ef_normal(4, "diagonal"), 3), as.matrix(iris[, 1:4])),
    list(mixture(ef_poisson(), 3), c(rpois(100, 2), rpois(100, 9), rpois(50, 20))),
    list(mixture(ef_von_mises(), 2), c(rnorm(80, 0.5, 0.4), rnorm(80, 2.7, 0.5))),
    list(mixture(ef_product(ef_bernoulli(3), ef_categorical(3)), 2),
      data.frame(a = rbinom(200, 1, 0.3), b = rbinom(200, 1, 0.6), c = rbinom(200, 1, 0.5),
        d = factor(sample(1:3, 200, TRUE))))
  )
  for (cs in cases) {
    # Monotonicity is the point here, not convergence within 300 iterations.
    f <- withCallingHandlers(
      fit_lvm(cs[[1]], cs[[2]], control = lvm_control(tol = 1e-10, maxit = 300)),
      harmonium_warning_not_converged = function(w) invokeRestart("muffleWarning"),
      # a level that one class never shows is floored and reported
      harmonium_warning_boundary = function(w) invokeRestart("muffleWarning")
    )
    tr <- f$trace
    expect_true(all(diff(tr) >= -1e-8 * (1 + abs(tr[-1]))), info = cs[[1]]$label)
    expect_true(f$iterations > 1L)
  }
})

test_that("fits agree across the matrix, data frame and formula forms", {
  m <- mixture(ef_normal(2), 2)
  f1 <- fit_lvm(m, as.matrix(faithful))
  f2 <- fit_lvm(m, faithful)
  f3 <- fit_lvm(~ eruptions + waiting, faithful, m)
  f4 <- fit_lvm(~ ., faithful, m)
  expect_equal(f1$loglik, f2$loglik)
  expect_equal(f1$loglik, f3$loglik)
  expect_equal(f1$loglik, f4$loglik)
  f5 <- fit_lvm(~ waiting, faithful, mixture(ef_normal(1), 2))
  expect_equal(f5$n, 272L)
  expect_error(fit_lvm(~ nope, faithful, m), class = "harmonium_error_data")
  expect_error(fit_lvm(~ eruptions | waiting, faithful, m), class = "harmonium_error_argument")
})

test_that("the fit object has the contract's fields and methods", {
  f <- fit_lvm(mixture(ef_normal(2), 2), faithful)
  expect_s3_class(f, c("mixture_fit", "lvm_fit"))
  for (nm in c("model", "params", "loglik", "trace", "iterations", "converged", "n", "df")) {
    expect_true(nm %in% names(f), info = nm)
  }
  expect_true(f$converged)
  ll <- logLik(f)
  expect_s3_class(ll, "logLik")
  expect_equal(attr(ll, "df"), 11)
  expect_equal(nobs(f), 272L)
  expect_equal(BIC(f), -2 * f$loglik + 11 * log(272))
  expect_equal(AIC(f), -2 * f$loglik + 22)
  expect_identical(coef(f), f$params)
  expect_equal(sum(f$params$weights), 1)
  cls <- predict(f)
  expect_true(all(cls %in% 1:2))
  expect_equal(predict(f, type = "posterior"), posterior(f))
  nd <- data.frame(eruptions = c(1.8, 4.6), waiting = c(50, 85))
  expect_equal(predict(f, nd), c(predict(f)[which.min(faithful$eruptions)], predict(f)[which.max(faithful$eruptions)]))
  expect_length(log_density(f, nd), 2L)
  expect_equal(sum(log_density(f)), f$loglik, tolerance = 1e-10)
  expect_output(print(f), "log-likelihood")
  s <- summary(f)
  expect_s3_class(s, "summary.mixture_fit")
  expect_output(print(s), "Clustering table")
  expect_equal(s$BIC, BIC(f))
  expect_gte(s$ICL, s$BIC)
  u <- update(f, control = lvm_control(n_init = 3, seed = 4))
  expect_gte(u$loglik, f$loglik - 1e-8)
  expect_equal(nrow(u$starts), 3L)
})

test_that("n_init keeps the best start and depends only on the seed", {
  x <- as.matrix(iris[, 1:4])
  m <- mixture(ef_normal(4), 3)
  a <- fit_lvm(m, x, control = lvm_control(n_init = 4, seed = 9))
  b <- fit_lvm(m, x, control = lvm_control(n_init = 4, seed = 9, threads = 1))
  expect_identical(a$params, b$params)
  expect_equal(a$loglik, max(a$starts$loglik, na.rm = TRUE))
  set.seed(1)
  r1 <- runif(1)
  set.seed(1)
  invisible(fit_lvm(m, x, control = lvm_control(n_init = 2, seed = 3)))
  expect_equal(runif(1), r1)
})

test_that("init accepts a fit, parameters or labels", {
  m <- mixture(ef_normal(2), 2)
  f <- fit_lvm(m, faithful)
  g <- fit_lvm(m, faithful, init = f)
  expect_equal(g$loglik, f$loglik, tolerance = 1e-8)
  h <- fit_lvm(m, faithful, init = as.integer(faithful$eruptions > 3) + 1L)
  expect_equal(h$loglik, f$loglik, tolerance = 1e-6)
  expect_error(fit_lvm(m, faithful, init = "x"), class = "harmonium_error_init")
  expect_error(fit_lvm(m, faithful, init = rep(3L, 272)), class = "harmonium_error_init")
})

test_that("a collapsing component is named and reg prevents it", {
  x <- cbind(c(rnorm(50), rep(5, 3)), c(rnorm(50), rep(-5, 3)))
  m <- mixture(ef_normal(2), 2)
  lab <- c(rep(1L, 50), rep(2L, 3))
  expect_warning(f <- fit_lvm(m, x, init = c(rep(1L, 50), 2L, 2L, 2L)), class = "harmonium_warning")
  # the ridge keeps the tied component finite, and it is still reported
  expect_warning(g <- fit_lvm(m, x, init = lab, control = lvm_control(reg = 1e-3)),
    class = "harmonium_warning_collapse")
  expect_true(is.finite(g$loglik))
  expect_match(g$warnings$message, "component 2: covariance held positive definite only by the ridge")
})

test_that("bad input gives classed errors before any C work", {
  m <- mixture(ef_normal(2), 2)
  expect_error(fit_lvm("a", faithful), class = "harmonium_error_argument")
  expect_error(fit_lvm(m, faithful[, 1, drop = FALSE]), class = "harmonium_error_data")
  expect_error(fit_lvm(m, faithful[0, ]), class = "harmonium_error_data")
  bad <- faithful
  bad$waiting[c(3, 9)] <- NA
  expect_error(fit_lvm(m, bad), class = "harmonium_error_data_na")
  expect_equal(fit_lvm(m, bad, na_action = "omit")$n, 270L)
  bad$waiting[3] <- Inf
  expect_error(fit_lvm(m, bad, na_action = "fail"), class = "harmonium_error_data_na")
  expect_error(fit_lvm(mixture(ef_normal(2), 5), faithful[1:3, ]), class = "harmonium_error_data")
  expect_error(fit_lvm(mixture(ef_poisson(), 2), c(1, -1, 2)), class = "harmonium_error_data_support")
  expect_error(fit_lvm(mixture(ef_poisson(), 2), c(1, 2.5, 2)), class = "harmonium_error_data_support")
  expect_error(fit_lvm(m, faithful, weights = rep(-1, 272)), class = "harmonium_error_argument")
  expect_error(fit_lvm(m, faithful, weights = 1:3), class = "harmonium_error_argument")
  expect_error(fit_lvm(m, faithful, control = list()), class = "harmonium_error_argument")
  expect_error(fit_lvm(m, list(1, "a")), class = "harmonium_error_data")
  expect_error(lvm_control(tol = -1), class = "harmonium_error_argument")
  expect_error(lvm_control(maxit = 0), class = "harmonium_error_argument")
  expect_error(lvm_control(n_init = NA), class = "harmonium_error_argument")
  expect_error(lvm_control(threads = 1.5), class = "harmonium_error_argument")
  expect_error(lvm_control(trace = "yes"), class = "harmonium_error_argument")
  expect_error(mixture(ef_normal(2), 0), class = "harmonium_error_argument")
  expect_error(mixture("normal", 2), class = "harmonium_error_argument")
  expect_error(with_params(m, list(weights = c(0.5, 0.5))), class = "harmonium_error_params")
  expect_error(with_params(m, list(weights = c(0.2, 0.2), components = list())), class = "harmonium_error_argument")
  expect_error(fit_lvm(m, faithful, method = "magic"))
  f <- fit_lvm(m, faithful)
  expect_error(predict(f, data.frame(a = 1)), class = "harmonium_error_data")
  mc <- mixture(ef_categorical(c("a", "b")), 2)
  expect_error(fit_lvm(mc, factor(c("a", "b", "z"))), class = "harmonium_error_data_levels")
})

test_that("trace reports progress", {
  m <- mixture(ef_normal(2), 2)
  msgs <- testthat::capture_messages(suppressWarnings(
    fit_lvm(m, faithful, control = lvm_control(trace = TRUE, tol = 1e-14, maxit = 25, n_init = 1))))
  expect_match(paste(msgs, collapse = ""), "EM start 1/1 [|] iter [1-9][0-9]* [|] logLik -[0-9]")
})

test_that("select_k tabulates BIC and ICL and picks a k", {
  s <- select_k(ef_normal(2), faithful, k = 1:4)
  expect_s3_class(s, "lvm_select")
  expect_equal(s$table$k, 1:4)
  expect_equal(s$table$BIC[3], BIC(s$fits[[3]]))
  expect_true(all(s$table$ICL >= s$table$BIC - 1e-8))
  expect_true(s$best$k %in% 2:4)
  expect_identical(s$best$covariance, "VVV")
  expect_output(print(s), "Best by BIC")
  s2 <- select_k(function(k) mixture(ef_normal(1), k), faithful$waiting, k = c(2, 1))
  expect_equal(s2$table$k, 1:2)
  expect_error(select_k(1, faithful), class = "harmonium_error_argument")
})

test_that("plots draw without error", {
  pdf(NULL)
  on.exit(dev.off())
  f2 <- fit_lvm(mixture(ef_normal(2), 2), faithful)
  expect_invisible(plot(f2))
  expect_invisible(plot(f2, type = "trace"))
  expect_invisible(plot(f2, type = "classification"))
  f1 <- fit_lvm(mixture(ef_normal(1), 2), faithful$waiting)
  expect_invisible(plot(f1))
  fp <- fit_lvm(mixture(ef_poisson(), 2), c(rpois(50, 2), rpois(50, 10)))
  expect_invisible(plot(fp))
  f4 <- fit_lvm(mixture(ef_normal(4, "diagonal"), 3), iris[, 1:4])
  expect_invisible(plot(f4))
  expect_invisible(plot(select_k(ef_normal(1), faithful$waiting, k = 1:3)))
  expect_error(plot(f2, type = "nope"))
})
