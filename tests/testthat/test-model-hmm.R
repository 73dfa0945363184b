# Hidden Markov chain inference against brute-force enumeration of all S^T paths.

brute_hmm <- function(logp, init, A) {
  S <- ncol(logp); T <- nrow(logp)
  lp <- logp; lp[is.na(lp)] <- 0
  paths <- as.matrix(expand.grid(rep(list(seq_len(S)), T)))
  lj <- apply(paths, 1, function(z) {
    log(init[z[1]]) + sum(log(A[cbind(z[-T], z[-1])])) + sum(lp[cbind(seq_len(T), z)])
  })
  ll <- max(lj) + log(sum(exp(lj - max(lj))))
  w <- exp(lj - ll)
  smooth <- sapply(seq_len(S), function(s) sapply(seq_len(T), function(t) sum(w[paths[, t] == s])))
  filt <- t(sapply(seq_len(T), function(t) {
    sub <- if (t == 1) paths[, 1, drop = FALSE] else paths[, 1:t]
    ljt <- apply(unique(sub), 1, function(z) {
      log(init[z[1]]) + lp[1, z[1]] + (if (t > 1) sum(log(A[cbind(z[-t], z[-1])])) + sum(lp[cbind(2:t, z[-1])]) else 0)
    })
    zt <- unique(sub)[, t]
    p <- sapply(seq_len(S), function(s) sum(exp(ljt[zt == s] - max(ljt))))
    p / sum(p)
  }))
  pair <- matrix(0, S, S)
  for (t in 1:(T - 1)) for (i in 1:S) for (j in 1:S) {
    pair[i, j] <- pair[i, j] + sum(w[paths[, t] == i & paths[, t + 1] == j])
  }
  list(loglik = ll, smoothed = smooth, filtered = filt, pair = pair, path = unname(paths[which.max(lj), ]),
    logjoint = max(lj))
}

check_against_brute <- function(logp, init, A) {
  r <- hmm_infer(logp, init, A)
  b <- brute_hmm(logp, init, A)
  expect_equal(r$loglik, b$loglik, tolerance = 1e-10)
  expect_equal(unname(r$smoothed), unname(b$smoothed), tolerance = 1e-10)
  expect_equal(unname(r$filtered), unname(b$filtered), tolerance = 1e-10)
  expect_equal(r$pair, b$pair, tolerance = 1e-10)
  expect_equal(r$path, b$path)
  expect_equal(r$logjoint, b$logjoint, tolerance = 1e-10)
}

test_that("forward-backward and Viterbi equal enumeration: Gaussian, Poisson, categorical, NA rows", {
  hmm_infer <- harmonium:::hmm_infer
  set.seed(1)
  A2 <- matrix(c(0.8, 0.2, 0.3, 0.7), 2, byrow = TRUE)
  A3 <- matrix(c(0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.25, 0.25, 0.5), 3, byrow = TRUE)
  # Gaussian emissions, S = 2, T = 6, with an NA row
  y <- c(0.1, -1.2, 2.5, NA, 1.9, 0.3)
  lp <- cbind(dnorm(y, -1, 1, log = TRUE), dnorm(y, 2, 0.7, log = TRUE))
  check_against_brute(lp, c(0.6, 0.4), A2)
  # Poisson emissions, S = 3, T = 5
  y <- c(0, 4, 9, NA, 2)
  lp <- sapply(c(0.5, 3, 8), function(l) dpois(y, l, log = TRUE))
  check_against_brute(lp, c(0.2, 0.5, 0.3), A3)
  # categorical emissions, S = 3, T = 6
  y <- c(1, 3, 3, 2, 1, 2)
  P <- matrix(c(0.7, 0.2, 0.1, 0.1, 0.2, 0.7, 0.3, 0.4, 0.3), 3, byrow = TRUE)
  lp <- log(t(P[, y]))
  check_against_brute(lp, c(1 / 3, 1 / 3, 1 / 3), A3)
  # extreme log densities: the per-step rescaling keeps the recursions finite
  check_against_brute(lp - 800, c(0.5, 0.3, 0.2), A3)
})

