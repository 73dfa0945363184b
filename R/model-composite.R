# Composite models: hierarchical harmoniums, whose
# latent is itself a conjugated model (hmog), and mixtures of conjugated
# models (mfa, mixture(<model>, k)). The engine holds the algebra (kinds
# HM_HM_HMOG and HM_HM_MIXTURE_OF, reached through its model-kind
# interface); this file builds the descriptors, converts source parameters,
# and supplies the starts.

#' Hierarchical mixtures of Gaussians and mixtures of factor analysers
#'
#' `hmog(dim, latent_dim, k)` is the hierarchical mixture of Gaussians of
#' Sokoloski (2024, arXiv:2404.19501): `x = mean + loadings y + e` with
#' `e ~ N(0, cov)` and a
#' latent `y` that is itself a mixture of `k` full-covariance Normals, so
#' that dimension reduction and clustering are fitted jointly (the model of
#' mixtures of common factor analysers). It is
#' `harmonium(ef_normal(dim, covariance), mixture(ef_normal(latent_dim), k))`.
#'
#' `mfa(dim, factors, k)` is the mixture of `k` factor analysers, each with
#' its own mean, loadings and diagonal noise: `mixture(factor_analysis(dim,
#' factors), k)`. More generally `mixture(model, k)` mixes `k` copies of
#' any conjugated model with an exact E-step ([lgm()], [factor_analysis()],
#' [ppca()], [boltzmann_lgm()], [hmog()]), by the complete-mixture
#' construction: the mixture's latent is the pair (component, the model's
#' own latent), which stays conjugate, so the E-step is exact.
#'
#' Deeper hierarchies, whose latent model is itself hierarchical, are built
#' with [harmonium()], e.g. `harmonium(ef_normal(8, "diagonal"),
#' harmonium(ef_normal(3), mixture(ef_normal(2), 4)))`.
#'
#' Both have exact log-likelihoods and cluster posteriors and are fitted by
#' closed-form EM with whitening of the latent (`exactness()` is
#' `"analytic"`).
#'
#' With `posterior = "diagonal"`, `hmog()` is the restricted-posterior
#' hierarchy of Sokoloski (2024): the latent biases are
#' a mixture of `k` diagonal-covariance Normals, so the posterior of every
#' observation, `p(y, k | x)`, is exactly a mixture of Normals with
#' independent latent coordinates, while the prior of `y` is a mixture of
#' full-covariance Normals whose precisions are `D_k - t(A) %*% solve(Psi,
#' A)` with `D_k` diagonal (they differ between clusters only on the
#' diagonal). The log-likelihood and its gradient are exact, but there is
#' no closed-form M-step: the model is fitted by the exact gradient
#' (`exactness()` is `"differentiable"`, `fit_lvm(method = "auto")` uses
#' `"gradient"`). It is a submodel of the symmetric HMoG (the same
#' marginal form, a mixture of `N(mean + loadings m_k, loadings S_k
#' t(loadings) + cov)`), equal to it for `k <= 2` or `latent_dim = 1`,
#' where the posterior precisions of the symmetric model can always be
#' diagonalised in one basis, and smaller otherwise. Its source parameters
#' are those of `hmog`, with the latent mixture that of the prior (full
#' `cov` matrices); the free parameters are `mean`, `loadings`, `cov`, the
#' weights, the component means and the q diagonal posterior precisions of
#' each component, so that the component covariances are determined by
#' `solve(S_k) + t(loadings) %*% solve(cov, loadings)` being diagonal
#' (given parameters are accepted if some basis of the latent space makes
#' them so). The latent is reported with overall mean 0 and unit
#' variances, axes ordered by the norm of their loadings.
#'
#' Source parameters: for `hmog`, `mean` (dim), `loadings` (dim x
#' latent_dim), `cov` (dim x dim observation noise) and `latent`, the latent
#' mixture's `weights` and `components` (each with `mean` and `cov`); the
#' latent is reported standardised (overall mean 0, covariance I) and
#' rotated so that the loadings have orthogonal columns. For `mfa` and
#' `mixture(model, k)`, `weights` and `components`, one parameter list of
#' the component model per cluster.
#'
#' @param dim Number of observed variables.
#' @param latent_dim Dimension of the continuous latent space.
#' @param k Number of clusters.
#' @param covariance Observation noise: `"diagonal"` (the default),
#'   `"isotropic"` or `"full"`.
#' @param posterior `"full"` (the symmetric model, closed-form EM) or
#'   `"diagonal"` (the restricted-posterior model, fitted by gradient).
#' @param factors Number of factors of each analyser.
#' @return An `lvm_model`.
#' @seealso [fit_lvm()], [posterior()], [select_k()].
#' @examples
#' hmog(4, 2, 3)
#' mfa(4, 1, 2)
#' # A deeper hierarchy: 4 variables, a 3-dimensional latent over a
#' # 2-dimensional one with 3 clusters.
#' harmonium(ef_normal(4, "diagonal"), harmonium(ef_normal(3), mixture(ef_normal(2), 3)))
#' fit <- fit_lvm(hmog(4, 2, 3), iris[, 1:4], control = lvm_control(n_init = 2, tol = 1e-6))
#' table(predict(fit), iris$Species)
#' fd <- fit_lvm(hmog(4, 2, 3, posterior = "diagonal"), iris[, 1:4], control = lvm_control(n_init = 2))
#' exactness(fd)
#' c(symmetric = logLik(fit), diagonal = logLik(fd))
#' @export
hmog <- function(dim, latent_dim, k, covariance = "diagonal", posterior = c("full", "diagonal")) {
  dim <- check_count(dim, max = 10000L)
  q <- check_count(latent_dim, max = max(1L, dim - 1L))
  k <- check_count(k, max = 10000L)
  covariance <- check_choice(covariance, c("diagonal", "isotropic", "full"))
  posterior <- check_choice(posterior, c("full", "diagonal"))
  if (posterior == "diagonal") {
    return(new_hmog_diag_model(ef_normal(dim, covariance), q, k))
  }
  harmonium(ef_normal(dim, covariance), mixture(ef_normal(q), k))
}

