# Progress (R/progress.R): a cli progress bar over starts and iterations that
# never changes the fit.

# Everything a fit computed (not its call or control, which differ by trace).
fit_result <- function(f) {
  f[c("params", "theta", "loglik", "trace", "iterations", "converged", "status", "starts", "best_start",
    "posterior", "logp", "warnings")]
}

# The messages (progress lines) a fit emits, and the fit.
with_messages <- function(expr) {
  msgs <- character(0)
  val <- withCallingHandlers(expr, message = function(m) {
    msgs <<- c(msgs, conditionMessage(m))
    invokeRestart("muffleMessage")
  })
  list(value = val, messages = cli::ansi_strip(paste(msgs, collapse = "")))
}

test_that("trace = TRUE gives a fit identical to trace = FALSE (mixture, several starts)", {
  m <- mixture(ef_normal(4), 3)
  quiet <- fit_lvm(m, iris[, 1:4], control = lvm_control(n_init = 3))
  shown <- with_messages(fit_lvm(m, iris[, 1:4], control = lvm_control(n_init = 3, trace = TRUE)))
  expect_identical(fit_result(shown$value), fit_result(quiet))
  # The bar names the algorithm, the start and the iteration.
  expect_match(shown$messages, "EM start 1/3", fixed = TRUE)
  expect_match(shown$messages, "EM: 3 start(s) done", fixed = TRUE)
})

test_that("bursts continue exactly where the iteration cap falls inside one", {
  # maxit = 37 is not a multiple of the burst lengths 10, 20, ...: EM stops
  # inside a burst, unconverged, and the result must not depend on where.
  m <- mixture(ef_normal(2), 3)
  ctl <- function(trace) lvm_control(maxit = 37, tol = 0, n_init = 2, trace = trace)
  quiet <- suppressWarnings(fit_lvm(m, faithful, control = ctl(FALSE)))
  shown <- suppressWarnings(suppressMessages(fit_lvm(m, faithful, control = ctl(TRUE))))
  expect_identical(quiet$iterations, 37L)
  expect_false(quiet$converged)
  expect_identical(fit_result(shown), fit_result(quiet))
})

test_that("trace = TRUE gives identical HMM and LDS fits", {
  x <- as.numeric(LakeHuron)
  quiet <- fit_lvm(hmm(ef_normal(1), 2), x, control = lvm_control(n_init = 2))
  shown <- with_messages(fit_lvm(hmm(ef_normal(1), 2), x, control = lvm_control(n_init = 2, trace = TRUE)))
  expect_identical(fit_result(shown$value), fit_result(quiet))
  expect_match(shown$messages, "Baum-Welch start", fixed = TRUE)
  y <- as.numeric(Nile)
  quiet <- fit_lvm(lds(1, 1), y, control = lvm_control(tol = 1e-6))
  shown <- with_messages(fit_lvm(lds(1, 1), y, control = lvm_control(tol = 1e-6, trace = TRUE)))
  expect_identical(shown$value$params, quiet$params)
  expect_identical(shown$value$trace, quiet$trace)
  expect_match(shown$messages, "EM start 1/", fixed = TRUE)
})

test_that("without trace a quick fit shows nothing", {
  res <- with_messages(fit_lvm(mixture(ef_normal(2), 2), faithful))
  expect_identical(res$messages, "")
})

test_that("the bar reports the start, iteration, log-likelihood and its change", {
  p <- harmonium:::progress_open(lvm_control(n_init = 2), what = "EM")
  on.exit(harmonium:::progress_close(p))
  harmonium:::progress_start()
  harmonium:::progress_tick(c(-10, -7.5, -7))
  expect_identical(p$start, 1L)
  expect_identical(p$it, 3L)
  expect_identical(p$ll, -7)
  expect_identical(p$change, 0.5)
  harmonium:::progress_start()
  harmonium:::progress_start()
  expect_identical(p$start, 1L) # wraps after n_init (a refit of every start)
  # Bursts double while fast, never beyond what is left.
  expect_identical(harmonium:::progress_burst(NULL, 0, 1000L), 10L)
  expect_identical(harmonium:::progress_burst(10L, 0.01, 1000L), 20L)
  expect_identical(harmonium:::progress_burst(20L, 0.5, 1000L), 20L)
  expect_identical(harmonium:::progress_burst(640L, 0.01, 300L), 300L)
})

# --- the stopping rule of linear Gaussian models ---------------------------------

# factanal's optimum as a log-likelihood of the raw data (divisor-n scales).
factanal_ll <- function(x, ref) {
  x <- as.matrix(x)
  n <- nrow(x)
  s <- sqrt(colMeans(sweep(x, 2, colMeans(x))^2))
  -(n / 2) * (ncol(x) * log(2 * pi) + determinant(cor(x))$modulus[1] + ncol(x) +
    ref$criteria[["objective"]]) - n * sum(log(s))
}

test_that("Aitken's rule stops on the estimated gain still to come", {
  # A trace converging geometrically, l_k = -10 - 3 a^k: the gain still to
  # come after entry k is 3 a^k exactly, and the rule's estimate is exact.
  a <- 0.9
  tr <- -10 - 3 * a^(1:200)
  tol <- 1e-8
  gain <- 3 * a^(1:200)
  k_true <- which(gain < tol * (1 + abs(tr)))[1]
  ok <- vapply(3:200, function(k) isTRUE(harmonium:::em_aitken_ok(tr[1:k], tol)), logical(1))
  expect_identical(which(ok)[1] + 2L, k_true)
  # Before that it returns the tighter change tolerance the rate implies.
  t_eff <- harmonium:::em_aitken_ok(tr[1:50], tol)
  expect_equal(t_eff, tol * (1 - a) / a, tolerance = 1e-5)
  # A rate outside (0, 1) or no progress leaves the plain test.
  expect_true(harmonium:::em_aitken_ok(c(-3, -2, -0.5), tol))
  expect_true(harmonium:::em_aitken_ok(c(-3, -2, -2), tol))
})

test_that("factor analysis reaches factanal's maximum at the default settings", {
  x <- mtcars[, c("mpg", "disp", "hp", "drat", "wt", "qsec")]
  ref <- stats::factanal(x, 2)
  f <- expect_no_warning(fit_lvm(factor_analysis(6, 2), x))
  expect_true(f$converged)
  gap <- factanal_ll(x, ref) - f$loglik
  expect_lt(abs(gap), 1e-5)
  expect_lt(max(abs(summary(f)$uniquenesses - ref$uniquenesses)), 1e-3)
  # The plain relative-change rule stops where the EM rate (0.984 here) is
  # slow, ~50 times further from the maximum.
  m <- factor_analysis(6, 2)
  m$stop_rule <- "change"
  g <- fit_lvm(m, x)
  expect_gt(factanal_ll(x, ref) - g$loglik, 20 * abs(gap))
  expect_gt(max(abs(summary(g)$uniquenesses - ref$uniquenesses)), 2e-3)
  # attitude converges at a rate of 0.998: within the models' default cap.
  h <- expect_no_warning(fit_lvm(factor_analysis(7, 2), attitude))
  expect_true(h$converged)
  expect_gt(h$iterations, 1000L)
  expect_lt(abs(factanal_ll(attitude, stats::factanal(attitude, 2)) - h$loglik), 1e-5)
  # An explicit maxit is the user's.
  expect_warning(fit_lvm(factor_analysis(7, 2), attitude, control = lvm_control(maxit = 1000)),
    class = "harmonium_warning_not_converged")
})
