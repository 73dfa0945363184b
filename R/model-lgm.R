# Linear Gaussian models (theory.md 3.2) and Gaussian-Boltzmann harmoniums
# (theory.md 3.3): a Normal observable coupled through its location to a
# Normal latent (factor analysis, probabilistic PCA, the full LGM) or to a
# Boltzmann machine over binary units. The engine holds the algebra
# (conjugation parameters, E-step, closed-form M-step, whitening); this file
# converts between the loading form x = A z + b + e, e ~ N(0, Psi), and the
# harmonium's natural coordinates, and chooses the starts.

#' Linear Gaussian latent variable models
#'
#' `lgm(observable, latent_dim)` is the conjugated harmonium of a Normal
#' observable and a `latent_dim`-dimensional standard Normal latent coupled
#' through the observable's location: `x = A z + b + e` with
#' `z ~ N(0, I)` and `e ~ N(0, Psi)`. The covariance type of `observable`
#' sets the noise: `"diagonal"` is factor analysis ([factor_analysis()]),
#' `"isotropic"` probabilistic PCA ([ppca()]), `"full"` the general model.
#' All are fitted by closed-form EM with whitening of the latent prior
#' (theory.md 3.2), started from principal components.
#'
#' Source parameters are `list(mean = , loadings = , cov = )`: the mean `b`
#' (length p), the p x q loadings `A` and the p x p noise covariance `Psi`.
#' Loadings are reported in a canonical orientation (orthogonal columns,
#' ordered by the variance they explain, largest entry positive); rotated
#' loadings come from [rotate_loadings()].
#'
#' @param observable A Normal family, e.g. `ef_normal(5, "diagonal")`.
#' @param latent_dim Number of latent dimensions (factors), less than the
#'   data dimension.
#' @return An `lvm_model` of class `lgm_model`.
#' @seealso [fit_lvm()], [boltzmann_lgm()].
#' @examples
#' fa <- factor_analysis(4, 1)
#' fit <- fit_lvm(fa, iris[, 1:4])
#' summary(fit)
#' head(posterior(fit))
#' @export
lgm <- function(observable, latent_dim) {
  check_family(observable)
  if (observable$name != "normal") {
    abort_hm("{.arg observable} must be a Normal family such as {.code ef_normal(5, \"diagonal\")}.",
      "argument")
  }
  p <- observable$n
  q <- check_count(latent_dim, arg = "latent_dim", max = max(1L, p - 1L))
  label <- switch(observable$covariance,
    diagonal = sprintf("factor analysis (%d variables, %d factors)", p, q),
    isotropic = sprintf("probabilistic PCA (%d variables, %d components)", p, q),
    full = sprintf("linear Gaussian model (%d variables, %d latent dimensions)", p, q)
  )
  noise <- switch(observable$covariance, full = p * (p + 1L) / 2L, diagonal = p, isotropic = 1L)
  new_lgm_model("lgm", observable, ef_normal(q), q, label,
    n_free = p + p * q + noise - q * (q - 1L) / 2L, whiten = TRUE)
}

#' @rdname lgm
#' @param dim Number of observed variables.
#' @param factors Number of factors.
#' @export
factor_analysis <- function(dim, factors) {
  lgm(ef_normal(check_count(dim, max = 10000L), "diagonal"), factors)
}

#' @rdname lgm
#' @param components Number of principal components.
#' @export
ppca <- function(dim, components) {
  lgm(ef_normal(check_count(dim, max = 10000L), "isotropic"), components)
}