test_that("hmm_infer rejects bad input with classed errors naming the argument", {
  hmm_infer <- harmonium:::hmm_infer
  A2 <- matrix(c(0.8, 0.2, 0.3, 0.7), 2, byrow = TRUE)
  lp <- matrix(0, 4, 2)
  expect_error(hmm_infer(lp[1, , drop = FALSE], c(0.5, 0.5), A2), "at least 2", class = "harmonium_error_argument")
  expect_error(hmm_infer(lp, c(0.5, 0.5), matrix(0.6, 2, 2)), "transition", class = "harmonium_error_argument")
  expect_error(hmm_infer(lp, c(0.5, 0.4), A2), "initial", class = "harmonium_error_argument")
  expect_error(hmm_infer(lp, c(0.5, 0.5), matrix(0.5, 3, 3) / 1.5), "transition", class = "harmonium_error_argument")
})

# --- hmm(): the model, through the engine's mixture emission and multi-sequence forward-backward ---

# Checks a with_params() fit on several sequences against enumeration over all paths
# of each sequence (log-likelihood, filtered and smoothed marginals, Viterbi path).
check_hmm_brute <- function(model, params, seqs, dens) {
  f <- with_params(model, params, data = seqs)
  S <- length(params$initial)
  fs <- filter_states(f)
  ss <- smooth_states(f)
  vt <- viterbi(f)
  for (i in seq_along(seqs)) {
    lp <- oracle_logp(seqs[[i]], S, dens)
    b <- brute_hmm(lp, params$initial, params$transition)
    rows <- fs$sequence == as.character(i)
    expect_equal(unname(f$seq_loglik[i]), b$loglik, tolerance = 1e-10)
    expect_equal(unname(as.matrix(fs[rows, -(1:2)])), unname(b$filtered), tolerance = 1e-10)
    expect_equal(unname(as.matrix(ss[rows, -(1:2)])), unname(b$smoothed), tolerance = 1e-10)
    expect_equal(vt$state[rows], b$path)
    expect_equal(unname(attr(vt, "logjoint")[i]), b$logjoint, tolerance = 1e-10)
  }
  expect_equal(f$loglik, sum(f$seq_loglik))
}

test_that("hmm() with Gaussian emissions equals enumeration on several sequences with NA", {
  A <- matrix(c(0.83, 0.17, 0.26, 0.74), 2, byrow = TRUE)
  p <- list(initial = c(0.35, 0.65), transition = A,
    emission = list(list(mean = -0.7, cov = matrix(1.3)), list(mean = 1.9, cov = matrix(0.45))))
  seqs <- list(c(0.12, -1.25, 2.38, NA, 1.91), c(1.4, 0.33, NA, -0.2), c(2.2, 1.7, 1.85))
  dens <- function(x, k) dnorm(x[[1]], p$emission[[k]]$mean, sqrt(p$emission[[k]]$cov), log = TRUE)
  check_hmm_brute(hmm(ef_normal(), 2), p, seqs, dens)
})

test_that("hmm() with Poisson emissions, 3 states, equals enumeration", {
  A <- matrix(c(0.7, 0.2, 0.1, 0.15, 0.75, 0.1, 0.25, 0.3, 0.45), 3, byrow = TRUE)
  rates <- c(1.3, 4.7, 11.2)
  p <- list(initial = c(0.2, 0.5, 0.3), transition = A, emission = lapply(rates, function(r) list(rate = r)))
  seqs <- list(c(0, 3, 12, 9, NA), c(5, 2, 1, 14))
  dens <- function(x, k) dpois(x[[1]], rates[k], log = TRUE)
  check_hmm_brute(hmm(ef_poisson(), 3), p, seqs, dens)
})

test_that("hmm() with categorical emissions equals enumeration", {
  A <- matrix(c(0.9, 0.1, 0.35, 0.65), 2, byrow = TRUE)
  pr <- list(c(a = 0.6, b = 0.3, c = 0.1), c(a = 0.15, b = 0.25, c = 0.6))
  p <- list(initial = c(0.5, 0.5), transition = A, emission = lapply(pr, function(q) list(prob = q)))
  lev <- c("a", "b", "c")
  seqs <- list(factor(c("a", "c", "c", NA, "b"), lev), factor(c("b", "a", "c"), lev))
  dens <- function(x, k) log(pr[[k]][as.character(x[[1]])])
  check_hmm_brute(hmm(ef_categorical(lev), 2), p, seqs, dens)
})

