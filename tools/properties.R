# The property tests of tests/testthat/test-properties.R over many more random
# problems (issue 9): N small problems per model kind for monotone EM and
# with_params(), N / 3 problems of 1100-2200 rows for threads 1 vs 2, N / 6
# recovery problems. Run from the package root with the package installed:
#   Rscript tools/properties.R [N]        (default N = 200: ~5000 problems)
# Prints testthat's summary, the problem counts and the elapsed time; exits
# non-zero on any failure.
args <- commandArgs(trailingOnly = TRUE)
N <- if (length(args)) as.integer(args[1]) else 200L
stopifnot(!is.na(N), N >= 1L)
Sys.setenv(HARMONIUM_PROPERTY_N = N)
t0 <- proc.time()[["elapsed"]]
res <- testthat::test_file("tests/testthat/test-properties.R", package = "harmonium",
  load_package = "installed", reporter = "summary", stop_on_failure = FALSE)
df <- as.data.frame(res)
kinds <- 23L
n_large <- max(2L, N %/% 3L)
n_rec <- 11L * max(1L, N %/% 6L)
cat(sprintf("\n%d problems (%d small, %d with threads 1 vs 2, %d recovery), %d expectations, %d failed, %.0f s\n",
  kinds * (N + n_large) + n_rec, kinds * N, kinds * n_large, n_rec, sum(df$nb), sum(df$failed) + sum(df$error),
  proc.time()[["elapsed"]] - t0))
quit(status = if (sum(df$failed) + sum(df$error) > 0) 1L else 0L, save = "no")
