# Linear Gaussian models and Gaussian-Boltzmann harmoniums: a Normal
# observable coupled through its location to a
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
#' (the M-step maps the latent statistics back to a standard Normal prior),
#' started from principal components.
#'
#' Source parameters are `list(mean = , loadings = , cov = )`: the mean `b`
#' (length p), the p x q loadings `A` and the p x p noise covariance `Psi`.
#' Loadings are reported in a canonical orientation (orthogonal columns,
#' ordered by the variance they explain, largest entry positive); rotated
#' loadings come from [rotate_loadings()].
#'
#' With `posterior = "diagonal"` the latent biases are restricted to a
#' diagonal-covariance Normal (a restricted-posterior harmonium, Sokoloski
#' 2024): the posterior of each observation is exactly a Normal with
#' independent factors, while the prior is a full-covariance Normal. The
#' likelihood is still exact, but there is no closed-form M-step, so the
#' model is fitted by gradient ascent (`fit_lvm(method = "auto")` chooses
#' it). Its marginal family is that of the unrestricted model (any loadings
#' can be rotated to make the posterior diagonal), so both reach the same
#' maximum.
#'
#' @param observable A Normal family, e.g. `ef_normal(5, "diagonal")`.
#' @param latent_dim Number of latent dimensions (factors), less than the
#'   data dimension.
#' @param posterior `"full"` (the closed-form model) or `"diagonal"` (the
#'   restricted-posterior model fitted by gradient).
#' @return An `lvm_model` of class `lgm_model`.
#' @seealso [fit_lvm()], [boltzmann_lgm()].
#' @examples
#' x <- mtcars[, c("mpg", "disp", "hp", "drat", "wt", "qsec")]
#' fit <- fit_lvm(factor_analysis(6, 2), x)
#' summary(fit)
#' head(posterior(fit))
#' # The same maximum as stats::factanal():
#' rbind(harmonium = summary(fit)$uniquenesses, factanal = factanal(x, 2)$uniquenesses)
#' @export
lgm <- function(observable, latent_dim, posterior = c("full", "diagonal")) {
  posterior <- check_choice(posterior, c("full", "diagonal"))
  check_family(observable)
  if (observable$name != "normal") {
    abort_hm("{.arg observable} must be a Normal family such as {.code ef_normal(5, \"diagonal\")}.",
      "argument")
  }
  p <- observable$n
  q <- check_count(latent_dim, arg = "latent_dim", max = max(1L, p - 1L))
  label <- switch(observable$covariance,
    diagonal = sprintf("factor analysis (%d variables, %d factor%s)", p, q, if (q == 1L) "" else "s"),
    isotropic = sprintf("probabilistic PCA (%d variables, %d component%s)", p, q, if (q == 1L) "" else "s"),
    full = sprintf("linear Gaussian model (%d variables, %d latent dimension%s)", p, q, if (q == 1L) "" else "s")
  )
  noise <- switch(observable$covariance, full = p * (p + 1L) / 2L, diagonal = p, isotropic = 1L)
  n_free <- p + p * q + noise - q * (q - 1L) / 2L
  if (posterior == "diagonal") {
    return(new_lgm_model("lgm_diag", observable, ef_normal(q, "diagonal"), q,
      paste(label, "with diagonal posterior"), n_free = n_free, whiten = FALSE, prior_fam = ef_normal(q)))
  }
  new_lgm_model("lgm", observable, ef_normal(q), q, label, n_free = n_free, whiten = TRUE)
}

#' @rdname lgm
#' @param dim Number of observed variables.
#' @param factors Number of factors.
#' @export
factor_analysis <- function(dim, factors) {
  dim <- check_count(dim, max = 10000L)
  factors <- check_latent_count(factors, dim, "factor")
  lgm(ef_normal(dim, "diagonal"), factors)
}

