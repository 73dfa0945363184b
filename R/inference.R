# Inference for fitted mixtures and linear Gaussian models: the observed
# information (Louis' identity for mixtures, the exact Hessian of the
# marginal Gaussian likelihood for factor models), the delta method to the
# free source parameters, a parametric bootstrap, Wald and percentile
# intervals and the coefficient table of summary().

# --- free source parameters of one family block ---------------------------------

# For a base family `b` at source parameters `src`: the free source parameters
# `phi` (with names), the exact Jacobian d theta / d phi (dim x length(phi)),
# the Fisher information of the family in natural coordinates (the Hessian
# of the log-partition, dim x dim) and `rebuild(phi)` -> source parameters.
inf_block <- function(b, src, call, strict = TRUE) {
  # A categorical block that adopted the data's level names keeps its
  # original to_nat(): the probabilities are matched by position.
  if (b$name == "categorical") src$prob <- unname(src$prob)
  th <- b$to_nat(src)
  n <- b$n
  ix <- function(what, i) paste0(what, "[", i, "]")
  out <- switch(b$name,
    normal = inf_normal(b, src, strict),
    poisson = {
      r <- as.double(src$rate)
      list(phi = r, names = ix("rate", seq_len(n)), jac = diag(1 / r, n), fisher = diag(r, n),
        rebuild = function(phi) list(rate = phi))
    },
    bernoulli = ,
    binomial = {
      p <- as.double(src$prob)
      tr <- if (b$name == "binomial") b$trials else 1
      list(phi = p, names = ix("prob", seq_len(n)), jac = diag(1 / (p * (1 - p)), n),
        fisher = diag(tr * p * (1 - p), n), rebuild = function(phi) list(prob = phi))
    },
    categorical = {
      p <- as.double(src$prob)
      k <- length(p)
      lev <- names(src$prob)
      list(phi = p[-k], names = ix("prob", seq_len(k - 1L)), jac = simplex_jacobian(p),
        fisher = simplex_fisher(p), rebuild = function(phi) {
          q <- c(phi, 1 - sum(phi))
          names(q) <- lev
          list(prob = q)
        })
    },
    von_mises = {
      mu <- as.double(src$mean)
      ka <- as.double(src$kappa)
      J <- matrix(0, 2 * n, 2 * n)
      F <- matrix(0, 2 * n, 2 * n)
      for (u in seq_len(n)) {
        r <- 2L * u - 1L + 0:1
        dir <- c(cos(mu[u]), sin(mu[u]))
        J[r, u] <- ka[u] * c(-sin(mu[u]), cos(mu[u]))
        J[r, n + u] <- dir
        R <- besselI(ka[u], 1, TRUE) / besselI(ka[u], 0, TRUE)
        dR <- 1 - R / ka[u] - R^2
        F[r, r] <- dR * tcrossprod(dir) + (R / ka[u]) * (diag(2) - tcrossprod(dir))
      }
      list(phi = c(mu, ka), names = c(ix("mean", seq_len(n)), ix("kappa", seq_len(n))), jac = J,
        fisher = F, rebuild = function(phi) list(mean = phi[seq_len(n)], kappa = phi[n + seq_len(n)]))
    },
    gamma = {
      a <- as.double(src$shape)
      rt <- as.double(src$rate)
      J <- matrix(0, 2 * n, 2 * n)
      F <- matrix(0, 2 * n, 2 * n)
      for (u in seq_len(n)) {
        r <- 2L * u - 1L + 0:1
        J[r[1], u] <- 1
        J[r[2], n + u] <- -1
        F[r, r] <- matrix(c(trigamma(a[u]), 1 / rt[u], 1 / rt[u], a[u] / rt[u]^2), 2)
      }
      list(phi = c(a, rt), names = c(ix("shape", seq_len(n)), ix("rate", seq_len(n))), jac = J,
        fisher = F, rebuild = function(phi) list(shape = phi[seq_len(n)], rate = phi[n + seq_len(n)]))
    },
    dirichlet = {
      al <- as.double(src$alpha)
      list(phi = al, names = ix("alpha", seq_len(n)), jac = diag(1, n),
        fisher = diag(trigamma(al), n) - trigamma(sum(al)), rebuild = function(phi) list(alpha = phi))
    },
    com_poisson = {
      # No closed-form log-partition: the Jacobians of the engine's exact maps
      # by Richardson-extrapolated central differences.
      phi <- c(as.double(src$mode), as.double(src$nu))
      rebuild <- function(phi) list(mode = phi[seq_len(n)], nu = phi[n + seq_len(n)])
      list(phi = phi, names = c(ix("mode", seq_len(n)), ix("nu", seq_len(n))),
        jac = richardson_jacobian(function(v) b$to_nat(rebuild(v)), phi),
        fisher = richardson_jacobian(function(t) native_family_to_mean(b$spec, t)$value, th),
        rebuild = rebuild)
    },
    abort_hm(c("{.fn vcov} has no observed information for {b$label} components.",
      i = "Use {.code vcov(fit, method = \"bootstrap\")}."), "unsupported", call = call)
  )
  out$theta <- th
  out
}

