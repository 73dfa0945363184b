# Times one Baum-Welch iteration (E-step: forward-backward at the given
# parameters; M-step: Gaussian emissions, transition and initial
# distribution) of a Gaussian HMM:
#   harmonium: one call of the engine's Baum-Welch loop limited to one iteration;
#   plain R:   a scaled forward-backward written in R (loop over time, vector
#              operations over states) and the closed-form M-step;
#   depmixS4:  fit() with em.control(maxit = 1) from the same parameters (its
#              forward-backward is in C, its M-step glm()-based), on a shorter
#              series when the full one is too slow, scaled per time point.
# All three start from the same parameters on the same data; the script checks
# that harmonium and plain R give the same log-likelihood and the same updated
# parameters. Then 10000 sequences of length 100 with threads 1 vs 2 (results
# identical).
#
#   Rscript bench/bench-hmm.R
suppressPackageStartupMessages(library(harmonium))
have_depmix <- requireNamespace("depmixS4", quietly = TRUE)

sim_hmm <- function(S, n, seed, stay = 0.9) {
  set.seed(seed)
  change <- c(TRUE, runif(n - 1) > stay)
  z <- sample.int(S, sum(change), TRUE)[cumsum(change)]
  list(y = rnorm(n, z, 1), z = z)
}

start_params <- function(S) {
  A <- matrix((1 - 0.9) / (S - 1), S, S)
  diag(A) <- 0.9
  list(initial = rep(1 / S, S), transition = A,
    emission = lapply(seq_len(S), function(k) list(mean = k + 0.1, cov = matrix(1.2))))
}

# Plain-R Baum-Welch iteration: returns the log-likelihood at p and the update.
plain_bw <- function(y, p) {
  S <- length(p$initial)
  n <- length(y)
  mu <- vapply(p$emission, function(e) e$mean, 1)
  sdv <- vapply(p$emission, function(e) sqrt(e$cov[1, 1]), 1)
  A <- p$transition
  lp <- vapply(seq_len(S), function(k) dnorm(y, mu[k], sdv[k], log = TRUE), numeric(n))
  mx <- do.call(pmax, as.data.frame(lp))
  e <- exp(lp - mx)
  al <- matrix(0, n, S)
  a <- p$initial * e[1, ]
  ll <- 0
  for (t in seq_len(n)) {
    if (t > 1L) a <- as.vector(a %*% A) * e[t, ]
    cc <- sum(a)
    a <- a / cc
    al[t, ] <- a
    ll <- ll + log(cc)
  }
  ll <- ll + sum(mx)
  g <- al
  xi <- matrix(0, S, S)
  for (t in (n - 1L):1) {
    pred <- as.vector(al[t, ] %*% A)
    r <- g[t + 1L, ] / pred
    g[t, ] <- al[t, ] * as.vector(A %*% r)
    xi <- xi + outer(al[t, ], r) * A
  }
  w <- colSums(g)
  mu_new <- colSums(g * y) / w
  var_new <- colSums(g * outer(y, mu_new, "-")^2) / w
  list(loglik = ll, mean = mu_new, var = var_new, transition = xi / rowSums(xi), initial = g[1, ])
}

# harmonium: the engine's loop, one iteration, from p (no standardisation, so the
# coordinates are those of plain R).
hm_iter <- function(y, p, threads = 1L, lengths = length(y), iters = 1L) {
  m <- hmm(ef_normal(), length(p$initial))
  r <- harmonium:::hmm_to_internal(m, p, harmonium:::identity_scaler(1))
  x <- matrix(as.double(y), ncol = 1)
  starts <- c(0L, cumsum(lengths))[seq_along(lengths)]
  harmonium:::native_hmm_em_run(m$mix, r$theta, harmonium:::hmm_chain(r$initial, r$transition), x,
    starts, lengths, NULL, harmonium:::fam_ctrl(floor = 1e-12), c(0, iters, NA, 0), threads)
}

