# The hierarchical mixture of Gaussians with a restricted (diagonal)
# posterior (Sokoloski 2024, arXiv:2404.19501): hmog(posterior =
# "diagonal"). The engine kind HM_HM_HMOG_DIAG (src/engine/hmog_diag.c)
# holds the algebra; this file converts source parameters, supplies the
# starts and the gradient problem.
#
# Coordinates: [theta_X | W | theta_U] with theta_U a complete mixture of k
# DIAGONAL Normal(q) components (anchor 2q, offsets 2q x (k-1) row-major,
# k-1 class parameters). The prior mixture is embed(theta_U) + rho_L in the
# coordinates of the full mixture(ef_normal(q), k): component k of the
# prior has precision D_k - A' Psi^-1 A with D_k diagonal (the posterior
# precision of component k), so the source parameters (a full mixture)
# are representable exactly when some basis of the latent space makes
# every S_k^-1 + A' Psi^-1 A diagonal.

new_hmog_diag_model <- function(obs, q, k) {
  p <- obs$n
  if (q >= p) {
    abort_hm(c("The latent dimension must be smaller than the observed one.",
      x = "The latent is {q}-dimensional and the observable {p}-dimensional."), "argument")
  }
  noise <- switch(obs$covariance, full = p * (p + 1L) / 2L, diagonal = p, isotropic = 1L)
  # Free parameters: mean, loadings, noise, weights, and per component a
  # location and q posterior precisions, less the maps of the latent space
  # that keep every posterior diagonal: translations and axis scalings
  # (2q); with one component also the rotations within the eigenbasis of
  # its posterior precision (q(q-1)/2).
  n_free <- p + p * q + noise + (k - 1L) + 2L * q * k - 2L * q - (if (k == 1L) q * (q - 1L) / 2L else 0L)
  m <- list(
    kind = "hmog_diag", obs = obs, latent = mixture(ef_normal(q), k), p = p, q = q, k = k,
    hm_kind = c(hm_kind[["hmog_diag"]], k), obs_spec = obs$spec, lat_spec = ef_normal(q, "diagonal")$spec,
    d = obs$d, n_free = as.integer(n_free), closed = FALSE, has_em = FALSE, whiten = FALSE, restricted = TRUE,
    fit_class = "composite_fit",
    label = sprintf(paste("hierarchical mixture of Gaussians with diagonal posterior (%d variables, %s noise;",
      "%d-dimensional latent, %d clusters)"), p, obs$covariance, q, k)
  )
  info <- native_model_info(m)
  m$dim <- info[1]
  m$post_len <- info[2]
  m$stats_len <- info[3]
  structure(m, class = c("hmog_diag_model", "hmog_model", "lvm_model"))
}

# Positions (1-based) of the diagonal Normal's coordinates (location, then
# the q second-order entries) in the full Normal's (location, packed upper
# triangle).
hmog_diag_full_index <- function(q) c(seq_len(q), q + packed_diag(q))

# theta_U (diagonal mixture layout) -> the full mixture's layout, zero
# couplings (the engine's embedding, hmog_diag.c).
hmog_diag_embed <- function(m, thu) {
  q <- m$q
  k <- m$k
  dn <- 2L * q
  df <- q + q * (q + 1L) / 2L
  fi <- hmog_diag_full_index(q)
  out <- numeric(df * k + k - 1L)
  out[fi] <- thu[seq_len(dn)]
  if (k > 1L) {
    off <- matrix(0, df, k - 1L)
    off[fi, ] <- matrix(thu[dn + seq_len(dn * (k - 1L))], dn, k - 1L, byrow = TRUE)
    out[df + seq_len(df * (k - 1L))] <- as.vector(t(off))
    out[df * k + seq_len(k - 1L)] <- thu[dn * k + seq_len(k - 1L)]
  }
  out
}

# The inverse on the diagonal blocks: the full mixture's coordinates ->
# theta_U, dropping the couplings (which the caller has made zero).
hmog_diag_project <- function(m, thf) {
  q <- m$q
  k <- m$k
  dn <- 2L * q
  df <- q + q * (q + 1L) / 2L
  fi <- hmog_diag_full_index(q)
  out <- thf[fi]
  if (k > 1L) {
    off <- matrix(thf[df + seq_len(df * (k - 1L))], df, k - 1L, byrow = TRUE)
    out <- c(out, as.vector(t(off[fi, , drop = FALSE])), thf[df * k + seq_len(k - 1L)])
  }
  out
}

# Largest off-diagonal entry of each matrix relative to its diagonal.
offdiag_rel <- function(Q) {
  vapply(Q, function(M) {
    od <- M
    diag(od) <- 0
    max(abs(od)) / max(abs(diag(M)))
  }, 0)
}