# The Normal block with full, diagonal or isotropic covariance; free
# parameters the mean and the upper triangle of the covariance (its diagonal
# for "diagonal", the common variance for "isotropic"). Other covariance
# structures are an error when `strict`, else (for the bootstrap, which needs
# only the parameter vector) treated as full.
inf_normal <- function(b, src, strict = TRUE) {
  n <- b$n
  mu <- as.double(src$mean)
  S <- unname(as.matrix(src$cov))
  P <- chol2inv(chol(S))
  ix <- function(i) paste0("mean[", i, "]")
  cv <- b$covariance
  # A structure that ties components (mclust's E letters) has fewer free
  # parameters than one covariance per component: no closed form here.
  st <- if (is.null(b$structure)) cv else b$structure
  if (strict && !(st %in% c("full", "diagonal", "isotropic", "VVV", "VVI", "VII", "V"))) {
    abort_hm(c("{.fn vcov} has no observed information for a {st} covariance structure.",
      i = "Use {.code vcov(fit, method = \"bootstrap\")}."), "unsupported")
  }
  if (cv == "diagonal") {
    v <- diag(S)
    J <- rbind(cbind(diag(1 / v, n), diag(-mu / v^2, n)), cbind(matrix(0, n, n), diag(1 / (2 * v^2), n)))
    F <- rbind(cbind(diag(v, n), diag(2 * mu * v, n)), cbind(diag(2 * mu * v, n), diag(2 * v^2 + 4 * mu^2 * v, n)))
    return(list(phi = c(mu, v), names = c(ix(seq_len(n)), sprintf("cov[%d,%d]", seq_len(n), seq_len(n))),
      jac = J, fisher = F, rebuild = function(phi) list(mean = phi[seq_len(n)], cov = diag(phi[n + seq_len(n)], n))))
  }
  if (cv == "isotropic") {
    v <- S[1, 1]
    J <- rbind(cbind(diag(1 / v, n), -mu / v^2), c(rep(0, n), n / (2 * v^2)))
    F <- rbind(cbind(diag(v, n), 2 * mu * v / n), c(2 * mu * v / n, sum(2 * v^2 + 4 * mu^2 * v) / n^2))
    return(list(phi = c(mu, v), names = c(ix(seq_len(n)), "cov[1,1]"), jac = J, fisher = F,
      rebuild = function(phi) list(mean = phi[seq_len(n)], cov = diag(phi[n + 1L], n))))
  }
  if (cv != "full" && strict) {
    abort_hm(c("{.fn vcov} has no observed information for a {cv} covariance structure.",
      i = "Use {.code vcov(fit, method = \"bootstrap\")}."), "unsupported")
  }
  # Free covariance entries: the upper triangle, column by column.
  up <- which(upper.tri(S, diag = TRUE), arr.ind = TRUE)
  lo <- which(lower.tri(S, diag = TRUE), arr.ind = TRUE)
  m2 <- nrow(lo)
  pack_nat <- function(dP) {
    M <- -dP
    diag(M) <- -diag(dP) / 2
    pack_sym(M)
  }
  J <- matrix(0, n + m2, n + nrow(up))
  J[seq_len(n), seq_len(n)] <- P
  for (e in seq_len(nrow(up))) {
    E <- matrix(0, n, n)
    E[up[e, 1], up[e, 2]] <- 1
    E[up[e, 2], up[e, 1]] <- 1
    dP <- -P %*% E %*% P
    J[, n + e] <- c(dP %*% mu, pack_nat(dP))
  }
  # Covariance of the statistics (x, x_r x_c for r >= c) under N(mu, S).
  r <- lo[, 1]
  cc <- lo[, 2]
  F11 <- S
  F12 <- S[, r, drop = FALSE] * rep(mu[cc], each = n) + S[, cc, drop = FALSE] * rep(mu[r], each = n)
  F22 <- S[r, r, drop = FALSE] * S[cc, cc, drop = FALSE] + S[r, cc, drop = FALSE] * S[cc, r, drop = FALSE] +
    outer(mu[r], mu[r]) * S[cc, cc, drop = FALSE] + outer(mu[r], mu[cc]) * S[cc, r, drop = FALSE] +
    outer(mu[cc], mu[r]) * S[r, cc, drop = FALSE] + outer(mu[cc], mu[cc]) * S[r, r, drop = FALSE]
  F <- rbind(cbind(F11, F12), cbind(t(F12), F22))
  list(phi = c(mu, S[up]), names = c(ix(seq_len(n)), sprintf("cov[%d,%d]", up[, 1], up[, 2])),
    jac = J, fisher = F, rebuild = function(phi) {
      C <- matrix(0, n, n)
      C[up] <- phi[n + seq_len(nrow(up))]
      C <- C + t(C) - diag(diag(C), n)
      list(mean = phi[seq_len(n)], cov = C)
    })
}

# d theta / d phi for theta = log(p[-1] / p[1]) and phi = p[-k] (the last
# probability is 1 - sum(phi)).
simplex_jacobian <- function(p) {
  k <- length(p)
  D <- rbind(diag(1 / p[-k], k - 1L), rep(-1 / p[k], k - 1L))
  D[-1L, , drop = FALSE] - matrix(D[1L, ], k - 1L, k - 1L, byrow = TRUE)
}

simplex_fisher <- function(p) {
  q <- p[-1L]
  diag(q, length(q)) - tcrossprod(q)
}

