# Hierarchical models on 100000 x 50 data: one EM iteration of a mixture of
# factor analysers (5 factors, 8 components) and of a hierarchical mixture of
# Gaussians (5-dimensional latent, 8 clusters; EMMIXmfa's mixture of common
# factor analysers), harmonium against CRAN's EMMIXmfa from the same starting
# parameters, with the log-likelihood each reaches.
#
#   Rscript bench/bench-hierarchical.R [n]
#
# Both packages start from EMMIXmfa's own start (its k-means partition turned
# into parameters by init_est_para.mfa / init_est_para.mcfa), converted into
# harmonium source parameters and passed as `init =`. One iteration is not the
# same update in the two packages (see the notes printed at the end), so the
# log-likelihood after it is also checked against a plain-R reference of
# harmonium's own update.
suppressPackageStartupMessages({
  library(harmonium)
  library(EMMIXmfa)
})
# Both packages export mfa(): name harmonium's and EMMIXmfa's explicitly.
h_mfa <- harmonium::mfa
args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args)) as.integer(args[1]) else 100000L
p <- 50L
q <- 5L
k <- 8L
threads <- harmonium:::resolve_threads(NULL)
# Threaded timings are only meaningful on an otherwise idle machine.
load_avg <- function() if (file.exists("/proc/loadavg")) strsplit(readLines("/proc/loadavg"), " ")[[1]][1] else "?"
load_start <- load_avg()

# --- data ---------------------------------------------------------------------

# Mixture of factor analysers: component j is N(mu_j, A_j A_j' + Psi_j), means
# 2 apart per coordinate (about 20 apart in all, against a spread of about 2.4
# along any direction), unequal weights.
sim_mfa <- function(n, p, q, k) {
  w <- seq_len(k) + 2
  z <- sample.int(k, n, replace = TRUE, prob = w / sum(w))
  x <- matrix(0, n, p)
  for (j in seq_len(k)) {
    idx <- which(z == j)
    nj <- length(idx)
    A <- matrix(rnorm(p * q), p, q)
    psi <- runif(p, 0.2, 1)
    x[idx, ] <- matrix(rnorm(nj * q), nj, q) %*% t(A) + matrix(rnorm(nj * p), nj, p) * rep(sqrt(psi), each = nj)
    x[idx, ] <- sweep(x[idx, , drop = FALSE], 2L, rnorm(p, sd = 2), "+")
  }
  x
}

# Mixture of common factor analysers (EMMIXmfa's mcfa model): x = A u + e,
# u ~ N(xi_j, Omega_j) in the 5-dimensional latent space, e ~ N(0, D).
sim_mcfa <- function(n, p, q, k) {
  w <- seq_len(k) + 2
  z <- sample.int(k, n, replace = TRUE, prob = w / sum(w))
  A <- matrix(rnorm(p * q), p, q)
  u <- matrix(0, n, q)
  for (j in seq_len(k)) {
    idx <- which(z == j)
    R <- chol(crossprod(matrix(rnorm(q * q), q, q)) / q + 0.3 * diag(q))
    u[idx, ] <- sweep(matrix(rnorm(length(idx) * q), ncol = q) %*% R, 2L, rnorm(q, sd = 4), "+")
  }
  u %*% t(A) + matrix(rnorm(n * p), n, p) * rep(sqrt(runif(p, 0.2, 1)), each = n)
}

# --- the same start in both packages --------------------------------------------

# EMMIXmfa's mfa parameters (pivec, mu p x k, B p x q x k, D p x p x k) as
# harmonium mfa() source parameters: the same model, one mean, loadings and
# diagonal noise per component.
mfa_to_harmonium <- function(st) {
  list(weights = as.vector(st$pivec), components = lapply(seq_len(st$g), function(j) {
    list(mean = st$mu[, j], loadings = st$B[, , j], cov = st$D[, , j])
  }))
}

# EMMIXmfa's mcfa parameters (pivec, A, xi q x k, omega q x q x k, D) as
# harmonium hmog() source parameters: x = mean + A y + e with mean = 0 and the
# latent mixture of N(xi_j, omega_j).
mcfa_to_harmonium <- function(st) {
  list(mean = rep(0, nrow(st$A)), loadings = st$A, cov = st$D, latent = list(
    weights = as.vector(st$pivec),
    components = lapply(seq_len(st$g), function(j) list(mean = st$xi[, j], cov = st$omega[, , j]))
  ))
}

# --- plain-R reference of harmonium's update --------------------------------------

# Row-wise log-sum-exp, and the Normal log density of each row of x.
lse <- function(L) {
  m <- apply(L, 1L, max)
  m + log(rowSums(exp(L - m)))
}
gauss_logd <- function(x, mean, S) {
  R <- chol(S)
  z <- backsolve(R, t(x) - mean, transpose = TRUE)
  -0.5 * colSums(z^2) - sum(log(diag(R))) - ncol(x) / 2 * log(2 * pi)
}

