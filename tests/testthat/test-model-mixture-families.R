# Mixtures of every exponential family (theory.md 3.1, 7.4): log p(x) and
# the posterior against brute-force marginalisation written in plain R,
# to_natural(to_mean(theta)) = theta, the conjugation identity, EM on data
# simulated from a known mixture (monotone, at least as likely as the truth,
# parameters recovered), the M-step fixed point of the numerical families,
# and exactness().
#
# The plain-R references below use only base R (dbinom, dpois, besselI,
# lgamma, direct series summation, enumeration of 2^3 states); nothing calls
# the package for the mathematics.

# --- plain-R references -----------------------------------------------------------

mf_lse_rows <- function(lp) {
  lp <- as.matrix(lp)
  m <- apply(lp, 1, max)
  m + log(rowSums(exp(lp - m)))
}

# User data (matrix, vector or data frame; factors in level order) as a
# numeric matrix with categorical columns as 1-based positions.
mf_codes <- function(x) {
  if (is.data.frame(x)) {
    return(do.call(cbind, lapply(x, function(v) if (is.factor(v)) as.integer(v) else as.double(v))))
  }
  matrix(as.double(x), ncol = if (is.null(dim(x))) 1L else ncol(x))
}

# Column-wise sum of log densities of independent units.
mf_indep <- function(x, f) {
  out <- numeric(nrow(x))
  for (j in seq_len(ncol(x))) out <- out + f(x[, j], j)
  out
}

mf_normal_logpdf <- function(x, mean, cov) {
  R <- chol(cov)
  z <- backsolve(R, t(x) - mean, transpose = TRUE)
  -0.5 * ncol(x) * log(2 * pi) - sum(log(diag(R))) - 0.5 * colSums(z^2)
}

# log Z of the CoM-Poisson by direct summation over j = 0..2000; the last
# term must be negligible.
mf_com_poisson_log_z <- function(mode, nu) {
  j <- 0:2000
  a <- nu * (j * log(mode) - lgamma(j + 1))
  stopifnot(a[length(a)] < max(a) - 50)
  max(a) + log(sum(exp(a - max(a))))
}

mf_boltzmann_states <- as.matrix(expand.grid(x1 = 0:1, x2 = 0:1, x3 = 0:1))

mf_boltzmann_energy <- function(x, bias, coupling) {
  e <- as.vector(x %*% bias)
  n <- length(bias)
  for (i in 1:(n - 1)) for (j in (i + 1):n) e <- e + coupling[i, j] * x[, i] * x[, j]
  e
}

mf_boltzmann_logpmf <- function(x, bias, coupling) {
  e_all <- mf_boltzmann_energy(mf_boltzmann_states, bias, coupling)
  mf_boltzmann_energy(x, bias, coupling) - (max(e_all) + log(sum(exp(e_all - max(e_all)))))
}

# Log density of one component (source parameters p) at rows of the coded
# data matrix x.
mf_component_logpdf <- function(fam, p, x) {
  switch(fam$name,
    bernoulli = mf_indep(x, function(v, j) dbinom(v, 1, p$prob[j], log = TRUE)),
    binomial = mf_indep(x, function(v, j) dbinom(v, fam$trials, p$prob[j], log = TRUE)),
    poisson = mf_indep(x, function(v, j) dpois(v, p$rate[j], log = TRUE)),
    categorical = log(unname(p$prob)[x[, 1]]),
    von_mises = mf_indep(x, function(v, j) {
      k <- p$kappa[j]
      k * cos(v - p$mean[j]) - log(2 * pi) - (log(besselI(k, 0, expon.scaled = TRUE)) + k)
    }),
    com_poisson = mf_indep(x, function(v, j) {
      p$nu[j] * (v * log(p$mode[j]) - lgamma(v + 1)) - mf_com_poisson_log_z(p$mode[j], p$nu[j])
    }),
    dirichlet = lgamma(sum(p$alpha)) - sum(lgamma(p$alpha)) + as.vector(log(x) %*% (p$alpha - 1)),
    gamma = mf_indep(x, function(v, j) {
      a <- p$shape[j]
      b <- p$rate[j]
      a * log(b) - lgamma(a) + (a - 1) * log(v) - b * v
    }),
    boltzmann = mf_boltzmann_logpmf(x, p$bias, p$coupling),
    normal = mf_normal_logpdf(x, p$mean, p$cov),
    product = {
      out <- numeric(nrow(x))
      off <- 0L
      for (b in seq_along(fam$blocks)) {
        blk <- fam$blocks[[b]]
        out <- out + mf_component_logpdf(blk, p[[b]], x[, off + seq_len(blk$d), drop = FALSE])
        off <- off + blk$d
      }
      out
    },
    stop("no plain-R density for ", fam$name)
  )
}