test_that("hmm() with a mixed Gaussian x categorical x Poisson product equals enumeration", {
  A <- matrix(c(0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.3, 0.3, 0.4), 3, byrow = TRUE)
  mu <- c(-1.1, 0.4, 2.3); v <- c(0.6, 1.2, 0.8)
  pr <- list(c(0.7, 0.3), c(0.4, 0.6), c(0.1, 0.9))
  rt <- c(0.8, 3.1, 6.4)
  em <- lapply(1:3, function(k) list(list(mean = mu[k], cov = matrix(v[k])), list(prob = pr[[k]]), list(rate = rt[k])))
  p <- list(initial = c(0.25, 0.45, 0.3), transition = A, emission = em)
  mk <- function(y, g, n) data.frame(y = y, g = factor(g, levels = 1:2), n = n)
  seqs <- list(mk(c(-0.9, 0.2, NA, 2.6), c(1, 2, 2, 2), c(1, 4, 5, 7)), mk(c(1.8, -1.4, 0.5), c(2, 1, NA), c(6, 0, 2)))
  dens <- function(x, k) {
    dnorm(x$y, mu[k], sqrt(v[k]), log = TRUE) + log(pr[[k]][as.integer(x$g)]) + dpois(x$n, rt[k], log = TRUE)
  }
  m <- hmm(ef_product(ef_normal(), ef_categorical(2), ef_poisson()), 3)
  check_hmm_brute(m, p, seqs, dens)
})

test_that("the engine's log-likelihood equals the plain-R scaled forward algorithm on long sequences", {
  set.seed(11)
  A <- matrix(c(0.95, 0.05, 0.1, 0.9), 2, byrow = TRUE)
  p <- list(initial = c(0.5, 0.5), transition = A,
    emission = list(list(mean = 0, cov = matrix(1)), list(mean = 2.5, cov = matrix(2))))
  seqs <- lapply(c(400, 250), function(n) rnorm(n, sample(c(0, 2.5), n, TRUE)))
  f <- with_params(hmm(ef_normal(), 2), p, data = seqs)
  ref <- vapply(seqs, function(y) {
    oracle_forward(cbind(dnorm(y, 0, 1, log = TRUE), dnorm(y, 2.5, sqrt(2), log = TRUE)), p$initial, A)
  }, 1)
  expect_equal(unname(f$seq_loglik), ref, tolerance = 1e-10)
  expect_equal(unname(log_density(f)), ref, tolerance = 1e-10)
})

test_that("the forward pass's product of normalisers keeps the log-likelihood over tiny normalisers", {
  # The engine keeps the product of the per-step normalisers as a mantissa and
  # a binary exponent (hmm.c fb_one): a long sequence takes it far below the
  # smallest double, and a switch the chain gives probability 1e-200 makes
  # one normaliser about 1e-200 (below 2^-500) on its own.
  A <- matrix(c(1 - 1e-200, 1e-200, 1e-200, 1 - 1e-200), 2, byrow = TRUE)
  p <- list(initial = c(1 - 1e-12, 1e-12), transition = A,
    emission = list(list(mean = 0, cov = matrix(1)), list(mean = 40, cov = matrix(1))))
  set.seed(12)
  y <- c(rnorm(3000), 40 + rnorm(2000))
  f <- with_params(hmm(ef_normal(), 2), p, data = list(y))
  ref <- oracle_forward(cbind(dnorm(y, 0, 1, log = TRUE), dnorm(y, 40, 1, log = TRUE)), p$initial, A)
  expect_true(is.finite(ref))
  expect_equal(unname(f$seq_loglik), ref, tolerance = 1e-12)
})

