# Gaussian mixtures, 20 EM iterations from the same given parameters:
# harmonium's whole fit_lvm() call, mclust's me() and scikit-learn's
# GaussianMixture(...).fit(), each timed as the user calls it and divided by
# 20; the three log-likelihoods after the 20 iterations must agree (relative
# 1e-8). Also the flop limit of one iteration of harmonium's algorithm at the
# machine's measured rate (harmonium's own gemm kernel, all threads).
#
#   Rscript bench/bench-mixture.R                          # 6 workloads
#   HARMONIUM_BENCH_QUICK=1 Rscript bench/bench-mixture.R  # 100000 x 8 only
#   HARMONIUM_BENCH_REPS=5 Rscript bench/bench-mixture.R   # more repetitions
#
# Run from the package root with the package installed (it measures the
# installed harmonium). Writes bench/results-mixture.md (see bench-common.R
# for the other settings). Takes about 5 minutes on 2 cores, most of it
# mclust's and scikit-learn's fits of the two large full-covariance workloads
# (each peer's repetitions stop after HARMONIUM_BENCH_BUDGET seconds).
suppressPackageStartupMessages({
  library(harmonium)
  library(mclust)
})
local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  source(file.path(if (length(f)) dirname(f[1]) else "bench", "bench-common.R"))
}, envir = globalenv())

reps <- as.integer(Sys.getenv("HARMONIUM_BENCH_REPS", if (bench_quick) "3" else "5"))
iters <- 20L

# mclust's responsibilities at the source parameters (its own E-step; for
# VVI through the VVV E-step with diagonal covariances, the same densities).
mclust_z0 <- function(x, p) {
  d <- ncol(x)
  k <- length(p$weights)
  par <- list(pro = p$weights, mean = sapply(p$components, `[[`, "mean"),
    variance = list(modelName = "VVV", d = d, G = k,
      sigma = array(unlist(lapply(p$components, `[[`, "cov")), c(d, d, k)),
      cholsigma = array(unlist(lapply(p$components, function(c) chol(c$cov))), c(d, d, k))))
  mclust::estep(data = x, modelName = "VVV", parameters = par)
}

# --- the flop limit -------------------------------------------------------------

# Floating-point operations of one EM iteration of harmonium's algorithm
# (the blocked E-step in natural coordinates, README "Speed"): with mx the
# length of a row's sufficient statistics (d + d (d + 1) / 2 full, 2 d
# diagonal), building the statistics S (n mx), the log densities Q = S T
# (2 n mx K), exp and the normalisation of the responsibilities (4 n K: max,
# subtract, exp counted as one, sum and scale), and the expected statistics
# G = S' R (2 n mx K); the M-step per component: full, the Cholesky factor,
# its inverse and the natural parameters (about 2 d^3), diagonal O(d).
em_flops <- function(n, d, k, covariance) {
  mx <- if (covariance == "full") d + d * (d + 1) / 2 else 2 * d
  estep <- n * mx + 2 * n * mx * k + 4 * n * k + 2 * n * mx * k
  mstep <- k * if (covariance == "full") 2 * d^3 + 4 * d^2 else 8 * d
  estep + mstep
}

# GFLOP/s of harmonium's gemm kernel with all threads: the best of three
# cache-resident shapes (bench hook C_bench_gemm_rate, src/glue/glue_bench.c).
kernel_rate <- function(threads, seconds = 0.5) {
  shapes <- list(c(128L, 512L, 48L), c(192L, 256L, 96L), c(240L, 256L, 16L))
  r <- vapply(shapes, function(s) .Call(harmonium:::C_bench_gemm_rate, s, seconds, as.integer(threads)), numeric(5))
  if (any(r["rel_error", ] > 1e-12)) stop("the gemm kernel computed a wrong product")
  best <- which.max(r["gflops", ])
  list(gflops = r["gflops", best], threads = r["threads", best], shape = paste(shapes[[best]], collapse = " x "))
}

# --- the three fits -------------------------------------------------------------

