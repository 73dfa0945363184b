# The linear dynamical system: the engine (lds.c: Kalman filter, RTS smoother,
# EM statistics over stacked sequences) against the dense joint Gaussian of the
# whole series; the lds() model, its EM and methods against StructTS, MARSS
# and KFAS.

# Engine call in the order of R/model-lds.R's parameter list.
lds_engine <- function(y, len, par, w = NULL, threads = 1L) {
  y <- rbind(y)
  storage.mode(y) <- "double"
  .Call(harmonium:::C_lds_estep, y, as.integer(len), if (is.null(w)) NULL else as.double(w),
    lapply(par, as.double), as.integer(threads), rep(1L, 5))
}

# Joint Gaussian of v = (z_1..z_T, y_1..y_T) for one sequence, conditioned on
# the observed elements of y: the conditional mean and covariance of all of v
# (observed elements have zero variance), and the log-likelihood.
lds_dense <- function(y, mu1, p1, a, b, q, cc, d, r) {
  p <- nrow(y); k <- length(mu1); n <- ncol(y)
  m <- matrix(0, k, n); v <- vector("list", n)
  m[, 1] <- mu1; v[[1]] <- p1
  for (t in seq_len(n)[-1]) {
    m[, t] <- a %*% m[, t - 1] + b
    v[[t]] <- a %*% v[[t - 1]] %*% t(a) + q
  }
  szz <- matrix(0, k * n, k * n)
  apow <- function(h) Reduce(`%*%`, rep(list(a), h), diag(k))
  for (s in seq_len(n)) for (t in seq_len(s)) {
    blk <- apow(s - t) %*% v[[t]]
    szz[(s - 1) * k + 1:k, (t - 1) * k + 1:k] <- blk
    szz[(t - 1) * k + 1:k, (s - 1) * k + 1:k] <- t(blk)
  }
  bc <- kronecker(diag(n), cc)
  syy <- bc %*% szz %*% t(bc) + kronecker(diag(n), r)
  szy <- szz %*% t(bc)
  mv <- c(as.vector(m), as.vector(cc %*% m + d))
  sv <- rbind(cbind(szz, szy), cbind(t(szy), syy))
  obs <- k * n + which(!is.na(as.vector(y)))
  yo <- as.vector(y)[!is.na(as.vector(y))]
  so <- sv[obs, obs, drop = FALSE]
  res <- yo - mv[obs]
  ll <- -0.5 * (length(yo) * log(2 * pi) + determinant(so)$modulus + sum(res * solve(so, res)))
  gain <- sv[, obs, drop = FALSE] %*% solve(so)
  cm <- as.vector(mv + gain %*% res)
  cv <- sv - gain %*% sv[obs, , drop = FALSE]
  list(loglik = as.numeric(ll), mean = matrix(cm[seq_len(k * n)], k), cov = cv[seq_len(k * n), seq_len(k * n)],
    vmean = cm, vcov = cv, k = k, p = p, n = n)
}

# The EM statistics of hm_lds_stats_len's layout, from the dense posterior.
dense_stats <- function(ds, y, w = 1) {
  k <- ds$k; p <- ds$p; n <- ds$n
  zi <- function(t) (t - 1) * k + 1:k
  yi <- function(t) k * n + (t - 1) * p + 1:p
  e1 <- function(i) ds$vmean[i]
  e2 <- function(i, j) ds$vcov[i, j, drop = FALSE] + ds$vmean[i] %o% ds$vmean[j]
  obs_t <- which(colSums(!is.na(y)) > 0)
  sm <- function(ts, f) Reduce(`+`, lapply(ts, f))
  w * c(ds$loglik, 1, n - 1, length(obs_t),
    e1(zi(1)), e2(zi(1), zi(1)),
    sm(1:(n - 1), function(t) e1(zi(t))), sm(1:(n - 1), function(t) e2(zi(t), zi(t))),
    sm(2:n, function(t) e1(zi(t))), sm(2:n, function(t) e2(zi(t), zi(t))),
    sm(2:n, function(t) e2(zi(t), zi(t - 1))),
    sm(obs_t, function(t) e1(zi(t))), sm(obs_t, function(t) e2(zi(t), zi(t))),
    sm(obs_t, function(t) e1(yi(t))), sm(obs_t, function(t) e2(yi(t), zi(t))),
    sm(obs_t, function(t) e2(yi(t), yi(t))))
}