sim_gauss_hmm <- function(ns, len, seed) {
  set.seed(seed)
  A <- matrix(c(0.9, 0.1, 0.15, 0.85), 2, byrow = TRUE)
  lapply(seq_len(ns), function(i) {
    z <- integer(len); z[1] <- sample(2, 1)
    for (t in 2:len) z[t] <- sample(2, 1, prob = A[z[t - 1], ])
    rnorm(len, c(-1, 1.5)[z], c(0.8, 1.1)[z])
  })
}

test_that("Baum-Welch is monotone and with_params at the fit reproduces its log-likelihood", {
  seqs <- sim_gauss_hmm(4, 60, 3)
  seqs[[2]][c(5, 6, 30)] <- NA
  fit <- fit_lvm(hmm(ef_normal(), 2), seqs, control = lvm_control(tol = 1e-10))
  expect_s3_class(fit, c("hmm_fit", "lvm_fit"))
  expect_true(fit$converged)
  tr <- fit$trace
  expect_true(all(diff(tr) / (1 + abs(tr[-1])) > -1e-12))
  f2 <- with_params(hmm(ef_normal(), 2), coef(fit), data = seqs)
  expect_equal(f2$loglik, fit$loglik, tolerance = 1e-9)
  expect_equal(f2$loglik, tail(tr, 1), tolerance = 1e-8)
  expect_equal(nobs(fit), 240L)
  expect_equal(attr(logLik(fit), "df"), 2 * 2 + 2 + 1)
  expect_equal(BIC(fit), -2 * fit$loglik + 7 * log(240))
})

test_that("fits are identical for 1 and 2 threads", {
  seqs <- sim_gauss_hmm(300, 30, 5)
  f1 <- fit_lvm(hmm(ef_normal(), 2), seqs, control = lvm_control(threads = 1, tol = 1e-10))
  f2 <- fit_lvm(hmm(ef_normal(), 2), seqs, control = lvm_control(threads = 2, tol = 1e-10))
  expect_identical(f1$trace, f2$trace)
  expect_identical(f1$params, f2$params)
  expect_identical(f1$posterior, f2$posterior)
})

test_that("a sequence weight of 2 equals the sequence given twice", {
  seqs <- sim_gauss_hmm(3, 40, 8)
  fw <- fit_lvm(hmm(ef_normal(), 2), seqs, weights = c(2, 1, 1), control = lvm_control(tol = 1e-12))
  fd <- fit_lvm(hmm(ef_normal(), 2), c(seqs[1], seqs), control = lvm_control(tol = 1e-12))
  expect_equal(fw$loglik, fd$loglik, tolerance = 1e-8)
  expect_equal(fw$params$transition, fd$params$transition, tolerance = 1e-6)
})

test_that("initial = 'stationary' keeps the initial distribution stationary; 'fixed' keeps it", {
  y <- earthquakes$count
  fs <- fit_lvm(hmm(ef_poisson(), 2, initial = "stationary"), y, control = lvm_control(tol = 1e-12))
  expect_equal(as.vector(fs$params$initial %*% fs$params$transition), unname(fs$params$initial), tolerance = 1e-10)
  p0 <- list(initial = c(0.3, 0.7), transition = matrix(c(0.9, 0.1, 0.1, 0.9), 2),
    emission = list(list(rate = 12), list(rate = 25)))
  ff <- fit_lvm(hmm(ef_poisson(), 2, initial = "fixed"), y, init = p0)
  expect_equal(unname(ff$params$initial), c(0.3, 0.7))
  expect_equal(ff$df, 2 + 2)
})

test_that("Poisson HMM of the earthquake counts reaches the published maximum", {
  y <- earthquakes$count
  f2 <- fit_lvm(hmm(ef_poisson(), 2), y, control = lvm_control(tol = 1e-12))
  # Zucchini, MacDonald and Langrock (2016), 2-state Poisson HMM: -341.88 (free initial).
  expect_equal(f2$loglik, -341.8787, tolerance = 1e-5)
  expect_equal(unname(sort(vapply(f2$params$emission, function(p) unname(p$rate), 1))), c(15.4207, 26.0182),
    tolerance = 1e-4)
})

