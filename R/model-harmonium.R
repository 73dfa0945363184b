# harmonium(observable, latent): the general constructor of api.md. It
# dispatches on the pair of families: a Normal observable with a Normal or
# Boltzmann latent is a linear Gaussian model or a Gaussian-Boltzmann
# harmonium (model-lgm.R); a categorical observable with a Dirichlet latent
# is the Categorical-Dirichlet harmonium, conjugate Bayesian
# updating of category probabilities, defined here. The engine holds its
# algebra (src/engine/conjugate.c) and the sequential update
# (hm_hm_posterior_fold); this file converts between the Dirichlet prior
# alpha and the harmonium's natural coordinates.

#' Conjugated harmoniums from a pair of families
#'
#' `harmonium(observable, latent)` builds the conjugated harmonium of an
#' observable and a latent exponential family (Sokoloski 2024,
#' arXiv:2404.19501): a joint density proportional to
#' `exp(theta_x . s(x) + theta_z . s(z) + s(x)' W s(z))` whose latent prior
#' stays in the latent family. The
#' available pairs are
#'
#' * `ef_normal(p, covariance)` with `ef_normal(q)`: the linear Gaussian
#'   model [lgm()] with `q` latent dimensions;
#' * `ef_normal(p, covariance)` with `ef_boltzmann(q)`: the
#'   Gaussian-Boltzmann harmonium [boltzmann_lgm()] with `q` binary units;
#' * `ef_categorical(k)` with `ef_dirichlet(k)`: the Categorical-Dirichlet
#'   harmonium, conjugate Bayesian updating of the probabilities of `k`
#'   categories.
#'
#' In the Categorical-Dirichlet harmonium the category probabilities
#' `z ~ Dirichlet(alpha)` are latent and an observation is
#' `x | z ~ Categorical(z)`. The likelihood is fixed by that statement, so
#' the only parameter is the Dirichlet prior: the source parameters are
#' `list(alpha = )`, one positive value per level. The conjugation
#' parameters are exact and in closed form (`rho = (-1, 0, ..., 0)`,
#' `chi = 0`), so the posterior after observing category `i` is again a
#' Dirichlet, `alpha + e_i`, and the predictive probability of category
#' `i` is `alpha_i / sum(alpha)`.
#'
#' For this kind [posterior()] applies the conjugate update sequentially,
#' each posterior becoming the prior of the next row: row `t` of its result
#' holds the Dirichlet parameters after the first `t` observations (the
#' prior plus the running counts). [log_density()] is the predictive
#' log-probability `log(alpha_x / sum(alpha))` of each row at the prior, and
#' the log-likelihood of a fit treats the rows as independent draws, each
#' with its own `z`. Under that model the rows identify only the prior's
#' mean `alpha / sum(alpha)`: [fit_lvm()] runs EM on the prior (the E-step's
#' expected `log z`, the Dirichlet's numerical mean-to-natural map), which
#' moves that mean to the observed frequencies (an empirical-Bayes prior)
#' and leaves the total concentration `sum(alpha)` near that of its start,
#' the number of levels (a flat prior's total); give `init = list(alpha = )`
#' to start elsewhere. A level that never occurs has its maximum-likelihood
#' `alpha` at 0, on the boundary, which EM approaches only slowly (expect a
#' convergence warning; `method = "gradient"`, ascent in `log(alpha)`, gets
#' there faster). For conjugate updating from a chosen prior use
#' [with_params()].
#'
#' @param observable The observable family: [ef_normal()] or
#'   [ef_categorical()].
#' @param latent The latent family: [ef_normal()] (full covariance),
#'   [ef_boltzmann()], or [ef_dirichlet()] with as many components as the
#'   categorical observable has levels; or a conjugated model, which
#'   makes a hierarchical harmonium (Sokoloski 2024): with a Normal
#'   observable and a mixture of full-covariance Normals,
#'   `harmonium(ef_normal(p, "diagonal"), mixture(ef_normal(q), k))` is the
#'   hierarchical mixture of Gaussians [hmog()]. The latent model may itself
#'   be such a hierarchy, up to four levels of latent variables, e.g.
#'   `harmonium(ef_normal(p), harmonium(ef_normal(q), mixture(ef_normal(r), k)))`:
#'   `x = mean + loadings y + e`, `y = mean_y + loadings_y u + f` with `u`
#'   from the `k`-component mixture. Each level's observable must be a
#'   full-covariance Normal (the coupling above adds a full precision to
#'   it). Likelihood, cluster posteriors and EM stay exact; the source
#'   parameters nest (`latent` holds the lower model's `mean`, `loadings`,
#'   `cov` and `latent`).
#' @return An `lvm_model`: of class `lgm_model` for the Normal observable,
#'   of class `conjugate_model` for the Categorical-Dirichlet harmonium,
#'   of class `hmog_model` for a hierarchy.
#' @seealso [lgm()], [boltzmann_lgm()], [with_params()], [posterior()].
#' @examples
#' # A Dirichlet(0.5, 0.5, 0.5) prior on the probabilities of
#' # three categories, updated by three batches of 10 draws from
#' # probabilities (0.5, 0.2, 0.3).
#' lev <- c("a", "b", "c")
#' m <- harmonium(ef_categorical(lev), ef_dirichlet(3))
#' m
#' set.seed(1)
#' draws <- sample(lev, 30, replace = TRUE, prob = c(0.5, 0.2, 0.3))
#' fit <- with_params(m, list(alpha = c(a = 0.5, b = 0.5, c = 0.5)), data = draws)
#' post <- posterior(fit)
#' # The Dirichlet parameters after each batch of 10, and their means:
#' post[c(10, 20, 30), ]
#' round(post[c(10, 20, 30), ] / rowSums(post[c(10, 20, 30), ]), 3)
#' # The same, one batch at a time, each posterior the next prior:
#' alpha <- c(a = 0.5, b = 0.5, c = 0.5)
#' for (b in 1:3) {
#'   batch <- draws[(b - 1) * 10 + 1:10]
#'   alpha <- posterior(with_params(m, list(alpha = alpha), data = batch))[10, ]
#' }
#' alpha
#'
#' # The other pairs are the linear Gaussian models:
#' harmonium(ef_normal(4, "diagonal"), ef_normal(1))
#' harmonium(ef_normal(2, "diagonal"), ef_boltzmann(2))
#' @export
harmonium <- function(observable, latent) {
  check_family(observable)
  if (inherits(latent, "lvm_model")) {
    return(new_hmog_model(observable, latent))
  }
  check_family(latent)
  obs <- observable$name
  lat <- latent$name
  if (obs == "categorical" && lat == "dirichlet") {
    k <- length(observable$levels)
    if (latent$n != k) {
      abort_hm(c("{.arg latent} must have one component per level of {.arg observable}.",
        x = "{.arg observable} has {k} levels but {.arg latent} is {latent$label}.",
        i = "Use {.code ef_dirichlet({k})}."), "argument")
    }
    return(new_conjugate_model(observable, latent))
  }
  if (obs == "normal" && lat == "normal") {
    if (latent$covariance != "full") {
      abort_hm(c("The latent Normal of a linear Gaussian model must have a full covariance.",
        i = "Use {.code ef_normal({latent$n})}."), "unsupported")
    }
    return(lgm(observable, latent$n))
  }
  if (obs == "normal" && lat == "boltzmann") {
    return(boltzmann_lgm(observable, latent$n))
  }
  abort_hm(c("No conjugated harmonium of {observable$label} with {latent$label} is available.",
    i = harmonium_pairs()), "unsupported")
}

