# One Kalman EM iteration (E-step: filter + RTS smoother + statistics, then
# the closed-form M-step) for a 10-dimensional state and a 50-dimensional
# observation (C free, R diagonal, A and Q full), harmonium vs MARSS.
# Usage: Rscript bench/bench-lds.R [T] [T_marss]   (defaults 1e5 and 500:
# MARSS's EM is timed at the smaller T and compared per time point).
#
# Measured 2026-12-03 (2 cores, reference BLAS; MARSS's second run overlapped
# the package's test suite on the other core):
#   harmonium T = 100000, 1 thread: one EM iteration 13.77 s (137.7 us per time point)
#   harmonium T = 500: 0.081 s (162 us per time point)
#   MARSS 3.11.10 T = 500: maxit = 1 145.1 s, maxit = 2 281.8 s -> one EM iteration
#     136.8 s (273538 us per time point), about 1700-2000 times slower per time point
suppressPackageStartupMessages(library(harmonium))
args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args) >= 1) as.integer(args[1]) else 100000L
n_marss <- if (length(args) >= 2) as.integer(args[2]) else 500L
p <- 50L
q <- 10L
set.seed(1)
a <- diag(0.9, q)
cm <- matrix(rnorm(p * q), p)
z <- matrix(0, n, q)
e <- matrix(rnorm(n * q, sd = 0.5), n)
for (t in 2:n) z[t, ] <- a %*% z[t - 1, ] + e[t, ]
y <- z %*% t(cm) + matrix(rnorm(n * p, sd = 0.7), n)
m <- lds(p, q, fixed = list(observation_cov = "diagonal", initial_mean = rep(0, q), initial_cov = diag(q)))
cat(sprintf("harmonium %s, R %s, %d cores, BLAS %s; p = %d, q = %d\n", packageVersion("harmonium"), getRversion(),
  parallel::detectCores(), basename(extSoftVersion()[["BLAS"]]), p, q))
# parameters: one EM iteration from the package's own start
par <- harmonium:::lds_start(m, t(y[seq_len(2000), ]), list(lengths = 2000L, start = 0L), 1L)
one_iter <- function(yy) {
  ym <- t(yy)
  seqs <- list(lengths = ncol(ym), start = 0L)
  es <- harmonium:::lds_estep(ym, seqs, NULL, par, 1L)
  stopifnot(es$status == 0L)
  harmonium:::lds_mstep(m, es$stats, par)
}
time_reps <- function(yy, reps) {
  vapply(seq_len(reps), function(i) system.time(one_iter(yy))[["elapsed"]], 0)
}
tt <- time_reps(y, 3)
cat(sprintf("harmonium T = %d, 1 thread: one EM iteration %.2f s (median of 3; min %.2f) = %.1f us per time point\n",
  n, median(tt), min(tt), 1e6 * median(tt) / n))
ys <- y[seq_len(n_marss), ]
ts <- time_reps(ys, 5)
cat(sprintf("harmonium T = %d: one EM iteration %.4f s = %.1f us per time point\n", n_marss, median(ts),
  1e6 * median(ts) / n_marss))
if (requireNamespace("MARSS", quietly = TRUE)) {
  mod <- list(B = "unconstrained", U = "zero", Q = "unconstrained",
    Z = matrix(paste0("z", seq_len(p * q)), p, q), A = "unequal", R = "diagonal and unequal",
    x0 = matrix(0, q, 1), V0 = diag(q), tinitx = 1)
  run <- function(k) {
    system.time(suppressWarnings(MARSS::MARSS(t(ys), model = mod, control = list(maxit = k, minit = k),
      silent = TRUE)))[["elapsed"]]
  }
  m1 <- run(1)
  m2 <- run(2)
  per <- m2 - m1
  cat(sprintf("MARSS %s T = %d: maxit = 1 %.2f s, maxit = 2 %.2f s -> one EM iteration %.2f s = %.0f us per time point\n",
    packageVersion("MARSS"), n_marss, m1, m2, per, 1e6 * per / n_marss))
  cat(sprintf("per time point, MARSS / harmonium: %.0f x\n", (per / n_marss) / (median(tt) / n)))
}