#' Gaussian-Boltzmann harmoniums
#'
#' `boltzmann_lgm(observable, units)` couples a Normal observable to a
#' Boltzmann machine over `units` binary latent units: `x = A z + b + e`
#' with `z` in `{0, 1}^units` drawn from a Boltzmann machine and
#' `e ~ N(0, Psi)`. The observable density is exactly a mixture of
#' `2^units` Gaussians with shared covariance, and everything (likelihood,
#' posterior, EM) is computed exactly by enumerating the latent states, so
#' `units` is at most 20. Fitted by EM whose M-step is closed form for the
#' Gaussian part and an exact Newton solve for the Boltzmann prior.
#'
#' Source parameters are `list(offset = , loadings = , cov = , prior = )`
#' with `prior = list(bias = , coupling = )` the Boltzmann machine.
#'
#' @param observable A Normal family.
#' @param units Number of binary latent units (at most 20).
#' @return An `lvm_model` of class `lgm_model`.
#' @examples
#' set.seed(1)
#' x <- rbind(matrix(rnorm(200, sd = 0.3), 100), matrix(rnorm(200, 2, 0.3), 100))
#' fit <- fit_lvm(boltzmann_lgm(ef_normal(2, "diagonal"), 2), x)
#' fit
#' @export
boltzmann_lgm <- function(observable, units) {
  check_family(observable)
  if (observable$name != "normal") {
    abort_hm("{.arg observable} must be a Normal family such as {.code ef_normal(2)}.", "argument")
  }
  q <- check_count(units, arg = "units")
  if (q > 20L) {
    abort_hm(c("{.arg units} is {q}, but the latent states are enumerated exactly only up to 20 units.",
      i = "Use fewer units."), "too_large")
  }
  p <- observable$n
  noise <- switch(observable$covariance, full = p * (p + 1L) / 2L, diagonal = p, isotropic = 1L)
  new_lgm_model("boltzmann_lgm", observable, ef_boltzmann(q), q,
    sprintf("Gaussian-Boltzmann harmonium (%d variables, %d binary units)", p, q),
    n_free = p + p * q + noise + q * (q + 1L) / 2L, whiten = FALSE)
}

new_lgm_model <- function(kind, obs, lat, q, label, n_free, whiten) {
  m <- list(
    kind = kind, obs = obs, lat = lat, q = q, p = obs$n,
    hm_kind = hm_kind[[kind]], obs_spec = obs$spec, lat_spec = lat$spec,
    d = obs$d, n_free = as.integer(n_free), label = label, whiten = whiten, closed = kind == "lgm",
    fit_class = "lgm_fit"
  )
  info <- native_model_info(m)
  m$dim <- info[1]
  m$post_len <- info[2]
  m$stats_len <- info[3]
  structure(m, class = c("lgm_model", "lvm_model"))
}

# --- coordinates ---------------------------------------------------------------

# The packed natural second-order block of the precision matrix M, in the
# latent family's layout (theory.md 2.7, 2.11): -M_ii / 2 on the diagonal and
# -M_ij off it, for a Normal; a Boltzmann machine uses the same packing of
# its generalized-Gaussian precision (theory.md 2.12).
packed_precision <- function(M) {
  out <- -M
  diag(out) <- -diag(M) / 2
  pack_sym(out)
}

# rho of theory.md 3.2 / 3.3 in latent coordinates: location W'b on the
# first q entries (Normal latent) or the diagonal (Boltzmann latent), and
# the packed precision -W' Sigma_x W.
lgm_rho <- function(m, W, b, Sx) {
  M <- crossprod(W, Sx %*% W)
  loc <- as.vector(crossprod(W, b))
  prec <- packed_precision(-M)
  if (m$kind == "lgm") {
    c(loc, prec)
  } else {
    D <- unpack_sym(prec, m$q)
    diag(D) <- diag(D) + loc
    pack_sym(D)
  }
}

lgm_check_params <- function(m, params, arg, call) {
  p <- m$p
  q <- m$q
  loc_name <- if (m$kind == "lgm") "mean" else "offset"
  need <- c(loc_name, "loadings", "cov", if (m$kind == "boltzmann_lgm") "prior")
  if (!is.list(params) || !all(need %in% names(params))) {
    abort_hm("{.arg {arg}} must be a list with elements {.field {need}}.", "params", call = call)
  }
  list(
    b = check_numeric_vector(params[[loc_name]], p, arg = paste0(arg, "$", loc_name), call = call),
    A = check_matrix(params$loadings, p, q, arg = paste0(arg, "$loadings"), call = call),
    cov = params$cov
  )
}

