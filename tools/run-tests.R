# Runs the test suite of the installed package and prints the closing line
# "N passed, N failed, N skipped"; exits non-zero on any failure or error.
library(testthat)
# As devtools::test(): the tests that skip_on_cran() (the interrupt test)
# run here.
if (!nzchar(Sys.getenv("NOT_CRAN"))) Sys.setenv(NOT_CRAN = "true")
res <- test_dir("tests/testthat", package = "harmonium", load_package = "installed",
  reporter = ProgressReporter$new(show_praise = FALSE), stop_on_failure = FALSE)
df <- as.data.frame(res)
failed <- sum(df$failed) + sum(df$error)
skipped <- sum(df$skipped)
passed <- sum(df$nb) - sum(df$failed) - sum(df$skipped)
cat(sprintf("\n%d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = if (failed > 0) 1L else 0L, save = "no")
