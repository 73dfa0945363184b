# Whole fit_lvm() calls of the kinds other than the Gaussian mixture, against
# their peers measured in the same run (issue 11, "the same treatment for
# every kind"):
#
#   factor analysis  100000 x 20, 5 factors: the default fit against
#                    stats::factanal(rotation = "none") on the same data, with
#                    both maxima as raw-data log-likelihoods;
#   LCA              1e6 x 20 three-level items, 3 classes: 20 EM iterations
#                    from given parameters, and the default fit (its starts
#                    included); poLCA (calc.se = FALSE) from the same
#                    parameters on the first `n_polca` rows for 20
#                    iterations, compared per row-iteration;
#   von Mises        a 2-component mixture of 1e5 angles: the default fit,
#                    and 20 iterations from given parameters against a
#                    vectorised plain-R EM (no peer package is a dependency);
#   HMM              a 3-state Gaussian HMM on 1e5 points: the default fit,
#                    and 20 Baum-Welch iterations from given parameters
#                    against depmixS4's fit() on the first `n_depmix` points,
#                    compared per point-iteration.
#
# Times are elapsed seconds, the median of `reps` runs (CPU seconds in
# brackets). Set HM_BENCH_QUICK=1 for a smaller run (the FA and LCA data
# shrink; the labels keep the full sizes).
#
#   Rscript bench/bench-kinds.R
suppressPackageStartupMessages(library(harmonium))
# HM_BENCH_THREADS sets the thread count (the option harmonium.threads);
# HM_BENCH_LCA_DEFAULT=0 skips the LCA default fit (minutes at 1e6 rows).
if (nzchar(Sys.getenv("HM_BENCH_THREADS"))) options(harmonium.threads = as.integer(Sys.getenv("HM_BENCH_THREADS")))
quick <- nzchar(Sys.getenv("HM_BENCH_QUICK"))
reps <- if (quick) 1L else 3L
threads <- harmonium:::resolve_threads(NULL)
timed <- function(expr, reps_here = reps) {
  e <- substitute(expr)
  pf <- parent.frame()
  out <- NULL
  tt <- vapply(seq_len(reps_here), function(i) {
    st <- system.time(out <<- suppressWarnings(eval(e, pf)))
    c(st[["elapsed"]], st[["user.self"]] + st[["sys.self"]])
  }, numeric(2))
  list(value = out, elapsed = stats::median(tt[1, ]), cpu = stats::median(tt[2, ]))
}
fmt <- function(t) sprintf("%.3f s [%.3f]", t$elapsed, t$cpu)
rows <- list()
add <- function(workload, what, t, note = "") {
  rows[[length(rows) + 1L]] <<- data.frame(workload = workload, what = what, time = fmt(t), note = note)
}
cat(sprintf("harmonium %s, %d thread(s); R %s, %s; %d processors\n", packageVersion("harmonium"),
  threads, getRversion(), R.version$platform, parallel::detectCores()))

# --- factor analysis --------------------------------------------------------------
n <- if (quick) 20000L else 100000L
p <- 20L
q <- 5L
set.seed(42)
A <- matrix(rnorm(p * q), p, q)
psi <- runif(p, 0.2, 1.5)
x <- matrix(rnorm(n * q), n, q) %*% t(A) + matrix(rnorm(n * p), n, p) * rep(sqrt(psi), each = n)
x <- sweep(x, 2, runif(p, -5, 5), "+")
t_h <- timed(fit_lvm(factor_analysis(p, q), x))
t_f <- timed(factanal(x, q, rotation = "none"))
fa <- t_f$value
s <- sqrt(colMeans(sweep(x, 2, colMeans(x))^2))
ll_fa <- -(n / 2) * (p * log(2 * pi) + determinant(cor(x))$modulus[1] + p + fa$criteria[["objective"]]) -
  n * sum(log(s))
add("FA 1e5 x 20, 5 factors", "harmonium fit_lvm(factor_analysis(20, 5), x)", t_h,
  sprintf("%d EM iterations, log-lik %.3f", t_h$value$iterations, t_h$value$loglik))