sklearn_fit <- function(x, p, covariance, reps) {
  if (!nzchar(bench_python)) return(list(seconds = NA_real_, loglik = NA_real_, iterations = NA, runs = 0L))
  tmp <- tempfile("hm-bench-")
  dir.create(tmp)
  on.exit(unlink(tmp, recursive = TRUE))
  k <- length(p$weights)
  writeBin(as.double(c(nrow(x), ncol(x), k)), file.path(tmp, "dims.bin"), endian = "little")
  writeBin(as.double(x), file.path(tmp, "x.bin"), endian = "little")
  writeBin(as.double(p$weights), file.path(tmp, "w.bin"), endian = "little")
  writeBin(as.double(sapply(p$components, `[[`, "mean")), file.path(tmp, "mu.bin"), endian = "little")
  writeBin(as.double(unlist(lapply(p$components, `[[`, "cov"))), file.path(tmp, "cov.bin"), endian = "little")
  # Repetitions inside one python process; fewer when one fit is slow (a
  # first fit is timed on its own to decide).
  run <- function(r) {
    out <- system2(bench_python, c(file.path(bench_dir, "sklearn_gmm.py"), tmp, covariance, iters, r), stdout = TRUE)
    strsplit(out[length(out)], " ")[[1]]
  }
  first <- run(1L)
  t1 <- as.numeric(first[2])
  more <- min(reps - 1L, floor((bench_budget - t1) / t1))
  res <- if (more >= 2L) run(more) else first
  list(seconds = as.numeric(res[2]), loglik = as.numeric(res[3]), iterations = as.integer(res[4]),
    runs = if (more >= 2L) more else 1L, version = res[1])
}

bench_one <- function(n, d, k, covariance) {
  dat <- make_data(n, d, k, seed = d * 100 + k)
  x <- dat$x
  p <- start_params(x, dat$z, k, covariance)
  dat <- NULL
  model <- mixture(ef_normal(d, covariance), k)
  ctrl <- lvm_control(maxit = iters, tol = 0)

  hm <- bench_time(function() suppressWarnings(fit_lvm(model, x, init = p, control = ctrl)), reps)
  fit <- hm$value
  hm1 <- if (bench_threads > 1L) {
    ctrl1 <- lvm_control(maxit = iters, tol = 0, threads = 1L)
    bench_time(function() suppressWarnings(fit_lvm(model, x, init = p, control = ctrl1)), reps)
  } else hm
  if (fit$iterations != iters) stop(sprintf("harmonium ran %d iterations, not %d", fit$iterations, iters))

  mn <- if (covariance == "full") "VVV" else "VVI"
  z0 <- mclust_z0(x, p)$z
  mc <- bench_time(function() mclust::me(data = x, modelName = mn, z = z0,
    control = emControl(tol = c(0, sqrt(.Machine$double.eps)), itmax = c(iters, .Machine$integer.max)),
    warn = FALSE), reps)
  # me() stops early only at an exact fixed point (relative change 0); its
  # info gives -iterations when it stopped at itmax.
  mc_it <- abs(attr(mc$value, "info")[["iterations"]])
  sk <- sklearn_fit(x, p, covariance, reps)
  # Per iteration: each time over its own count (equal unless a peer stopped
  # at an exact fixed point, which the table shows).
  sk_it <- if (is.na(sk$iterations)) iters else sk$iterations

  ll <- c(harmonium = fit$loglik, mclust = mc$value$loglik, sklearn = sk$loglik)
  t_mc <- mc$seconds / mc_it
  t_sk <- sk$seconds / sk_it
  peer <- min(t_mc, t_sk, na.rm = TRUE)
  flops <- em_flops(n, d, k, covariance)
  t_hm <- hm$seconds / iters
  cat(sprintf("%-30s harmonium %8.2f ms (1 thread %8.2f)  mclust %9.1f ms  sklearn %9.1f ms  %.3g GFLOP  (runs %d/%d/%d)\n",
    sprintf("%d x %d, K = %d, %s", n, d, k, covariance), 1000 * t_hm, 1000 * hm1$seconds / iters, 1000 * t_mc,
    1000 * t_sk, flops / 1e9, hm$runs, mc$runs, sk$runs))
  data.frame(
    workload = sprintf("%s x %d, K = %d, %s", format(n, big.mark = "", scientific = n >= 1e6), d, k, covariance),
    `harmonium, ms` = 1000 * t_hm,
    `harmonium 1 thread, ms` = 1000 * hm1$seconds / iters,
    `mclust me(), ms` = 1000 * t_mc,
    `sklearn, ms` = 1000 * t_sk,
    `faster peer / harmonium` = peer / t_hm,
    `GFLOP per iteration` = flops / 1e9,
    `flop limit, ms` = NA_real_,
    `harmonium / limit` = NA_real_,
    `loglik rel. diff` = max(abs(ll - ll[1]), na.rm = TRUE) / abs(ll[1]),
    `iterations (h/m/s)` = sprintf("%d/%d/%s", fit$iterations, mc_it, if (is.na(sk$iterations)) "-" else sk$iterations),
    `runs (h/m/s)` = sprintf("%d/%d/%d", hm$runs, mc$runs, sk$runs),
    check.names = FALSE
  )
}

