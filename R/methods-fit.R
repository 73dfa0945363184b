# Methods for fitted models (class lvm_fit): print, summary, logLik, nobs,
# coef, predict, posterior, log_density, simulate, update (stats' default,
# through the stored call).

#' @export
print.lvm_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  cat("<", class(x)[1], "> ", x$model$label, "\n", sep = "")
  ll <- x$loglik
  cat("  n = ", x$n, ", log-likelihood = ", format(ll, digits = 10), ", df = ", x$df,
    ", BIC = ", format(-2 * ll + x$df * log(x$n), digits = 10), "\n", sep = "")
  if (x$iterations > 0L) {
    what <- if (identical(x$method, "gradient")) " gradient evaluation" else " EM iteration"
    cat("  ", x$iterations, what, if (x$iterations != 1L) "s", ", ",
      if (isTRUE(x$converged)) "converged" else paste0("not converged (", x$status, ")"), "\n", sep = "")
  }
  if (!is.null(x$params$weights)) {
    cat("  weights: ", paste(format(x$params$weights, digits = digits), collapse = " "), "\n", sep = "")
  }
  print_fit_warnings(x$warnings)
  invisible(x)
}

#' @export
logLik.lvm_fit <- function(object, ...) {
  check_dots(...)
  structure(object$loglik, df = object$df, nobs = object$n, class = "logLik")
}

#' @export
nobs.lvm_fit <- function(object, ...) {
  check_dots(...)
  object$n
}

#' @export
coef.lvm_fit <- function(object, ...) {
  check_dots(...)
  object$params
}

# Data for a method: the fitted data when newdata is missing, else newdata
# encoded and scaled like the fit.
newdata_x <- function(fit, newdata, call = rlang::caller_env()) {
  if (is.null(newdata)) {
    if (nrow(fit$x) == 0L) {
      abort_hm("This fit holds no data; supply {.arg newdata}.", "argument", call = call)
    }
    return(fit$x)
  }
  prepare_data(fit$model, newdata, NULL, "fail", call, arg = "newdata")$x
}

fit_rows <- function(fit, newdata, call = rlang::caller_env()) {
  if (is.null(newdata) && nrow(fit$x) > 0L && !is.null(fit$posterior)) {
    return(list(post = fit$posterior, logp = fit$logp))
  }
  x <- newdata_x(fit, newdata, call)
  threads <- resolve_threads()
  fit_estep(fit$model, fit$theta, scale_data(fit$scaler, x, threads), NULL, fit$scaler, threads, call)
}

#' Posterior distribution of the latent variables
#'
#' For a mixture, the posterior class probabilities p(class | x) of each
#' row, by Bayes' rule from the weights and the component densities.
#'
#' @param object A fit.
#' @param newdata Data (default: the data the model was fitted to).
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return A matrix with one row per observation and one column per class.
#' @examples
#' fit <- fit_lvm(mixture(ef_normal(1), 2), faithful$waiting)
#' head(posterior(fit))
#' @export
posterior <- function(object, ...) UseMethod("posterior")

#' @rdname posterior
#' @export
posterior.lvm_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  if (!is.null(src <- chunk_newdata(object, newdata))) {
    return(chunk_apply_fit(object, src, function(f, d) posterior(f, d), "the posterior"))
  }
  fit_rows(object, newdata)$post
}

#' Log density of each observation
#'
#' log p(x) under the fitted model, per observation, computed from the
#' harmonium's closed form: for a conjugated harmonium, log p(x) is the
#' base measure and linear term of x plus the difference of the latent
#' log-partition functions at the posterior and at the prior natural
#' parameters (Sokoloski 2024, arXiv:2404.19501).
#'
#' @param object A fit.
#' @param newdata Data (default: the data the model was fitted to).
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return A numeric vector.
#' @examples
#' fit <- fit_lvm(mixture(ef_poisson(), 2), c(0, 1, 1, 2, 8, 9, 11, 10))
#' log_density(fit, c(0, 5, 10))
#' @export
log_density <- function(object, ...) UseMethod("log_density")

