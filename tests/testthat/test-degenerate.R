# Degenerate data: each case is handled (ridge, floor, bound, discarded
# start) and reported, both as a classed warning and in fit$warnings, or is
# a classed error; never a silent NaN or Inf in the parameters, the
# log-likelihood, the trace, the posterior or the predictions.

# Fits while recording the classed warnings raised (without printing them).
fit_quietly <- function(...) {
  classes <- character(0)
  fit <- withCallingHandlers(fit_lvm(...), warning = function(w) {
    classes <<- c(classes, class(w)[1])
    invokeRestart("muffleWarning")
  })
  list(fit = fit, classes = classes)
}

all_finite <- function(x) {
  v <- unlist(x, use.names = FALSE)
  is.numeric(v) && all(is.finite(v))
}

# The common assertions: finite numbers everywhere, and the event `what`
# both raised as harmonium_warning_<what> and recorded in fit$warnings.
expect_reported <- function(res, what) {
  fit <- res$fit
  cls <- paste0("harmonium_warning_", what)
  expect_true(all_finite(fit$params), info = what)
  expect_true(is.finite(fit$loglik), info = what)
  expect_true(length(fit$trace) >= 1L && all(is.finite(fit$trace)), info = what)
  if (!is.null(fit$posterior)) expect_true(all(is.finite(fit$posterior)), info = what)
  pr <- predict(fit)
  expect_false(anyNA(unlist(pr)), info = what)
  # A parameter at the boundary is a note in the fit's log (the maximum of a
  # bounded likelihood), every other event a warning as well.
  if (what == "boundary") {
    expect_false(cls %in% res$classes, info = paste(what, "not raised"))
    expect_true(cls %in% fit$warnings$class, info = paste(what, "recorded"))
  } else {
    expect_true(cls %in% res$classes, info = paste(what, "raised"))
  }
  expect_s3_class(fit$warnings, "data.frame")
  expect_named(fit$warnings, c("class", "start", "message"))
  expect_true(cls %in% fit$warnings$class, info = paste(what, "recorded"))
  expect_true(all(nzchar(fit$warnings$message)))
  invisible(fit)
}

set.seed(11)
gx <- matrix(stats::rnorm(160), 80, 2)

test_that("a healthy fit has an empty event log and prints none", {
  f <- fit_lvm(mixture(ef_normal(1), 2), c(stats::rnorm(60), stats::rnorm(60, 6)))
  expect_identical(nrow(f$warnings), 0L)
  expect_false(any(grepl("Warnings during fitting", utils::capture.output(print(f)))))
})

test_that("a Normal component collapsing onto one far point is stopped and reported", {
  for (cv in c("full", "diagonal", "isotropic")) {
    res <- fit_quietly(mixture(ef_normal(2, cv), 4), rbind(gx, c(40, 40)))
    f <- expect_reported(res, "collapse")
    expect_identical(f$status, "not_pd", info = cv)
    expect_match(f$warnings$message[f$warnings$class == "harmonium_warning_collapse"][1],
      "component [0-9]+ collapsed at iteration [0-9]+")
    expect_warning(fit_lvm(mixture(ef_normal(2, cv), 4), rbind(gx, c(40, 40))),
      class = "harmonium_warning_collapse")
  }
})

test_that("a component on a tied set, and k above the distinct points, are reported", {
  tied <- rbind(gx, matrix(c(3, -2), 12, 2, byrow = TRUE))
  for (cv in c("full", "diagonal", "isotropic")) {
    expect_reported(fit_quietly(mixture(ef_normal(2, cv), 3), tied), "collapse")
    expect_reported(fit_quietly(mixture(ef_normal(2, cv), 4), gx[rep(1:3, 10), ]), "collapse")
  }
})

