# Factor analysis on 100000 x 50 data with 5 factors: harmonium's EM time per
# iteration and total time to factanal's log-likelihood, against
# stats::factanal's total time, with the ratios.
#
#   Rscript bench/bench-fa.R
suppressPackageStartupMessages(library(harmonium))
threads <- harmonium:::resolve_threads(NULL)
n <- 100000L
p <- 50L
q <- 5L
set.seed(42)
A <- matrix(rnorm(p * q), p, q)
psi <- runif(p, 0.2, 1.5)
x <- matrix(rnorm(n * q), n, q) %*% t(A) + matrix(rnorm(n * p), n, p) * rep(sqrt(psi), each = n)
x <- sweep(x, 2, runif(p, -5, 5), "+")

# factanal: its total time, and its optimum as a raw-data log-likelihood.
t_fa <- system.time(fa <- factanal(x, q, rotation = "none"))[["elapsed"]]
s <- sqrt(colMeans(sweep(x, 2, colMeans(x))^2))
ll_fa <- -(n / 2) * (p * log(2 * pi) + determinant(cor(x))$modulus[1] + p + fa$criteria[["objective"]]) -
  n * sum(log(s))

# harmonium: one EM iteration (E-step, whitening, M-step) from the PCA start,
# over the rows and from the data's moments (what fit_lvm() runs: one pass
# gathers them, then an iteration costs O(p^2 q)), and a fit run until it
# reaches factanal's log-likelihood.
m <- factor_analysis(p, q)
sc <- harmonium:::make_scaler(m$obs, x)
xs <- harmonium:::scale_data(sc, x)
th <- harmonium:::model_start(m, xs, x, NULL, 1L, lvm_control(), harmonium:::fam_ctrl(), threads)
one <- function() harmonium:::native_em_run(m, th, xs, NULL, harmonium:::fam_ctrl(), c(0, 1, NA), threads)
invisible(one())
reps <- 20L
t_rows <- system.time(for (i in seq_len(reps)) one())[["elapsed"]] / reps
t_mom <- system.time(for (i in seq_len(reps)) mom <- harmonium:::lgm_data_moments(m, xs, NULL, threads))[["elapsed"]] /
  reps
em_moments <- function(k) harmonium:::native_lgm_em_moments(m, th, mom, harmonium:::fam_ctrl(), c(0, k, NA))
t_iter <- system.time(em_moments(1000))[["elapsed"]] / 1000
t_fit <- system.time(
  fit <- fit_lvm(m, x, control = lvm_control(tol = 1e-12, maxit = 5000))
)[["elapsed"]]
# "The same log-likelihood": within 0.01 (absolute) of factanal's optimum.
reach <- which(fit$trace >= ll_fa - 0.01)[1]
cat(sprintf("harmonium %s, %d thread(s); data %d x %d, %d factors\n", packageVersion("harmonium"),
  threads, n, p, q))
res <- data.frame(
  what = c("factanal, total", "harmonium, one EM iteration over the rows",
    "harmonium, the data's moments (one pass)", "harmonium, one EM iteration from the moments",
    "harmonium, fit to convergence (the whole fit_lvm() call)",
    "harmonium, EM iterations to within 0.01 of factanal's log-likelihood"),
  value = c(t_fa, t_rows, t_mom, t_iter, t_fit, reach),
  unit = c("s", "s", "s", "s", "s", "iterations")
)
print(res, row.names = FALSE)
cat(sprintf("log-likelihood: factanal %.6f, harmonium %.6f (relative difference %.2e)\n", ll_fa,
  fit$loglik, abs(fit$loglik - ll_fa) / abs(ll_fa)))
# scikit-learn's FactorAnalysis, where installed (bench/sklearn_fa.py).
have_sklearn <- nzchar(Sys.which("python3")) &&
  system2("python3", c("-c", shQuote("import sklearn")), stdout = FALSE, stderr = FALSE) == 0
if (have_sklearn) {
  bench_dir <- local({
    f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
    if (length(f)) dirname(f) else "bench"
  })
  tmp <- tempfile(fileext = ".csv")
  utils::write.table(x, tmp, sep = ",", row.names = FALSE, col.names = FALSE)
  out <- system2("python3", c(file.path(bench_dir, "sklearn_fa.py"), tmp, q), stdout = TRUE)
  unlink(tmp)
  sk <- as.numeric(strsplit(out[length(out)], " ")[[1]])
  cat(sprintf("scikit-learn FactorAnalysis: %.3f s, %d iterations, log-likelihood %.6f; ratio to harmonium's whole call %.1f\n",
    sk[1], as.integer(sk[3]), sk[2], sk[1] / t_fit))
} else {
  cat("scikit-learn is not installed: its comparison was skipped\n")
}
cat(sprintf("ratio factanal total / harmonium's whole fit_lvm() call: %.2f\n", t_fa / t_fit))
cat(sprintf("ratio factanal total / harmonium time to the same log-likelihood (moments + iterations): %.2f\n",
  t_fa / (t_mom + t_iter * reach)))
