# Mixture models: a conjugated harmonium whose latent is a
# Categorical(k) and whose observable is any family. The engine holds the
# algebra (conjugation parameters, prior, E-step, exact M-step); this file
# builds the descriptor and converts between source parameters (weights and
# per-component source lists) and the harmonium's natural coordinates.

#' Finite mixture models
#'
#' `mixture(component, k)` is the conjugated harmonium with a `k`-class
#' categorical latent variable and `component` as the observable family: a
#' finite mixture of `k` members of that family. Every family of
#' [ef_family] and every [ef_product()] of them can be mixed, which gives
#' Gaussian mixtures (full, diagonal or isotropic covariances, or any of
#' mclust's 14 parsimonious structures such as `ef_normal(d, "EEE")` or
#' `"VEV"`; see the "Covariance structures" section of [ef_family]), Poisson,
#' Bernoulli, binomial and categorical mixtures (latent class analysis),
#' and mixtures of von Mises, Conway-Maxwell-Poisson, Dirichlet, Gamma and
#' Boltzmann components.
#'
#' Components whose family has a closed-form mean-to-natural map are fitted
#' by closed-form EM (`exactness()` is `"analytic"`); the others by EM with
#' an exact numerical inner M-step (`"differentiable"`).
#'
#' Source parameters are `list(weights = , components = )`: `weights` sums
#' to 1 and `components` holds one source-parameter list of the component
#' family per class.
#'
#' `mixture(model, k)` with a conjugated model as `component` is the
#' mixture of `k` such models (for example `mixture(factor_analysis(p, q),
#' k)`, the mixture of factor analysers; see [mfa()]).
#'
#' @param component An exponential family (see [ef_family]), or a
#'   conjugated model (see [hmog()]).
#' @param k Number of components (classes), at least 1.
#' @return An `lvm_model` of class `mixture_model`.
#' @seealso [fit_lvm()], [select_k()], [exactness()].
#' @examples
#' m <- mixture(ef_normal(2), 3)
#' m
#' mixture(ef_normal(4, "VEV"), 3)
#' exactness(m)
#' exactness(mixture(ef_von_mises(), 2))
#' @export
mixture <- function(component, k) {
  if (!missing(k) && is.numeric(k) && length(k) > 1L) {
    comp_expr <- paste(deparse(substitute(component), width.cutoff = 60L)[1], collapse = "")
    k_expr <- paste(deparse(substitute(k), width.cutoff = 60L)[1], collapse = "")
    abort_hm(c("{.arg k} must be one number of components, not {length(k)} ({.val {k}}).",
      i = "To compare numbers of components, use {.code select_k({comp_expr}, data, k = {k_expr})}."),
      "argument")
  }
  if (inherits(component, "lvm_model")) {
    k <- check_count(k, min = 1L, max = 10000L)
    return(new_mixture_of_model(component, k))
  }
  check_family(component)
  k <- check_count(k, min = 1L, max = 10000L)
  check_structured_blocks(component)
  lat_spec <- c(fam_kind[["categorical"]], k, 0L, 0L)
  m <- list(
    kind = "mixture", component = component, obs = component, k = k,
    hm_kind = hm_kind[["mixture"]], obs_spec = component$spec, lat_spec = lat_spec
  )
  info <- native_model_info(m)
  m$dim <- info[1]
  m$post_len <- info[2]
  m$stats_len <- info[3]
  m$closed <- info[4] == 1L
  m$d <- component$d
  m$n_free <- (k - 1L) + k * as.integer(component$n_free)
  if (is_structured_normal(component)) {
    # Structured Gaussian mixtures count parameters as mclust's
    # nMclustParams: weights, means and the structure's covariance terms.
    d <- component$d
    m$n_free <- as.integer((k - 1L) + k * d + cov_structure_df(component$structure, d, k))
  }
  m$label <- sprintf("mixture of %d %s", k, component$label)
  structure(m, class = c("mixture_model", "lvm_model"))
}