#' @rdname hmog
#' @export
mfa <- function(dim, factors, k) {
  dim <- check_count(dim, max = 10000L)
  factors <- check_count(factors, max = max(1L, dim - 1L))
  k <- check_count(k, max = 10000L)
  mixture(factor_analysis(dim, factors), k)
}

# --- hierarchical mixture of Gaussians ---------------------------------------

new_hmog_model <- function(obs, latent, call = rlang::caller_env()) {
  if (obs$name != "normal") {
    abort_hm(c("The observable of a hierarchical model must be a Normal family.",
      x = "It is {obs$label}."), "unsupported", call = call)
  }
  deeper <- inherits(latent, "hmog_model")
  if (!deeper && (!inherits(latent, "mixture_model") || latent$component$name != "normal")) {
    abort_hm(c("The latent model of a hierarchical harmonium must be a mixture of Normals or a hierarchical model.",
      x = "It is {latent$label}.",
      i = "Use e.g. {.code harmonium(ef_normal(5, \"diagonal\"), mixture(ef_normal(2), 3))} or {.fn hmog}."),
      "unsupported", call = call)
  }
  lat_obs <- if (deeper) latent$obs else latent$component
  if (lat_obs$covariance != "full") {
    what <- if (deeper) "observable of the latent hierarchical model" else "latent mixture's components"
    abort_hm(c("The {what} must be a full-covariance Normal.",
      i = "Use {.code ef_normal({lat_obs$n})}: the coupling adds a full precision to it."),
      "unsupported", call = call)
  }
  if (deeper && latent$depth >= 3L) {
    abort_hm("Hierarchies are limited to 4 levels of latent variables.", "unsupported", call = call)
  }
  p <- obs$n
  q <- lat_obs$n
  k <- latent$k
  if (q >= p) {
    abort_hm(c("The latent dimension must be smaller than the observed one.",
      x = "The latent is {q}-dimensional and the observable {p}-dimensional."), "argument", call = call)
  }
  noise <- switch(obs$covariance, full = p * (p + 1L) / 2L, diagonal = p, isotropic = 1L)
  # Free parameters: mean, loadings, noise and the latent model, less the
  # affine maps of the latent space (q + q^2) that leave p(x) unchanged.
  # Over a mixture the latent model has (k - 1) + k (q + q (q + 1) / 2);
  # over a lower hierarchy its own count, less the part of its clusters'
  # common covariance that its full noise can absorb (r (r + 1) / 2).
  if (deeper) {
    r <- latent$q
    n_lat <- latent$n_free - r * (r + 1L) / 2L
    specs <- c(list(latent$obs$spec), if (is.list(latent$lat_spec)) latent$lat_spec else list(latent$lat_spec))
    hk <- c(hm_kind[["hmog"]], latent$hm_kind)
    label <- sprintf("hierarchical model (%d variables, %s noise; %d-dimensional latent over a %s)",
      p, obs$covariance, q, latent$label)
  } else {
    n_lat <- (k - 1L) + k * (q + q * (q + 1L) / 2L)
    specs <- latent$component$spec
    hk <- c(hm_kind[["hmog"]], k)
    label <- sprintf("hierarchical mixture of Gaussians (%d variables, %s noise; %d-dimensional latent, %d clusters)",
      p, obs$covariance, q, k)
  }
  n_free <- p + p * q + noise + n_lat - q - q * q
  m <- list(
    kind = "hmog", obs = obs, latent = latent, p = p, q = q, k = k, depth = if (deeper) latent$depth + 1L else 1L,
    hm_kind = hk, obs_spec = obs$spec, lat_spec = specs,
    d = obs$d, n_free = as.integer(n_free), closed = TRUE, has_em = TRUE, whiten = TRUE,
    fit_class = "composite_fit", label = label
  )
  info <- native_model_info(m)
  m$dim <- info[1]
  m$post_len <- info[2]
  m$stats_len <- info[3]
  structure(m, class = c("hmog_model", "lvm_model"))
}