mfa_terms <- function(x, par) {
  vapply(seq_along(par$weights), function(j) {
    cj <- par$components[[j]]
    log(par$weights[j]) + gauss_logd(x, cj$mean, tcrossprod(cj$loadings) + cj$cov)
  }, numeric(nrow(x)))
}
hmog_terms <- function(x, par) {
  A <- par$loadings
  vapply(seq_along(par$latent$weights), function(j) {
    cj <- par$latent$components[[j]]
    log(par$latent$weights[j]) + gauss_logd(x, as.vector(par$mean + A %*% cj$mean), A %*% cj$cov %*% t(A) + par$cov)
  }, numeric(nrow(x)))
}
ref_loglik <- function(terms, x, par) sum(lse(terms(x, par)))

# Complete-data sums for the regression of x on z = (y, 1) within one cluster
# with responsibilities r, latent posterior means Ey (n x q) and shared
# posterior covariance V: sum r E[z z'] and sum r x E[z]'.
regression_sums <- function(x, r, Ey, V) {
  Z <- cbind(Ey, 1)
  Ezz <- crossprod(Z, r * Z)
  at <- seq_len(ncol(Ey))
  Ezz[at, at] <- Ezz[at, at] + sum(r) * V
  list(Ezz = Ezz, Cxz = crossprod(x, r * Z))
}

# One harmonium EM iteration of mfa(): the E-step and the joint regression of
# x on (y, 1) per component, then the latent prior's weighted mean m and
# covariance S (the M-step of the harmonium's free latent Normal) absorbed by
# whitening, mean + A m and A chol(S)'. This is parameter-expanded EM (Liu,
# Rubin and Wu 1998); with m = 0 and S = I it would be plain EM.
mfa_ref_step <- function(x, par) {
  L <- mfa_terms(x, par)
  r <- exp(L - lse(L))
  comps <- lapply(seq_along(par$weights), function(j) {
    cj <- par$components[[j]]
    beta <- t(solve(tcrossprod(cj$loadings) + cj$cov, cj$loadings))
    s <- regression_sums(x, r[, j], sweep(x, 2L, cj$mean) %*% t(beta), diag(q) - beta %*% cj$loadings)
    W <- s$Cxz %*% solve(s$Ezz)
    nj <- sum(r[, j])
    m <- s$Ezz[seq_len(q), q + 1L] / nj
    S <- s$Ezz[seq_len(q), seq_len(q)] / nj - tcrossprod(m)
    A <- W[, seq_len(q)]
    list(mean = as.vector(W[, q + 1L] + A %*% m), loadings = A %*% t(chol(S)),
      cov = diag((colSums(r[, j] * x^2) - rowSums(W * s$Cxz)) / nj))
  })
  list(weights = colMeans(r), components = comps)
}

# One EM iteration of hmog(): cluster responsibilities, the latent posterior
# per cluster, the latent mixture's M-step, and one regression of x on (y, 1)
# pooled over clusters, so the observation mean is free.
hmog_ref_step <- function(x, par) {
  L <- hmog_terms(x, par)
  r <- exp(L - lse(L))
  A <- par$loadings
  DiA <- A / diag(par$cov)
  xc <- sweep(x, 2L, par$mean)
  Ezz <- 0
  Cxz <- 0
  comps <- lapply(seq_along(par$latent$weights), function(j) {
    cj <- par$latent$components[[j]]
    Oi <- solve(cj$cov)
    V <- solve(Oi + crossprod(A, DiA))
    s <- regression_sums(x, r[, j], sweep(xc %*% DiA, 2L, as.vector(Oi %*% cj$mean), "+") %*% V, V)
    Ezz <<- Ezz + s$Ezz
    Cxz <<- Cxz + s$Cxz
    nj <- sum(r[, j])
    m <- s$Ezz[seq_len(q), q + 1L] / nj
    list(mean = m, cov = s$Ezz[seq_len(q), seq_len(q)] / nj - tcrossprod(m))
  })
  W <- Cxz %*% solve(Ezz)
  list(mean = W[, q + 1L], loadings = W[, seq_len(q)], cov = diag((colSums(x^2) - rowSums(W * Cxz)) / nrow(x)),
    latent = list(weights = colMeans(r), components = comps))
}

# --- timing ----------------------------------------------------------------------

# Seconds per call of f: one warm-up call, then calls until `budget` seconds
# have passed (at least 3, at most 50); the median, which a short burst of
# other work on the machine moves less than the mean.
per_call <- function(f, budget = 3) {
  f()
  times <- numeric(0)
  t0 <- proc.time()[["elapsed"]]
  repeat {
    times <- c(times, system.time(f())[["elapsed"]])
    if (length(times) >= 50L || (length(times) >= 3L && proc.time()[["elapsed"]] - t0 >= budget)) break
  }
  stats::median(times)
}