#' @rdname log_density
#' @export
log_density.lvm_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  if (!is.null(src <- chunk_newdata(object, newdata))) {
    return(chunk_apply_fit(object, src, function(f, d) log_density(f, d), "the log densities"))
  }
  fit_rows(object, newdata)$logp
}

#' Predicted classes or posterior probabilities
#'
#' @param object A fit.
#' @param newdata Data (default: the data the model was fitted to).
#' @param type `"class"` for the most probable class (an integer in `1..k`),
#'   `"posterior"` for the matrix of class probabilities.
#' @param to For chunked data ([lvm_chunks()], or a fit to chunked data
#'   without `newdata`): `NULL` to return one result per chunk (a list), or
#'   a `function(i, result)` that the driver calls in chunk order, e.g. to
#'   append each chunk's predictions to a database table.
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return An integer vector or a matrix; for chunked data a list of them,
#'   one per chunk (or, with `to`, the number of rows handed to it,
#'   invisibly).
#' @examples
#' fit <- fit_lvm(mixture(ef_normal(2), 2), faithful)
#' table(predict(fit))
#' predict(fit, data.frame(eruptions = c(2, 4.5), waiting = c(55, 80)), type = "posterior")
#' @export
predict.mixture_fit <- function(object, newdata = NULL, type = c("class", "posterior"), to = NULL, ...) {
  check_dots(...)
  type <- check_choice(type, c("class", "posterior"))
  if (!is.null(src <- chunk_newdata(object, newdata))) {
    return(chunk_apply_fit(object, src, function(f, d) predict(f, d, type = type), "the predictions", to = to))
  }
  post <- fit_rows(object, newdata)$post
  if (type == "posterior") return(post)
  max.col(post, ties.method = "first")
}

#' @export
fitted.mixture_fit <- function(object, ...) {
  check_dots(...)
  predict(object, type = "class")
}