test_that("multi-start names the starts that collapsed and were discarded", {
  tied <- rbind(gx, matrix(c(3, -2), 12, 2, byrow = TRUE))
  res <- fit_quietly(mixture(ef_normal(2), 3), tied, control = lvm_control(n_init = 4))
  f <- res$fit
  gone <- f$warnings[f$warnings$class == "harmonium_warning_discarded_start", ]
  expect_true("harmonium_warning_discarded_start" %in% res$classes)
  expect_gt(nrow(gone), 0L)
  expect_false(f$best_start %in% gone$start)
  expect_true(all(grepl("^stopped", f$starts$status[gone$start])))
  expect_true(all(startsWith(gone$message, paste0("start ", gone$start, ": "))))
  expect_match(gone$message, "collapsed at iteration")
  expect_true(all(nzchar(f$starts$note[gone$start])))
  # The kept start is healthy whenever one is: its log-likelihood is not the
  # spurious higher one of a collapsed start.
  if (any(!grepl("^stopped", f$starts$status))) expect_false(grepl("^stopped", f$starts$status[f$best_start]))
})

test_that("singular data get a ridge, reported; without a Normal block they are a classed error", {
  collinear <- cbind(gx, 2 * gx[, 1] + 1)
  const <- cbind(gx, 5)
  few <- matrix(stats::rnorm(20), 4, 5)
  for (dat in list(collinear, const, few)) {
    res <- fit_quietly(mixture(ef_normal(ncol(dat)), 2), dat)
    f <- expect_reported(res, "singular")
    expect_equal(f$control$reg, 1e-6)
  }
  # diagonal and isotropic covariances survive a constant column or n < d
  # by stopping at the last valid iterate or without any failure
  for (cv in c("diagonal", "isotropic")) {
    for (dat in list(const, few)) {
      res <- fit_quietly(mixture(ef_normal(ncol(dat), cv), 2), dat)
      expect_true(all_finite(res$fit$params) && is.finite(res$fit$loglik), info = cv)
    }
  }
  # the ridge a user asks for is kept, and a covariance held only by it is reported
  res <- fit_quietly(mixture(ef_normal(2), 4), gx[rep(1:3, 10), ], control = lvm_control(reg = 1e-6))
  f <- expect_reported(res, "collapse")
  expect_match(f$warnings$message, "ridge", all = FALSE)
})

test_that("categories never observed in a class or in the data are floored and reported", {
  d1 <- data.frame(f = factor(sample(c("a", "b"), 60, TRUE), levels = c("a", "b", "c")))
  f <- expect_reported(fit_quietly(mixture(ef_categorical(c("a", "b", "c")), 2), d1), "boundary")
  expect_match(f$warnings$message, "level.*'c'", all = FALSE)
  expect_true(all(vapply(f$params$components, function(p) p$prob[["c"]], 0) > 0))
  lca <- data.frame(a = factor(rep(1:2, each = 30), levels = 1:3),
    b = factor(c(rep(1, 30), sample(1:3, 30, TRUE)), levels = 1:3))
  f <- expect_reported(fit_quietly(mixture(ef_product(ef_categorical(3), ef_categorical(3)), 2), lca), "boundary")
  expect_match(f$warnings$message, "never observed", all = FALSE)
  expect_true(all(is.finite(log_density(f))))
})

test_that("Bernoulli, Poisson and binomial parameters at 0 or 1 are floored and reported", {
  B <- matrix(stats::rbinom(240, 1, 0.5), 80, 3)
  B[, 2] <- 0
  B[, 3] <- 1
  f <- expect_reported(fit_quietly(mixture(ef_bernoulli(3), 2), B), "boundary")
  expect_match(f$warnings$message, "probability at 0", all = FALSE)
  expect_match(f$warnings$message, "probability at 1", all = FALSE)
  f <- expect_reported(fit_quietly(mixture(ef_poisson(2), 2), cbind(stats::rpois(80, 3), 0)), "boundary")
  expect_match(f$warnings$message, "rate at 0", all = FALSE)
  f <- expect_reported(fit_quietly(mixture(ef_poisson(), 2), c(rep(0, 40), stats::rpois(40, 6))), "boundary")
  expect_true(all(is.finite(log_density(f, newdata = c(0, 3)))))
  bi <- cbind(c(rep(0, 40), stats::rbinom(40, 5, 0.5)), 5)
  expect_reported(fit_quietly(mixture(ef_binomial(5, 2), 2), bi), "boundary")
})