#' @export
model_to_nat.lgm_model <- function(m, params, arg = "params", call = rlang::caller_env()) {
  pr <- lgm_check_params(m, params, arg, call)
  th_x <- m$obs$to_nat(list(mean = pr$b, cov = pr$cov))
  Sx <- matrix(pr$cov, m$p, m$p)
  W <- solve(Sx, pr$A)
  prior <- if (m$kind == "lgm") {
    c(numeric(m$q), packed_precision(diag(m$q)))
  } else {
    m$lat$to_nat(params$prior)
  }
  th_z <- prior - lgm_rho(m, W, pr$b, Sx)
  c(th_x, as.vector(t(W)), th_z)
}

lgm_split <- function(m, theta) {
  dx <- m$obs$dim
  list(
    th_x = theta[seq_len(dx)],
    W = matrix(theta[dx + seq_len(m$p * m$q)], m$p, m$q, byrow = TRUE),
    th_z = theta[-seq_len(dx + m$p * m$q)]
  )
}

#' @export
model_to_src.lgm_model <- function(m, theta) {
  sp <- lgm_split(m, theta)
  ob <- m$obs$to_src(sp$th_x)
  A <- ob$cov %*% sp$W
  prior_nat <- sp$th_z + lgm_rho(m, sp$W, ob$mean, ob$cov)
  if (m$kind == "boltzmann_lgm") {
    return(list(offset = ob$mean, loadings = A, cov = ob$cov, prior = m$lat$to_src(prior_nat)))
  }
  # x = A (mu_z + L u) + b + e with u ~ N(0, I): the standard form has mean
  # A mu_z + b and loadings A L, then a canonical orthogonal rotation.
  pz <- m$lat$to_src(prior_nat)
  L <- t(chol(pz$cov))
  list(mean = as.vector(A %*% pz$mean) + ob$mean, loadings = canonical_loadings(A %*% L), cov = ob$cov)
}

# The rotation of the latent space is not identified; report loadings with
# orthogonal columns ordered by explained variance (the right singular
# vectors), each column's largest entry positive.
canonical_loadings <- function(A) {
  if (ncol(A) > 1L) A <- A %*% svd(A)$v
  sgn <- apply(A, 2L, function(v) sign(v[which.max(abs(v))]))
  sgn[sgn == 0] <- 1
  sweep(A, 2L, sgn, "*")
}

#' @export
model_affine.lgm_model <- function(m, sc, params, inverse) {
  loc <- if (m$kind == "lgm") "mean" else "offset"
  s <- sc$scale
  if (inverse) {
    params[[loc]] <- params[[loc]] * s + sc$center
    params$loadings <- params$loadings * s
    params$cov <- params$cov * outer(s, s)
  } else {
    params[[loc]] <- (params[[loc]] - sc$center) / s
    params$loadings <- params$loadings / s
    params$cov <- params$cov / outer(s, s)
  }
  params
}

#' @export
model_post_names.lgm_model <- function(m) {
  if (m$kind == "lgm") paste0("F", seq_len(m$q)) else paste0("z", seq_len(m$q))
}

#' @export
model_name_params.lgm_model <- function(m, params) {
  cn <- family_colnames(m$obs)
  lat <- model_post_names(m)
  loc <- if (m$kind == "lgm") "mean" else "offset"
  names(params[[loc]]) <- cn
  dimnames(params$loadings) <- list(cn, lat)
  dimnames(params$cov) <- list(cn, cn)
  params
}

# --- starts ----------------------------------------------------------------------