test_that("depmixS4 (live): Poisson HMMs of the earthquake counts, 2 and 3 states", {
  skip_if_not_installed("depmixS4")
  df <- data.frame(count = earthquakes$count)
  for (S in 2:3) {
    fit <- fit_lvm(hmm(ef_poisson(), S), df$count, control = lvm_control(tol = 1e-12, n_init = 5, seed = 2))
    # Start depmixS4 at our optimum's neighbourhood through its own parameter vector.
    dm <- depmixS4::depmix(count ~ 1, data = df, nstates = S, family = poisson())
    rates <- vapply(fit$params$emission, function(p) unname(p$rate), 1)
    pars <- c(fit$params$initial, t(fit$params$transition), log(rates * 1.05))
    dm <- depmixS4::setpars(dm, pars)
    utils::capture.output(fm <- depmixS4::fit(dm,
      emcontrol = depmixS4::em.control(tol = 1e-12, crit = "relative", random.start = FALSE), verbose = FALSE))
    expect_equal(fit$loglik, as.numeric(depmixS4::logLik(fm)), tolerance = 1e-7)
    expect_equal(nobs(fit), depmixS4::nobs(fm))
    expect_equal(attr(logLik(fit), "df"), attr(depmixS4::logLik(fm), "df"))
    rd <- sort(exp(depmixS4::getpars(fm)[S + S * S + seq_len(S)]))
    expect_equal(unname(sort(rates)), unname(rd), tolerance = 1e-4)
  }
})

test_that("depmixS4 (live): speed data, Gaussian rt x categorical corr, 3 sequences", {
  skip_if_not_installed("depmixS4")
  env <- new.env()
  utils::data("speed", package = "depmixS4", envir = env)
  sp <- env$speed
  sp$id <- rep(1:3, c(168, 134, 137))
  m <- hmm(ef_product(ef_normal(), ef_categorical(2)), 2)
  fit <- fit_lvm(~ rt + corr | id, sp, m, control = lvm_control(tol = 1e-12, n_init = 3))
  expect_equal(fit$sequences$lengths, c(168L, 134L, 137L))
  set.seed(1)
  dm <- depmixS4::depmix(list(rt ~ 1, corr ~ 1), data = sp, nstates = 2,
    family = list(gaussian(), depmixS4::multinomial("identity")), ntimes = c(168, 134, 137))
  utils::capture.output(fm <- depmixS4::fit(dm, emcontrol = depmixS4::em.control(tol = 1e-12, crit = "relative"),
    verbose = FALSE))
  expect_equal(fit$loglik, as.numeric(depmixS4::logLik(fm)), tolerance = 1e-7)
  ld <- depmixS4::logLik(fm)
  expect_equal(BIC(fit), -2 * as.numeric(ld) + attr(ld, "df") * log(depmixS4::nobs(fm)), tolerance = 1e-7)
  # Parameters up to the order of the states: match by the rt means.
  gp <- depmixS4::getpars(fm)
  dmeans <- gp[c(7, 11)]
  ours <- unname(vapply(fit$params$emission, function(p) unname(p[[1]]$mean), 1))
  expect_equal(sort(ours), sort(unname(dmeans)), tolerance = 1e-5)
  sds <- unname(vapply(fit$params$emission, function(p) sqrt(p[[1]]$cov[1, 1]), 1))
  expect_equal(sds[order(ours)], unname(gp[c(8, 12)][order(dmeans)]), tolerance = 1e-4)
  A <- matrix(gp[3:6], 2, byrow = TRUE)
  expect_equal(unname(fit$params$transition[order(ours), order(ours)]), A[order(dmeans), order(dmeans)],
    tolerance = 1e-4)
  cor_prob <- unname(vapply(fit$params$emission, function(p) unname(p[[2]]$prob[2]), 1))
  expect_equal(cor_prob[order(ours)], unname(gp[c(10, 14)][order(dmeans)]), tolerance = 1e-4)
})