# The latent of a hierarchy as a mixture over y (user's latent units): a
# mixture's own components, or for a lower hierarchy y | k ~ N(mean +
# loadings m_k, cov + loadings S_k loadings') with (m_k, S_k) its own
# latent mixture over y's latent, recursively.
hmog_latent_mixture <- function(lat) {
  if (!is.null(lat$weights)) return(lat)
  inner <- hmog_latent_mixture(lat$latent)
  A <- lat$loadings
  inner$components <- lapply(inner$components, function(ck) {
    C <- lat$cov + A %*% ck$cov %*% t(A)
    list(mean = as.vector(lat$mean + A %*% ck$mean), cov = (C + t(C)) / 2)
  })
  inner
}

# y' = Ti (y - c) applied to the latent model's parameters.
hmog_latent_affine <- function(lat, Ti, c) {
  if (!is.null(lat$weights)) {
    lat$components <- lapply(lat$components, function(ck) {
      C <- Ti %*% ck$cov %*% t(Ti)
      list(mean = as.vector(Ti %*% (ck$mean - c)), cov = (C + t(C)) / 2)
    })
    return(lat)
  }
  C <- Ti %*% lat$cov %*% t(Ti)
  lat$mean <- as.vector(Ti %*% (lat$mean - c))
  lat$loadings <- Ti %*% lat$loadings
  lat$cov <- (C + t(C)) / 2
  lat
}

# rho of the linear-Gaussian coupling in Normal(q) coordinates: location
# W'b and the packed precision of -W' Sigma_x W.
hmog_rho <- function(W, b, Sx) {
  c(as.vector(crossprod(W, b)), packed_precision(-crossprod(W, Sx %*% W)))
}

hmog_split <- function(m, theta) {
  dx <- m$obs$dim
  list(
    th_x = theta[seq_len(dx)],
    W = matrix(theta[dx + seq_len(m$p * m$q)], m$p, m$q, byrow = TRUE),
    th_l = theta[-seq_len(dx + m$p * m$q)]
  )
}

#' @export
model_to_nat.hmog_model <- function(m, params, arg = "params", call = rlang::caller_env()) {
  need <- c("mean", "loadings", "cov", "latent")
  if (!is.list(params) || !all(need %in% names(params))) {
    abort_hm("{.arg {arg}} must be a list with elements {.field {need}}.", "params", call = call)
  }
  b <- check_numeric_vector(params$mean, m$p, arg = paste0(arg, "$mean"), call = call)
  A <- check_matrix(params$loadings, m$p, m$q, arg = paste0(arg, "$loadings"), call = call)
  th_x <- m$obs$to_nat(list(mean = b, cov = params$cov))
  Sx <- m$obs$to_src(th_x)$cov
  W <- solve(Sx, A)
  prior <- model_to_nat(m$latent, params$latent, arg = paste0(arg, "$latent"), call = call)
  rho <- hmog_rho(W, b, Sx)
  at <- seq_along(rho)
  prior[at] <- prior[at] - rho
  c(th_x, as.vector(t(W)), prior)
}

