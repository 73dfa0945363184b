# Times one EM iteration of a Gaussian mixture against mclust from identical
# starting parameters, checks that both sides compute the same
# log-likelihood, and prints per-iteration times and ratios.
#
#   Rscript bench/bench-mixture.R            # all four workloads
#   HARMONIUM_BENCH_REPS=3 Rscript bench/bench-mixture.R
#
# One EM iteration is the E-step at the parameters plus the M-step; for
# mclust that is estep() followed by mstep() (its Fortran routines), for
# harmonium one call of the engine's EM loop limited to one iteration. Data
# and starting parameters are the same for both.
suppressPackageStartupMessages({
  library(harmonium)
  library(mclust)
})
reps <- as.integer(Sys.getenv("HARMONIUM_BENCH_REPS", "5"))
# scikit-learn, where installed: bench/sklearn_em_step.py times one EM
# iteration of GaussianMixture (_e_step + _m_step) from the same parameters
# on the same data, passed through temporary files.
have_sklearn <- nzchar(Sys.which("python3")) &&
  system2("python3", c("-c", shQuote("import sklearn")), stdout = FALSE, stderr = FALSE) == 0
bench_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(f) else "bench"
})

sklearn_iter <- function(x, p, covariance) {
  tmp <- tempfile("hm-bench-")
  dir.create(tmp)
  on.exit(unlink(tmp, recursive = TRUE))
  f <- file.path(tmp, c("x.csv", "w.csv", "mu.csv", "cov.csv"))
  utils::write.table(x, f[1], sep = ",", row.names = FALSE, col.names = FALSE)
  utils::write.table(matrix(p$weights, 1), f[2], sep = ",", row.names = FALSE, col.names = FALSE)
  utils::write.table(t(sapply(p$components, `[[`, "mean")), f[3], sep = ",", row.names = FALSE, col.names = FALSE)
  utils::write.table(t(sapply(p$components, function(c) as.vector(c$cov))), f[4], sep = ",",
    row.names = FALSE, col.names = FALSE)
  out <- system2("python3", c(file.path(bench_dir, "sklearn_em_step.py"), f, covariance, reps), stdout = TRUE)
  as.numeric(strsplit(out[length(out)], " ")[[1]])
}
threads <- harmonium:::resolve_threads(NULL)

make_data <- function(n, d, k, seed) {
  set.seed(seed)
  means <- matrix(rnorm(k * d, sd = 3), k, d)
  z <- sample.int(k, n, replace = TRUE)
  x <- means[z, ] + matrix(rnorm(n * d), n, d) * rep(runif(d, 0.5, 1.5), each = n)
  list(x = x, z = z)
}

# Starting parameters: the M-step from a random 80% correct labelling.
start_params <- function(x, z, k, covariance) {
  set.seed(1)
  flip <- runif(length(z)) < 0.2
  z[flip] <- sample.int(k, sum(flip), replace = TRUE)
  m <- mixture(ef_normal(ncol(x), covariance), k)
  th <- harmonium:::theta_from_post(m, x, NULL, harmonium:::labels_to_post(z, k), harmonium:::fam_ctrl(), threads)
  list(model = m, theta = th, params = harmonium:::mixture_to_src(m, th))
}

# Seconds per call: each of `reps` measurements repeats f until at least
# 0.25 s have passed (system.time resolves milliseconds only), and the median
# measurement is reported.
time_it <- function(f) {
  f()
  calls <- 1L
  while ((t <- system.time(for (i in seq_len(calls)) f())[["elapsed"]]) < 0.25) calls <- 2L * calls
  t <- numeric(reps)
  for (r in seq_len(reps)) t[r] <- system.time(for (i in seq_len(calls)) f())[["elapsed"]] / calls
  median(t)
}

bench_one <- function(n, d, k, covariance) {
  dat <- make_data(n, d, k, seed = d * 100 + k)
  st <- start_params(dat$x, dat$z, k, covariance)
  x <- dat$x
  m <- st$model
  ctrl <- harmonium:::fam_ctrl()
  hm_iter <- function() harmonium:::native_em_run(m, st$theta, x, NULL, ctrl, c(0, 1, NA), threads)
  hm_ll <- hm_iter()$trace[1]
  mn <- if (covariance == "full") "VVV" else "VVI"
  p <- st$params
  sig <- array(unlist(lapply(p$components, `[[`, "cov")), c(d, d, k))
  mc_par <- list(pro = p$weights, mean = sapply(p$components, `[[`, "mean"),
    variance = if (mn == "VVV") list(modelName = mn, d = d, G = k, sigma = sig, cholsigma = array(
      unlist(lapply(p$components, function(c) chol(c$cov))), c(d, d, k))) else
      list(modelName = mn, d = d, G = k, sigma = sig, scale = NA, shape = NA))
  if (mn == "VVI") {
    dg <- sapply(p$components, function(c) diag(c$cov))
    sc <- apply(dg, 2, function(v) prod(v)^(1 / d))
    mc_par$variance$scale <- sc
    mc_par$variance$shape <- sweep(dg, 2, sc, "/")
  }
  mc_e <- mclust::estep(data = x, modelName = mn, parameters = mc_par)
  mc_iter <- function() {
    e <- mclust::estep(data = x, modelName = mn, parameters = mc_par)
    mclust::mstep(data = x, modelName = mn, z = e$z)
  }
  t_hm <- time_it(hm_iter)
  t_mc <- time_it(mc_iter)
  sk <- if (have_sklearn) sklearn_iter(x, p, covariance) else c(NA, NA)
  data.frame(
    workload = sprintf("%d x %d, K = %d, %s", n, d, k, covariance),
    harmonium_ms = 1000 * t_hm, mclust_ms = 1000 * t_mc, sklearn_ms = 1000 * sk[1],
    `mclust / harmonium` = t_mc / t_hm, `sklearn / harmonium` = sk[1] / t_hm,
    loglik_rel_diff = max(abs(hm_ll - mc_e$loglik), abs(hm_ll - sk[2]), na.rm = TRUE) / abs(mc_e$loglik),
    check.names = FALSE
  )
}

cat(sprintf("harmonium %s, mclust %s, %d thread(s), median of %d runs\n",
  packageVersion("harmonium"), packageVersion("mclust"), threads, reps))
res <- rbind(
  bench_one(100000, 8, 4, "full"),
  bench_one(100000, 8, 4, "diagonal"),
  bench_one(100000, 32, 16, "full"),
  bench_one(100000, 32, 16, "diagonal")
)
print(res, digits = 4, row.names = FALSE)
if (any(res$loglik_rel_diff > 1e-8)) stop("log-likelihoods disagree")
if (!have_sklearn) cat("scikit-learn is not installed: its comparison was skipped\n")

