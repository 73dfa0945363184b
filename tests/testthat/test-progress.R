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
