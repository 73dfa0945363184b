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