# A Jacobian by central differences with two Richardson extrapolations.
richardson_jacobian <- function(f, x, h = 1e-3) {
  f0 <- f(x)
  J <- matrix(0, length(f0), length(x))
  for (j in seq_along(x)) {
    hj <- h * max(abs(x[j]), 1e-2)
    d <- vapply(c(1, 0.5, 0.25), function(s) {
      e <- replace(numeric(length(x)), j, s * hj)
      (f(x + e) - f(x - e)) / (2 * s * hj)
    }, numeric(length(f0)))
    d <- matrix(d, ncol = 3L)
    r1 <- (4 * d[, 2] - d[, 1]) / 3
    r2 <- (4 * d[, 3] - d[, 2]) / 3
    J[, j] <- (16 * r2 - r1) / 15
  }
  J
}

# A whole component family: the blocks of a product side by side.
inf_family <- function(fam, src, prefix, call, strict = TRUE) {
  if (fam$name != "product") {
    ib <- inf_block(fam, src, call, strict)
    ib$names <- paste0(prefix, ib$names)
    return(ib)
  }
  parts <- lapply(seq_along(fam$blocks), function(b) {
    inf_family(fam$blocks[[b]], src[[b]], paste0(sub("\\$$", "", prefix), "[[", b, "]]$"), call, strict)
  })
  np <- vapply(parts, function(p) length(p$phi), integer(1))
  list(
    phi = unlist(lapply(parts, `[[`, "phi")), names = unlist(lapply(parts, `[[`, "names")),
    theta = unlist(lapply(parts, `[[`, "theta")),
    jac = block_diag(lapply(parts, `[[`, "jac")), fisher = block_diag(lapply(parts, `[[`, "fisher")),
    rebuild = function(phi) {
      off <- c(0L, cumsum(np))
      lapply(seq_along(parts), function(b) parts[[b]]$rebuild(phi[off[b] + seq_len(np[b])]))
    }
  )
}

block_diag <- function(ms) {
  r <- vapply(ms, nrow, integer(1))
  c <- vapply(ms, ncol, integer(1))
  out <- matrix(0, sum(r), sum(c))
  ro <- c(0L, cumsum(r))
  co <- c(0L, cumsum(c))
  for (i in seq_along(ms)) out[ro[i] + seq_len(r[i]), co[i] + seq_len(c[i])] <- ms[[i]]
  out
}

# --- mixtures: Louis' identity ------------------------------------------------------

inf_check_fit <- function(fit, call) {
  if (!inherits(fit, "lvm_fit")) {
    abort_hm("{.arg object} must be a fit from {.fn fit_lvm}, not {.obj_type_friendly {fit}}.",
      "argument", call = call)
  }
  m <- fit$model
  ok <- (identical(m$kind, "mixture") && identical(m$hm_kind, hm_kind[["mixture"]]) &&
    is.null(m$covariance_model)) || (identical(m$kind, "lgm") || identical(m$kind, "lgm_diag"))
  if (!ok) {
    abort_hm(c("{.fn vcov} by the observed information is available for mixtures of exponential families and for linear Gaussian models, not for {m$label}.",
      i = "Use {.code vcov(fit, method = \"bootstrap\")}."), "unsupported", call = call)
  }
  if (nrow(fit$x) == 0L) {
    abort_hm("This fit holds no data, so it has no observed information.", "argument", call = call)
  }
  # A parameter at a bound (a floored probability, a Heywood uniqueness, a
  # collapsed component) is not an interior maximum: no information there.
  ev <- fit$warnings
  bound <- c(degenerate_events, "harmonium_warning_boundary", "harmonium_warning_concentration")
  if (!is.null(ev) && any(ev$class %in% bound & is.na(ev$start))) {
    abort_hm(c("The fit has a parameter at the boundary of its domain, where the observed information does not give standard errors.",
      x = gsub("\\s+", " ", ev$message[ev$class %in% bound & is.na(ev$start)][1]),
      i = "Refit without the boundary (fewer components or factors, other starts), or use {.code vcov(fit, method = \"bootstrap\")}."),
      "vcov_singular", call = call)
  }
  invisible(fit)
}

# The free source parameters of a mixture: the weights but the last, then
# each component's free parameters; with the Jacobian to the natural
# coordinates (prior logits log(w_j / w_1), then each component's natural
# parameters) and the components' Fisher informations.
mixture_inf_params <- function(fit, call, strict = TRUE) {
  m <- fit$model
  k <- m$k
  w <- as.double(fit$params$weights)
  comps <- lapply(seq_len(k), function(j) {
    inf_family(m$component, fit$params$components[[j]], paste0("components[[", j, "]]$"), call, strict)
  })
  wb <- list(phi = w[-k], names = sprintf("weights[%d]", seq_len(k - 1L)), jac = simplex_jacobian(w))
  list(weights = wb, comps = comps,
    phi = c(wb$phi, unlist(lapply(comps, `[[`, "phi"))),
    names = c(wb$names, unlist(lapply(comps, `[[`, "names"))),
    jac = block_diag(c(list(wb$jac), lapply(comps, `[[`, "jac"))),
    rebuild = function(phi) {
      np <- length(comps[[1]]$phi)
      wk <- phi[seq_len(k - 1L)]
      list(weights = c(wk, 1 - sum(wk)), components = lapply(seq_len(k), function(j) {
        comps[[j]]$rebuild(phi[k - 1L + (j - 1L) * np + seq_len(np)])
      }))
    })
}

