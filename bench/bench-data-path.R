# Measures the fixed cost of a fit's data path (issue 11): on n x d Normal
# data, the whole fit_lvm() call from given parameters at maxit = 1, the
# data handling alone (prepare_data() with the scaler and standardised
# copy), and the peak memory beyond the data of each. CPU time (user +
# system) is reported beside elapsed time because elapsed time on a shared
# machine mostly measures the other processes. Peak memory is gc()'s "max
# used" under gctorture (every allocation collects, so the maximum is
# sampled at every step; the engine's scratch is R_alloc'd and counted).
# Run from the package root with the package installed, e.g. against an
# older install:
#   Rscript bench/bench-data-path.R            # R_LIBS=<lib> to pick the install
#   BENCH_N=1e6 BENCH_THREADS=2 Rscript bench/bench-data-path.R
suppressMessages(library(harmonium))
n <- as.numeric(Sys.getenv("BENCH_N", "1e5"))
d <- as.integer(Sys.getenv("BENCH_D", "8"))
k <- as.integer(Sys.getenv("BENCH_K", "4"))
threads <- as.integer(Sys.getenv("BENCH_THREADS", "1"))
reps <- as.integer(Sys.getenv("BENCH_REPS", "21"))
set.seed(1)
X <- matrix(stats::rnorm(n * d), n, d) + sample(0:(k - 1), n, TRUE) * 2
m <- mixture(ef_normal(d), k)
p <- coef(suppressWarnings(fit_lvm(m, X[seq_len(min(n, 5000)), ], control = lvm_control(maxit = 50))))
ctl <- lvm_control(maxit = 1, tol = 0, threads = threads)
fit_once <- function() suppressWarnings(fit_lvm(m, X, init = p, control = ctl))
ns <- asNamespace("harmonium")
env <- environment()
data_once <- if (!is.null(formals(ns$prepare_data)$scale)) {
  function() ns$prepare_data(m, X, NULL, "fail", env, threads = threads, scale = TRUE)
} else {
  # Installs before the data pass: the same steps as fit_lvm() took them.
  function() {
    pr <- ns$prepare_data(m, X, NULL, "fail", env)
    sc <- ns$make_scaler(m$obs, pr$x)
    xs <- ns$scale_data(sc, pr$x)
    ns$check_scaler(sc, xs, env)
    list(pr, xs)
  }
}
timing <- function(f, inner = 1L) {
  r <- replicate(reps, {
    t <- system.time(for (i in seq_len(inner)) f())
    c(t[["user.self"]] + t[["sys.self"]], t[["elapsed"]]) / inner
  })
  1000 * c(cpu = stats::median(r[1, ]), elapsed = stats::median(r[2, ]), elapsed_min = min(r[2, ]))
}
peak_mb <- function(f) {
  invisible(gc(reset = TRUE))
  base <- gc()[2L, 1L]
  gctorture(TRUE)
  r <- f()
  gctorture(FALSE)
  (gc()[2L, 5L] - base) * 8 / 2^20
}
invisible(fit_once())
invisible(data_once())
tf <- timing(fit_once)
td <- timing(data_once, 5L)
res <- data.frame(
  step = c("fit_lvm(maxit = 1)", "data path"),
  cpu_ms = round(c(tf[["cpu"]], td[["cpu"]]), 2),
  elapsed_ms = round(c(tf[["elapsed"]], td[["elapsed"]]), 2),
  elapsed_min_ms = round(c(tf[["elapsed_min"]], td[["elapsed_min"]]), 2),
  peak_extra_mb = round(c(if (nzchar(Sys.getenv("BENCH_PEAK_FIT"))) peak_mb(fit_once) else NA, peak_mb(data_once)), 2)
)
cat(sprintf("harmonium %s (%s), n = %g, d = %d, k = %d, threads = %d; data %.2f MB; %s\n",
  utils::packageVersion("harmonium"), dirname(find.package("harmonium")), n, d, k, threads, 8 * n * d / 2^20,
  R.version.string))
print(res, row.names = FALSE)