add("FA 1e5 x 20, 5 factors", "stats::factanal(x, 5, rotation = \"none\")", t_f,
  sprintf("log-lik %.3f; factanal / harmonium %.1fx", ll_fa, t_f$elapsed / t_h$elapsed))

# --- latent class analysis -----------------------------------------------------------
n <- if (quick) 100000L else 1000000L
J <- 20L
K <- 3L
set.seed(2)
z <- sample.int(K, n, TRUE, prob = c(0.5, 0.3, 0.2))
pr <- array(runif(K * J * 3), c(K, J, 3))
pr <- pr / as.vector(apply(pr, c(1, 2), sum))
X <- matrix(0L, n, J)
for (j in seq_len(J)) {
  P <- pr[z, j, ]
  u <- runif(n)
  X[, j] <- 1L + (u > P[, 1]) + (u > P[, 1] + P[, 2])
}
df <- as.data.frame(lapply(as.data.frame(X), factor, levels = 1:3))
rm(X, P, u, z)
m <- mixture(ef_product(rep(list(ef_categorical(3)), J)), K)
set.seed(3)
start <- lapply(seq_len(J), function(j) t(vapply(seq_len(K), function(k) prop.table(runif(3) + 1), numeric(3))))
p0 <- list(weights = rep(1 / K, K),
  components = lapply(seq_len(K), function(k) lapply(seq_len(J), function(j) list(prob = start[[j]][k, ]))))
t_20 <- timed(fit_lvm(m, df, init = p0, control = lvm_control(maxit = 20, tol = 0)))
t_1 <- timed(fit_lvm(m, df, init = p0, control = lvm_control(maxit = 1, tol = 0)))
per_it <- (t_20$elapsed - t_1$elapsed) / 19
add("LCA 1e6 x 20, K = 3", "harmonium, 20 iterations from given parameters", t_20,
  sprintf("%.3f s per further iteration; 1 iteration %s", per_it, fmt(t_1)))
if (Sys.getenv("HM_BENCH_LCA_DEFAULT") != "0") {
  t_d <- timed(fit_lvm(m, df), 1L)
  add("LCA 1e6 x 20, K = 3", "harmonium, default fit (starts included)", t_d,
    sprintf("%d starts, log-lik %.1f", nrow(t_d$value$starts), t_d$value$loglik))
}
if (requireNamespace("poLCA", quietly = TRUE)) {
  n_polca <- if (quick) 2000L else 10000L
  dp <- df[seq_len(n_polca), ]
  fo <- stats::as.formula(paste0("cbind(", paste(names(dp), collapse = ", "), ") ~ 1"))
  t_p <- timed(poLCA::poLCA(fo, dp, nclass = K, maxiter = 20, tol = 0, probs.start = start, verbose = FALSE,
    calc.se = FALSE), 1L)
  ratio <- (t_p$elapsed / n_polca) / (per_it / n)
  add("LCA 1e6 x 20, K = 3", sprintf("poLCA, 20 iterations on %d rows (calc.se = FALSE)", n_polca), t_p,
    sprintf("per row-iteration: poLCA / harmonium %.0fx", ratio / 20))
}
rm(df)

# --- von Mises mixture ----------------------------------------------------------------
n <- 100000L
set.seed(3)
y <- c(rnorm(n / 2, 1, 0.5), rnorm(n / 2, -2, 0.3)) %% (2 * pi)
m <- mixture(ef_von_mises(), 2)
t_v <- timed(fit_lvm(m, y))
add("von Mises 1e5, K = 2", "harmonium, default fit", t_v,
  sprintf("%d starts, %d iterations", nrow(t_v$value$starts), t_v$value$iterations))
