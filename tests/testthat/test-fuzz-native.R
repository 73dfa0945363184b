# Every registered .Call entry point under malformed arguments (issue 9):
# run in a child R session (helper-fuzz.R), so a crash or a hang is a
# defect of its case; every rejection must be the glue's classed condition
# naming the argument. tools/fuzz.R runs fuzz_cases_native("full").

test_that("every registered entry point has fuzz cases", {
  registered <- names(getDLLRegisteredRoutines("harmonium")$.Call)
  expect_setequal(names(fuzz_native_params()), registered)
  cases <- fuzz_cases_native("ci")
  covered <- unique(vapply(cases, `[[`, "", "entry"))
  expect_true(all(registered %in% covered), info = paste(setdiff(registered, covered), collapse = ", "))
  # Each entry point gets a valid call and a malformed value in each argument.
  for (e in registered) {
    names_e <- vapply(Filter(function(cs) cs$entry == e, cases), `[[`, "", "name")
    expect_true(any(grepl("valid call", names_e)), info = e)
    for (p in fuzz_native_params()[[e]]) {
      expect_true(any(grepl(sprintf("] %s = ", p), names_e, fixed = TRUE)), info = paste(e, p))
    }
  }
})

test_that("the glue rejects malformed .Call arguments with classed errors, never crashing", {
  skip_on_cran()
  skip_if_not_installed("callr")
  res <- fuzz_run(fuzz_cases_native("ci"), batch = 50L)
  def <- fuzz_defects(res)
  expect_equal(nrow(def), 0L, info = fuzz_report(def))
  rej <- res[res$outcome == "harmonium_error", ]
  # The cases reach the checks: most are rejected, the valid calls succeed.
  expect_gt(nrow(rej), nrow(res) / 2)
  expect_true(all(res$outcome[res$expect == "ok"] == "ok"))
  expect_true(all(rej$class == "harmonium_error_native"), info = paste(unique(rej$class), collapse = ", "))
  unnamed <- rej$message[!grepl("`[A-Za-z_$0-9]+`", rej$message)]
  expect_equal(length(unnamed), 0L, info = paste(utils::head(unique(unnamed), 5), collapse = "\n"))
  # The message says which entry point refused.
  expect_true(all(grepl("(in ffi_[a-z_]+|in glue_scratch)", rej$message)))
})

test_that("a glue rejection is a classed condition naming the argument", {
  m <- mixture(ef_normal(2), 2)
  err <- tryCatch(.Call(C_model_to_mean, m$hm_kind, m$obs_spec, m$lat_spec, c(1, 2, 3)), error = identity)
  expect_s3_class(err, c("harmonium_error_native", "harmonium_error", "error", "condition"), exact = TRUE)
  expect_match(conditionMessage(err), "^`theta` has length 3, expected 11 \\(in ffi_model_to_mean\\)$")
  # Sizes that would overflow or allocate absurdly are refused before any
  # allocation.
  expect_error(.Call(C_family_info, c(5L, .Machine$integer.max, 0L, 0L)), class = "harmonium_error_native")
  expect_error(.Call(C_model_info, c(1L), c(1L, 2L, 0L, 0L), c(2L, 16777216L, 0L, 0L)),
    "more than the limit", class = "harmonium_error_native")
  f <- ef_normal(2)
  th <- .Call(C_family_to_natural, f$spec, c(0, 0, 1, 0, 1), c(0, 1e-12, 200, 0))$value
  expect_error(.Call(C_family_sample, f$spec, th, .Machine$integer.max), "`n`", class = "harmonium_error_native")
  expect_error(.Call(C_family_sample, f$spec, th, NA_integer_), "`n`", class = "harmonium_error_native")
})

test_that("E-steps on zero rows return empty results on the blocked kernel path", {
  m <- mixture(ef_normal(3), 2)
  set.seed(3)
  x <- matrix(rnorm(60), 20, 3)
  th <- suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 5)))$theta
  for (threads in c(1L, 2L)) {
    es <- .Call(C_model_estep, m$hm_kind, m$obs_spec, m$lat_spec, th, x[0, , drop = FALSE], NULL, NULL,
      c(TRUE, TRUE), threads)
    expect_identical(es$status, 0L)
    expect_length(es$logp, 0L)
    expect_identical(dim(es$post), c(0L, 2L))
  }
})