# n x k matrix of log w_k + log p_k(x).
mf_joint <- function(fam, params, data) {
  x <- mf_codes(data)
  sapply(seq_along(params$weights), function(k) {
    log(params$weights[k]) + mf_component_logpdf(fam, params$components[[k]], x)
  })
}

mf_logp <- function(fam, params, data) mf_lse_rows(mf_joint(fam, params, data))

mf_post <- function(fam, params, data) {
  lp <- mf_joint(fam, params, data)
  exp(lp - mf_lse_rows(lp))
}

# |a - b| <= atol + rtol |b| elementwise, reporting the worst entry.
mf_expect_near <- function(a, b, rtol = 0, atol = 0, info = NULL) {
  a <- as.vector(unlist(a), "double")
  b <- as.vector(unlist(b), "double")
  if (length(a) != length(b)) {
    testthat::expect(FALSE, sprintf("lengths differ: %d vs %d", length(a), length(b)), info = info)
    return(invisible())
  }
  err <- abs(a - b)
  lim <- atol + rtol * abs(b)
  ok <- !is.na(err) & err <= lim
  i <- if (all(ok)) 1L else which(!ok)[1]
  testthat::expect(all(ok), sprintf("%d of %d entries differ; first [%d]: %.15g vs %.15g (allowed %.3g)",
    sum(!ok), length(ok), i, a[i], b[i], lim[i]), info = info)
}

# --- the cases ------------------------------------------------------------------

mf_C1 <- matrix(c(0, 1.2, -0.8, 1.2, 0, 0.5, -0.8, 0.5, 0), 3)
mf_C2 <- matrix(c(0, -1, 0.3, -1, 0, 0.9, 0.3, 0.9, 0), 3)