#' @rdname lgm
#' @param components Number of principal components.
#' @export
ppca <- function(dim, components) {
  dim <- check_count(dim, max = 10000L)
  components <- check_latent_count(components, dim, "component")
  lgm(ef_normal(dim, "isotropic"), components)
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
#' With `posterior = "mean_field"` the latent biases are restricted to
#' independent units (a restricted-posterior harmonium, Sokoloski 2024): the
#' posterior factorises exactly over the units and costs no enumeration per
#' observation, while the prior is a Boltzmann machine whose couplings are
#' implied by the loadings, `t(A) %*% solve(Psi, A)` off the diagonal (so
#' `prior$coupling` may be omitted). It has no closed-form M-step and is
#' fitted by gradient, exact or by contrastive divergence
#' (`lvm_control(cd_k = )`).
#'
#' @param observable A Normal family.
#' @param units Number of binary latent units (at most 20).
#' @param posterior `"exact"` (Boltzmann latent, EM) or `"mean_field"`
#'   (independent-unit posterior, gradient).
#' @return An `lvm_model` of class `lgm_model`.
#' @examples
#' set.seed(1)
#' x <- rbind(matrix(rnorm(200, sd = 0.3), 100), matrix(rnorm(200, 2, 0.3), 100))
#' fit <- fit_lvm(boltzmann_lgm(ef_normal(2, "diagonal"), 2), x)
#' fit
#' @export
boltzmann_lgm <- function(observable, units, posterior = c("exact", "mean_field")) {
  posterior <- check_choice(posterior, c("exact", "mean_field"))
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
  label <- sprintf("Gaussian-Boltzmann harmonium (%d variables, %d binary units)", p, q)
  if (posterior == "mean_field") {
    return(new_lgm_model("boltzmann_lgm_mf", observable, ef_bernoulli(q), q,
      paste(label, "with mean-field posterior"), n_free = p + p * q + noise + q, whiten = FALSE,
      prior_fam = ef_boltzmann(q)))
  }
  new_lgm_model("boltzmann_lgm", observable, ef_boltzmann(q), q, label,
    n_free = p + p * q + noise + q * (q + 1L) / 2L, whiten = FALSE)
}

# The number of factors (or components) of a factor model of `dim`
# variables: a whole number below `dim` (but 1 for one variable), the
# message naming the user's argument and why.
check_latent_count <- function(x, dim, what, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  force(arg)
  if (missing(x)) abort_missing(arg, call)
  x <- check_count(x, arg = arg, call = call)
  top <- max(1L, dim - 1L)
  if (x > top) {
    whats <- paste0(what, if (top != 1L) "s")
    abort_hm(c("{.arg {arg}} is {x}, but a model of {dim} variable{?s} has at most {top} {whats}.",
      i = "Use fewer {what}s (the Ledermann bound identifies at most {ledermann_bound(dim)})."),
      "argument", call = call)
  }
  x
}

# The largest number of factors whose loadings and uniquenesses are
# identified for p variables: (2p + 1 - sqrt(8p + 1)) / 2, rounded down.
ledermann_bound <- function(p) max(0L, as.integer(floor((2 * p + 1 - sqrt(8 * p + 1)) / 2 + 1e-9)))

# kind: "lgm" and "lgm_diag" have a Gaussian latent, "boltzmann_lgm" and
# "boltzmann_lgm_mf" a binary one; the restricted-posterior kinds ("_diag",
# "_mf") have a posterior family `lat` embedded in the prior family
# `prior_fam` and no EM.
new_lgm_model <- function(kind, obs, lat, q, label, n_free, whiten, prior_fam = lat) {
  m <- list(
    kind = kind, obs = obs, lat = lat, prior_fam = prior_fam, q = q, p = obs$n,
    hm_kind = hm_kind[[kind]], obs_spec = obs$spec, lat_spec = lat$spec,
    d = obs$d, n_free = as.integer(n_free), label = label, whiten = whiten, closed = kind == "lgm",
    gaussian_latent = kind %in% c("lgm", "lgm_diag"), restricted = kind %in% c("lgm_diag", "boltzmann_lgm_mf"),
    has_em = kind %in% c("lgm", "boltzmann_lgm"), fit_class = "lgm_fit",
    # EM for a Gaussian latent converges slowly (linearly, at rates near 1
    # when the factors explain little): stop on Aitken's estimate of the
    # distance to the maximum (run_em()).
    stop_rule = if (kind %in% c("lgm", "lgm_diag")) "aitken" else "change",
    # EM from the data's moments (run_em(), lgm_data_moments()): exact for a
    # Normal latent, whose E-step sums are quadratic in x.
    em_moments = kind == "lgm",
    grad_moments = kind %in% c("lgm", "lgm_diag"),
    default_maxit = if (kind %in% c("lgm", "lgm_diag")) 10000L else NULL
  )
  info <- native_model_info(m)
  m$dim <- info[1]
  m$post_len <- info[2]
  m$stats_len <- info[3]
  structure(m, class = c("lgm_model", "lvm_model"))
}

# --- coordinates ---------------------------------------------------------------

# The packed natural second-order block of the precision matrix M, in the
# latent family's layout: -M_ii / 2 on the diagonal and
# -M_ij off it, for a Normal; a Boltzmann machine uses the same packing of
# its generalized-Gaussian precision.
packed_precision <- function(M) {
  out <- -M
  diag(out) <- -diag(M) / 2
  pack_sym(out)
}

# The conjugation parameter rho in latent coordinates: location W'b on the
# first q entries (Normal latent) or the diagonal (Boltzmann latent), and
# the packed precision -W' Sigma_x W.
lgm_rho <- function(m, W, b, Sx) {
  M <- crossprod(W, Sx %*% W)
  loc <- as.vector(crossprod(W, b))
  prec <- packed_precision(-M)
  if (m$gaussian_latent) {
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
  loc_name <- if (m$gaussian_latent) "mean" else "offset"
  need <- c(loc_name, "loadings", "cov", if (!m$gaussian_latent) "prior")
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
  A <- pr$A
  # The restricted-posterior LGM needs latent coordinates in which the
  # posterior precision I + A' Psi^-1 A is diagonal: rotate to its
  # eigenvectors (the marginal of x is unchanged by any rotation).
  if (m$kind == "lgm_diag") A <- diag_posterior_loadings(A, Sx)
  W <- solve(Sx, A)
  prior <- if (m$gaussian_latent) {
    c(numeric(m$q), packed_precision(diag(m$q)))
  } else {
    mean_field_prior_check(m, params, W, Sx, arg, call)
  }
  th_z <- prior - lgm_rho(m, W, pr$b, Sx)
  c(th_x, as.vector(t(W)), latent_project(m, th_z))
}

# Indices of the diagonal entries of a packed q x q upper triangle.
packed_diag <- function(q) cumsum(c(1L, q - seq_len(q - 1L) + 1L))

# Natural parameters in the prior family -> the posterior family (the
# restricted kinds keep only the entries their family has; the others are
# zero by construction) and back (embedding: the prior family's natural
# parameters with those entries and zeros elsewhere).
latent_project <- function(m, th_prr) {
  q <- m$q
  switch(m$kind,
    lgm_diag = c(th_prr[seq_len(q)], th_prr[q + packed_diag(q)]),
    boltzmann_lgm_mf = th_prr[packed_diag(q)],
    th_prr
  )
}

latent_embed <- function(m, th_z) {
  q <- m$q
  switch(m$kind,
    lgm_diag = {
      out <- numeric(q + q * (q + 1L) / 2L)
      out[seq_len(q)] <- th_z[seq_len(q)]
      out[q + packed_diag(q)] <- th_z[q + seq_len(q)]
      out
    },
    boltzmann_lgm_mf = {
      out <- numeric(q * (q + 1L) / 2L)
      out[packed_diag(q)] <- th_z
      out
    },
    th_z
  )
}

# Loadings rotated so that A' Psi^-1 A is diagonal, columns in decreasing
# order of that precision, each column's largest entry positive.
diag_posterior_loadings <- function(A, Psi) {
  if (ncol(A) > 1L) A <- A %*% eigen(crossprod(A, solve(Psi, A)), symmetric = TRUE)$vectors
  sgn <- apply(A, 2L, function(v) sign(v[which.max(abs(v))]))
  sgn[sgn == 0] <- 1
  sweep(A, 2L, sgn, "*")
}

# The Boltzmann prior's natural parameters from params$prior. In the
# mean-field model its couplings are implied by the loadings (the prior is
# the embedded biases plus rho), so only the bias is free: a coupling, if
# given, must be the implied one.
mean_field_prior_check <- function(m, params, W, Sx, arg, call) {
  q <- m$q
  pp <- params$prior
  if (m$kind != "boltzmann_lgm_mf") return(m$prior_fam$to_nat(pp))
  if (!is.list(pp) || is.null(pp$bias)) {
    abort_hm("{.arg {arg}$prior} must be a list with element {.field bias}.", "params", call = call)
  }
  b <- check_numeric_vector(pp$bias, q, arg = paste0(arg, "$prior$bias"), call = call)
  implied <- crossprod(W, Sx %*% W)
  diag(implied) <- 0
  if (!is.null(pp$coupling)) {
    C <- check_matrix(pp$coupling, q, q, arg = paste0(arg, "$prior$coupling"), call = call)
    if (max(abs(C - implied)) > 1e-8 * max(1, max(abs(implied)))) {
      abort_hm(c("{.arg {arg}$prior$coupling} must equal the couplings implied by the loadings.",
        i = "In the mean-field model they are {.code t(A) %*% solve(Psi, A)} off the diagonal; omit them."),
        "params", call = call)
    }
  }
  M <- implied
  diag(M) <- b
  pack_sym(M)
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
  prior_nat <- latent_embed(m, sp$th_z) + lgm_rho(m, sp$W, ob$mean, ob$cov)
  if (!m$gaussian_latent) {
    return(list(offset = ob$mean, loadings = A, cov = ob$cov, prior = m$prior_fam$to_src(prior_nat)))
  }
  # x = A (mu_z + L u) + b + e with u ~ N(0, I): the standard form has mean
  # A mu_z + b and loadings A L, then a canonical orthogonal rotation (for
  # the restricted-posterior model, the one that makes the posterior
  # diagonal).
  pz <- m$prior_fam$to_src(prior_nat)
  L <- t(chol(pz$cov))
  AL <- A %*% L
  list(mean = as.vector(A %*% pz$mean) + ob$mean,
    loadings = if (m$kind == "lgm_diag") diag_posterior_loadings(AL, ob$cov) else canonical_loadings(AL),
    cov = ob$cov)
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
  loc <- if (m$gaussian_latent) "mean" else "offset"
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
  if (m$gaussian_latent) paste0("F", seq_len(m$q)) else paste0("z", seq_len(m$q))
}

#' @export
model_name_params.lgm_model <- function(m, params) {
  cn <- family_colnames(m$obs)
  lat <- model_post_names(m)
  loc <- if (m$gaussian_latent) "mean" else "offset"
  names(params[[loc]]) <- cn
  dimnames(params$loadings) <- list(cn, lat)
  dimnames(params$cov) <- list(cn, cn)
  params
}

# --- starts ----------------------------------------------------------------------

# The data's moments for the engine (src/glue/glue_lgm.c): c(sum w, sum w x,
# sum w x x' row-major), one threaded pass over the rows.
lgm_data_moments <- function(m, xs, w, threads) {
  res <- native_lgm_moments(m, xs, w, threads)
  stop_status(res, "the data's moments")
  res$moments
}

# Weighted mean and divisor-n covariance of the rows of xs, for a
# linear-Gaussian model from the engine's moments.
# (The composites' starts pass a bare list(p, q, obs): R computes them.)
lgm_weighted_moments <- function(m, xs, w, threads = resolve_threads(NULL)) {
  if (is.null(m$hm_kind)) return(weighted_moments(xs, w))
  p <- ncol(xs)
  mom <- lgm_data_moments(m, xs, w, threads)
  mu <- mom[1L + seq_len(p)] / mom[1]
  S <- matrix(mom[-seq_len(p + 1L)], p, p) / mom[1] - tcrossprod(mu)
  list(mu = mu, S = (S + t(S)) / 2)
}

# Weighted mean and divisor-n covariance of the rows of xs.
weighted_moments <- function(xs, w) {
  n <- nrow(xs)
  ww <- if (is.null(w)) rep(1 / n, n) else w / sum(w)
  mu <- colSums(xs * ww)
  list(mu = mu, S = crossprod(sweep(xs, 2L, mu) * sqrt(ww)))
}

# Principal components of the (internally standardised) data give the first
# start: the closed-form PPCA solution (Tipping and Bishop 1999) for the
# loadings, the residual variances for the noise. Later starts perturb the
# loadings at random.
lgm_pca_start <- function(m, xs, w, i, control, threads = resolve_threads(NULL)) {
  wm <- lgm_weighted_moments(m, xs, w, threads)
  mu <- wm$mu
  S <- wm$S
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
    A <- A + with_seed(start_seed(control, i), matrix(stats::rnorm(p * q, sd = 0.5 * sqrt(mean(lam))), p, q))
  }
  # The M-step bounds the uniquenesses at fit_lower() (factanal's lower);
  # a start inside the bounds keeps EM's trace monotone from its first step.
  if (m$obs$covariance != "full") psi <- pmax(psi, fit_lower(m, control))
  cov <- switch(m$obs$covariance,
    isotropic = diag(mean(psi), p),
    diagonal = diag(psi, p),
    full = diag(psi, p)
  )
  list(mu = mu, A = A, cov = cov)
}

#' @export
model_start.lgm_model <- function(m, xs, x, w, i, control, ctrl, threads, cache = NULL) {
  params <- if (m$gaussian_latent) {
    st <- lgm_pca_start(m, xs, w, i, control, threads)
    list(mean = st$mu, loadings = st$A, cov = st$cov)
  } else {
    blgm_start(m, xs, w, i, control, threads)
  }
  tryCatch(model_to_nat(m, params), harmonium_error = function(e) NULL)
}

# Start of a Gaussian-Boltzmann harmonium: unit j moves the data along
# principal direction ((j - 1) mod p) + 1 by two of its standard deviations,
# perturbed at random (with the internal seed for the first start) so that
# units sharing a direction differ; units are independent with probability
# 1/2 each, and the offset puts the data mean at b + A 1/2.
blgm_start <- function(m, xs, w, i, control, threads = resolve_threads(NULL)) {
  wm <- lgm_weighted_moments(m, xs, w, threads)
  mu <- wm$mu
  S <- wm$S
  e <- eigen(S, symmetric = TRUE)
  p <- m$p
  q <- m$q
  lam <- pmax(e$values, 1e-6 * max(e$values, 1e-12))
  dir <- ((seq_len(q) - 1L) %% p) + 1L
  A <- e$vectors[, dir, drop = FALSE] %*% diag(2 * sqrt(lam[dir]) / ceiling(q / p), q)
  A <- A + with_seed(start_seed(control, i), matrix(stats::rnorm(p * q, sd = 0.3 * sqrt(mean(lam))), p, q))
  resid <- pmax(diag(S) - rowSums(A^2) / 4, 0.05 * diag(S), 1e-6)
  cov <- switch(m$obs$covariance, isotropic = diag(mean(resid), p), diag(resid, p))
  prior <- if (m$kind == "boltzmann_lgm_mf") list(bias = numeric(q)) else
    list(bias = numeric(q), coupling = matrix(0, q, q))
  list(offset = mu - rowSums(A) / 2, loadings = A, cov = cov, prior = prior)
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
  if (!m$gaussian_latent) return(theta)
  model_to_nat(m, model_to_src(m, theta))
}