#' How exactly a model can be fitted
#'
#' `"analytic"`: the log-likelihood and a closed-form EM step (the M-step
#' maps expected sufficient statistics to natural parameters in closed
#' form); `"differentiable"`: the exact log-likelihood and its gradient, with
#' a numerical M-step; `"approximate"`: neither is exact.
#'
#' @param model An `lvm_model` (or a fit).
#' @return One of `"analytic"`, `"differentiable"`, `"approximate"`.
#' @examples
#' exactness(mixture(ef_poisson(), 2))
#' @export
exactness <- function(model) {
  if (inherits(model, "lvm_fit")) model <- model$model
  check_model(model)
  if (isTRUE(model$closed)) "analytic" else "differentiable"
}

#' @export
print.lvm_model <- function(x, ...) {
  cat("<lvm_model> ", x$label, "\n", sep = "")
  cat("  exactness: ", exactness(x), ", free parameters: ", x$n_free, "\n", sep = "")
  invisible(x)
}

# --- coordinates ---------------------------------------------------------------

# Source parameters -> harmonium natural coordinates, through the per-component
# natural parameters and join_conjugated.
mixture_to_nat <- function(m, params, arg = "params", call = rlang::caller_env()) {
  if (!is.list(params) || !all(c("weights", "components") %in% names(params))) {
    abort_hm("{.arg {arg}} must be a list with elements {.field weights} and {.field components}.",
      "params", call = call)
  }
  w <- check_prob_vector(params$weights, m$k, arg = paste0(arg, "$weights"), call = call, simplex = TRUE)
  if (any(w <= 0)) {
    abort_hm("{.arg {arg}$weights} must be positive.", "params", call = call)
  }
  comps <- params$components
  if (!is.list(comps) || length(comps) != m$k) {
    abort_hm("{.arg {arg}$components} must be a list of {m$k} parameter lists.", "params", call = call)
  }
  fam <- m$component
  cm <- matrix(0, m$k, fam$dim)
  for (j in seq_len(m$k)) cm[j, ] <- fam$to_nat(comps[[j]])
  if (is_structured_normal(fam) && m$k > 1L &&
    !cov_structure_holds(fam$structure, lapply(comps, `[[`, "cov"))) {
    abort_hm(c("The component covariances in {.arg {arg}} do not have the {fam$structure} structure.",
      i = "See {.help [ef_normal](harmonium::ef_family)} for what each structure ties."), "params", call = call)
  }
  mixture_join(m, cm, log(w[-1]) - log(w[1]), call = call)
}

# A Normal family carrying one of mclust's structure names (other than the
# historical "full", "diagonal", "isotropic").
is_structured_normal <- function(fam) {
  identical(fam$name, "normal") && !is.null(fam$structure) && fam$spec[4] != 0L
}

# Whether the structure couples the components in the M-step (not VII, VVI,
# VVV).
is_coupling_structure <- function(fam) {
  is_structured_normal(fam) && !(normal_structure_code_name(fam) %in% c("VII", "VVI", "VVV"))
}

# The structures act on a mixture of one Normal; inside a product they
# would tie only part of the parameters, which the engine does not do.
check_structured_blocks <- function(component, call = rlang::caller_env()) {
  if (!identical(component$name, "product")) return(invisible())
  for (b in component$blocks) {
    if (is_coupling_structure(b)) {
      abort_hm(c("A covariance structure ({b$structure}) is supported for a mixture of one Normal, not a block of a product.",
        i = "Use {.code ef_normal(d, \"full\")}, {.val diagonal} or {.val isotropic} inside {.fn ef_product}."),
        "unsupported", call = call)
    }
  }
  invisible()
}

mixture_join <- function(m, comp_nat, prior, call = rlang::caller_env()) {
  res <- native_mixture_join(m, comp_nat, as.double(prior))
  stop_status(res, "the mixture's natural parameters", call = call)
  res$value
}