#' @export
model_to_nat.hmog_diag_model <- function(m, params, arg = "params", call = rlang::caller_env()) {
  need <- c("mean", "loadings", "cov", "latent")
  if (!is.list(params) || !all(need %in% names(params))) {
    abort_hm("{.arg {arg}} must be a list with elements {.field {need}}.", "params", call = call)
  }
  q <- m$q
  b <- check_numeric_vector(params$mean, m$p, arg = paste0(arg, "$mean"), call = call)
  A <- check_matrix(params$loadings, m$p, q, arg = paste0(arg, "$loadings"), call = call)
  th_x <- m$obs$to_nat(list(mean = b, cov = params$cov))
  Sx <- m$obs$to_src(th_x)$cov
  # The prior mixture, validated (weights, means, positive definite covs).
  lat <- model_to_src(m$latent, model_to_nat(m$latent, params$latent, arg = paste0(arg, "$latent"), call = call))
  M <- crossprod(A, solve(Sx, A))
  Q <- lapply(lat$components, function(ck) solve(ck$cov) + M)
  # The posterior precisions S_k^-1 + A' Psi^-1 A must be diagonal in one
  # basis of the latent space: the given one, or the eigenvectors of the
  # first (one component) or the generalised eigenvectors of the first
  # two, which diagonalise any such family.
  if (max(offdiag_rel(Q)) > 1e-8) {
    V <- if (m$k == 1L) eigen(Q[[1]], symmetric = TRUE)$vectors else Re(eigen(solve(Q[[1]], Q[[2]]))$vectors)
    Qv <- lapply(Q, function(Qk) crossprod(V, Qk %*% V))
    if (max(offdiag_rel(Qv)) > 1e-6) {
      abort_hm(c("{.arg {arg}} is not a hierarchical mixture with a diagonal posterior.",
        x = paste("The posterior precisions {.code solve(S_k) + t(A) %*% solve(Psi, A)} of the latent",
          "components cannot be made diagonal in one basis."),
        i = "Use {.code hmog(posterior = \"full\")}, or components whose covariances satisfy this."),
        "params", call = call)
    }
    Vi <- solve(V)
    A <- A %*% V
    lat$components <- lapply(lat$components, function(ck) {
      C <- Vi %*% ck$cov %*% t(Vi)
      list(mean = as.vector(Vi %*% ck$mean), cov = (C + t(C)) / 2)
    })
  }
  W <- solve(Sx, A)
  prior <- model_to_nat(m$latent, lat, arg = paste0(arg, "$latent"), call = call)
  rho <- hmog_rho(W, b, Sx)
  at <- seq_along(rho)
  prior[at] <- prior[at] - rho
  c(th_x, as.vector(t(W)), hmog_diag_project(m, prior))
}

#' @export
model_to_src.hmog_diag_model <- function(m, theta) {
  sp <- hmog_split(m, theta)
  ob <- m$obs$to_src(sp$th_x)
  prior <- hmog_diag_embed(m, sp$th_l)
  rho <- hmog_rho(sp$W, ob$mean, ob$cov)
  at <- seq_along(rho)
  prior[at] <- prior[at] + rho
  hmog_diag_standardise(list(mean = ob$mean, loadings = ob$cov %*% sp$W, cov = ob$cov,
    latent = model_to_src(m$latent, prior)))
}

# The latent space of the restricted model is identified up to the maps
# that keep the posteriors diagonal: report it with overall mean 0 and unit
# variances, the axes ordered by decreasing loading norm and each loading
# column's largest entry positive (a translation, an axis scaling and a
# signed permutation). p(x) is unchanged.
hmog_diag_standardise <- function(params) {
  lat <- params$latent
  w <- lat$weights
  q <- ncol(params$loadings)
  mbar <- Reduce(`+`, Map(function(wk, ck) wk * ck$mean, w, lat$components))
  S <- Reduce(`+`, Map(function(wk, ck) wk * (ck$cov + tcrossprod(ck$mean - mbar)), w, lat$components))
  s <- sqrt(diag(S))
  AL <- params$loadings * rep(s, each = nrow(params$loadings))
  ord <- order(-colSums(AL^2))
  AL <- AL[, ord, drop = FALSE]
  sgn <- apply(AL, 2L, function(v) sign(v[which.max(abs(v))]))
  sgn[sgn == 0] <- 1
  Ti <- (sgn / s[ord]) * diag(q)[ord, , drop = FALSE] # y' = Ti (y - mbar)
  params$mean <- as.vector(params$mean + params$loadings %*% mbar)
  params$loadings <- AL * rep(sgn, each = nrow(AL))
  params$latent$components <- lapply(lat$components, function(ck) {
    C <- Ti %*% ck$cov %*% t(Ti)
    list(mean = as.vector(Ti %*% (ck$mean - mbar)), cov = (C + t(C)) / 2)
  })
  params
}