# Each case: a family, true source parameters, a few awkward rows appended
# to the density checks (`extra`), `key` (a scalar of a component's source
# parameters that orders the components for matching), `rtol`/`atol` for
# parameter recovery (NULL: not identifiable, checked otherwise), whether the
# M-step is numerical, and the seed of the simulated data.
mf_cases <- list(
  bernoulli = list(
    fam = ef_bernoulli(4),
    params = list(weights = c(0.4, 0.6), components = list(
      list(prob = c(0.1, 0.8, 0.3, 0.9)), list(prob = c(0.7, 0.2, 0.85, 0.15)))),
    extra = rbind(c(0, 0, 0, 0), c(1, 1, 1, 1)),
    key = function(p) p$prob[1], rtol = 0, atol = 0.05, seed = 101
  ),
  binomial = list(
    fam = ef_binomial(6, 2),
    params = list(weights = c(0.35, 0.65), components = list(
      list(prob = c(0.2, 0.7)), list(prob = c(0.6, 0.25)))),
    extra = rbind(c(0, 6), c(6, 0)),
    key = function(p) p$prob[1], rtol = 0, atol = 0.03, seed = 102
  ),
  poisson = list(
    fam = ef_poisson(2),
    params = list(weights = c(0.3, 0.45, 0.25), components = list(
      list(rate = c(2, 5)), list(rate = c(9, 1)), list(rate = c(25, 12)))),
    extra = rbind(c(0, 0), c(80, 40), c(60, 0)),
    key = function(p) p$rate[1], rtol = 0.08, atol = 0.03, seed = 103
  ),
  categorical = list(
    fam = ef_categorical(4),
    params = list(weights = c(0.45, 0.55), components = list(
      list(prob = c(0.1, 0.2, 0.3, 0.4)), list(prob = c(0.5, 0.3, 0.1, 0.1)))),
    extra = NULL, key = NULL, rtol = NULL, seed = 104
  ),
  categorical_x3 = list(
    fam = ef_product(rep(list(ef_categorical(3)), 3)),
    params = list(weights = c(0.4, 0.6), components = list(
      list(list(prob = c(0.7, 0.2, 0.1)), list(prob = c(0.1, 0.1, 0.8)), list(prob = c(0.6, 0.3, 0.1))),
      list(list(prob = c(0.1, 0.3, 0.6)), list(prob = c(0.75, 0.15, 0.1)), list(prob = c(0.2, 0.2, 0.6))))),
    extra = NULL, key = function(p) p[[1]]$prob[1], rtol = 0, atol = 0.05, seed = 105
  ),
  von_mises = list(
    fam = ef_von_mises(),
    params = list(weights = c(0.3, 0.4, 0.3), components = list(
      list(mean = -2.2, kappa = 5), list(mean = 0.3, kappa = 3), list(mean = 2.4, kappa = 8))),
    extra = c(-pi, pi, 0.3 + pi, 1e-12),
    key = function(p) p$mean, rtol = 0.15, atol = 0.05, numerical = TRUE, seed = 106
  ),
  com_poisson = list(
    fam = ef_com_poisson(),
    params = list(weights = c(0.45, 0.55), components = list(
      list(mode = 3, nu = 0.7), list(mode = 15, nu = 1.6))),
    extra = c(0, 60, 150),
    key = function(p) p$mode, rtol = 0.15, atol = 0, numerical = TRUE, seed = 107
  ),
  dirichlet = list(
    fam = ef_dirichlet(3),
    params = list(weights = c(0.3, 0.7), components = list(
      list(alpha = c(8, 2, 3)), list(alpha = c(1.5, 4, 9)))),
    extra = rbind(c(0.98, 0.01, 0.01), c(1e-6, 0.5, 0.5 - 1e-6)),
    key = function(p) p$alpha[1], rtol = 0.12, atol = 0.03, numerical = TRUE, seed = 108
  ),
  gamma = list(
    fam = ef_gamma(),
    params = list(weights = c(0.5, 0.5), components = list(
      list(shape = 2, rate = 3), list(shape = 9, rate = 1.5))),
    extra = c(1e-4, 40),
    key = function(p) p$shape, rtol = 0.15, atol = 0.03, numerical = TRUE, seed = 109
  ),
  boltzmann = list(
    fam = ef_boltzmann(3),
    params = list(weights = c(0.35, 0.65), components = list(
      list(bias = c(-1, 0.5, 1), coupling = mf_C1), list(bias = c(1, -0.7, -0.3), coupling = mf_C2))),
    extra = mf_boltzmann_states, key = NULL, rtol = NULL, numerical = TRUE, seed = 110
  ),
  normal_isotropic = list(
    fam = ef_normal(2, "isotropic"),
    params = list(weights = c(0.25, 0.35, 0.4), components = list(
      list(mean = c(0, 0), cov = diag(0.5, 2)), list(mean = c(4, 1), cov = diag(1.5, 2)),
      list(mean = c(-3, 5), cov = diag(0.8, 2)))),
    extra = rbind(c(40, -30), c(-3, 5), c(4, 1)),
    key = function(p) p$mean[1], rtol = 0.1, atol = 0.08, seed = 111
  ),
  normal_diagonal = list(
    fam = ef_normal(3, "diagonal"),
    params = list(weights = c(0.4, 0.6), components = list(
      list(mean = c(1, -2, 0), cov = diag(c(0.5, 2, 1))),
      list(mean = c(-3, 2, 4), cov = diag(c(1.5, 0.3, 0.8))))),
    extra = rbind(c(30, 30, 30), c(-3, 2, 4)),
    key = function(p) p$mean[1], rtol = 0.1, atol = 0.08, seed = 112
  ),
  normal_full = list(
    fam = ef_normal(2),
    params = list(weights = c(0.3, 0.45, 0.25), components = list(
      list(mean = c(0.3, -1.2), cov = matrix(c(1.3, 0.4, 0.4, 0.8), 2)),
      list(mean = c(4.1, 0.4), cov = matrix(c(0.6, -0.2, -0.2, 2.385), 2)),
      list(mean = c(-2.5, 3.7), cov = matrix(c(0.9, 0, 0, 0.5), 2)))),
    extra = rbind(c(-60, 50), c(4.1, 0.4), c(25, -25)),
    key = function(p) p$mean[1], rtol = 0.1, atol = 0.08, seed = 113
  ),
  product = list(
    fam = ef_product(ef_normal(1), ef_poisson(), ef_categorical(3)),
    params = list(weights = c(0.4, 0.6), components = list(
      list(list(mean = 0, cov = matrix(1)), list(rate = 3), list(prob = c(0.2, 0.3, 0.5))),
      list(list(mean = 3, cov = matrix(2)), list(rate = 10), list(prob = c(0.5, 0.3, 0.2))))),
    extra = data.frame(x1 = c(-25, 30), x2 = c(0, 45), x3 = factor(c("hi", "lo"), c("lo", "mid", "hi"))),
    levels = list(col = "x3", levels = c("lo", "mid", "hi")),
    key = function(p) p[[1]]$mean, rtol = 0.1, atol = 0.05, seed = 114
  )
)