# Natural coordinates -> per-component natural parameters (k x dim) and the
# prior's natural parameters log(w_j / w_1).
mixture_split <- function(m, theta) {
  res <- native_mixture_split(m, theta)
  stop_status(res, "the mixture's components")
  res
}

mixture_to_src <- function(m, theta) {
  sp <- mixture_split(m, theta)
  a <- c(0, sp$prior)
  w <- exp(a - max(a))
  fam <- m$component
  list(
    weights = w / sum(w),
    components = lapply(seq_len(m$k), function(j) fam$to_src(sp$components[j, ]))
  )
}

#' @export
to_natural.lvm_model <- function(family, params) {
  check_flat_coordinates(family)
  model_to_nat(family, params)
}

#' @export
to_mean.lvm_model <- function(family, params) {
  check_flat_coordinates(family)
  res <- native_model_to_mean(family, model_to_nat(family, params))
  stop_status(res, "mean parameters")
  res$value
}

#' @export
to_source.lvm_model <- function(family, theta) {
  check_flat_coordinates(family)
  theta <- check_numeric_vector(theta, family$dim)
  model_to_src(family, theta)
}

# A linear dynamical system's parameters are matrices with fixed and free
# elements, not a harmonium's flat natural coordinates.
check_flat_coordinates <- function(model, call = rlang::caller_env()) {
  if (inherits(model, "lds_model")) {
    abort_hm(c("{.arg family} is {model$label}, which has no flat natural coordinates.",
      i = "Its source parameters are those of {.fn coef} on a fit."), "unsupported", call = call)
  }
  invisible(model)
}

# --- the model-kind methods (R/model.R) ---------------------------------------

#' @export
model_to_nat.mixture_model <- function(m, params, arg = "params", call = rlang::caller_env()) {
  mixture_to_nat(m, params, arg = arg, call = call)
}

#' @export
model_to_src.mixture_model <- function(m, theta) mixture_to_src(m, theta)

#' @export
model_affine.mixture_model <- function(m, sc, params, inverse) {
  mixture_params_affine(m, sc, params, inverse)
}

#' @export
model_post_names.mixture_model <- function(m) as.character(seq_len(m$k))

#' @export
model_name_params.mixture_model <- function(m, params) {
  params$components <- lapply(params$components, function(p) name_component(m$component, p))
  params
}

#' @export
# Starts of a mixture (lvm_control()'s n_init): for a Normal component the
# first is mclust's hierarchical start on a fixed-seed subsample, the others
# k-means++ from seeds, alternately on the standardised and the whitened
# features (correlated data such as MASS::crabs need the latter); for latent
# class analysis every start after the first draws the probability tables
# at random, as poLCA does; otherwise k-means++ (a fixed seed for the first).
# With the fit's `cache` (start_cache()), the features are computed once per
# fit and a start whose partition repeats an earlier start's returns a
# "hm_start_duplicate" marker instead of parameters.
#' @export
model_start.mixture_model <- function(m, xs, x, w, i, control, ctrl, threads, cache = NULL) {
  kind <- start_kind(m$component)
  if (kind == "discrete" && i > 1L) {
    p <- with_seed(start_seed(control, i), dirichlet_params(m$component, m$k))
    th <- tryCatch(model_to_nat(m, p), harmonium_error = function(e) NULL)
    if (!is.null(th)) return(th)
  }
  f <- cached(cache, "features", family_features(m$component, x))
  labels <- if (kind == "normal" && i == 1L) {
    with_seed(default_seed, hc_labels(f, m$k, threads = threads))
  } else if (kind == "normal" && i %% 2L == 1L) {
    fw <- cached(cache, "whitened", svd_features(f, whiten = TRUE))
    with_seed(start_seed(control, i), kmeans_pp_labels(fw, m$k, threads))
  } else {
    with_seed(start_seed(control, i), kmeans_pp_labels(f, m$k, threads))
  }
  dup <- start_duplicate(cache, labels, i)
  if (!is.null(dup)) return(dup)
  if (kind == "discrete") {
    # Hard labels give each class probabilities of exactly 0 for the levels
    # it did not receive, a boundary EM cannot leave (on gss82 with 3 classes
    # EM stops there at -2825.1, the maximum being -2754.5): softened.
    th <- theta_from_hard(m, xs, w, labels, 0.25, ctrl, threads)
    if (!is.null(th)) return(th)
  }
  theta_from_labels(m, xs, w, labels, ctrl, threads)
}