test_that("methods: summary, predict, posterior, forecast, simulate, plot, update", {
  fit <- fit_lvm(hmm(ef_poisson(), 2), earthquakes$count)
  s <- summary(fit)
  expect_equal(unname(s$dwell), unname(1 / (1 - diag(fit$params$transition))))
  expect_equal(sum(s$occupancy), 1)
  expect_output(print(s), "Transition matrix")
  expect_output(print(fit), "hidden Markov model")
  expect_equal(predict(fit), viterbi(fit)$state)
  expect_equal(predict(fit, type = "posterior"), posterior(fit))
  expect_equal(dim(posterior(fit)), c(107L, 2L))
  fc <- forecast(fit, h = 3)
  last <- as.numeric(filter_states(fit)[107, c("S1", "S2")])
  expect_equal(as.numeric(fc$states[3, c("S1", "S2")]), as.vector(last %*% fit$params$transition %*% fit$params$transition %*% fit$params$transition))
  rates <- vapply(fit$params$emission, function(p) unname(p$rate), 1)
  expect_equal(fc$observations$x, as.vector(as.matrix(fc$states[, c("S1", "S2")]) %*% rates))
  sim <- simulate(fit, nsim = 2, seed = 4)
  expect_equal(nrow(sim), 214L)
  expect_true(all(sim$state %in% 1:2))
  expect_identical(simulate(fit, nsim = 2, seed = 4), sim)
  # newdata: inference on new sequences equals a with_params fit on them
  nd <- list(c(10, 30, 28), c(14, 15, 40, 8))
  wp <- with_params(fit$model, coef(fit), data = nd)
  expect_equal(smooth_states(fit, nd), smooth_states(wp))
  expect_equal(log_density(fit, nd), log_density(wp))
  grDevices::pdf(NULL)
  expect_identical(plot(fit), fit)
  expect_identical(plot(fit, type = "trace"), fit)
  grDevices::dev.off()
  up <- update(fit, control = lvm_control(tol = 1e-12))
  expect_gte(up$loglik, fit$loglik - 1e-8)
})

test_that("bad input gives classed errors naming the argument", {
  m <- hmm(ef_normal(), 2)
  expect_error(hmm(ef_normal(), 1), class = "harmonium_error")
  expect_error(hmm(ef_normal(), 1), "states")
  expect_error(hmm("normal", 2), class = "harmonium_error")
  expect_error(fit_lvm(m, list(c(1, 2, 3), 4)), class = "harmonium_error_data")
  expect_error(fit_lvm(m, matrix(rnorm(20), 10)), class = "harmonium_error_data")
  bad <- list(initial = c(0.5, 0.5), transition = matrix(c(0.9, 0.2, 0.2, 0.8), 2),
    emission = list(list(mean = 0, cov = matrix(1)), list(mean = 1, cov = matrix(1))))
  expect_error(fit_lvm(m, rnorm(20), init = bad), class = "harmonium_error_params")
  expect_error(fit_lvm(m, rnorm(20), init = bad), "transition")
  expect_error(with_params(m, bad, data = rnorm(5)), class = "harmonium_error_params")
  expect_error(fit_lvm(m, rnorm(20), init = "x"), class = "harmonium_error_init")
  expect_error(fit_lvm(hmm(ef_poisson(), 2), c(1, -2, 3)), class = "harmonium_error")
  expect_error(fit_lvm(m, rnorm(20), method = "gradient"), class = "harmonium_error_unsupported")
  expect_error(fit_lvm(m, rnorm(20), weights = c(1, 2)), class = "harmonium_error")
  expect_error(forecast(fit_lvm(m, rnorm(30)), h = 0), class = "harmonium_error")
})

# --- hmm() with a conjugated-model emission (a mixture of factor analysers as the emission) ---

# log N(x; mu, L L' + Psi), written with chol(): the marginal of a linear Gaussian model.
lgm_marginal_logdens <- function(x, p) {
  Sig <- tcrossprod(p$loadings) + p$cov
  R <- chol(Sig)
  z <- backsolve(R, x - p$mean, transpose = TRUE)
  -0.5 * length(x) * log(2 * pi) - sum(log(diag(R))) - 0.5 * sum(z^2)
}