# Observed information of the mixture log-likelihood in natural coordinates
# (prior logits, then the components'), by Louis' identity:
# sum_i E[-d2 log p(x_i, z) | x_i] - Cov[d log p(x_i, z) | x_i].
mixture_louis <- function(fit, ip) {
  m <- fit$model
  k <- m$k
  x <- fit$x
  n <- nrow(x)
  wt <- if (is.null(fit$weights)) rep(1, n) else fit$weights
  R <- fit$posterior
  s <- native_family_stat(m$component$spec, x)
  dim <- ncol(s)
  w <- as.double(fit$params$weights)
  P <- (k - 1L) + k * dim
  Ic <- matrix(0, P, P)
  if (k > 1L) Ic[seq_len(k - 1L), seq_len(k - 1L)] <- sum(wt) * simplex_fisher(w)
  C <- matrix(0, P, P)
  M <- matrix(0, n, P)
  for (j in seq_len(k)) {
    cj <- ip$comps[[j]]
    mu <- native_family_to_mean(m$component$spec, cj$theta)$value
    blk <- k - 1L + (j - 1L) * dim + seq_len(dim)
    Nj <- sum(wt * R[, j])
    Ic[blk, blk] <- Nj * cj$fisher
    Sj <- matrix(0, n, P)
    if (k > 1L) {
      e <- -w[-1L]
      if (j > 1L) e[j - 1L] <- e[j - 1L] + 1
      Sj[, seq_len(k - 1L)] <- matrix(e, n, k - 1L, byrow = TRUE)
    }
    Sj[, blk] <- sweep(s, 2L, mu)
    C <- C + crossprod(Sj * sqrt(wt * R[, j]))
    M <- M + Sj * R[, j]
  }
  C <- C - crossprod(M * sqrt(wt))
  Ic - C
}

mixture_vcov <- function(fit, call) {
  ip <- mixture_inf_params(fit, call)
  I <- mixture_louis(fit, ip)
  Iphi <- crossprod(ip$jac, I %*% ip$jac)
  V <- inf_solve(Iphi, call)
  dimnames(V) <- list(ip$names, ip$names)
  V
}

inf_solve <- function(I, call) {
  I <- (I + t(I)) / 2
  V <- tryCatch(solve(I), error = function(e) NULL)
  ev <- if (is.null(V)) 0 else min(eigen(I, symmetric = TRUE, only.values = TRUE)$values)
  if (is.null(V) || !(ev > 0)) {
    abort_hm(c("The observed information is singular or not positive definite at these parameters.",
      i = "The fit may be at a boundary, not converged, or not identified; try {.code vcov(fit, method = \"bootstrap\")}."),
      "vcov_singular", call = call)
  }
  (V + t(V)) / 2
}

# --- linear Gaussian models: the Hessian of the marginal Gaussian likelihood ------

# The free parameters of a factor model: mean, loadings (in the fit's
# canonical orientation) and the noise variances.
lgm_inf_params <- function(fit) {
  p <- fit$params
  A <- unname(as.matrix(p$loadings))
  pp <- nrow(A)
  q <- ncol(A)
  cv <- fit$model$obs$covariance
  psi <- switch(cv, diagonal = diag(p$cov), isotropic = p$cov[1, 1], full = NULL)
  nm_psi <- switch(cv, diagonal = sprintf("cov[%d,%d]", seq_len(pp), seq_len(pp)), isotropic = "cov[1,1]")
  list(
    mean = as.double(p$mean), A = A, psi = as.double(psi), cov = cv,
    phi = c(as.double(p$mean), as.vector(A), as.double(psi)),
    names = c(sprintf("mean[%d]", seq_len(pp)),
      sprintf("loadings[%d,%d]", rep(seq_len(pp), q), rep(seq_len(q), each = pp)), nm_psi)
  )
}

