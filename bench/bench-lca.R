# Latent class analysis, 20 EM iterations from the same given parameters, 1e6
# rows x 20 items (3 categories each), K = 5 classes:
# * harmonium's whole fit_lvm() call on a data frame of factors, against
#   poLCA's EM loop: its own C routines (postclass, probhat, ylik) called in
#   the order of poLCA()'s loop, 20 times, on the same rows. The whole poLCA()
#   call is not timed on 1e6 rows: before its loop it compresses the data to
#   unique response patterns with rbind() in a loop, quadratic in the number
#   of patterns (3.7 s for 5000 rows and 12 s for 10000 with 20 items, the
#   same for maxiter = 1 and 20), which on 1e6 rows would take hours;
# * the whole calls, fit_lvm() against poLCA(maxiter = 20, tol = -Inf,
#   probs.start, calc.se = FALSE), on the first HARMONIUM_BENCH_POLCA_N rows
#   (5000).
# The log-likelihoods after the iterations must agree (relative 1e-8).
#
#   Rscript bench/bench-lca.R
#   HARMONIUM_BENCH_QUICK=1 Rscript bench/bench-lca.R   # 100000 rows, poLCA() on 2000
#
# Run from the package root with the package installed. Writes
# bench/results-lca.md. About 2 minutes on 2 cores.
suppressPackageStartupMessages({
  library(harmonium)
  library(poLCA)
})
local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  source(file.path(if (length(f)) dirname(f[1]) else "bench", "bench-common.R"))
}, envir = globalenv())

reps <- as.integer(Sys.getenv("HARMONIUM_BENCH_REPS", "3"))
iters <- 20L
n <- if (bench_quick) 100000L else 1000000L
n_polca <- as.integer(Sys.getenv("HARMONIUM_BENCH_POLCA_N", if (bench_quick) "2000" else "5000"))
J <- 20L
R <- 3L
K <- 5L
header <- bench_header(sprintf("poLCA %s", utils::packageVersion("poLCA")))

# Classes with item probabilities drawn from a Dirichlet(1, 1, 1), item by
# item; responses drawn by inversion of each row's class table.
set.seed(11)
z <- sample.int(K, n, replace = TRUE, prob = c(0.3, 0.25, 0.2, 0.15, 0.1))
truth <- lapply(seq_len(J), function(j) {
  g <- matrix(stats::rexp(K * R), K, R)
  g / rowSums(g)
})
codes <- vapply(truth, function(p) {
  cp <- t(apply(p, 1, cumsum))
  u <- runif(n)
  1L + (u > cp[z, 1]) + (u > cp[z, 2])
}, integer(n))
colnames(codes) <- paste0("Y", seq_len(J))
y <- as.data.frame(lapply(as.data.frame(codes), factor, levels = seq_len(R)))

# The start: each item's table perturbed and renormalised, equal class
# weights (poLCA always starts its class weights equal).
set.seed(12)
start <- lapply(truth, function(p) {
  q <- p * matrix(runif(K * R, 0.5, 1.5), K, R)
  q / rowSums(q)
})
params <- list(weights = rep(1 / K, K), components = lapply(seq_len(K), function(k) {
  lapply(seq_len(J), function(j) list(prob = stats::setNames(start[[j]][k, ], seq_len(R))))
}))
model <- mixture(ef_product(rep(list(ef_categorical(R)), J)), K)
ctrl <- lvm_control(maxit = iters, tol = 0)

hm_fit <- function(rows) {
  yy <- y[rows, , drop = FALSE]
  bench_time(function() suppressWarnings(fit_lvm(model, yy, init = params, control = ctrl)), reps)
}
cat(sprintf("harmonium, %d rows ...\n", n))
hm_all <- hm_fit(seq_len(n))
if (hm_all$value$iterations != iters) stop("harmonium did not run ", iters, " iterations")
cat(sprintf("harmonium, %d rows ...\n", n_polca))
hm_sub <- hm_fit(seq_len(n_polca))