pv <- list(weights = c(0.5, 0.5), components = list(list(mean = 0.5, kappa = 2), list(mean = -1.5, kappa = 5)))
t_v20 <- timed(fit_lvm(m, y, init = pv, control = lvm_control(maxit = 20, tol = 0)))
# Plain R: E-step with besselI(kappa, 0, expon.scaled), M-step with the mean
# direction and kappa = A^-1(R) by Newton steps on A(k) = I1(k) / I0(k).
plain_vm <- function(y, p, iters) {
  w <- p$weights
  mu <- vapply(p$components, `[[`, 1, "mean")
  ka <- vapply(p$components, `[[`, 1, "kappa")
  cy <- cos(y)
  sy <- sin(y)
  for (it in seq_len(iters)) {
    lp <- vapply(1:2, function(k) {
      log(w[k]) + ka[k] * (cos(y - mu[k]) - 1) - log(2 * pi * besselI(ka[k], 0, TRUE))
    }, numeric(length(y)))
    mx <- pmax(lp[, 1], lp[, 2])
    r <- exp(lp - mx)
    r <- r / rowSums(r)
    nk <- colSums(r)
    w <- nk / sum(nk)
    for (k in 1:2) {
      C <- sum(r[, k] * cy) / nk[k]
      S <- sum(r[, k] * sy) / nk[k]
      mu[k] <- atan2(S, C)
      R <- sqrt(C^2 + S^2)
      kk <- ka[k]
      for (s in 1:20) {
        a <- besselI(kk, 1, TRUE) / besselI(kk, 0, TRUE)
        kk <- max(kk - (a - R) / (1 - a / kk - a^2), 1e-8)
      }
      ka[k] <- kk
    }
  }
  list(weights = w, mean = mu, kappa = ka)
}
t_vr <- timed(plain_vm(y, pv, 20L))
add("von Mises 1e5, K = 2", "harmonium, 20 iterations from given parameters", t_v20, "")
add("von Mises 1e5, K = 2", "plain R EM (vectorised), 20 iterations", t_vr,
  sprintf("plain R / harmonium %.1fx", t_vr$elapsed / t_v20$elapsed))

# --- hidden Markov model -------------------------------------------------------------
n <- 100000L
set.seed(4)
change <- c(TRUE, runif(n - 1) > 0.95)
zz <- sample.int(3, sum(change), TRUE)[cumsum(change)]
y <- rnorm(n, c(-2, 0, 3)[zz], 1)
m <- hmm(ef_normal(), 3)
t_hd <- timed(fit_lvm(m, y))
add("HMM 1e5, 3 states", "harmonium, default fit", t_hd, sprintf("%d iterations", t_hd$value$iterations))
Ah <- matrix(0.05, 3, 3)
diag(Ah) <- 0.9
ph <- list(initial = rep(1 / 3, 3), transition = Ah,
  emission = lapply(1:3, function(k) list(mean = k - 2.1, cov = matrix(1.2))))
t_h20 <- timed(fit_lvm(m, y, init = ph, control = lvm_control(maxit = 20, tol = 0)))
t_h1 <- timed(fit_lvm(m, y, init = ph, control = lvm_control(maxit = 1, tol = 0)))
per_h <- (t_h20$elapsed - t_h1$elapsed) / 19
add("HMM 1e5, 3 states", "harmonium, 20 iterations from given parameters", t_h20,
  sprintf("%.4f s per further iteration", per_h))
if (requireNamespace("depmixS4", quietly = TRUE)) {
  n_dm <- if (quick) 5000L else 20000L
  dd <- data.frame(y = y[seq_len(n_dm)])
  dm <- depmixS4::depmix(y ~ 1, data = dd, nstates = 3, family = gaussian())
  dm <- depmixS4::setpars(dm, c(ph$initial, t(ph$transition), unlist(lapply(ph$emission, function(e) {
    c(e$mean, sqrt(e$cov[1, 1]))
  }))))
  t_dm <- timed(utils::capture.output(depmixS4::fit(dm, emcontrol = depmixS4::em.control(maxit = 20,
    random.start = FALSE), verbose = FALSE)), 1L)
  add("HMM 1e5, 3 states", sprintf("depmixS4 fit(), 20 iterations on %d points", n_dm), t_dm,
    sprintf("per point-iteration: depmixS4 / harmonium %.0fx", (t_dm$elapsed / n_dm) / (per_h / n) / 20))
}

res <- do.call(rbind, rows)
print(res, row.names = FALSE, right = FALSE)
