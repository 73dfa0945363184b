# One Kalman EM iteration (E-step: filter + RTS smoother + statistics; M-step)
# for a 10-dimensional state and a 50-dimensional observation, harmonium vs
# MARSS. Usage: Rscript bench/bench-lds.R [T] [T_marss]
# (defaults 1e5 and 1000: MARSS's pure-R EM is timed at the smaller T and
# reported per time point as well).
suppressPackageStartupMessages(library(harmonium))
args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args) >= 1) as.integer(args[1]) else 100000L
n_marss <- if (length(args) >= 2) as.integer(args[2]) else 1000L
p <- 50L
q <- 10L
set.seed(1)
a <- diag(0.9, q)
cm <- matrix(rnorm(p * q), p)
sim <- function(n) {
  z <- matrix(0, n, q)
  z[1, ] <- rnorm(q)
  e <- matrix(rnorm(n * q, sd = 0.5), n)
  for (t in 2:n) z[t, ] <- a %*% z[t - 1, ] + e[t, ]
  z %*% t(cm) + matrix(rnorm(n * p, sd = 0.7), n)
}
y <- sim(n)
m <- lds(p, q, fixed = list(observation_cov = "diagonal", initial_mean = rep(0, q), initial_cov = diag(q)))
cat(sprintf("harmonium %s, R %s, %d cores; p = %d, q = %d\n", packageVersion("harmonium"), getRversion(),
  parallel::detectCores(), p, q))
# expr is re-evaluated on every repetition (a forced promise would time 0)
time_it <- function(expr, reps = 3) {
  ex <- substitute(expr)
  env <- parent.frame()
  tt <- vapply(seq_len(reps), function(i) system.time(eval(ex, env))[["elapsed"]], 0)
  c(median = stats::median(tt), min = min(tt))
}
# maxit = 1: one E-step and M-step plus the final E-step at the new
# parameters, i.e. two E-steps; maxit = 2 adds exactly one EM iteration.
ctl <- lvm_control(maxit = 1, threads = 1)
t_f0 <- system.time(f0 <- suppressWarnings(fit_lvm(m, y, control = lvm_control(maxit = 1, threads = 1))))
cat(sprintf("harmonium T = %d: PCA start + 2 E-steps + 1 M-step %.2f s\n", n, t_f0[["elapsed"]]))
t_one <- time_it(suppressWarnings(fit_lvm(m, y, init = f0, control = ctl)), reps = 2)
t_two <- time_it(suppressWarnings(fit_lvm(m, y, init = f0, control = lvm_control(maxit = 2, threads = 1))), reps = 2)
per_iter <- t_two[["median"]] - t_one[["median"]]
cat(sprintf("harmonium T = %d: fit_lvm(maxit = 1) %.2f s, maxit = 2 %.2f s -> one EM iteration %.2f s (%.2f us per time point)\n",
  n, t_one[["median"]], t_two[["median"]], per_iter, 1e6 * per_iter / n))
# the same at MARSS's T, for a like-for-like comparison
ys <- y[seq_len(n_marss), ]
s_one <- time_it(suppressWarnings(fit_lvm(m, ys, init = f0, control = ctl)), reps = 5)
s_two <- time_it(suppressWarnings(fit_lvm(m, ys, init = f0, control = lvm_control(maxit = 2, threads = 1))), reps = 5)
per_small <- s_two[["median"]] - s_one[["median"]]
cat(sprintf("harmonium T = %d: one EM iteration %.4f s (%.2f us per time point)\n", n_marss, per_small,
  1e6 * per_small / n_marss))
if (requireNamespace("MARSS", quietly = TRUE)) {
  mod <- list(B = "unconstrained", U = "zero", Q = "unconstrained", Z = "unconstrained", A = "unequal",
    R = "diagonal and unequal", x0 = matrix(0, q, 1), V0 = diag(q), tinitx = 1)
  run <- function(k) {
    system.time(suppressWarnings(MARSS::MARSS(t(ys), model = mod, control = list(maxit = k, minit = k),
      silent = TRUE)))[["elapsed"]]
  }
  m1 <- run(1)
  m3 <- run(3)
  per_marss <- (m3 - m1) / 2
  cat(sprintf("MARSS %s T = %d: maxit = 1 %.2f s, maxit = 3 %.2f s -> one EM iteration %.2f s (%.1f us per time point)\n",
    packageVersion("MARSS"), n_marss, m1, m3, per_marss, 1e6 * per_marss / n_marss))
  cat(sprintf("ratio per time point (MARSS / harmonium at T = %d): %.0f\n", n_marss, per_marss / per_small))
}