test_that("hmm(factor_analysis()) equals enumeration with the FA marginal densities, NA row included", {
  A <- matrix(c(0.8, 0.2, 0.35, 0.65), 2, byrow = TRUE)
  em <- list(
    list(mean = c(0.3, -1.2, 0.8, 2.1), loadings = matrix(c(1.1, 0.6, -0.4, 0.9), 4, 1),
      cov = diag(c(0.5, 0.3, 0.8, 0.4))),
    list(mean = c(-1.5, 0.7, 1.9, -0.2), loadings = matrix(c(-0.3, 1.4, 0.5, 0.2), 4, 1),
      cov = diag(c(0.25, 0.6, 0.35, 0.9)))
  )
  p <- list(initial = c(0.4, 0.6), transition = A, emission = em)
  set.seed(4)
  s1 <- matrix(round(rnorm(20, sd = 1.5), 2), 5, 4)
  s1[3, 2] <- NA
  s2 <- matrix(round(rnorm(16, sd = 1.5), 2), 4, 4)
  dens <- function(x, k) lgm_marginal_logdens(as.double(unlist(x)), em[[k]])
  check_hmm_brute(hmm(factor_analysis(4, 1), 2), p, list(s1, s2), dens)
})

test_that("hmm(ppca()) and hmm(lgm(full)) with 3 states equal enumeration", {
  A <- matrix(c(0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.3, 0.3, 0.4), 3, byrow = TRUE)
  set.seed(6)
  mk <- function(cov) lapply(1:3, function(k) {
    list(mean = rnorm(3, 2 * k - 4), loadings = matrix(rnorm(3), 3, 1), cov = cov(k))
  })
  seqs <- list(matrix(round(rnorm(12, sd = 2), 2), 4, 3), matrix(round(rnorm(9, sd = 2), 2), 3, 3))
  seqs[[1]][2, ] <- NA
  for (case in c("isotropic", "full")) {
    em <- if (case == "isotropic") {
      mk(function(k) diag(0.3 * k, 3))
    } else {
      mk(function(k) {
        B <- matrix(rnorm(9, sd = 0.4), 3)
        tcrossprod(B) + diag(0.4, 3)
      })
    }
    p <- list(initial = c(0.2, 0.5, 0.3), transition = A, emission = em)
    dens <- function(x, k) lgm_marginal_logdens(as.double(unlist(x)), em[[k]])
    m <- if (case == "isotropic") hmm(ppca(3, 1), 3) else hmm(lgm(ef_normal(3, "full"), 1), 3)
    check_hmm_brute(m, p, seqs, dens)
  }
})

sim_fa_hmm <- function(ns, len, seed) {
  set.seed(seed)
  A <- matrix(c(0.95, 0.05, 0.08, 0.92), 2, byrow = TRUE)
  mus <- list(c(0, 0, 0, 0), c(4, -3, 2, 5))
  L <- list(c(1, 0.8, 0.5, 0.3), c(-0.5, 1, 0.7, 0.2))
  psi <- list(c(0.3, 0.4, 0.2, 0.5), c(0.5, 0.2, 0.3, 0.4))
  out <- lapply(seq_len(ns), function(i) {
    z <- integer(len)
    z[1] <- sample(2, 1)
    for (t in 2:len) z[t] <- sample(2, 1, prob = A[z[t - 1], ])
    x <- t(vapply(z, function(k) mus[[k]] + L[[k]] * stats::rnorm(1) + stats::rnorm(4) * sqrt(psi[[k]]), numeric(4)))
    list(x = x, z = z)
  })
  list(x = lapply(out, `[[`, "x"), z = unlist(lapply(out, `[[`, "z")))
}

