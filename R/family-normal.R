# The Normal family with full, diagonal or isotropic covariance. Natural
# parameters: theta1 = P mu and the packed
# second-order block (-P_ii / 2 on the diagonal, -P_ij off it, for the full
# representation; -P_ii / 2 for the diagonal one; -(d / 2) p for P = p I).

#' @rdname ef_family
#' @export
ef_normal <- function(dim = 1, covariance = c("full", "diagonal", "isotropic")) {
  dim <- check_count(dim, max = 10000L)
  covariance <- check_choice(covariance, c("full", "diagonal", "isotropic"))
  rep <- match(covariance, c("full", "diagonal", "isotropic")) - 1L
  n <- dim
  to_nat <- function(params) {
    check_params_list(params, c("mean", "cov"), arg = "params")
    mu <- check_numeric_vector(params$mean, n, arg = "params$mean")
    S <- check_matrix(params$cov, n, n, arg = "params$cov")
    if (max(abs(S - t(S))) > 1e-10 * max(1, max(abs(S)))) {
      abort_hm("{.arg params$cov} must be symmetric.", "params")
    }
    off <- S[row(S) != col(S)]
    if (rep >= 1L && length(off) && max(abs(off)) > 1e-12 * max(abs(diag(S)))) {
      abort_hm("{.arg params$cov} must be diagonal for a {covariance} normal.", "params")
    }
    if (rep == 2L && diff(range(diag(S))) > 1e-10 * max(diag(S))) {
      abort_hm("{.arg params$cov} must be a multiple of the identity for an isotropic normal.", "params")
    }
    L <- tryCatch(chol(S), error = function(e) NULL)
    if (is.null(L)) {
      abort_hm("{.arg params$cov} must be positive definite.", "params")
    }
    P <- chol2inv(L)
    th1 <- as.vector(P %*% mu)
    th2 <- switch(rep + 1L,
      {
        M <- -P
        diag(M) <- -diag(P) / 2
        pack_sym(M)
      },
      -diag(P) / 2,
      -(n / 2) * mean(diag(P))
    )
    c(th1, th2)
  }
  to_src <- function(theta) {
    th1 <- theta[seq_len(n)]
    th2 <- theta[-seq_len(n)]
    P <- switch(rep + 1L,
      {
        M <- unpack_sym(th2, n)
        P <- -M
        diag(P) <- -2 * diag(M)
        P
      },
      diag(-2 * th2, n),
      diag(-2 * th2 / n, n)
    )
    S <- chol2inv(chol(P))
    S <- (S + t(S)) / 2
    list(mean = as.vector(S %*% th1), cov = S)
  }
  scaling <- function(x) {
    if (is.matrix(x) && is.double(x) && nrow(x) > 0L) {
      mo <- native_col_moments(x)
      ctr <- mo$mean
      sds <- mo$rms
    } else {
      ctr <- colMeans(x)
      sds <- sqrt(colMeans(sweep(x, 2, ctr)^2))
    }
    sds[!is.finite(sds) | sds <= 0] <- 1
    if (rep == 2L) sds[] <- sqrt(mean(sds^2))
    list(center = ctr, scale = sds)
  }
  affine <- function(params, center, scale, inverse = FALSE) {
    if (inverse) {
      list(mean = params$mean * scale + center, cov = params$cov * outer(scale, scale))
    } else {
      list(mean = (params$mean - center) / scale, cov = params$cov / outer(scale, scale))
    }
  }
  new_family("normal", n, rep,
    label = sprintf("Normal(%d, %s covariance)", n, covariance),
    to_nat = to_nat, to_src = to_src, support = support_any,
    features = function(x) x, scaling = scaling, affine = affine,
    covariance = covariance,
    n_free = n + switch(rep + 1L, n * (n + 1) / 2, n, 1)
  )
}