harmonium_pairs <- function() {
  paste("Available pairs: {.code ef_normal(p)} with {.code ef_normal(q)} (see {.fn lgm}),",
    "{.code ef_normal(p)} with {.code ef_boltzmann(q)} (see {.fn boltzmann_lgm}), and",
    "{.code ef_categorical(k)} with {.code ef_dirichlet(k)} (conjugate Bayesian updating).")
}

new_conjugate_model <- function(obs, lat) {
  k <- lat$n
  m <- list(
    kind = "categorical_dirichlet", obs = obs, lat = lat, n_levels = k,
    hm_kind = hm_kind[["categorical_dirichlet"]], obs_spec = obs$spec, lat_spec = lat$spec,
    d = obs$d, n_free = k - 1L, whiten = FALSE, closed = FALSE,
    label = sprintf("Categorical-Dirichlet harmonium (%d levels)", k)
  )
  info <- native_model_info(m)
  m$dim <- info[1]
  m$post_len <- info[2]
  m$stats_len <- info[3]
  structure(m, class = c("conjugate_model", "lvm_model"))
}

# --- coordinates ---------------------------------------------------------------

# The fixed likelihood of the Categorical-Dirichlet harmonium: theta_X = 0 and the (k-1) x k
# interaction with row i = e_i - e_0, so that the likelihood at z has the
# log-odds log(z_i / z_0), i.e. x | z ~ Categorical(z). rho = (-1, 0, ..., 0).
catdir_likelihood <- function(k) c(numeric(k - 1L), as.vector(t(cbind(-1, diag(k - 1L)))))
catdir_rho <- function(k) c(-1, numeric(k - 1L))

