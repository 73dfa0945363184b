# The LDS engine (lds.c): Kalman filter, log-likelihood and RTS smoother
# against the dense joint Gaussian of the whole series and stats::KalmanLike.

lds_engine <- function(y, mu1, p1, a, b, q, cc, d, r) {
  y <- rbind(y)
  storage.mode(y) <- "double"
  .Call(harmonium:::C_lds_smooth, y, as.double(mu1), as.double(p1), as.double(a), as.double(b),
    as.double(q), as.double(cc), as.double(d), as.double(r))
}

# Joint Gaussian of (z_1..z_T, y_1..y_T), conditioned on the observed y's.
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
  my <- as.vector(cc %*% m + d)
  obs <- !is.na(as.vector(y))
  yo <- as.vector(y)[obs]
  so <- syy[obs, obs, drop = FALSE]
  res <- yo - my[obs]
  ll <- -0.5 * (length(yo) * log(2 * pi) + determinant(so)$modulus + sum(res * solve(so, res)))
  gain <- szy[, obs, drop = FALSE] %*% solve(so)
  list(loglik = as.numeric(ll), mean = matrix(as.vector(m) + gain %*% res, k),
       cov = szz - gain %*% t(szy[, obs, drop = FALSE]))
}

test_that("lds engine log-likelihood and smoothed moments equal the dense joint Gaussian", {
  set.seed(1)
  k <- 2; p <- 3; n <- 6
  a <- matrix(c(0.9, 0.1, -0.2, 0.7), k); b <- c(0.1, -0.3)
  q <- crossprod(matrix(rnorm(4), 2)) + diag(k)
  cc <- matrix(rnorm(p * k), p); d <- c(1, 0, -1)
  r <- crossprod(matrix(rnorm(9), 3)) + diag(p)
  mu1 <- c(0.5, -0.5); p1 <- diag(c(2, 1))
  y <- matrix(rnorm(p * n), p)
  y[, c(2, 5)] <- NA
  got <- lds_engine(y, mu1, p1, a, b, q, cc, d, r)
  want <- lds_dense(y, mu1, p1, a, b, q, cc, d, r)
  expect_equal(got$loglik, want$loglik, tolerance = 1e-10)
  expect_equal(got$smooth_mean, want$mean, tolerance = 1e-10)
  for (t in seq_len(n)) {
    idx <- (t - 1) * k + 1:k
    expect_equal(matrix(got$smooth_cov[(t - 1) * k^2 + 1:k^2], k), want$cov[idx, idx], tolerance = 1e-10)
  }
  for (t in seq_len(n - 1)) {
    expect_equal(matrix(got$cross_cov[(t - 1) * k^2 + 1:k^2], k), want$cov[idx <- t * k + 1:k, (t - 1) * k + 1:k],
      tolerance = 1e-10)
  }
})

test_that("lds engine refuses partially missing observation rows", {
  y <- matrix(c(1, NA, 2, 3), 2)
  expect_error(lds_engine(y, 0, 1, 1, 0, 1, matrix(1, 2, 1), c(0, 0), diag(2)), "domain|argument")
})

test_that("lds engine matches stats::KalmanLike on the Nile local-level model", {
  fit <- StructTS(Nile, "level")
  mod <- fit$model
  mod$a <- 1100; mod$P[] <- 1000
  mod$Pn[] <- 1000 # KalmanLike starts from Pn (the covariance at time 1) without a prediction
  kl <- KalmanLike(Nile, mod, nit = 0L)
  n <- length(Nile)
  # KalmanLike: Lik = 0.5 (log s2 + sum log F / n), s2 = sum(v^2 / F) / n (all F < 1e4 here)
  want <- -0.5 * (n * log(2 * pi) + n * (2 * kl$Lik - log(kl$s2)) + n * kl$s2)
  got <- lds_engine(as.numeric(Nile), 1100, 1000, 1, 0, fit$coef[["level"]], 1, 0, fit$coef[["epsilon"]])
  expect_equal(got$loglik, want, tolerance = 1e-8)
})