hm_update <- function(res, S) {
  m <- hmm(ef_normal(), S)
  src <- harmonium:::hmm_to_src(m, res$theta, res$chain, harmonium:::identity_scaler(1))
  list(mean = unname(vapply(src$emission, function(e) e$mean, 1)),
    var = unname(vapply(src$emission, function(e) e$cov[1, 1], 1)), transition = unname(src$transition))
}

depmix_iter <- function(y, p) {
  S <- length(p$initial)
  df <- data.frame(y = y)
  dm <- depmixS4::depmix(y ~ 1, data = df, nstates = S, family = gaussian())
  pars <- c(p$initial, t(p$transition),
    unlist(lapply(p$emission, function(e) c(e$mean, sqrt(e$cov[1, 1])))))
  dm <- depmixS4::setpars(dm, pars)
  utils::capture.output(fm <- depmixS4::fit(dm, emcontrol = depmixS4::em.control(maxit = 1, random.start = FALSE),
    verbose = FALSE))
  invisible(fm)
}

timeit <- function(expr) unname(system.time(expr)["elapsed"])

cat(sprintf("R %s, %s; %d processors\n", getRversion(), R.version$platform, parallel::detectCores()))
for (cfg in list(c(10, 1e6, 1e5), c(50, 1e5, 2e4))) {
  S <- cfg[1]; n <- cfg[2]; nd <- cfg[3]
  d <- sim_hmm(S, n, seed = 1)
  p <- start_params(S)
  t_hm <- min(vapply(1:3, function(i) timeit(res <<- hm_iter(d$y, p, threads = 1L)), 1))
  t_hm2 <- min(vapply(1:3, function(i) timeit(res2 <<- hm_iter(d$y, p, threads = 2L)), 1))
  t_r <- timeit(pr <- plain_bw(d$y, p))
  up <- hm_update(res, S)
  stopifnot(abs(res$trace[1] - pr$loglik) < 1e-8 * abs(pr$loglik))
  # The mixture's M-step recovers state 1's statistics by subtraction (mixture.c),
  # which on unstandardised data costs a few digits: compare relatively.
  rel <- c(mean = max(abs(up$mean - pr$mean) / abs(pr$mean)), var = max(abs(up$var - pr$var) / pr$var),
    transition = max(abs(up$transition - pr$transition)))
  stopifnot(rel < 1e-6)
  cat(sprintf("\nS = %d, T = %g: log-likelihood %.6f (harmonium) vs %.6f (plain R); updates agree to %.1e\n",
    S, n, res$trace[1], pr$loglik, max(rel)))
  cat(sprintf("  harmonium  %8.3f s (1 thread; %.3f s with 2: one sequence, threads only in the emission step)\n",
    t_hm, t_hm2))
  cat(sprintf("  plain R    %8.3f s   (%.0fx harmonium)\n", t_r, t_r / t_hm))
  if (have_depmix) {
    dd <- d$y[seq_len(nd)]
    t_d <- timeit(depmix_iter(dd, p))
    t_hd <- min(vapply(1:3, function(i) timeit(hm_iter(dd, p)), 1))
    cat(sprintf("  depmixS4   %8.3f s on T = %g (harmonium %.3f s on it) -> %.1f s per %g time points (%.0fx)\n",
      t_d, nd, t_hd, t_d * n / nd, n, t_d / t_hd))
  }
}

# Many sequences: threads across sequences; results must be identical.
S <- 5; ns <- 10000; len <- 100
d <- sim_hmm(S, ns * len, seed = 2)
p <- start_params(S)
lens <- rep(len, ns)
t1 <- min(vapply(1:3, function(i) timeit(r1 <<- hm_iter(d$y, p, 1L, lens, iters = 5L)), 1)) / 5
t2 <- min(vapply(1:3, function(i) timeit(r2 <<- hm_iter(d$y, p, 2L, lens, iters = 5L)), 1)) / 5
stopifnot(identical(r1, r2))
cat(sprintf("\n%d sequences x %d, S = %d: %.3f s per iteration with 1 thread, %.3f s with 2 (%.2fx); identical\n",
  ns, len, S, t1, t2, t1 / t2))
