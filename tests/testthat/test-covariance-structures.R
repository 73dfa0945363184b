# mclust's 14 covariance structures in mixture(ef_normal(d, s), k): the EM
# path from the same hard labels against mclust's M- and E-steps, the final
# parameters, df and BIC, and the behaviour around the structures.

skip_if_not_installed("mclust")

# mclust's EM from hard labels, one M-step and one E-step at a time (its
# M-step is a pure function of z, like the engine's): the log-likelihood at
# the parameters of M-steps 1..T+1 and the (T+1)-th M-step. The iterative
# structures' inner loop runs to its own fixed point (tolerance 0, capped).
mclust_fun <- function(what, s) getExportedValue("mclust", paste0(what, s))

mclust_path <- function(X, s, labels, T) {
  z <- mclust::unmap(labels)
  ctrl <- mclust::emControl(tol = c(0, 0), itmax = c(T, 20000L))
  ll <- numeric(T + 1L)
  for (t in seq_len(T + 1L)) {
    ms <- mclust_fun("mstep", s)(X, z = z, control = ctrl, warn = FALSE)
    es <- mclust_fun("estep", s)(X, parameters = ms$parameters, warn = FALSE)
    z <- es$z
    ll[t] <- es$loglik
  }
  list(loglik = ll, mstep = ms)
}

fit_path <- function(X, s, labels, k, T) {
  d <- NCOL(X)
  suppressWarnings(fit_lvm(mixture(ef_normal(d, s), k), X, init = labels,
    control = lvm_control(tol = 0, maxit = T)))
}

# log p(x) of a Gaussian mixture in plain R.
mix_log_density <- function(X, par) {
  lp <- sapply(seq_along(par$weights), function(k) {
    S <- par$components[[k]]$cov
    L <- chol(S)
    r <- backsolve(L, t(X) - par$components[[k]]$mean, transpose = TRUE)
    log(par$weights[k]) - colSums(r^2) / 2 - sum(log(diag(L))) - ncol(X) / 2 * log(2 * pi)
  })
  m <- apply(lp, 1, max)
  m + log(rowSums(exp(lp - m)))
}

rel <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-300))

X_iris <- as.matrix(iris[, 1:4])
lab_iris <- as.integer(iris$Species)
X_faith <- as.matrix(faithful)
lab_faith <- as.integer(cut(faithful$waiting, c(0, 60, 75, Inf)))

# VVE is checked separately: mclust's orientation step for it is not the
# exact M-step (see the last tests).
exact_structures <- setdiff(c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE",
  "EEV", "VEV", "EVV", "VVV"), "VVE")

check_against_mclust <- function(X, labels, k, T) {
  n <- nrow(X)
  d <- ncol(X)
  for (s in exact_structures) {
    ref <- mclust_path(X, s, labels, T)
    fit <- fit_path(X, s, labels, k, T)
    # The log-likelihood path (trace[t] is at the t-th M-step's parameters)
    # and the final log-likelihood; 1e-8 relative.
    expect_lt(rel(fit$trace, ref$loglik[seq_len(T)]), 1e-8, label = paste(s, "path"))
    expect_lt(rel(fit$loglik, ref$loglik[T + 1L]), 1e-8, label = paste(s, "loglik"))
    # EM never decreases the log-likelihood.
    expect_true(all(diff(c(fit$trace, fit$loglik)) >= -1e-9 * abs(fit$loglik)), label = paste(s, "monotone"))
    # The final parameters: the (T+1)-th M-step.
    par <- ref$mstep$parameters
    p <- coef(fit)
    # The closed forms agree to rounding; the iterative ones to mclust's
    # inner stopping rule, which is on the change of its objective.
    tol <- if (s %in% c("VEI", "VEE", "EVE", "VEV")) 1e-6 else 1e-9
    expect_lt(rel(p$weights, par$pro), tol, label = paste(s, "weights"))
    for (j in seq_len(k)) {
      expect_lt(rel(p$components[[j]]$mean, unname(par$mean[, j])), tol, label = paste(s, "mean", j))
      S <- p$components[[j]]$cov
      expect_identical(dim(S), c(d, d))
      expect_lt(max(abs(S - par$variance$sigma[, , j])) / max(abs(diag(S))), tol,
        label = paste(s, "cov", j))
    }
    # df as nMclustParams, so BIC(fit) = -(mclust's BIC).
    expect_identical(as.numeric(fit$df), as.numeric(mclust::nMclustParams(s, d, k)), label = paste(s, "df"))
    expect_equal(stats::BIC(fit), -mclust::bic(s, fit$loglik, n, d, k), tolerance = 1e-12)
  }
}

test_that("13 structures follow mclust's EM path on iris (k = 3)", {
  check_against_mclust(X_iris, lab_iris, 3L, 6L)
})

test_that("13 structures follow mclust's EM path on faithful (k = 3)", {
  check_against_mclust(X_faith, lab_faith, 3L, 6L)
})