# Starts: the even ones direct (hmog_diag_start_direct); the odd ones the
# symmetric HMoG's start i (factor analysis, k-means on the posterior
# factor scores) improved by a short run of its closed-form EM, then
# projected onto the restricted model by hmog_diag_project_params(). Both
# kinds are needed: on iris (k = 3) the direct starts reach the higher
# maxima but some collapse a cluster, the projected ones (the first)
# never did. NULL if
# a start fails.
#' @export
model_start.hmog_diag_model <- function(m, xs, x, w, i, control, ctrl, threads, cache = NULL) {
  if (i %% 2L == 0L) return(hmog_diag_start_direct(m, xs, w, i, control))
  ms <- hmog(m$p, m$q, m$k, covariance = m$obs$covariance)
  th <- model_start(ms, xs, x, w, i, control, ctrl, threads)
  if (is.null(th)) return(NULL)
  em <- run_em(ms, th, xs, w, ctrl, lvm_control(maxit = hmog_diag_start_em, tol = control$tol), threads,
    report = FALSE)
  if (em$status <= 1L) th <- em$theta
  params <- hmog_diag_project_params(model_to_src(ms, th))
  tryCatch(model_to_nat(m, params), harmonium_error = function(e) NULL)
}

# The even starts: the hmog start in the latent basis where A' Psi^-1 A is
# diagonal, with each cluster's latent covariance reduced to its diagonal,
# so that every posterior precision is diagonal.
hmog_diag_start_direct <- function(m, xs, w, i, control) {
  q <- m$q
  st <- lgm_pca_start(list(p = m$p, q = q, obs = m$obs), xs, w, i, control)
  A <- diag_posterior_loadings(st$A, st$cov)
  Pi <- 1 / diag(st$cov)
  Spost <- chol2inv(chol(diag(q) + crossprod(A, Pi * A)))
  scores <- sweep(xs, 2L, st$mu) %*% (Pi * A) %*% Spost
  labels <- with_seed(start_seed(control, i), kmeans_pp_labels(scores, m$k))
  ww <- if (is.null(w)) rep(1, nrow(xs)) else w
  comps <- lapply(seq_len(m$k), function(j) {
    idx <- which(labels == j)
    if (length(idx) < 2L) idx <- seq_len(nrow(xs))
    wm <- weighted_moments(scores[idx, , drop = FALSE], ww[idx])
    list(mean = wm$mu, cov = diag(diag(wm$S) + diag(Spost) + 1e-3, nrow = q))
  })
  wts <- vapply(seq_len(m$k), function(j) sum(ww[labels == j]), 0) + 1e-3 * sum(ww) / m$k
  params <- list(mean = st$mu, loadings = A, cov = st$cov,
    latent = list(weights = wts / sum(wts), components = comps))
  tryCatch(model_to_nat(m, params), harmonium_error = function(e) NULL)
}

# EM iterations of the symmetric model in an odd start.
hmog_diag_start_em <- 50L

# The nearest restricted model to symmetric HMoG parameters: the latent
# basis V of generalised eigenvectors of the posterior precisions Q_k =
# S_k^-1 + A' Psi^-1 A of the two heaviest components (exact for those,
# and for every component when there are at most two), then D_k the
# diagonal of V' Q_k V, raised where needed so that the prior precision
# D_k - V' A' Psi^-1 A V stays positive definite.
hmog_diag_project_params <- function(params) {
  lat <- params$latent
  A <- params$loadings
  q <- ncol(A)
  M <- crossprod(A, solve(params$cov, A))
  Q <- lapply(lat$components, function(ck) solve(ck$cov) + M)
  top <- order(-lat$weights)
  V <- if (length(Q) == 1L) eigen(Q[[1]], symmetric = TRUE)$vectors else
    Re(eigen(solve(Q[[top[1]]], Q[[top[2]]]))$vectors)
  V <- V / rep(sqrt(colSums(V^2)), each = q)
  Vi <- solve(V)
  Mv <- crossprod(V, M %*% V)
  params$loadings <- A %*% V
  params$latent$components <- lapply(seq_along(Q), function(k) {
    D <- diag(diag(crossprod(V, Q[[k]] %*% V)), q)
    ev <- min(eigen(D - Mv, symmetric = TRUE, only.values = TRUE)$values)
    floor <- 1e-3 * mean(diag(D))
    if (ev < floor) D <- D + diag(floor - ev, q)
    C <- solve(D - Mv)
    list(mean = as.vector(Vi %*% lat$components[[k]]$mean), cov = (C + t(C)) / 2)
  })
  params
}