mf_model <- function(cs) mixture(cs$fam, length(cs$params$weights))

# Data simulated from the case's truth; for the product case the factor
# column gets named levels (a mixed data frame with a factor column).
mf_simulate <- function(cs, n, seed) {
  x <- simulate(with_params(mf_model(cs), cs$params), n, seed = seed)
  attr(x, "latent") <- NULL
  attr(x, "seed") <- NULL
  if (!is.null(cs$levels)) levels(x[[cs$levels$col]]) <- cs$levels$levels
  x
}

mf_append <- function(x, extra) {
  if (is.null(extra)) return(x)
  if (is.data.frame(x)) return(rbind(x, extra))
  x <- as.matrix(x)
  rbind(x, matrix(extra, ncol = ncol(x), dimnames = list(NULL, colnames(x))))
}

# --- (a), (b): log p(x) and the posterior ------------------------------------------

test_that("log p(x) and the posterior equal brute-force marginalisation for every family", {
  for (nm in names(mf_cases)) {
    cs <- mf_cases[[nm]]
    m <- mf_model(cs)
    x <- mf_append(mf_simulate(cs, 200, cs$seed), cs$extra)
    info <- sprintf("%s, simulate seed %d", nm, cs$seed)
    f <- with_params(m, cs$params, x)
    ref <- mf_logp(m$component, cs$params, x)
    expect_true(all(is.finite(ref)), info = info)
    mf_expect_near(log_density(f), ref, rtol = 1e-8, atol = 1e-8, info = info)
    mf_expect_near(as.numeric(logLik(f)), sum(ref), rtol = 1e-8, info = info)
    post <- unname(posterior(f))
    expect_equal(dim(post), c(nrow(mf_codes(x)), length(cs$params$weights)), info = info)
    mf_expect_near(post, mf_post(m$component, cs$params, x), atol = 1e-8, info = info)
    mf_expect_near(rowSums(post), rep(1, nrow(post)), atol = 1e-12, info = info)
  }
})

test_that("a non-reference class dominating by a wide margin keeps log p(x) exact", {
  # Rows sitting on component 3 (and 2), far from the reference component 1:
  # the log-sum-exp shift matters here.
  cs <- mf_cases$normal_full
  m <- mf_model(cs)
  x <- rbind(c(-2.5, 3.7), c(-2.5, 13.7), c(6.1, 2.4), c(14.1, -9.6), c(-30, 40))
  f <- with_params(m, cs$params, x)
  mf_expect_near(log_density(f), mf_logp(m$component, cs$params, x), rtol = 1e-10, atol = 1e-10)
  ref_post <- mf_post(m$component, cs$params, x)
  mf_expect_near(posterior(f), ref_post, atol = 1e-10)
  # Every row is won by a non-reference class, by more than e^10.
  expect_true(all(max.col(ref_post) != 1L))
  expect_true(all(ref_post[, 1] < exp(-10)))
  cp <- mf_cases$poisson
  mp <- mf_model(cp)
  xp <- rbind(c(200, 100), c(25, 12), c(9, 1), c(150, 0))
  fp <- with_params(mp, cp$params, xp)
  mf_expect_near(log_density(fp), mf_logp(mp$component, cp$params, xp), rtol = 1e-10, atol = 1e-10)
})

# --- (c), (d): coordinates and conjugation ------------------------------------------