lgm_vcov <- function(fit, call) {
  m <- fit$model
  x <- fit$x
  n <- nrow(x)
  wt <- if (is.null(fit$weights)) rep(1, n) else fit$weights
  N <- sum(wt)
  if (identical(m$obs$covariance, "full")) {
    # Only the marginal N(mean, A A' + Psi) is identified: its mean and
    # covariance, the saturated Gaussian.
    Sig <- tcrossprod(fit$params$loadings) + fit$params$cov
    ib <- inf_normal(ef_normal(m$p), list(mean = fit$params$mean, cov = Sig))
    V <- inf_solve(N * crossprod(ib$jac, ib$fisher %*% ib$jac), call)
    nm <- sub("^cov", "marginal_cov", ib$names)
    dimnames(V) <- list(nm, nm)
    return(V)
  }
  ip <- lgm_inf_params(fit)
  A <- ip$A
  pp <- nrow(A)
  q <- ncol(A)
  mu <- ip$mean
  xbar <- colSums(x * wt) / N
  xc <- sweep(x, 2L, mu)
  St <- crossprod(xc * sqrt(wt)) / N
  Psi <- if (ip$cov == "diagonal") diag(ip$psi, pp) else diag(ip$psi, pp)
  Sig <- tcrossprod(A) + Psi
  Si <- chol2inv(chol(Sig))
  # dSigma / d parameter for the loadings and the noise.
  dS <- list()
  for (r in seq_len(q)) for (i in seq_len(pp)) {
    E <- matrix(0, pp, pp)
    E[i, ] <- A[, r]
    dS[[length(dS) + 1L]] <- E + t(E)
  }
  if (ip$cov == "diagonal") {
    for (i in seq_len(pp)) {
      E <- matrix(0, pp, pp)
      E[i, i] <- 1
      dS[[length(dS) + 1L]] <- E
    }
  } else {
    dS[[length(dS) + 1L]] <- diag(pp)
  }
  nc <- length(dS)
  Rm <- Si %*% St
  K <- vapply(dS, function(D) as.vector(Si %*% D), numeric(pp * pp))
  Kt <- vapply(dS, function(D) as.vector(t(Si %*% D)), numeric(pp * pp))
  KRt <- vapply(dS, function(D) as.vector(t(Si %*% D %*% Rm)), numeric(pp * pp))
  T3 <- crossprod(K, KRt)
  H <- -crossprod(Kt, K) + T3 + t(T3)
  # Second derivatives of Sigma: loadings of the same factor.
  G <- (diag(pp) - Rm) %*% Si
  for (r in seq_len(q)) {
    idx <- (r - 1L) * pp + seq_len(pp)
    H[idx, idx] <- H[idx, idx] + G + t(G)
  }
  Icov <- N / 2 * H
  Imu <- N * Si
  Icross <- N * vapply(dS, function(D) as.vector(Si %*% D %*% Si %*% (xbar - mu)), numeric(pp))
  I <- rbind(cbind(Imu, Icross), cbind(t(Icross), Icov))
  # The rotation is fixed by the fit's canonical orientation, t(A) W A
  # diagonal, imposed as constraints on the information (a bordered matrix).
  W <- if (m$kind == "lgm_diag") chol2inv(chol(Psi)) else diag(1 / fit$scaler$scale^2, pp)
  V <- if (q > 1L) {
    Cn <- lgm_rotation_constraints(A, W, ip$psi, ip$cov, m$kind == "lgm_diag", pp)
    B <- rbind(cbind(I, t(Cn)), cbind(Cn, matrix(0, nrow(Cn), nrow(Cn))))
    Bi <- tryCatch(solve((B + t(B)) / 2), error = function(e) NULL)
    if (is.null(Bi)) inf_solve(matrix(0, 1, 1), call)
    Vb <- Bi[seq_len(ncol(I)), seq_len(ncol(I))]
    if (any(diag(Vb) <= 0)) inf_solve(matrix(0, 1, 1), call)
    (Vb + t(Vb)) / 2
  } else {
    inf_solve(I, call)
  }
  dimnames(V) <- list(ip$names, ip$names)
  V
}

# Jacobian of the off-diagonal entries of t(A) W A (r < s) in the
# parameters (mean, vec(A), psi); W = Psi^-1 when `w_psi`.
lgm_rotation_constraints <- function(A, W, psi, cov, w_psi, pp) {
  q <- ncol(A)
  pairs <- which(upper.tri(diag(q)), arr.ind = TRUE)
  np <- pp + pp * q + length(psi)
  Cn <- matrix(0, nrow(pairs), np)
  WA <- W %*% A
  for (c in seq_len(nrow(pairs))) {
    r <- pairs[c, 1]
    s <- pairs[c, 2]
    # d (A' W A)_rs / d A_ir = (W A)_is, / d A_is = (W A)_ir.
    Cn[c, pp + (r - 1L) * pp + seq_len(pp)] <- WA[, s]
    Cn[c, pp + (s - 1L) * pp + seq_len(pp)] <- WA[, r]
    if (w_psi) {
      g <- -A[, r] * A[, s] / psi^2
      Cn[c, pp + pp * q + seq_along(psi)] <- if (cov == "diagonal") g else sum(g)
    }
  }
  Cn
}

# --- vcov ------------------------------------------------------------------------