# alpha from source parameters, in level order.
catdir_alpha <- function(m, params, arg, call) {
  if (!is.list(params) || is.null(params$alpha)) {
    abort_hm("{.arg {arg}} must be a list with element {.field alpha}.", "params", call = call)
  }
  a <- params$alpha
  lev <- m$obs$levels
  if (!is.null(names(a)) && !identical(names(a), lev)) {
    if (!setequal(names(a), lev) || length(a) != length(lev)) {
      abort_hm(c("The names of {.arg {arg}$alpha} must be the levels {.val {lev}}.",
        x = "They are {.val {names(a)}}."), "params", call = call)
    }
    a <- a[lev]
  }
  check_numeric_vector(unname(a), m$n_levels, arg = paste0(arg, "$alpha"), call = call, positive = TRUE)
}

#' @export
model_to_nat.conjugate_model <- function(m, params, arg = "params", call = rlang::caller_env()) {
  alpha <- catdir_alpha(m, params, arg, call)
  c(catdir_likelihood(m$n_levels), alpha - catdir_rho(m$n_levels))
}

#' @export
model_to_src.conjugate_model <- function(m, theta) {
  k <- m$n_levels
  th_z <- theta[length(theta) - k + seq_len(k)]
  list(alpha = stats::setNames(th_z + catdir_rho(k), m$obs$levels))
}

# Categorical data are never rescaled.
#' @export
model_affine.conjugate_model <- function(m, sc, params, inverse) params

#' @export
model_post_names.conjugate_model <- function(m) m$obs$levels

#' @export
model_name_params.conjugate_model <- function(m, params) {
  names(params$alpha) <- m$obs$levels
  params
}

# The start of EM on the prior: the mean of the flat-prior posterior,
# (1 + counts) / (n + k), at the flat prior's total concentration k. Later
# starts multiply it by random factors (total kept). EM then moves the mean
# to the observed frequencies; every alpha with that mean is a fixed point
# (p(x) = alpha_x / sum alpha), so the total stays near k (see harmonium()).
#' @export
model_start.conjugate_model <- function(m, xs, x, w, i, control, ctrl, threads, cache = NULL) {
  k <- m$n_levels
  ww <- if (is.null(w)) rep(1, nrow(x)) else w
  counts <- vapply(seq_len(k), function(j) sum(ww[x[, 1] == j - 1]), 0)
  a <- (1 + counts) / (sum(counts) + k)
  if (i > 1L) {
    a <- a * with_seed(start_seed(control, i), stats::rexp(k))
  }
  alpha <- k * a / sum(a)
  c(catdir_likelihood(k), alpha - catdir_rho(k))
}

# method = "gradient" (fit-gradient.R): only the prior is free, optimised in
# u = log(alpha); theta_Z = exp(u) - rho, so the gradient in u is the theta_Z
# block of the harmonium gradient times alpha.
#' @export
gradient_problem.conjugate_model <- function(m, call) {
  k <- m$n_levels
  lik <- catdir_likelihood(k)
  rho <- catdir_rho(k)
  zs <- length(lik) + seq_len(k)
  list(
    to_u = function(theta) log(theta[zs] + rho),
    from_u = function(u) c(lik, exp(u) - rho),
    grad_u = function(u, theta, g) g[zs] * exp(u)
  )
}

# --- methods -----------------------------------------------------------------------

#' @rdname posterior
#' @details For the Categorical-Dirichlet harmonium ([harmonium()] of
#'   `ef_categorical(k)` and `ef_dirichlet(k)`) the posterior is that of one
#'   vector of category probabilities shared by all rows, updated row by row
#'   in order: row `t` holds the Dirichlet parameters after the first `t`
#'   observations, i.e. the prior `alpha` plus the counts so far, with the
#'   levels as column names.
#' @export
posterior.categorical_dirichlet_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  x <- newdata_x(object, newdata)
  res <- native_model_posterior_fold(object$model, object$theta, x)
  stop_status(res, "the sequential posterior")
  post <- res$value
  colnames(post) <- model_post_names(object$model)
  post
}

#' @export
print.categorical_dirichlet_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  NextMethod()
  cat("  prior alpha: ", paste(names(x$params$alpha), format(x$params$alpha, digits = digits),
    sep = " = ", collapse = ", "), "\n", sep = "")
  invisible(x)
}