test_that("to_natural(to_mean(theta)) = theta for mixtures of every family", {
  for (nm in names(mf_cases)) {
    cs <- mf_cases[[nm]]
    m <- mf_model(cs)
    th <- to_natural(m, cs$params)
    eta <- harmonium:::native_model_to_mean(m, th)
    expect_equal(eta$status, 0L, info = nm)
    back <- harmonium:::native_model_to_natural(m, eta$value, harmonium:::fam_ctrl())
    expect_equal(back$status, 0L, info = nm)
    tol <- if (isTRUE(cs$numerical)) 1e-6 else 1e-8
    mf_expect_near(back$value, th, rtol = tol, atol = tol, info = nm)
    # The source parameters come back too.
    src <- to_source(m, th)
    mf_expect_near(src$weights, cs$params$weights, atol = 1e-12, info = nm)
    mf_expect_near(src$components, cs$params$components, rtol = 1e-10, atol = 1e-12, info = nm)
  }
})

test_that("the conjugation identity psi_X(component k) = rho_{k-1} + chi holds for every family", {
  for (nm in names(mf_cases)) {
    cs <- mf_cases[[nm]]
    m <- mf_model(cs)
    K <- length(cs$params$weights)
    th <- to_natural(m, cs$params)
    rc <- harmonium:::model_rho_chi(m, th)
    sp <- harmonium:::mixture_split(m, th)
    expect_length(rc$rho, K - 1L)
    expect_equal(dim(sp$components), c(K, cs$fam$dim), info = nm)
    psi <- function(t) {
      r <- harmonium:::native_family_log_partition(m$component$spec, t)
      expect_equal(r$status, 0L, info = nm)
      r$value
    }
    mf_expect_near(psi(sp$components[1, ]), rc$chi, rtol = 1e-12, atol = 1e-12, info = nm)
    for (k in 2:K) {
      mf_expect_near(psi(sp$components[k, ]), rc$rho[k - 1] + rc$chi, rtol = 1e-12, atol = 1e-12,
        info = paste(nm, "class", k))
    }
    # Each component's natural parameters are the family's, and the prior's
    # natural parameters give the weights.
    for (k in 1:K) {
      mf_expect_near(sp$components[k, ], to_natural(cs$fam, cs$params$components[[k]]),
        rtol = 1e-12, atol = 1e-12, info = paste(nm, "component", k))
    }
    w <- cs$params$weights
    mf_expect_near(sp$prior, log(w[-1] / w[1]), atol = 1e-12, info = nm)
    # psi(theta) = psi_Z(theta_Z + rho) + chi, with psi_Z the categorical
    # log-partition log(1 + sum exp(prior)).
    mf_expect_near(harmonium:::model_log_partition(m, th), log(1 + sum(exp(sp$prior))) + rc$chi,
      rtol = 1e-12, atol = 1e-12, info = nm)
  }
})

# --- (e), (f): EM on simulated data ---------------------------------------------------

mf_n_fit <- 3000L

# Probability of each of the 8 Boltzmann states under mixture parameters.
mf_boltzmann_mixture_pmf <- function(params) {
  exp(mf_lse_rows(sapply(seq_along(params$weights), function(k) {
    log(params$weights[k]) + mf_boltzmann_logpmf(mf_boltzmann_states, params$components[[k]]$bias,
      params$components[[k]]$coupling)
  })))
}