test_that("one-dimensional E and V follow mclust", {
  x <- faithful$waiting
  lab <- as.integer(x > 68) + 1L
  for (s in c("E", "V")) {
    ref <- mclust_path(x, s, lab, 5L)
    fit <- fit_path(x, s, lab, 2L, 5L)
    expect_lt(rel(fit$trace, ref$loglik[1:5]), 1e-10)
    expect_equal(fit$df, mclust::nMclustParams(s, 1, 2))
    expect_equal(vapply(coef(fit)$components, function(p) p$cov[1, 1], 1),
      rep_len(ref$mstep$parameters$variance$sigmasq, 2L), tolerance = 1e-9)
  }
  expect_error(ef_normal(2, "E"), class = "harmonium_error_argument")
  expect_error(ef_normal(2, "XYZ"), class = "harmonium_error_argument")
})

test_that("non-equivariant structures give the raw-data fit whatever the column scales", {
  # Columns on scales 100 apart: a per-column standardisation would change
  # EII, VII, EEV, VEV and EVE fits; the common scale factor does not.
  X <- sweep(X_iris, 2, c(10, 1, 0.1, 3), "*")
  for (s in c("EII", "VII", "EEV", "VEV", "EVE", "EEE")) {
    ref <- mclust_path(X, s, lab_iris, 3L)
    fit <- fit_path(X, s, lab_iris, 3L, 3L)
    expect_lt(rel(fit$trace, ref$loglik[1:3]), 1e-8, label = s)
  }
})

test_that("structured fits work with the fit methods", {
  for (s in c("EEE", "VEV", "EEI", "EVE")) {
    fit <- fit_path(X_iris, s, lab_iris, 3L, 20L)
    par <- coef(fit)
    # log_density and predict against mclust's densities at the same parameters.
    expect_equal(log_density(fit), mix_log_density(X_iris, par), tolerance = 1e-10)
    expect_equal(sum(log_density(fit)), fit$loglik, tolerance = 1e-10)
    # with_params at the fit's parameters reproduces it.
    wp <- with_params(mixture(ef_normal(4, s), 3), par, data = X_iris)
    expect_equal(wp$loglik, fit$loglik, tolerance = 1e-10)
    expect_identical(predict(wp), predict(fit))
    sims <- simulate(fit, 50, seed = 3)
    expect_identical(dim(sims), c(50L, 4L))
    # A fit as init continues from its parameters.
    fit2 <- fit_path(X_iris, s, fit, 3L, 2L)
    expect_equal(fit2$trace[1], fit$loglik, tolerance = 1e-10)
  }
  expect_output(print(fit_path(X_iris, "VEV", lab_iris, 3L, 2L)), "VEV covariance")
})

test_that("parameters without the structure: with_params refuses, init projects", {
  full <- fit_path(X_iris, "VVV", lab_iris, 3L, 10L)
  for (s in c("EEE", "EEV", "VVE", "EII")) {
    expect_error(with_params(mixture(ef_normal(4, s), 3), coef(full)), class = "harmonium_error_params")
  }
  # init = a VVV fit for an EEE model: its posterior, one EEE M-step. The
  # same as starting from the posterior probabilities as labels would not
  # be (soft), so compare with mclust's M-step from the VVV posterior.
  fit <- suppressWarnings(fit_lvm(mixture(ef_normal(4, "EEE"), 3), X_iris, init = full,
    control = lvm_control(tol = 0, maxit = 1)))
  ms <- mclust::mstepEEE(X_iris, z = full$posterior)
  es <- mclust::estepEEE(X_iris, parameters = ms$parameters)
  expect_equal(fit$trace[1], es$loglik, tolerance = 1e-10)
  # A structure that ties components cannot be a block of a product, and
  # has no gradient method.
  expect_error(mixture(ef_product(ef_normal(2, "EEE"), ef_poisson()), 2), class = "harmonium_error_unsupported")
  expect_error(fit_lvm(mixture(ef_normal(2, "VEI"), 2), faithful, method = "gradient"),
    class = "harmonium_error_unsupported")
  # Outside a mixture a structure only fixes the form of one normal.
  expect_identical(ef_normal(3, "EEI")$covariance, "diagonal")
  expect_identical(ef_normal(3, "EII")$covariance, "isotropic")
  expect_identical(ef_normal(3, "EVE")$covariance, "full")
  f1 <- ef_fit(ef_normal(2, "EEE"), X_faith)
  f2 <- ef_fit(ef_normal(2), X_faith)
  expect_equal(f1, f2)
})

# The exact F = sum_k [n_k log|Sigma_k| + tr(W_k Sigma_k^-1)] of an M-step
# from the posterior z (smaller is better).
mstep_objective <- function(X, z, sig) {
  s <- 0
  for (k in seq_len(ncol(z))) {
    nk <- sum(z[, k])
    mu <- colSums(z[, k] * X) / nk
    Xc <- sweep(X, 2, mu) * sqrt(z[, k])
    s <- s + nk * as.numeric(determinant(sig[, , k])$modulus) + sum(crossprod(Xc) * solve(sig[, , k]))
  }
  s
}