test_that("Baum-Welch with FA emissions is monotone, recovers the states, and with_params reproduces it", {
  sim <- sim_fa_hmm(1, 300, 21)
  x <- sim$x[[1]]
  x[c(40, 41), 3] <- NA
  m <- hmm(factor_analysis(4, 1), 2)
  fit <- fit_lvm(m, x, control = lvm_control(tol = 1e-10))
  expect_s3_class(fit, "hmm_fit")
  expect_true(fit$converged)
  tr <- fit$trace
  expect_true(all(diff(tr) / (1 + abs(tr[-1])) > -1e-12))
  v <- viterbi(fit)$state
  expect_gt(max(mean(v == sim$z), mean(v == 3L - sim$z)), 0.9)
  expect_equal(attr(logLik(fit), "df"), 2 * (4 + 4 + 4) + 2 + 1)
  f2 <- with_params(m, coef(fit), data = x)
  expect_equal(f2$loglik, fit$loglik, tolerance = 1e-9)
  expect_equal(f2$loglik, tail(tr, 1), tolerance = 1e-8)
  # the reported emission: FA parameters named after the data's columns, in its units
  e1 <- coef(fit)$emission[[1]]
  expect_named(e1, c("mean", "loadings", "cov"))
  expect_equal(dim(e1$loadings), c(4L, 1L))
  expect_equal(e1$cov, diag(diag(e1$cov)), ignore_attr = TRUE)
  expect_output(print(summary(fit)), "factor analysis")
  sm <- simulate(fit, seed = 2, lengths = 7)
  expect_equal(dim(sm), c(7L, 8L))
  fc <- forecast(fit, h = 2)$observations
  expect_equal(dim(fc), c(2L, 6L))
})

test_that("FA-emission fits are identical for 1 and 2 threads", {
  sim <- sim_fa_hmm(12, 400, 22)
  # 4800 rows: several of the base E-step's row blocks, shared between the threads
  fit <- function(nt) {
    withCallingHandlers(
      fit_lvm(hmm(factor_analysis(4, 1), 2), sim$x, control = lvm_control(threads = nt, maxit = 30)),
      harmonium_warning_not_converged = function(w) invokeRestart("muffleWarning")
    )
  }
  f1 <- fit(1)
  f2 <- fit(2)
  expect_length(f1$trace, 30L)
  expect_identical(f1$trace, f2$trace)
  expect_identical(f1$params, f2$params)
  expect_identical(f1$posterior, f2$posterior)
})

test_that("hmm() rejects a model emission without an exact mixture EM", {
  expect_error(hmm(boltzmann_lgm(ef_normal(3, "diagonal"), 2), 2), class = "harmonium_error_unsupported")
  expect_error(hmm(lgm(ef_normal(3, "diagonal"), 1, posterior = "diagonal"), 2), class = "harmonium_error_unsupported")
})

test_that("FA-emission log-likelihoods over more than one chunk of rows equal the plain-R forward algorithm", {
  # 17000 stacked rows: the per-state log densities run in chunks of 16 base blocks
  # (16384 rows); missing rows on either side of the chunk boundary.
  em <- list(
    list(mean = c(0, 0, 0), loadings = matrix(c(1, 0.5, -0.3), 3, 1), cov = diag(c(0.4, 0.3, 0.5))),
    list(mean = c(2, -1, 1), loadings = matrix(c(-0.2, 0.8, 0.6), 3, 1), cov = diag(c(0.6, 0.2, 0.3)))
  )
  A <- matrix(c(0.9, 0.1, 0.2, 0.8), 2, byrow = TRUE)
  p <- list(initial = c(0.5, 0.5), transition = A, emission = em)
  set.seed(31)
  seqs <- list(matrix(rnorm(3 * 9000, 0.5), ncol = 3), matrix(rnorm(3 * 8000, 0.5), ncol = 3))
  seqs[[2]][c(7383, 7385), 2] <- NA # stacked rows 16383 and 16385
  seqs[[1]][100, ] <- NA
  f <- with_params(hmm(factor_analysis(3, 1), 2), p, data = seqs)
  ld <- function(x, q) {
    R <- chol(tcrossprod(q$loadings) + q$cov)
    z <- backsolve(R, t(x) - q$mean, transpose = TRUE)
    -0.5 * ncol(x) * log(2 * pi) - sum(log(diag(R))) - 0.5 * colSums(z^2)
  }
  ref <- vapply(seqs, function(x) {
    lp <- cbind(ld(x, em[[1]]), ld(x, em[[2]]))
    lp[!stats::complete.cases(x), ] <- 0
    oracle_forward(lp, p$initial, A)
  }, 1)
  expect_equal(unname(f$seq_loglik), ref, tolerance = 1e-9)
})