#' @export
model_to_src.hmog_model <- function(m, theta) {
  sp <- hmog_split(m, theta)
  ob <- m$obs$to_src(sp$th_x)
  A <- ob$cov %*% sp$W
  prior <- sp$th_l
  rho <- hmog_rho(sp$W, ob$mean, ob$cov)
  at <- seq_along(rho)
  prior[at] <- prior[at] + rho
  hmog_standardise(list(mean = ob$mean, loadings = A, cov = ob$cov, latent = model_to_src(m$latent, prior)))
}

# The latent space of a hierarchy is identified up to an affine map: report
# it with overall mean 0 and covariance I, rotated so that the loadings
# have orthogonal columns by decreasing norm (each column's largest entry
# positive). p(x) is unchanged.
hmog_standardise <- function(params) {
  lat <- hmog_latent_mixture(params$latent)
  w <- lat$weights
  mus <- lapply(lat$components, `[[`, "mean")
  mbar <- Reduce(`+`, Map(`*`, w, mus))
  S <- Reduce(`+`, Map(function(wk, ck) wk * (ck$cov + tcrossprod(ck$mean - mbar)), w, lat$components))
  L <- t(chol((S + t(S)) / 2))
  AL <- params$loadings %*% L
  V <- if (ncol(AL) > 1L) svd(AL)$v else matrix(1, 1, 1)
  AV <- AL %*% V
  sgn <- apply(AV, 2L, function(v) sign(v[which.max(abs(v))]))
  sgn[sgn == 0] <- 1
  V <- sweep(V, 2L, sgn, "*")
  Ti <- t(V) %*% solve(L) # y' = Ti (y - mbar)
  params$mean <- as.vector(params$mean + params$loadings %*% mbar)
  params$loadings <- AL %*% V
  params$latent <- hmog_latent_affine(params$latent, Ti, mbar)
  params
}

#' @export
model_affine.hmog_model <- function(m, sc, params, inverse) {
  s <- sc$scale
  if (inverse) {
    params$mean <- params$mean * s + sc$center
    params$loadings <- params$loadings * s
    params$cov <- params$cov * outer(s, s)
  } else {
    params$mean <- (params$mean - sc$center) / s
    params$loadings <- params$loadings / s
    params$cov <- params$cov / outer(s, s)
  }
  params
}

#' @export
model_post_names.hmog_model <- function(m) c(as.character(seq_len(m$k)), paste0("F", seq_len(m$q)))

#' @export
model_name_params.hmog_model <- function(m, params) {
  cn <- family_colnames(m$obs)
  lat <- paste0("F", seq_len(m$q))
  names(params$mean) <- cn
  dimnames(params$loadings) <- list(cn, lat)
  dimnames(params$cov) <- list(cn, cn)
  params$latent <- hmog_name_latent(m$latent, params$latent, lat, 1L)
  params
}

# Latent variables of level l are named F1.., then G1.., H1.. below.
hmog_name_latent <- function(lm, lat, nm, level) {
  if (!inherits(lm, "hmog_model")) {
    lat$components <- lapply(lat$components, function(ck) {
      names(ck$mean) <- nm
      dimnames(ck$cov) <- list(nm, nm)
      ck
    })
    return(lat)
  }
  below <- paste0(LETTERS[6L + level], seq_len(lm$q))
  names(lat$mean) <- nm
  dimnames(lat$loadings) <- list(nm, below)
  dimnames(lat$cov) <- list(nm, nm)
  lat$latent <- hmog_name_latent(lm$latent, lat$latent, below, level + 1L)
  lat
}

#' @export
model_canonical.hmog_model <- function(m, theta) model_to_nat(m, model_to_src(m, theta))