# --- run ------------------------------------------------------------------------

# The rate is measured before every workload and the best is used: other
# jobs on the machine only ever lower a measurement, and a rate measured too
# low would make the limits look easy.
rate1 <- kernel_rate(1L)
rates <- list()
workloads <- list(
  list(1e5, 8, 4), list(1e5, 32, 16), list(1e6, 8, 8)
)
if (bench_quick) workloads <- workloads[1]
rows <- list()
for (w in workloads) {
  rates[[length(rates) + 1L]] <- kernel_rate(bench_threads)
  for (cv in c("full", "diagonal")) {
    rows[[length(rows) + 1L]] <- bench_one(as.integer(w[[1]]), w[[2]], w[[3]], cv)
  }
}
all_rates <- vapply(rates, `[[`, numeric(1), "gflops")
rate <- rates[[which.max(all_rates)]]
header <- bench_header(sprintf(paste(
  "gemm rate (hm_k_gemm_nn, best of 3 cache-resident shapes, the best of %d measurements: %s): %.1f GFLOP/s",
  "on %d thread(s) (shape %s), %.1f on 1"), length(all_rates), paste(sprintf("%.1f", all_rates), collapse = ", "),
  rate$gflops, as.integer(rate$threads), rate$shape, rate1$gflops))
res <- do.call(rbind, rows)
res$`flop limit, ms` <- 1000 * res$`GFLOP per iteration` / rate$gflops
res$`harmonium / limit` <- res$`harmonium, ms` / res$`flop limit, ms`
cat("\n")
print(res, digits = 3, row.names = FALSE)

notes <- c(
  "",
  sprintf(paste(
    "Per EM iteration: each call as a user makes it, from the same given parameters, %d iterations (`tol = 0`),",
    "median of up to %d runs (a peer's runs stop after %g s), divided by %d."), iters, reps, bench_budget, iters),
  sprintf("harmonium: `fit_lvm(mixture(ef_normal(d, covariance), K), X, init = params, control = lvm_control(maxit = %d, tol = 0))`,", iters),
  "its data checks, scaling, final E-step and fit object included, with the default threads (the header) and with",
  "`threads = 1`; the ratio and the limit use the default;",
  sprintf("mclust: `me(X, \"VVV\" or \"VVI\", z = estep(params)$z, control = emControl(tol = c(0, sqrt(eps)), itmax = %d))`", iters),
  "(its Fortran EM loop, one thread);",
  sprintf("scikit-learn: `GaussianMixture(K, covariance_type, max_iter = %d, tol = 0, reg_covar = 0, weights_init, means_init,", iters),
  "precisions_init, init_params = \"random_from_data\").fit(X)` timed inside Python (bench/sklearn_gmm.py; NumPy on",
  "the reference BLAS of the header, one thread).",
  "All three reach the same log-likelihood after the iterations (loglik rel. diff: the largest relative difference",
  "from harmonium's; scikit-learn's `score()` is a per-sample mean, multiplied by n).",
  "Flop limit: the flops of one iteration of harmonium's algorithm (E-step 4 n mx K + n mx + 4 n K with mx the",
  "length of the sufficient statistics, M-step about 2 d^3 per component), divided by the gemm rate above (the best of",
  "its measurements before each workload).",
  "Targets (issue 11): faster peer / harmonium >= 30, harmonium / limit <= 3.",
  "Timings on a shared machine are noisy: compare rows of one run."
)
bench_write("results-mixture.md", "Gaussian mixtures: 20 EM iterations from given parameters", header,
  list(bench_md_table(res), notes))
bad <- res$`loglik rel. diff` > 1e-8
if (any(bad, na.rm = TRUE)) {
  stop("log-likelihoods disagree on: ", paste(res$workload[which(bad)], collapse = "; "))
}
if (!nzchar(bench_python)) cat("scikit-learn is not installed: its column is empty\n")