# method = "gradient": theta_X through the observable's elementwise
# reparameterisation (a Cholesky factor of the precision for full noise),
# W free, and theta_U per component, c_k = anchor + offset_k (location
# free, -P_jj/2 = -exp(u)), with the class parameters free. theta_U is
# linear in the c_k (anchor c_0, offsets c_k - c_0), so its gradient is
# g_c0 = g_anchor - sum_k g_offset_k and g_ck = g_offset_k. Points where
# the prior is not valid evaluate to -Inf (fit-gradient.R).
#' @export
gradient_problem.hmog_diag_model <- function(m, call) {
  q <- m$q
  k <- m$k
  dn <- 2L * q
  dx <- m$obs$dim
  npq <- m$p * q
  ox <- obs_reparam(m$obs)
  cc <- c(rep(0L, q), rep(1L, q))
  lat_at <- dx + npq + seq_len(dn * k + k - 1L)
  comps_of <- function(thu) {
    C <- matrix(thu[seq_len(dn)], dn, k)
    if (k > 1L) C[, -1] <- C[, -1] + matrix(thu[dn + seq_len(dn * (k - 1L))], dn, k - 1L, byrow = TRUE)
    C
  }
  list(
    to_u = function(theta) {
      C <- comps_of(theta[lat_at])
      c(ox$to_u(theta[seq_len(dx)]), theta[dx + seq_len(npq)], as.vector(apply(C, 2L, reparam_to_u, codes = cc)),
        theta[dx + npq + dn * k + seq_len(k - 1L)])
    },
    from_u = function(u) {
      C <- apply(matrix(u[dx + npq + seq_len(dn * k)], dn, k), 2L, reparam_from_u, codes = cc)
      C <- matrix(C, dn, k)
      off <- if (k > 1L) as.vector(t(C[, -1, drop = FALSE] - C[, 1])) else numeric(0)
      c(ox$from_u(u[seq_len(dx)]), u[dx + seq_len(npq)], C[, 1], off, u[dx + npq + dn * k + seq_len(k - 1L)])
    },
    grad_u = function(u, theta, g) {
      gl <- g[lat_at]
      G <- matrix(gl[seq_len(dn)], dn, k)
      if (k > 1L) {
        go <- matrix(gl[dn + seq_len(dn * (k - 1L))], dn, k - 1L, byrow = TRUE)
        G[, 1] <- G[, 1] - rowSums(go)
        G[, -1] <- go
      }
      J <- matrix(apply(comps_of(theta[lat_at]), 2L, reparam_jac, codes = cc), dn, k)
      c(ox$grad_u(u[seq_len(dx)], theta[seq_len(dx)], g[seq_len(dx)]), g[dx + seq_len(npq)], as.vector(G * J),
        gl[dn * k + seq_len(k - 1L)])
    }
  )
}

# The observable Normal's natural parameters <-> unconstrained u:
# elementwise for diagonal and isotropic noise (family_reparam); for full
# noise u = (theta_1, the lower Cholesky factor L of the precision P = L L'
# by columns, log on its diagonal). With G the symmetric matrix such that
# d l = sum_ij G_ij dP_ij (G_ii = -g_ii / 2 and G_ij = -g_ij / 2 from the
# packed gradient g of (-P_ii/2, -P_ij)), d l / d L = 2 G L.
obs_reparam <- function(fam) {
  co <- family_reparam(fam)
  if (!is.null(co)) {
    return(list(
      to_u = function(th) reparam_to_u(th, co),
      from_u = function(u) reparam_from_u(u, co),
      grad_u = function(u, th, g) g * reparam_jac(th, co)
    ))
  }
  p <- fam$n
  low <- lower.tri(diag(p), diag = TRUE)
  dg <- which(diag(p) == 1)[seq_len(p)]
  lpos <- which(low)
  isdiag <- lpos %in% dg
  prec_of <- function(th) {
    P <- -unpack_sym(th[-seq_len(p)], p)
    diag(P) <- 2 * diag(P)
    P
  }
  L_of <- function(u) {
    L <- matrix(0, p, p)
    v <- u[-seq_len(p)]
    v[isdiag] <- exp(v[isdiag])
    L[lpos] <- v
    L
  }
  list(
    to_u = function(th) {
      L <- t(chol(prec_of(th)))
      v <- L[lpos]
      v[isdiag] <- log(v[isdiag])
      c(th[seq_len(p)], v)
    },
    from_u = function(u) c(u[seq_len(p)], packed_precision(tcrossprod(L_of(u)))),
    grad_u = function(u, th, g) {
      G <- -unpack_sym(g[-seq_len(p)], p) / 2
      L <- L_of(u)
      dL <- 2 * G %*% L
      v <- dL[lpos]
      v[isdiag] <- v[isdiag] * L[lpos][isdiag]
      c(g[seq_len(p)], v)
    }
  )
}