for (nm in names(mf_cases)) {
  test_that(paste("EM on a simulated", nm, "mixture is monotone and recovers the truth"), {
    cs <- mf_cases[[nm]]
    m <- mf_model(cs)
    K <- length(cs$params$weights)
    seed <- cs$seed + 1000L
    info <- sprintf("%s, n = %d, simulate seed %d", nm, mf_n_fit, seed)
    x <- mf_simulate(cs, mf_n_fit, seed)
    # (a level or count that one class never shows is floored and reported)
    f <- withCallingHandlers(fit_lvm(m, x, control = lvm_control(tol = 1e-10, maxit = 300, n_init = 3, seed = 1)),
      harmonium_warning_boundary = function(w) invokeRestart("muffleWarning"))
    expect_true(f$converged, info = info)
    tr <- f$trace
    expect_true(length(tr) > 1L, info = info)
    expect_true(all(diff(tr) >= -1e-8 * (1 + abs(tr[-1]))), info = info)
    expect_equal(f$loglik, tr[length(tr)], tolerance = 1e-8, info = info)
    ll_true <- sum(mf_logp(m$component, cs$params, x))
    expect_true(f$loglik >= ll_true - 1e-6 * (1 + abs(ll_true)),
      info = sprintf("%s: fit %.8f, truth %.8f", info, f$loglik, ll_true))
    # The fitted log-likelihood is the plain-R one at the fitted parameters.
    mf_expect_near(f$loglik, sum(mf_logp(m$component, f$params, x)), rtol = 1e-8, info = info)
    mf_expect_near(sum(f$params$weights), 1, atol = 1e-12, info = info)
    if (!is.null(cs$rtol)) {
      ord_fit <- order(vapply(f$params$components, cs$key, numeric(1)))
      ord_true <- order(vapply(cs$params$components, cs$key, numeric(1)))
      mf_expect_near(f$params$weights[ord_fit], cs$params$weights[ord_true], atol = 0.04, info = info)
      for (j in seq_len(K)) {
        mf_expect_near(f$params$components[[ord_fit[j]]], cs$params$components[[ord_true[j]]],
          rtol = cs$rtol, atol = cs$atol, info = paste(info, "component", j))
      }
    } else if (nm == "categorical") {
      # Not identifiable (a mixture of categoricals is a categorical): the
      # fit is the saturated MLE, the empirical frequencies.
      freq <- as.numeric(table(x[[1]])) / nrow(x)
      marg <- Reduce(`+`, Map(function(w, p) w * unname(p$prob), f$params$weights, f$params$components))
      mf_expect_near(marg, freq, atol = 1e-6, info = info)
      mf_expect_near(f$loglik, sum(nrow(x) * freq * log(freq)), rtol = 1e-8, info = info)
    } else if (nm == "boltzmann") {
      # Two Boltzmann(3) components have 13 parameters for 7 cell
      # probabilities: not identifiable. The fitted distribution over the 8
      # states must be close to the truth, and no model beats the
      # saturated likelihood.
      xs <- as.matrix(x)
      cnt <- vapply(seq_len(8), function(s) sum(colSums(t(xs) == mf_boltzmann_states[s, ]) == 3), numeric(1))
      ll_sat <- sum(ifelse(cnt > 0, cnt * log(cnt / sum(cnt)), 0))
      expect_true(f$loglik <= ll_sat + 1e-8 * abs(ll_sat), info = info)
      mf_expect_near(mf_boltzmann_mixture_pmf(f$params), mf_boltzmann_mixture_pmf(cs$params), atol = 0.025,
        info = info)
    }
    if (isTRUE(cs$numerical)) {
      # (f) The M-step fixed point: one more EM iteration from the fit
      # leaves the log-likelihood where it was.
      g <- withCallingHandlers(
        fit_lvm(m, x, init = f, control = lvm_control(maxit = 1)),
        harmonium_warning_not_converged = function(w) invokeRestart("muffleWarning")
      )
      mf_expect_near(g$trace[1], f$loglik, rtol = 1e-10, info = info)
      expect_true(abs(g$loglik - f$loglik) / (1 + abs(f$loglik)) < 1e-6,
        info = sprintf("%s: fit %.10f, one more iteration %.10f", info, f$loglik, g$loglik))
      expect_true(g$loglik >= f$loglik - 1e-8 * (1 + abs(f$loglik)), info = info)
    }
  })
}

test_that("exactness() is analytic for closed-form families and differentiable for numerical ones", {
  for (nm in names(mf_cases)) {
    cs <- mf_cases[[nm]]
    m <- mf_model(cs)
    expect_identical(exactness(m), if (isTRUE(cs$numerical)) "differentiable" else "analytic", info = nm)
  }
  # A product with one numerical block needs the numerical M-step.
  expect_identical(exactness(mixture(ef_product(ef_normal(1), ef_gamma()), 2)), "differentiable")
  expect_identical(exactness(mixture(ef_product(ef_poisson(), ef_bernoulli(2)), 2)), "analytic")
})

test_that("a mixture of a product reports the data's level and column names", {
  set.seed(2)
  df <- data.frame(a = factor(sample(c("x", "y"), 60, TRUE)), b = rpois(60, 3))
  f <- withCallingHandlers(fit_lvm(mixture(ef_product(ef_categorical(2), ef_poisson()), 2), df,
    control = lvm_control(seed = 1)), harmonium_warning_boundary = function(w) invokeRestart("muffleWarning"))
  p <- coef(f)$components[[1]]
  expect_named(p[[1]]$prob, c("x", "y"))
  expect_named(p[[2]]$rate, "b")
})