# harmonium's EM kernel, as fit_lvm runs it: the data scaled, the init turned
# into internal natural parameters, and one native EM iteration (E-step,
# M-step with whitening). Returns the seconds per iteration and the E-step's
# log-likelihood of the start in the data's units.
harmonium_kernel <- function(model, init, x, threads) {
  sc <- harmonium:::make_scaler(model$obs, x)
  xs <- harmonium:::scale_data(sc, x)
  ctrl <- harmonium:::fam_ctrl()
  th <- harmonium:::model_init(model, xs, NULL, init, ctrl, threads, sc, NULL)
  one <- function() harmonium:::native_em_run(model, th, xs, NULL, ctrl, c(0, 1, NA), threads)
  res <- one()
  stopifnot(res$status %in% c(0L, 1L))
  list(time = per_call(one), ll0 = res$trace[1] - nrow(x) * sc$log_jac)
}

# The whole user call for one iteration; it warns that EM did not converge.
harmonium_call <- function(model, init, x, threads) {
  suppressWarnings(fit_lvm(model, x, init = init,
    control = lvm_control(maxit = 1, tol = 0, n_init = 1, threads = threads)))
}

# EMMIXmfa, run quietly (its fitting functions draw a progress bar).
quiet <- function(expr) {
  utils::capture.output(val <- expr)
  val
}

# --- the two benchmarks ----------------------------------------------------------------

bench_one <- function(label, x, model, peer_start, to_harmonium, peer_prep, peer_step, peer_loglik, peer_call,
                      terms, ref_step) {
  init <- to_harmonium(peer_start)
  # EMMIXmfa: one pass of est.mfa / est.mcfa's loop (its M-step, then the
  # log-likelihood), timed once from the state the loop enters with; and the
  # whole user call with itmax = 1 from the same start.
  ll0_peer <- peer_loglik(x, peer_start)
  state <- peer_prep(x, peer_start)
  t_peer <- system.time({
    after_peer <- peer_step(x, state)
    ll1_peer <- peer_loglik(x, after_peer)
  })[["elapsed"]]
  t_peer_call <- system.time(fit_peer <- quiet(peer_call(x, peer_start)))[["elapsed"]]
  stopifnot(isTRUE(all.equal(fit_peer$logL, ll1_peer, tolerance = 1e-10)))
  # harmonium, all threads and one.
  kern <- harmonium_kernel(model, init, x, threads)
  kern1 <- harmonium_kernel(model, init, x, 1L)
  t_call <- per_call(function() harmonium_call(model, init, x, threads))
  t_call1 <- per_call(function() harmonium_call(model, init, x, 1L))
  fit <- harmonium_call(model, init, x, threads)
  # Reference: the same update in plain R.
  ll0_ref <- ref_loglik(terms, x, init)
  ll1_ref <- ref_loglik(terms, x, ref_step(x, init))
  list(
    time = data.frame(model = label, n = nrow(x), p = p, q = q, k = k,
      h_kernel = kern$time, h_kernel_1 = kern1$time, h_call = t_call, h_call_1 = t_call1,
      emmix_iter = t_peer, emmix_call = t_peer_call),
    loglik = data.frame(model = label,
      start_h = kern$ll0, start_emmix = ll0_peer, start_ref = ll0_ref,
      after_h = fit$loglik, after_ref = ll1_ref, after_emmix = ll1_peer)
  )
}

set.seed(20240501)
x_mfa <- sim_mfa(n, p, q, k)
st_mfa <- EMMIXmfa:::init_est_para.mfa(x_mfa, k, q, kmeans(x_mfa, k, iter.max = 50L)$cluster, "unique", "unique")
b_mfa <- bench_one("MFA", x_mfa, h_mfa(p, q, k), st_mfa, mfa_to_harmonium,
  # est.mfa enters its loop with the start's responsibilities already
  # computed (with its log-likelihood); its M-step recomputes them midway.
  peer_prep = function(x, st) c(st, list(tau = do.call(EMMIXmfa:::logL_tau.mfa, c(list(Y = x), st))$tau)),
  peer_step = function(x, st) do.call(EMMIXmfa:::Mstep.mfa, c(list(Y = x), st)),
  peer_loglik = function(x, st) do.call(EMMIXmfa:::logL_tau.mfa, c(list(Y = x), st))$logL,
  peer_call = function(x, st) {
    EMMIXmfa::mfa(x, k, q, itmax = 1, nkmeans = 0, nrandom = 0, init_para = st,
      sigma_type = "unique", D_type = "unique")
  },
  terms = mfa_terms, ref_step = mfa_ref_step)