#' @export
model_init.mixture_model <- function(m, xs, w, init, ctrl, threads, sc, call) {
  if (is.factor(init)) init <- as.integer(init)
  if (is.numeric(init) && is.null(dim(init)) && length(init) == nrow(xs)) {
    if (!all(init %in% seq_len(m$k))) {
      abort_hm("The labels in {.arg init} must be in 1..{m$k}.", "init", call = call)
    }
    th <- theta_from_labels(m, xs, w, as.integer(init), ctrl, threads)
    if (is.null(th)) {
      abort_hm("The labels in {.arg init} give no valid starting parameters.", "init", call = call)
    }
    return(th)
  }
  if (!inherits(init, "lvm_fit") && !is.list(init)) {
    abort_hm(c("{.arg init} must be a fit, source parameters, or {nrow(xs)} labels in 1..{m$k}.",
      x = "It is {.obj_type_friendly {init}}."), "init", call = call)
  }
  if (is_coupling_structure(m$component) && m$k > 1L) {
    return(structured_init(m, xs, w, init, ctrl, threads, sc, call))
  }
  NextMethod()
}

# Initial parameters for a structured Gaussian mixture. Parameters (or a
# fit) that already have the structure are used as they are; others (for
# example a full-covariance fit as the start of an EEV fit) are projected
# onto it: their posterior class probabilities, computed by an
# unconstrained mixture, go through one M-step of the structure.
structured_init <- function(m, xs, w, init, ctrl, threads, sc, call) {
  p <- if (inherits(init, "lvm_fit")) init$params else init
  comps <- p$components
  covs <- if (is.list(comps) && length(comps) == m$k) lapply(comps, function(cp) cp$cov)
  ok_shape <- length(covs) == m$k && all(vapply(covs, function(S) {
    is.matrix(S) && is.numeric(S) && all(dim(S) == m$d) && all(is.finite(S))
  }, TRUE))
  if (ok_shape && cov_structure_holds(m$component$structure, covs)) {
    return(model_to_nat(m, model_affine(m, sc, p, inverse = FALSE), arg = "init", call = call))
  }
  free <- mixture(ef_normal(m$d, "full"), m$k)
  th <- model_to_nat(free, model_affine(free, sc, p, inverse = FALSE), arg = "init", call = call)
  es <- native_model_estep(free, th, xs, w, logp = FALSE, post = TRUE, threads = threads)
  stop_status(es, "the posterior of the initial parameters", call = call)
  out <- theta_from_post(m, xs, w, es$post, ctrl, threads)
  if (is.null(out)) {
    abort_hm(c("The initial parameters in {.arg init} give no valid {m$component$structure} parameters.",
      i = "Their posterior class probabilities leave a covariance singular under the structure."),
      "init", call = call)
  }
  out
}

# Conjugation parameters rho (length k - 1) and chi.
model_rho_chi <- function(m, theta) {
  res <- native_model_rho_chi(m, theta)
  stop_status(res, "the conjugation parameters")
  v <- res$value
  list(rho = v[-length(v)], chi = v[length(v)])
}

model_log_partition <- function(m, theta) {
  res <- native_model_log_partition(m, theta)
  stop_status(res, "the log-partition function")
  res$value
}