# Start i: factor analysis (or PCA) of the data, the posterior factor scores,
# k-means on them (k-means++ from start i's seed), and per cluster the
# latent mean and covariance of its scores (plus the posterior covariance).
#' @export
model_start.hmog_model <- function(m, xs, x, w, i, control, ctrl, threads, cache = NULL) {
  st <- lgm_pca_start(list(p = m$p, q = m$q, obs = m$obs), xs, w, i, control)
  A <- st$A
  Pi <- 1 / diag(st$cov)
  Spost <- chol2inv(chol(diag(m$q) + crossprod(A, Pi * A)))
  scores <- sweep(xs, 2L, st$mu) %*% (Pi * A) %*% Spost
  if (inherits(m$latent, "hmog_model")) {
    # A lower hierarchy: its own start on the factor scores, its noise
    # widened by the scores' posterior covariance.
    th <- model_start(m$latent, scores, scores, w, i, control, ctrl, threads)
    if (is.null(th)) return(NULL)
    lat <- model_to_src(m$latent, th)
    lat$cov <- lat$cov + Spost
    params <- list(mean = st$mu, loadings = A, cov = st$cov, latent = lat)
    return(tryCatch(model_to_nat(m, params), harmonium_error = function(e) NULL))
  }
  labels <- with_seed(start_seed(control, i), kmeans_pp_labels(scores, m$k, threads))
  ww <- if (is.null(w)) rep(1, nrow(xs)) else w
  comps <- lapply(seq_len(m$k), function(j) {
    idx <- which(labels == j)
    if (length(idx) < 2L) idx <- seq_len(nrow(xs))
    wm <- weighted_moments(scores[idx, , drop = FALSE], ww[idx])
    list(mean = wm$mu, cov = wm$S + Spost + 1e-3 * diag(m$q))
  })
  wts <- vapply(seq_len(m$k), function(j) sum(ww[labels == j]), 0) + 1e-3 * sum(ww) / m$k
  params <- list(mean = st$mu, loadings = A, cov = st$cov,
    latent = list(weights = wts / sum(wts), components = comps))
  tryCatch(model_to_nat(m, params), harmonium_error = function(e) NULL)
}

# --- mixtures of models ----------------------------------------------------------

# Model kinds that can be mixed: those with an exact E-step over data.
mixable_kinds <- c("lgm", "boltzmann_lgm", "hmog")

new_mixture_of_model <- function(base, k, call = rlang::caller_env()) {
  if (!base$kind %in% mixable_kinds) {
    abort_hm(c("Mixtures of {base$label} are not available.",
      i = "Mix a linear Gaussian model ({.fn factor_analysis}, {.fn ppca}, {.fn lgm}), {.fn boltzmann_lgm} or {.fn hmog}; mix families with {.code mixture(ef_normal(2), k)}."),
      "unsupported", call = call)
  }
  m <- list(
    kind = "mixture_of", base = base, k = k, obs = base$obs, q = base$q,
    hm_kind = c(hm_kind[["mixture_of"]], k, base$hm_kind), obs_spec = base$obs_spec, lat_spec = base$lat_spec,
    d = base$d, n_free = as.integer((k - 1L) + k * base$n_free), closed = isTRUE(base$closed),
    has_em = !isFALSE(base$has_em), whiten = isTRUE(base$whiten), fit_class = "composite_fit",
    label = sprintf("mixture of %d %s", k, sub("^(factor analysis|probabilistic PCA)", "\\1 models", base$label))
  )
  if (base$kind == "lgm" && base$obs$covariance == "diagonal") {
    m$label <- sprintf("mixture of %d factor analysers (%d variables, %d factor%s)", k, base$p, base$q,
      if (base$q == 1L) "" else "s")
  }
  info <- native_model_info(m)
  m$dim <- info[1]
  m$post_len <- info[2]
  m$stats_len <- info[3]
  structure(m, class = c("mixture_of_model", "lvm_model"))
}

# Per-component natural parameters and weights -> the complete-mixture
# coordinates [theta^(0) | offsets | lambda] with lambda_k = log(w_k / w_0)
# - (psi_B(theta^(k)) - psi_B(theta^(0))).
mixture_of_join <- function(m, thetas, w) {
  psi <- vapply(thetas, function(th) model_log_partition(m$base, th), 0)
  th0 <- thetas[[1]]
  off <- if (m$k > 1L) vapply(thetas[-1], function(th) th - th0, th0) else matrix(0, length(th0), 0)
  c(th0, as.vector(t(off)), log(w[-1] / w[1]) - (psi[-1] - psi[1]))
}

mixture_of_split <- function(m, theta) {
  db <- m$base$dim
  k <- m$k
  th0 <- theta[seq_len(db)]
  off <- matrix(theta[db + seq_len(db * (k - 1L))], db, k - 1L, byrow = TRUE)
  thetas <- c(list(th0), lapply(seq_len(k - 1L), function(j) th0 + off[, j]))
  psi <- vapply(thetas, function(th) model_log_partition(m$base, th), 0)
  a <- c(0, theta[db * k + seq_len(k - 1L)]) + psi
  w <- exp(a - max(a))
  list(thetas = thetas, weights = w / sum(w))
}