# exp(S) of a small skew-symmetric matrix by its power series (an exact
# rotation up to rounding for |S| << 1).
expm_skew <- function(S) {
  E <- diag(nrow(S))
  term <- E
  for (i in 1:20) {
    term <- term %*% S / i
    E <- E + term
  }
  E
}

test_that("VVE's M-step is the exact constrained maximiser (and beats mclust's)", {
  m <- mixture(ef_normal(4, "VVE"), 3)
  th <- harmonium:::theta_from_labels(m, X_iris, NULL, lab_iris, harmonium:::fam_ctrl(), 1L)
  sig <- simplify2array(lapply(harmonium:::mixture_to_src(m, th)$components, `[[`, "cov"))
  z <- mclust::unmap(lab_iris)
  F_ours <- mstep_objective(X_iris, z, sig)
  ms <- mclust::mstepVVE(X_iris, z = z, control = mclust::emControl(tol = c(0, 0), itmax = c(1, 20000L)))
  F_mclust <- mstep_objective(X_iris, z, ms$parameters$variance$sigma)
  expect_lt(F_ours, F_mclust - 0.1)
  # Stationary over the orientation: Sigma_k = D L_k D' with D rotated by
  # expm of a skew-symmetric S, volumes and shapes re-optimised given D.
  D <- eigen(sig[, , 1], symmetric = TRUE)$vectors
  W <- lapply(1:3, function(k) {
    nk <- sum(z[, k])
    mu <- colSums(z[, k] * X_iris) / nk
    crossprod(sweep(X_iris, 2, mu) * sqrt(z[, k])) / nk
  })
  prof <- function(v) {
    S <- matrix(0, 4, 4)
    S[upper.tri(S)] <- v
    S <- S - t(S)
    R <- D %*% expm_skew(S)
    sg <- simplify2array(lapply(W, function(Wk) R %*% diag(diag(t(R) %*% Wk %*% R)) %*% t(R)))
    mstep_objective(X_iris, z, sg)
  }
  expect_equal(prof(rep(0, 6)), F_ours, tolerance = 1e-10)
  grad <- function(v0, h = 1e-5) {
    vapply(1:6, function(i) {
      e <- replace(numeric(6), i, h)
      (prof(v0 + e) - prof(v0 - e)) / (2 * h)
    }, 1)
  }
  expect_lt(max(abs(grad(rep(0, 6)))), 1e-4)
  # (a rotation by 0.01 radians away, the gradient is far from 0)
  expect_gt(max(abs(grad(rep(0.01, 6)))), 0.1)
  # ... and the whole path is monotone and reproducible.
  fit <- fit_path(X_iris, "VVE", lab_iris, 3L, 15L)
  expect_true(all(diff(fit$trace) >= -1e-9 * abs(fit$loglik)))
  # (the fit's M-step runs on data divided by one common scale, where the
  # inner iteration stops at a point equal to ~1e-11)
  expect_equal(fit$trace[1], sum(log_density(with_params(m, harmonium:::mixture_to_src(m, th), X_iris))),
    tolerance = 1e-9)
  expect_identical(as.numeric(fit$df), as.numeric(mclust::nMclustParams("VVE", 4, 3)))
})

test_that("a structured Normal emission of a hidden Markov model keeps its structure and df", {
  set.seed(1)
  x <- matrix(rnorm(400), 200, 2) + rep(c(0, 3), each = 100)
  fit <- fit_lvm(hmm(ef_normal(2, "EEE"), 2), x)
  cv <- lapply(coef(fit)$emission, `[[`, "cov")
  expect_equal(cv[[1]], cv[[2]], tolerance = 1e-12)
  # 2 x 2 means, 3 covariance terms, 2 transition and 1 initial probabilities.
  expect_identical(as.integer(fit$df), 10L)
  expect_true(all(diff(fit$trace) >= -1e-9 * abs(fit$loglik)))
})

test_that("the ridge of lvm_control(reg) keeps the structure", {
  for (s in c("EVV", "VEE", "EEE", "VEI")) {
    fit <- suppressWarnings(fit_lvm(mixture(ef_normal(4, s), 3), X_iris, init = lab_iris,
      control = lvm_control(maxit = 5, reg = 0.05)))
    covs <- lapply(coef(fit)$components, `[[`, "cov")
    expect_true(harmonium:::cov_structure_holds(s, covs), label = s)
    expect_false(harmonium:::cov_structure_holds(s, lapply(seq_along(covs), function(j) covs[[j]] + j * 0.01 * diag(4))))
    expect_equal(with_params(mixture(ef_normal(4, s), 3), coef(fit), X_iris)$loglik, fit$loglik, tolerance = 1e-9)
  }
})