#' Covariance of the parameter estimates
#'
#' The asymptotic covariance matrix of the maximum-likelihood estimates of a
#' mixture or linear Gaussian model, in its free source parameters.
#'
#' `method = "observed"` inverts the observed information. For mixtures it
#' is computed exactly by Louis' identity: the expected complete-data
#' information (each component's Fisher information, the Hessian of its
#' log-partition, times its posterior weight, and the multinomial
#' information of the weights) minus the posterior covariance of the
#' complete-data score, summed over rows; it is then carried from natural
#' coordinates to the source parameters by the exact Jacobian of the
#' source-to-natural map (the delta method). Components of every base
#' family with free parameters are supported (Normal with full, diagonal
#' or isotropic covariance, Poisson, Bernoulli, binomial, categorical,
#' von Mises, Gamma, Dirichlet and their products, as in latent class
#' analysis); Conway-Maxwell-Poisson components use Richardson-extrapolated
#' differences of the engine's exact maps. Other covariance structures and
#' other models give a classed error (`harmonium_error_unsupported`)
#' pointing to the bootstrap.
#'
#' For factor analysis and probabilistic PCA it is the inverse of the exact
#' Hessian of the marginal Gaussian log-likelihood in the mean, the loadings
#' and the noise variances. The loadings are identified only up to a
#' rotation: their covariance is that of the fit's canonical orientation,
#' `t(A) %*% diag(1 / s^2) %*% A` diagonal with `s` the columns' standard
#' deviations (the orientation [coef()] reports; `t(A) %*% solve(Psi, A)`
#' diagonal for `posterior = "diagonal"`), imposed as constraints on the
#' information (a bordered information matrix), so the covariance of the
#' mean and uniquenesses does not depend on it. For [lgm()] with a full
#' noise covariance only the marginal mean and covariance are identified;
#' their covariance is returned (`marginal_cov[i,j]`).
#'
#' `method = "bootstrap"` is the parametric bootstrap: `B` data sets are
#' simulated from the fit, each is refitted from the fit's parameters, the
#' components of each refit are matched to the fit's (against label
#' switching, by the permutation that best agrees with the fit's posterior
#' on the data), and the covariance of the replicates is returned with the
#' replicates as attribute `"replicates"` (used by [stats::confint()]). Replicates
#' are mapped by `future.apply::future_lapply()` under the current
#' [future::plan()] when future.apply is installed, else by [lapply()];
#' each replicate draws from its own seed, taken from `seed`, so the result
#' is the same for a given seed under every plan. Refits that fail are
#' dropped with a warning. Each simulated data set has the fit's number of
#' rows and no case weights.
#'
#' Parameter names follow the source parameters: `weights[j]` (all but
#' the last weight), `components[[j]]$mean[i]`,
#' `components[[j]]$cov[i,l]` (the upper triangle, `i <= l`; the diagonal
#' for diagonal covariances, `cov[1,1]` the common variance of an
#' isotropic one), `components[[j]]$prob[l]` (all but the last level),
#' `components[[j]][[b]]$...` for block `b` of a product; `mean[i]`,
#' `loadings[i,r]` and `cov[i,i]` (the uniquenesses) for factor models.
#'
#' `summary()` of mixture and factor-model fits shows these standard errors
#' when the model has at most 200 free parameters and the data are not
#' large (rows x parameters^2 x components at most 5e8); they are computed
#' when the summary is printed or its table taken by `coef(summary(fit))`
#' (a data frame with columns `estimate` and `std.error`), not before, and
#' `summary(fit, se = FALSE)` drops them. `print()` of a fit never computes
#' them.
#'
#' The information is that of the log-likelihood at the fitted parameters,
#' so it is meaningful for converged fits in the interior of the parameter
#' space (no weight, probability or uniqueness at a bound).
#'
#' @param object A fit of a mixture or of [lgm()], [factor_analysis()] or
#'   [ppca()].
#' @param method `"observed"` (the observed information) or `"bootstrap"`.
#' @param B Number of bootstrap replicates.
#' @param seed Seed of the bootstrap (an integer, or `NULL` to use the
#'   current random number stream).
#' @param ... Unused.
#' @return A named covariance matrix (for the bootstrap with attribute
#'   `"replicates"`, a `B x p` matrix, and `"method"`).
#' @seealso [confint.lvm_fit()], [anova.lvm_fit()].
#' @examples
#' fit <- fit_lvm(mixture(ef_normal(2), 2), faithful, control = lvm_control(tol = 1e-10))
#' sqrt(diag(vcov(fit)))
#' @export
vcov.lvm_fit <- function(object, method = c("observed", "bootstrap"), B = 200, seed = NULL, ...) {
  env <- rlang::current_env()
  check_dots(...)
  if (inherits(object, "lvm_chunked_fit")) {
    abort_hm(c("Standard errors of a fit to chunked data are not available yet.",
      i = "Louis' identity needs a pass over the rows that chunked fits do not make; fit a sample in memory."),
      "unsupported", call = env)
  }
  method <- check_choice(method, c("observed", "bootstrap"))
  B <- check_count(B, min = 2L, max = 100000L)
  seed <- check_seed(seed)
  if (method == "bootstrap") return(bootstrap_vcov(object, B, seed, env))
  inf_check_fit(object, env)
  V <- if (object$model$kind == "mixture") mixture_vcov(object, env) else lgm_vcov(object, env)
  attr(V, "method") <- "observed"
  V
}


# The named vector of free source parameters of a fit, in the order of
# vcov().
fit_param_vector <- function(fit, call = rlang::caller_env()) {
  m <- fit$model
  if (identical(m$kind, "mixture")) {
    ip <- mixture_inf_params(fit, call, strict = FALSE)
  } else if (m$kind %in% c("lgm", "lgm_diag") && !identical(m$obs$covariance, "full")) {
    ip <- lgm_inf_params(fit)
  } else if (m$kind %in% c("lgm", "lgm_diag")) {
    Sig <- tcrossprod(fit$params$loadings) + fit$params$cov
    ip <- inf_normal(ef_normal(m$p), list(mean = fit$params$mean, cov = Sig))
    ip$names <- sub("^cov", "marginal_cov", ip$names)
  } else {
    abort_hm(c("Inference is available for mixtures of exponential families and linear Gaussian models, not for {m$label}."),
      "unsupported", call = call)
  }
  stats::setNames(ip$phi, ip$names)
}

# --- parametric bootstrap -------------------------------------------------------------