lds_fixture <- function(seed = 1, k = 2, p = 3) {
  set.seed(seed)
  list(
    mu1 = c(0.5, -0.5)[seq_len(k)], p1 = diag(c(2.385, 1.2)[seq_len(k)], k),
    a = matrix(c(0.9, 0.1, -0.2, 0.7), 2)[seq_len(k), seq_len(k), drop = FALSE], b = c(0.1, -0.3)[seq_len(k)],
    q = crossprod(matrix(rnorm(k * k), k)) + diag(k),
    cc = matrix(rnorm(p * k), p), d = c(1, 0, -1, 2)[seq_len(p)],
    r = crossprod(matrix(rnorm(p * p), p)) + diag(p)
  )
}

test_that("lds engine: log-likelihood, smoothed moments and EM statistics equal the dense joint Gaussian", {
  f <- lds_fixture()
  par <- f[c("mu1", "p1", "a", "b", "q", "cc", "d", "r")]
  set.seed(2)
  y1 <- matrix(rnorm(3 * 6), 3)
  y1[, 2] <- NA; y1[2, 4] <- NA; y1[c(1, 3), 5] <- NA # wholly and partially missing columns
  y2 <- matrix(rnorm(3 * 4), 3)
  y2[3, 1] <- NA
  w <- c(1.7, 0.6)
  got <- lds_engine(cbind(y1, y2), c(6, 4), par, w = w)
  expect_identical(got$status, 0L)
  d1 <- do.call(lds_dense, c(list(y1), par))
  d2 <- do.call(lds_dense, c(list(y2), par))
  expect_equal(got$loglik, c(d1$loglik, d2$loglik), tolerance = 1e-10)
  expect_equal(got$smooth_mean, cbind(d1$mean, d2$mean), tolerance = 1e-10)
  k <- 2
  for (t in 1:6) {
    idx <- (t - 1) * k + 1:k
    expect_equal(matrix(got$smooth_cov[(t - 1) * k^2 + 1:k^2], k), d1$cov[idx, idx], tolerance = 1e-10)
  }
  for (t in 2:4) {
    expect_equal(matrix(got$cross_cov[(6 + t - 1) * k^2 + 1:k^2], k),
      d2$cov[(t - 1) * k + 1:k, (t - 2) * k + 1:k], tolerance = 1e-10)
  }
  want <- dense_stats(d1, y1, w[1]) + dense_stats(d2, y2, w[2])
  expect_equal(got$stats, want, tolerance = 1e-10)
})

test_that("lds engine: 1 and 2 threads give identical statistics and the E-step is additive over sequences", {
  f <- lds_fixture(3)
  par <- f[c("mu1", "p1", "a", "b", "q", "cc", "d", "r")]
  set.seed(4)
  len <- c(30L, 7L, 52L, 11L, 3L)
  y <- matrix(rnorm(3 * sum(len)), 3)
  y[sample(length(y), 40)] <- NA
  one <- lds_engine(y, len, par, threads = 1L)
  two <- lds_engine(y, len, par, threads = 2L)
  expect_identical(one, two)
  first <- lds_engine(y[, 1:37], len[1:2], par)
  rest <- lds_engine(y[, -(1:37)], len[3:5], par)
  expect_equal(one$stats, first$stats + rest$stats, tolerance = 1e-12)
  expect_equal(one$loglik, c(first$loglik, rest$loglik), tolerance = 1e-13)
})

test_that("lds engine reports a singular innovation covariance as a status", {
  par <- list(0, 1, 1, 0, 1, matrix(0, 1, 1), 0, matrix(0, 1, 1))
  res <- lds_engine(c(1, 2, 3), 3L, par)
  expect_identical(res$status, 3L)
  expect_identical(res$bad, 0L)
})