set.seed(20240502)
x_mcfa <- sim_mcfa(n, p, q, k)
st_mcfa <- EMMIXmfa:::init_est_para.mcfa(x_mcfa, k, q, kmeans(x_mcfa, k, iter.max = 50L)$cluster, "eigen-A")
b_hmog <- bench_one("HMoG (mcfa)", x_mcfa, hmog(p, q, k), st_mcfa, mcfa_to_harmonium,
  peer_prep = function(x, st) st,
  peer_step = function(x, st) do.call(EMMIXmfa:::Mstep.mcfa, c(list(Y = x), st)),
  peer_loglik = function(x, st) do.call(EMMIXmfa:::loglike.mcfa, c(list(Y = x), st)),
  peer_call = function(x, st) EMMIXmfa::mcfa(x, k, q, itmax = 1, nkmeans = 0, nrandom = 0, init_para = st),
  terms = hmog_terms, ref_step = hmog_ref_step)

# --- report -------------------------------------------------------------------------------

tm <- rbind(b_mfa$time, b_hmog$time)
ll <- rbind(b_mfa$loglik, b_hmog$loglik)
cat(sprintf("harmonium %s (%d threads; 1 thread for the single-thread columns), EMMIXmfa %s; %d cores, BLAS %s\n",
  packageVersion("harmonium"), threads, packageVersion("EMMIXmfa"), parallel::detectCores(),
  basename(extSoftVersion()[["BLAS"]])))
cat(sprintf("load average (1 min) at the start %s, at the end %s\n", load_start, load_avg()))
cat("\nSeconds per EM iteration from the same start (kernel: native EM iteration; call: fit_lvm(maxit = 1) /",
  "EMMIXmfa::mfa(), mcfa() with itmax = 1):\n")
rt <- data.frame(tm[, 1:5],
  `h kernel` = sprintf("%.4f", tm$h_kernel), `h kernel 1t` = sprintf("%.4f", tm$h_kernel_1),
  `h call` = sprintf("%.3f", tm$h_call), `h call 1t` = sprintf("%.3f", tm$h_call_1),
  `EMMIXmfa iter` = sprintf("%.2f", tm$emmix_iter), `EMMIXmfa call` = sprintf("%.2f", tm$emmix_call),
  `ratio iter` = sprintf("%.0f", tm$emmix_iter / tm$h_kernel),
  `ratio iter 1t` = sprintf("%.0f", tm$emmix_iter / tm$h_kernel_1),
  `ratio call` = sprintf("%.0f", tm$emmix_call / tm$h_call),
  check.names = FALSE)
print(rt, row.names = FALSE)
rel <- function(a, b) abs(a - b) / abs(b)
cat("\nLog-likelihood of the start (computed by each package's E-step) and after one iteration:\n")
lt <- data.frame(model = ll$model,
  `start harmonium` = sprintf("%.4f", ll$start_h), `start EMMIXmfa` = sprintf("%.4f", ll$start_emmix),
  `start rel diff` = sprintf("%.1e", rel(ll$start_h, ll$start_emmix)),
  `after harmonium` = sprintf("%.4f", ll$after_h), `after R reference` = sprintf("%.4f", ll$after_ref),
  `rel diff` = sprintf("%.1e", rel(ll$after_h, ll$after_ref)),
  `after EMMIXmfa` = sprintf("%.4f", ll$after_emmix),
  `harmonium - EMMIXmfa` = sprintf("%.2f", ll$after_h - ll$after_emmix),
  check.names = FALSE)
print(lt, row.names = FALSE)
cat(sprintf("(start log-likelihood by the plain-R reference: MFA %.4f, HMoG %.4f)\n", ll$start_ref[1], ll$start_ref[2]))
cat(paste(
  "\nThe two packages' single iterations are different updates from the same start:",
  "* MFA: EMMIXmfa runs AECM (means and weights first, then the responsibilities again and the",
  "  loadings and noise); harmonium runs EM with the latent prior's mean and covariance fitted and",
  "  whitened away (parameter-expanded EM).",
  "* HMoG: EMMIXmfa's mcfa fixes the observation mean at 0 (x = A u + e); harmonium's hmog has a free",
  "  mean, fitted in the same regression as the loadings.",
  "Both raise the log-likelihood; 'after R reference' is harmonium's update written in plain R.", sep = "\n"), "\n")
cat("\nREADME rows:\n")
cat(sprintf("| %s | %d | %.1f | %.1f | %.0f | %.2f | %.0f / %.0f | %.1e | %.1f |\n", tm$model, tm$n,
  1000 * tm$h_kernel, 1000 * tm$h_kernel_1, 1000 * tm$h_call, tm$emmix_iter,
  tm$emmix_iter / tm$h_kernel, tm$emmix_iter / tm$h_kernel_1, rel(ll$start_h, ll$start_emmix),
  ll$after_h - ll$after_emmix), sep = "")
