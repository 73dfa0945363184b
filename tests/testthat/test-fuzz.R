# Every export and S3 method on fits under malformed input (issue 9): no
# crash, no hang, no unclassed R error; every rejection a harmonium_error
# naming the argument at fault. The cases are in helper-fuzz-api.R; a longer
# run (level "full") is tools/fuzz.R.

skip_if_not_installed("callr")

cases <- fuzz_cases_api("ci")
res <- fuzz_run(cases)
res$arg <- vapply(cases, function(cs) if (is.character(cs$arg)) cs$arg else NA_character_, "")

test_that("no fuzz case crashes, hangs or leaks an unclassed error", {
  def <- fuzz_defects(res)
  expect(nrow(def) == 0L, paste0(nrow(def), " defect(s):\n", fuzz_report(def)))
})

test_that("the fuzz cases exercise both rejections and accepted inputs", {
  expect_gt(sum(res$outcome == "harmonium_error"), 300L)
  expect_gt(sum(res$outcome == "ok"), 100L)
})

test_that("a rejected bad argument is named in the error message", {
  # For a case substituting one argument, the message names that argument
  # (cli's {.arg x} renders as `x`), possibly as part of `x$element`.
  sub <- res[!is.na(res$arg) & res$outcome == "harmonium_error", , drop = FALSE]
  named <- mapply(function(arg, msg) grepl(paste0("`", arg), msg, fixed = TRUE), sub$arg, sub$message)
  bad <- sub[!named, , drop = FALSE]
  expect(nrow(bad) == 0L, paste0(nrow(bad), " rejection(s) not naming the argument:\n",
    paste(sprintf("%s -> %s", bad$name, substr(bad$message, 1, 200)), collapse = "\n")))
})

test_that("every export has at least one fuzz case", {
  exports <- getNamespaceExports("harmonium")
  called <- unique(unlist(lapply(cases, function(cs) all.names(cs$expr))))
  missing <- setdiff(exports, called)
  expect(length(missing) == 0L, paste("exports without a fuzz case:", paste(sort(missing), collapse = ", ")))
})

test_that("every S3 method on fits is reached by a fuzz case", {
  generics <- c("predict", "simulate", "logLik", "summary", "coef", "update", "plot", "print", "posterior",
    "log_density", "filter_states", "smooth_states", "viterbi", "forecast", "nobs", "vcov", "confint", "anova")
  called <- unique(unlist(lapply(cases, function(cs) all.names(cs$expr))))
  expect_setequal(intersect(generics, called), generics)
})