#' Simulate from a fitted model
#'
#' Ancestral sampling: a class from the mixture weights, then
#' an observation from that component, through R's random number generator.
#'
#' @param object A fit.
#' @param nsim Number of observations to draw (default: as many as were
#'   fitted).
#' @param seed Optional seed, as in [stats::simulate()].
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return The draws (a matrix, or a data frame when the model has
#'   categorical columns), with attribute `"latent"` holding each draw's
#'   latent class and `"seed"` the RNG state used (the value of
#'   `.Random.seed` before the draws, as [stats::simulate()] records it;
#'   printed as one line, and `.Random.seed <- attr(sims, "seed")` restores
#'   it).
#' @examples
#' fit <- fit_lvm(mixture(ef_normal(2), 2), faithful)
#' sims <- simulate(fit, 5, seed = 1)
#' sims
#' @export
simulate.lvm_fit <- function(object, nsim = NULL, seed = NULL, ...) {
  check_dots(...)
  if (is.null(nsim)) nsim <- object$n
  nsim <- check_draws(nsim, width = object$model$d + object$model$post_len)
  seed <- check_seed(seed)
  if (!is.null(seed)) set.seed(seed)
  rng_state <- rng_state_now()
  m <- object$model
  res <- native_model_sample(m, object$theta, nsim)
  stop_status(res, "samples")
  sc <- object$scaler
  x <- sweep(sweep(res$x, 2L, sc$scale, "*"), 2L, sc$center, "+")
  out <- family_decode(m$obs, x)
  attr(out, "latent") <- if (m$kind == "mixture") as.integer(res$z) + 1L else res$z
  attr(out, "seed") <- rng_state
  out
}

# The RNG state a simulation starts from (as stats::simulate() records it),
# classed so that printing the draws shows one line instead of 626 integers;
# `.Random.seed <- attr(sims, "seed")` still restores it.
rng_state_now <- function() {
  if (!exists(".Random.seed", envir = globalenv(), inherits = FALSE)) stats::runif(1)
  structure(get(".Random.seed", envir = globalenv(), inherits = FALSE), class = "harmonium_rng_state")
}

#' @export
print.harmonium_rng_state <- function(x, ...) {
  cat("<RNG state: .Random.seed of ", length(x), " integers>\n", sep = "")
  invisible(x)
}

#' @export
summary.mixture_fit <- function(object, se = TRUE, ...) {
  check_dots(...)
  ll <- object$loglik
  n <- object$n
  post <- object$posterior
  if (inherits(object, "lvm_chunked_fit")) se <- FALSE
  map <- if (length(post)) max.col(post, ties.method = "first") else integer(0)
  zmap <- if (length(post)) post[cbind(seq_len(nrow(post)), map)] else numeric(0)
  bic <- -2 * ll + object$df * log(n)
  structure(
    list(
      warnings = object$warnings,
      label = object$model$label, exactness = exactness(object$model), n = n, loglik = ll,
      df = object$df, AIC = -2 * ll + 2 * object$df, BIC = bic,
      ICL = if (is.null(post)) NA_real_ else bic - 2 * sum(log(pmax(zmap, .Machine$double.xmin))),
      iterations = object$iterations, converged = object$converged, status = object$status,
      starts = object$starts,
      sizes = if (is.null(post)) chunked_sizes(object) else table(factor(map, levels = seq_len(object$model$k))),
      params = object$params, family = object$model$component,
      coefficients = if (isTRUE(se)) lazy_coef_table(object)
    ),
    class = "summary.mixture_fit"
  )
}

#' @export
print.summary.mixture_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  cat("Model: ", x$label, " (", x$exactness, ")\n", sep = "")
  cat("Fitted by EM: ", x$iterations, " iteration", if (x$iterations != 1L) "s", ", ",
    if (isTRUE(x$converged)) "converged" else paste0("not converged (", x$status, ")"), "\n\n", sep = "")
  tab <- data.frame(
    `log-likelihood` = x$loglik, n = x$n, df = x$df, AIC = x$AIC, BIC = x$BIC, ICL = x$ICL,
    check.names = FALSE
  )
  print(tab, row.names = FALSE, digits = 10)
  cat(if (is.null(attr(x$sizes, "expected"))) "\nClustering table:\n" else
    "\nExpected cluster sizes (chunked data; predict() gives the classes):\n")
  print(structure(x$sizes, expected = NULL))
  cat("\nMixing weights:\n")
  w <- x$params$weights
  names(w) <- seq_along(w)
  print(round(w, digits))
  cat("\nComponents (", x$family$label, "):\n", sep = "")
  for (j in seq_along(x$params$components)) {
    cat("-- component ", j, "\n", sep = "")
    print_params(x$params$components[[j]], digits)
  }
  print_coef_table(x$coefficients, digits)
  if (!is.null(x$starts) && nrow(x$starts) > 1L) {
    cat("\nStarts:\n")
    print(x$starts, row.names = FALSE, digits = 10)
  }
  print_fit_warnings(x$warnings)
  invisible(x)
}

print_params <- function(p, digits, indent = "  ") {
  if (is.null(names(p))) {
    for (b in seq_along(p)) {
      cat(indent, "block ", b, ":\n", sep = "")
      print_params(p[[b]], digits, paste0(indent, "  "))
    }
    return(invisible())
  }
  for (nm in names(p)) {
    v <- p[[nm]]
    if (is.matrix(v)) {
      cat(indent, nm, ":\n", sep = "")
      out <- utils::capture.output(print(round(v, digits)))
      cat(paste0(indent, "  ", out), sep = "\n")
    } else {
      cat(indent, nm, ": ", paste(format(round(v, digits)), collapse = " "), "\n", sep = "")
    }
  }
  invisible()
}