# poLCA's EM loop as poLCA() runs it (its R 'while' loop without covariates):
# E-step, M-step of the item tables, class weights, log-likelihood.
polca_loop <- function(y, probs, iters) {
  vp <- poLCA:::poLCA.vectorize(probs)
  nc <- vp$classes
  prior <- matrix(1 / nc, nrow(y), nc)
  for (it in seq_len(iters)) {
    rgivy <- poLCA:::poLCA.postClass.C(prior, vp, y)
    vp$vecprobs <- poLCA:::poLCA.probHat.C(rgivy, y, vp)
    prior <- matrix(colMeans(rgivy), nrow = nrow(y), ncol = nc, byrow = TRUE)
    llik <- sum(log(rowSums(prior * poLCA:::poLCA.ylik.C(vp, y))) - log(.Machine$double.xmax))
  }
  llik
}
cat(sprintf("poLCA's EM loop, %d rows ...\n", n))
pl_loop <- bench_time(function() polca_loop(codes, start, iters), reps)

cat(sprintf("poLCA(), %d rows ...\n", n_polca))
f <- stats::as.formula(paste0("cbind(", paste(colnames(codes), collapse = ", "), ") ~ 1"))
ysub <- as.data.frame(codes[seq_len(n_polca), ])
pl <- bench_time(function() poLCA(f, ysub, nclass = K, maxiter = iters, tol = -Inf, probs.start = start,
  nrep = 1, verbose = FALSE, calc.se = FALSE), reps)
if (pl$value$numiter != iters) stop("poLCA ran ", pl$value$numiter, " iterations")
rel <- c(abs(hm_all$value$loglik - pl_loop$value) / abs(pl_loop$value),
  abs(hm_sub$value$loglik - pl$value$llik) / abs(pl$value$llik))

res <- data.frame(
  rows = c(n, n_polca),
  poLCA = c("EM loop (its C routines)", "whole `poLCA()` call"),
  `harmonium, ms per iteration` = 1000 * c(hm_all$seconds, hm_sub$seconds) / iters,
  `poLCA, ms per iteration` = 1000 * c(pl_loop$seconds, pl$seconds) / iters,
  `poLCA / harmonium` = c(pl_loop$seconds / hm_all$seconds, pl$seconds / hm_sub$seconds),
  `harmonium, ns per row-iteration` = 1e9 * c(hm_all$seconds / n, hm_sub$seconds / n_polca) / iters,
  `loglik rel. diff` = rel,
  `runs (h/p)` = c(sprintf("%d/%d", hm_all$runs, pl_loop$runs), sprintf("%d/%d", hm_sub$runs, pl$runs)),
  check.names = FALSE
)
print(res, digits = 3, row.names = FALSE)
notes <- c("",
  sprintf(paste("%d items with %d categories, K = %d classes, %d EM iterations from the same given parameters",
    "(`tol = 0`; poLCA `tol = -Inf`, equal starting class weights as poLCA always uses), median of up to %d runs,",
    "divided by %d. harmonium: the whole `fit_lvm(mixture(ef_product(rep(list(ef_categorical(%d)), %d)), %d), Y,",
    "init = params, control = lvm_control(maxit = %d, tol = 0))` call on a data frame of factors (encoding",
    "included). poLCA, first row: its EM loop (its C routines `postclass`, `probhat`, `ylik` in the order of",
    "`poLCA()`'s loop) on the same %d rows; second row: the whole",
    "`poLCA(cbind(Y1, ..., Y%d) ~ 1, Y, nclass = %d, maxiter = %d, tol = -Inf, probs.start, calc.se = FALSE)` call",
    "on the first %d rows, most of it spent compressing the data to response patterns (quadratic in their number)."),
    J, R, K, iters, reps, iters, R, J, K, iters, n, J, K, iters, n_polca),
  "Both reach the same log-likelihood on the same rows. Timings on a shared machine are noisy.")
bench_write("results-lca.md", "Latent class analysis: 20 EM iterations from given parameters", header,
  list(bench_md_table(res), notes))
if (any(rel > 1e-8)) stop("log-likelihoods disagree: relative differences ", paste(signif(rel, 3), collapse = ", "))