# Principal components of the (internally standardised) data give the first
# start: the closed-form PPCA solution (Tipping and Bishop 1999) for the
# loadings, the residual variances for the noise. Later starts perturb the
# loadings at random.
lgm_pca_start <- function(m, xs, w, i, control) {
  n <- nrow(xs)
  ww <- if (is.null(w)) rep(1 / n, n) else w / sum(w)
  mu <- colSums(xs * ww)
  xc <- sweep(xs, 2L, mu)
  S <- crossprod(xc * sqrt(ww))
  e <- eigen(S, symmetric = TRUE)
  q <- m$q
  p <- m$p
  lam <- pmax(e$values, 0)
  s2 <- if (q < p) max(mean(lam[-seq_len(q)]), 1e-3 * mean(lam)) else 1e-3 * mean(lam)
  A <- e$vectors[, seq_len(q), drop = FALSE] %*% diag(sqrt(pmax(lam[seq_len(q)] - s2, 1e-3 * s2)), q)
  psi <- pmax(diag(S) - rowSums(A^2), 0.05 * diag(S), 1e-6)
  Si <- if (m$obs$covariance == "diagonal") tryCatch(chol2inv(chol(S)), error = function(e) NULL)
  if (!is.null(Si)) {
    # Factor analysis: the usual maximum-likelihood start (as factanal's),
    # uniquenesses (1 - q / 2p) / diag(S^-1), then loadings from the
    # eigenvectors of Psi^-1/2 S Psi^-1/2, whose eigenvalues above 1 are the
    # factors' signal-to-noise ratios.
    psi <- pmax((1 - 0.5 * q / p) / diag(Si), 1e-4 * diag(S))
    r <- sqrt(psi)
    es <- eigen(S / outer(r, r), symmetric = TRUE)
    A <- r * es$vectors[, seq_len(q), drop = FALSE] %*% diag(sqrt(pmax(es$values[seq_len(q)] - 1, 1e-3)), q)
  }
  if (i > 1L) {
    seed <- (if (is.null(control$seed)) default_seed else control$seed) + i
    A <- A + with_seed(seed, matrix(stats::rnorm(p * q, sd = 0.5 * sqrt(mean(lam))), p, q))
  }
  cov <- switch(m$obs$covariance,
    isotropic = diag(mean(psi), p),
    diagonal = diag(psi, p),
    full = diag(psi, p)
  )
  list(mu = mu, A = A, cov = cov)
}

#' @export
model_start.lgm_model <- function(m, xs, x, w, i, control, ctrl, threads) {
  params <- if (m$kind == "lgm") {
    st <- lgm_pca_start(m, xs, w, i, control)
    list(mean = st$mu, loadings = st$A, cov = st$cov)
  } else {
    blgm_start(m, xs, w, i, control)
  }
  tryCatch(model_to_nat(m, params), harmonium_error = function(e) NULL)
}

# Start of a Gaussian-Boltzmann harmonium: unit j moves the data along
# principal direction ((j - 1) mod p) + 1 by two of its standard deviations,
# perturbed at random (with the internal seed for the first start) so that
# units sharing a direction differ; units are independent with probability
# 1/2 each, and the offset puts the data mean at b + A 1/2.
blgm_start <- function(m, xs, w, i, control) {
  n <- nrow(xs)
  ww <- if (is.null(w)) rep(1 / n, n) else w / sum(w)
  mu <- colSums(xs * ww)
  S <- crossprod(sweep(xs, 2L, mu) * sqrt(ww))
  e <- eigen(S, symmetric = TRUE)
  p <- m$p
  q <- m$q
  lam <- pmax(e$values, 1e-6 * max(e$values, 1e-12))
  dir <- ((seq_len(q) - 1L) %% p) + 1L
  A <- e$vectors[, dir, drop = FALSE] %*% diag(2 * sqrt(lam[dir]) / ceiling(q / p), q)
  seed <- if (i == 1L) default_seed else (if (is.null(control$seed)) default_seed else control$seed) + i
  A <- A + with_seed(seed, matrix(stats::rnorm(p * q, sd = 0.3 * sqrt(mean(lam))), p, q))
  resid <- pmax(diag(S) - rowSums(A^2) / 4, 0.05 * diag(S), 1e-6)
  cov <- switch(m$obs$covariance, isotropic = diag(mean(resid), p), diag(resid, p))
  list(offset = mu - rowSums(A) / 2, loadings = A, cov = cov,
    prior = list(bias = numeric(q), coupling = matrix(0, q, q)))
}

# Loadings in a canonical orientation: the identified latent of an LGM is
# N(0, I) up to rotation, so the stored natural parameters are rebuilt from
# the canonical source form after fitting (factor scores then match the
# reported loadings).
model_canonical <- function(m, theta) UseMethod("model_canonical")

#' @export
model_canonical.default <- function(m, theta) theta

#' @export
model_canonical.lgm_model <- function(m, theta) {
  if (m$kind != "lgm") return(theta)
  model_to_nat(m, model_to_src(m, theta))
}