bootstrap_vcov <- function(fit, B, seed, call) {
  if (!inherits(fit, "lvm_fit")) {
    abort_hm("{.arg object} must be a fit from {.fn fit_lvm}, not {.obj_type_friendly {fit}}.",
      "argument", call = call)
  }
  m <- fit$model
  if (!(identical(m$kind, "mixture") || m$kind %in% c("lgm", "lgm_diag"))) {
    abort_hm("The bootstrap is available for mixtures and linear Gaussian models, not for {m$label}.",
      "unsupported", call = call)
  }
  if (nrow(fit$x) == 0L) {
    abort_hm("This fit holds no data to bootstrap.", "argument", call = call)
  }
  est <- fit_param_vector(fit, call)
  # Seeds of the replicates from `seed`, drawn on the master: each replicate
  # then depends only on its own seed, whatever the plan.
  if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) {
    old <- get(".Random.seed", envir = globalenv())
    on.exit(assign(".Random.seed", old, envir = globalenv()), add = TRUE)
  } else {
    on.exit(if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) {
      rm(".Random.seed", envir = globalenv())
    }, add = TRUE)
  }
  if (!is.null(seed)) set.seed(seed)
  seeds <- sample.int(.Machine$integer.max, B)
  data0 <- family_decode(m$obs, fit$x)
  control <- fit$control
  if (is.null(control)) control <- lvm_control()
  control$n_init <- 1L
  control$trace <- FALSE
  one <- function(i) bootstrap_replicate(fit, seeds[i], control, data0)
  reps <- if (requireNamespace("future.apply", quietly = TRUE)) {
    future.apply::future_lapply(seq_len(B), one, future.seed = TRUE)
  } else {
    lapply(seq_len(B), one)
  }
  ok <- vapply(reps, function(r) is.numeric(r) && length(r) == length(est) && all(is.finite(r)), logical(1))
  if (sum(ok) < 2L) {
    abort_hm("Fewer than 2 of the {B} bootstrap refits succeeded.", "fit_failed", call = call)
  }
  if (any(!ok)) {
    warn_hm("{sum(!ok)} of {B} bootstrap refit{?s} failed and {?was/were} dropped.", "bootstrap_failed")
  }
  R <- do.call(rbind, reps[ok])
  colnames(R) <- names(est)
  V <- stats::cov(R)
  attr(V, "replicates") <- R
  attr(V, "method") <- "bootstrap"
  V
}

bootstrap_replicate <- function(fit, seed, control, data0) {
  m <- fit$model
  sim <- simulate(fit, seed = seed)
  attr(sim, "latent") <- NULL
  attr(sim, "seed") <- NULL
  refit <- tryCatch(
    suppressWarnings(fit_lvm(m, sim, init = unname_levels(fit$params), control = control)),
    error = function(e) NULL
  )
  if (is.null(refit)) return(NULL)
  if (identical(m$kind, "mixture") && m$k > 1L) {
    perm <- match_components(fit$posterior, posterior(refit, data0))
    refit$params$weights <- refit$params$weights[perm]
    refit$params$components <- refit$params$components[perm]
  } else if (m$kind %in% c("lgm", "lgm_diag") && m$q > 1L && !identical(m$obs$covariance, "full")) {
    refit$params$loadings <- match_loadings(fit$params$loadings, refit$params$loadings)
  }
  tryCatch(fit_param_vector(refit), error = function(e) NULL)
}

# Source parameters with the level names of categorical probabilities
# dropped: a categorical family that adopted the data's level names keeps
# the to_nat() of its original levels, so a fit's own coef() is matched by
# position (family_adopt_levels() in R/family-categorical.R).
unname_levels <- function(p) {
  if (!is.list(p)) return(p)
  out <- vector("list", length(p))
  for (i in seq_along(p)) {
    nm <- if (is.null(names(p))) "" else names(p)[i]
    out[[i]] <- if (identical(nm, "prob")) unname(p[[i]]) else unname_levels(p[[i]])
  }
  names(out) <- names(p)
  out
}

# The permutation of the refit's components that best agrees with the fit's
# posterior (all permutations up to 7 components, greedy beyond).
match_components <- function(post0, post1) {
  A <- crossprod(post0, post1)
  k <- ncol(A)
  if (k <= 7L) {
    perms <- all_permutations(k)
    score <- apply(perms, 1L, function(p) sum(A[cbind(seq_len(k), p)]))
    return(perms[which.max(score), ])
  }
  perm <- integer(k)
  for (s in seq_len(k)) {
    i <- which(A == max(A), arr.ind = TRUE)[1, ]
    perm[i[1]] <- i[2]
    A[i[1], ] <- -Inf
    A[, i[2]] <- -Inf
  }
  perm
}

all_permutations <- function(k) {
  if (k == 1L) return(matrix(1L, 1, 1))
  sub <- all_permutations(k - 1L)
  do.call(rbind, lapply(seq_len(k), function(i) cbind(i, matrix(setdiff(seq_len(k), i)[sub], ncol = k - 1L))))
}

# Columns of the refit's loadings matched to the fit's by order and sign.
match_loadings <- function(A0, A1) {
  q <- ncol(A0)
  C <- abs(crossprod(A0, A1))
  perms <- all_permutations(q)
  best <- perms[which.max(apply(perms, 1L, function(p) sum(C[cbind(seq_len(q), p)]))), ]
  A1 <- A1[, best, drop = FALSE]
  sg <- sign(colSums(A0 * A1))
  sg[sg == 0] <- 1
  out <- sweep(A1, 2L, sg, "*")
  dimnames(out) <- dimnames(A0)
  out
}

# --- confidence intervals -------------------------------------------------------------