test_that("von Mises and gamma concentrations running to infinity are reported", {
  f <- expect_reported(fit_quietly(mixture(ef_von_mises(), 2), c(rep(1, 30), stats::runif(30, -pi, pi))),
    "concentration")
  expect_match(f$warnings$message, "von Mises concentration", all = FALSE)
  expect_reported(fit_quietly(mixture(ef_von_mises(), 2), rep(1, 40)), "concentration")
  expect_reported(fit_quietly(mixture(ef_gamma(), 2), rep(2, 40)), "concentration")
  # ties within continuous gamma data are no degeneracy
  res <- fit_quietly(mixture(ef_gamma(), 2), c(rep(2, 20), stats::rgamma(60, 2)))
  expect_true(all_finite(res$fit$params))
})

test_that("a degenerate COM-Poisson problem is a classed error, not a silent failure", {
  res <- tryCatch(fit_lvm(mixture(ef_com_poisson(), 2), rep(3, 30)), harmonium_error = function(e) e)
  if (inherits(res, "lvm_fit")) {
    expect_true(all_finite(res$params) && is.finite(res$loglik))
  } else {
    expect_s3_class(res, "harmonium_error_fit_failed")
    expect_match(conditionMessage(res), "start 1")
  }
})

fa_data <- function(n = 200) {
  z <- stats::rnorm(n)
  cbind(z + stats::rnorm(n, sd = 0.5), z + stats::rnorm(n, sd = 0.6), z + stats::rnorm(n, sd = 0.7),
    stats::rnorm(n))
}

test_that("factor analysis bounds Heywood uniquenesses as factanal does and names the column", {
  X <- fa_data()
  Xh <- cbind(X, h = X[, 1] + stats::rnorm(nrow(X), sd = 1e-3))
  colnames(Xh) <- c("a", "b", "c", "d", "h")
  res <- fit_quietly(factor_analysis(5, 1), Xh)
  f <- expect_reported(res, "heywood")
  expect_true(f$converged)
  expect_false("harmonium_warning_decrease" %in% res$classes)
  expect_match(f$warnings$message, "column h: uniqueness 0.005", all = FALSE)
  # the uniquenesses in correlation units are factanal's (lower = 0.005)
  u <- diag(f$params$cov) / (colMeans(sweep(Xh, 2, colMeans(Xh))^2))
  fa <- stats::factanal(Xh, 1)
  expect_equal(unname(u), unname(fa$uniquenesses), tolerance = 2e-3)
  expect_equal(min(u), 0.005, tolerance = 1e-6)
  # an exact linear combination, for which factanal itself fails, is bounded too
  expect_reported(fit_quietly(factor_analysis(5, 1), cbind(X, 2 * X[, 1])), "heywood")
  expect_warning(fit_lvm(factor_analysis(5, 1), cbind(X, 2 * X[, 1])), class = "harmonium_warning_heywood")
})

test_that("a constant column and too many factors in factor analysis are reported", {
  X <- fa_data()
  res <- fit_quietly(factor_analysis(5, 1), cbind(X, 3))
  expect_reported(res, "heywood")
  expect_false("harmonium_warning_decrease" %in% res$classes)
  expect_reported(fit_quietly(factor_analysis(4, 3), X), "unidentified")
  res <- fit_quietly(ppca(5, 1), cbind(X, 2 * X[, 1]))
  expect_true(all_finite(res$fit$params) && is.finite(res$fit$loglik))
})