#' @export
model_to_nat.mixture_of_model <- function(m, params, arg = "params", call = rlang::caller_env()) {
  if (!is.list(params) || !all(c("weights", "components") %in% names(params))) {
    abort_hm("{.arg {arg}} must be a list with elements {.field weights} and {.field components}.",
      "params", call = call)
  }
  w <- check_prob_vector(params$weights, m$k, arg = paste0(arg, "$weights"), call = call, simplex = TRUE)
  if (any(w <= 0)) abort_hm("{.arg {arg}$weights} must be positive.", "params", call = call)
  comps <- params$components
  if (!is.list(comps) || length(comps) != m$k) {
    abort_hm("{.arg {arg}$components} must be a list of {m$k} parameter lists.", "params", call = call)
  }
  thetas <- lapply(seq_len(m$k), function(j) {
    model_to_nat(m$base, comps[[j]], arg = sprintf("%s$components[[%d]]", arg, j), call = call)
  })
  mixture_of_join(m, thetas, w)
}

#' @export
model_to_src.mixture_of_model <- function(m, theta) {
  sp <- mixture_of_split(m, theta)
  list(weights = sp$weights, components = lapply(sp$thetas, function(th) model_to_src(m$base, th)))
}

#' @export
model_affine.mixture_of_model <- function(m, sc, params, inverse) {
  params$components <- lapply(params$components, function(p) model_affine(m$base, sc, p, inverse))
  params
}

#' @export
model_post_names.mixture_of_model <- function(m) c(as.character(seq_len(m$k)), model_post_names(m$base))

#' @export
model_name_params.mixture_of_model <- function(m, params) {
  # The data's column names live on the mixture's observable family.
  base <- m$base
  base$obs <- m$obs
  params$components <- lapply(params$components, function(p) model_name_params(base, p))
  params
}

#' @export
model_canonical.mixture_of_model <- function(m, theta) {
  sp <- mixture_of_split(m, theta)
  mixture_of_join(m, lapply(sp$thetas, function(th) model_canonical(m$base, th)), sp$weights)
}

# Start 1: the base model fitted to all the data gives posterior latent
# means, clustered by k-means (PCA/FA then k-means in the latent space);
# later starts cluster the data themselves from start i's k-means++ seed.
# Each cluster then gets the base model's own start on its rows.
#' @export
model_start.mixture_of_model <- function(m, xs, x, w, i, control, ctrl, threads, cache = NULL) {
  th_all <- model_start(m$base, xs, x, w, 1L, control, ctrl, threads)
  if (is.null(th_all)) return(NULL)
  f <- if (i == 1L) {
    es <- native_model_estep(m$base, th_all, xs, w, logp = FALSE, post = TRUE, threads = threads)
    if (es$status != 0L) return(NULL)
    es$post
  } else {
    cached(cache, "features", family_features(m$obs, x))
  }
  labels <- with_seed(start_seed(control, i), kmeans_pp_labels(f, m$k, threads))
  mixture_of_from_labels(m, xs, x, w, labels, th_all, control, ctrl, threads)
}

mixture_of_from_labels <- function(m, xs, x, w, labels, th_all, control, ctrl, threads) {
  ww <- if (is.null(w)) rep(1, nrow(xs)) else w
  thetas <- lapply(seq_len(m$k), function(j) {
    idx <- which(labels == j)
    th <- if (length(idx) > 2L) {
      model_start(m$base, xs[idx, , drop = FALSE], x[idx, , drop = FALSE], ww[idx], 1L, control, ctrl, threads)
    }
    if (is.null(th)) th_all else th
  })
  wts <- vapply(seq_len(m$k), function(j) sum(ww[labels == j]), 0) + 1e-3 * sum(ww) / m$k
  tryCatch(mixture_of_join(m, thetas, wts / sum(wts)), harmonium_error = function(e) NULL)
}

#' @export
model_init.mixture_of_model <- function(m, xs, w, init, ctrl, threads, sc, call) {
  if (is.factor(init)) init <- as.integer(init)
  if (is.numeric(init) && is.null(dim(init)) && length(init) == nrow(xs)) {
    if (!all(init %in% seq_len(m$k))) {
      abort_hm("The labels in {.arg init} must be in 1..{m$k}.", "init", call = call)
    }
    control <- lvm_control()
    th_all <- model_start(m$base, xs, xs, w, 1L, control, ctrl, threads)
    th <- if (!is.null(th_all)) mixture_of_from_labels(m, xs, xs, w, as.integer(init), th_all, control, ctrl, threads)
    if (is.null(th)) abort_hm("The labels in {.arg init} give no valid starting parameters.", "init", call = call)
    return(th)
  }
  NextMethod()
}