#' Confidence intervals for the parameters of a fit
#'
#' Wald intervals, estimate +/- z * standard error from [vcov.lvm_fit()]
#' (the observed information), or percentile intervals of the parametric
#' bootstrap.
#'
#' @param object A fit of a mixture or linear Gaussian model.
#' @param parm Parameter names or indices (default: all free parameters).
#' @param level Confidence level.
#' @param method `"wald"` or `"bootstrap"` (percentile).
#' @param vcov Optional result of [vcov.lvm_fit()] to reuse (for
#'   `"bootstrap"`, one computed with `method = "bootstrap"`).
#' @param B,seed Passed to `vcov(method = "bootstrap")` when `vcov` is not
#'   given.
#' @param ... Unused.
#' @return A matrix with one row per parameter and columns for the lower and
#'   upper limits.
#' @examples
#' fit <- fit_lvm(mixture(ef_poisson(), 2), c(0, 1, 1, 2, 0, 3, 8, 9, 11, 10, 12, 7),
#'   control = lvm_control(tol = 1e-10))
#' confint(fit)
#' @export
confint.lvm_fit <- function(object, parm = NULL, level = 0.95, method = c("wald", "bootstrap"),
                            vcov = NULL, B = 200, seed = NULL, ...) {
  env <- rlang::current_env()
  check_dots(...)
  method <- check_choice(method, c("wald", "bootstrap"))
  if (!is.numeric(level) || length(level) != 1L || is.na(level) || level <= 0 || level >= 1) {
    abort_hm("{.arg level} must be a number strictly between 0 and 1.", "argument")
  }
  if (!inherits(object, "lvm_fit")) {
    abort_hm("{.arg object} must be a fit from {.fn fit_lvm}, not {.obj_type_friendly {object}}.",
      "argument")
  }
  if (is.null(vcov)) {
    vcov <- if (method == "wald") vcov.lvm_fit(object) else vcov.lvm_fit(object, "bootstrap", B = B, seed = seed)
  }
  est <- fit_param_vector(object, env)
  if (!is.matrix(vcov) || !identical(rownames(vcov), names(est))) {
    abort_hm("{.arg vcov} must be the result of {.code vcov()} on this fit.", "argument")
  }
  a <- (1 - level) / 2
  pct <- paste(format(100 * c(a, 1 - a), trim = TRUE, scientific = FALSE, digits = 3), "%")
  if (method == "wald") {
    se <- sqrt(diag(vcov))
    z <- stats::qnorm(1 - a)
    ci <- cbind(est - z * se, est + z * se)
  } else {
    R <- attr(vcov, "replicates")
    if (is.null(R)) {
      abort_hm("{.arg vcov} holds no bootstrap replicates; compute it with {.code method = \"bootstrap\"}.",
        "argument")
    }
    ci <- t(apply(R, 2L, stats::quantile, probs = c(a, 1 - a), names = FALSE))
  }
  dimnames(ci) <- list(names(est), pct)
  if (!is.null(parm)) {
    if (is.character(parm) && all(parm %in% names(est))) {
      ci <- ci[parm, , drop = FALSE]
    } else if (is.numeric(parm) && all(parm %in% seq_along(est))) {
      ci <- ci[parm, , drop = FALSE]
    } else {
      abort_hm("{.arg parm} must name or index the fit's free parameters (see {.code rownames(vcov(fit))}).",
        "argument")
    }
  }
  ci
}

# --- the coefficient table of summary() ------------------------------------------------

# Standard errors are computed in summary() when the model has at most this
# many free parameters (the information costs O(n p^2)).
summary_se_max <- 200L
summary_se_cost <- 5e8

# Estimate and standard error of each free parameter, or NULL (too many
# parameters, or an information that cannot be inverted: `note` says why).
coef_table <- function(fit) {
  k <- if (is.null(fit$model[["k"]])) 1 else fit$model[["k"]]
  if (fit$model$n_free > summary_se_max || as.double(nrow(fit$x)) * fit$model$n_free^2 * k > summary_se_cost) {
    return(list(table = NULL, note = sprintf("more than %d free parameters or a large data set; use vcov()",
      summary_se_max)))
  }
  # summary() never fails for its standard errors: any failure is a note.
  V <- tryCatch(vcov.lvm_fit(fit), error = function(e) e)
  if (inherits(V, "harmonium_error_unsupported")) return(NULL)
  if (inherits(V, "condition")) {
    hdr <- if (inherits(V, "rlang_error")) unname(rlang::cnd_header(V)) else conditionMessage(V)
    return(list(table = NULL, note = sub("\\.$", "", gsub("\\s+", " ", hdr[1]))))
  }
  est <- fit_param_vector(fit)
  list(table = data.frame(estimate = est, std.error = sqrt(diag(V)), row.names = names(est)), note = NULL)
}

# The table is computed on first use (print() or coef() of the summary), so
# summary() itself stays cheap for callers that read only its other fields.
lazy_coef_table <- function(fit) {
  env <- new.env(parent = emptyenv())
  delayedAssign("value", coef_table(fit), assign.env = env)
  env
}

force_coef_table <- function(ct) if (is.environment(ct)) ct$value else ct

#' @export
coef.summary.mixture_fit <- function(object, ...) force_coef_table(object$coefficients)$table

#' @export
coef.summary.lgm_fit <- function(object, ...) force_coef_table(object$coefficients)$table

print_coef_table <- function(ct, digits, what = NULL) {
  ct <- force_coef_table(ct)
  if (is.null(ct)) return(invisible())
  if (is.null(ct$table)) {
    cat("\nStandard errors: not computed (", ct$note, ")\n", sep = "")
    return(invisible())
  }
  cat("\nEstimates and standard errors (observed information", if (!is.null(what)) paste0("; ", what), "):\n",
    sep = "")
  print(ct$table, digits = digits)
  invisible()
}