test_that("HMM: a collapsing emission, a state at a zero rate, and a constant series", {
  set.seed(5)
  res <- fit_quietly(hmm(ef_normal(1), 2), c(rep(1, 40), stats::rnorm(80)))
  expect_reported(res, "collapse")
  f <- expect_reported(fit_quietly(hmm(ef_poisson(), 2), c(rep(0, 40), stats::rpois(40, 5))), "boundary")
  expect_match(f$warnings$message, "^state [12]: rate at 0", all = FALSE)
  res <- fit_quietly(hmm(ef_normal(1), 3), c(rep(1, 30), stats::rnorm(80)), control = lvm_control(n_init = 3))
  expect_true(all_finite(res$fit$params) && all(is.finite(res$fit$trace)))
  expect_gt(nrow(res$fit$warnings), 0L)
  err <- tryCatch(fit_lvm(hmm(ef_normal(1), 2), rep(1, 50)), harmonium_error = function(e) e)
  expect_s3_class(err, "harmonium_error")
})

test_that("HMM: a state that is never visited is reported", {
  set.seed(6)
  x <- stats::rpois(120, 4)
  init <- list(initial = c(0.5, 0.5, 0), transition = rbind(c(0.9, 0.1, 0), c(0.1, 0.9, 0), c(0.5, 0, 0.5)),
    emission = list(list(rate = 2), list(rate = 6), list(rate = 50)))
  res <- fit_quietly(hmm(ef_poisson(), 3), x, init = init)
  f <- expect_reported(res, "empty_state")
  expect_match(f$warnings$message, "state 3", all = FALSE)
})

test_that("LDS: a noise covariance going singular is stopped and reported", {
  set.seed(7)
  y <- cumsum(stats::rnorm(80))
  res <- fit_quietly(lds(2, 1), cbind(y, 2 * y))
  f <- res$fit
  expect_true("harmonium_warning_collapse" %in% res$classes)
  expect_true("harmonium_warning_collapse" %in% f$warnings$class)
  expect_true(all_finite(f$params) && is.finite(f$loglik) && all(is.finite(f$trace)))
  expect_identical(f$status, "not_pd")
})

test_that("warnings are kept in the fit when suppressed, and print and summary show them", {
  f <- suppressWarnings(fit_lvm(mixture(ef_poisson(), 2), c(rep(0, 40), stats::rpois(40, 6))))
  expect_true("harmonium_warning_boundary" %in% f$warnings$class)
  out <- utils::capture.output(print(f))
  expect_true(any(grepl("Warnings during fitting \\(1\\)", out)))
  expect_true(any(grepl("[boundary]", out, fixed = TRUE)))
  out <- utils::capture.output(print(summary(f)))
  expect_true(any(grepl("rate at 0", out)))
  # a fit inside another driver keeps only its own events
  g <- suppressWarnings(fit_lvm(mixture(ef_normal(1), 2), c(stats::rnorm(50), stats::rnorm(50, 5))))
  expect_identical(nrow(g$warnings), 0L)
})

test_that("select_k marks degenerate fits and does not choose them while a healthy one exists", {
  set.seed(8)
  x <- rbind(matrix(stats::rnorm(120), 60, 2), matrix(stats::rnorm(120, 5), 60, 2),
    matrix(c(3, -2), 8, 2, byrow = TRUE))
  sel <- NULL
  # One start each: the default starts find healthy optima for every k here.
  expect_warning(sel <- suppressWarnings(select_k(ef_normal(2), x, k = 1:4, control = lvm_control(n_init = 1)),
    classes = "harmonium_warning_collapse"),
    class = "harmonium_warning_select_degenerate")
  tab <- sel$table
  expect_true(all(c("degenerate", "warnings") %in% names(tab)))
  expect_true(any(tab$degenerate))
  expect_false(tab$degenerate[tab$k == sel$best$k])
  expect_true(all(is.na(tab$BIC[tab$degenerate])))
  healthy <- tab[!tab$degenerate, ]
  expect_equal(sel$best$k, healthy$k[which.min(healthy$BIC)])
  deg <- tab$k[tab$degenerate]
  expect_true(all(vapply(sel$fits[as.character(deg)], function(f) nrow(f$warnings) > 0L, logical(1))))
})
