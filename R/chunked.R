# Chunked EM (style.md section 2): the E-step's statistics are sums, so the
# statistics of a data set are the sum of those of its chunks. lvm_estep()
# maps a chunk to its statistics at given parameters, lvm_mstep() maps summed
# statistics to new parameters; R loops over chunks from disk, a database or
# workers (e.g. with future.apply) and adds the results.

#' E-step and M-step on chunks of data
#'
#' `lvm_estep()` returns the expected sufficient statistics of a chunk of
#' data at the given parameters: the sums over its rows of `E[s(x, z) | x]`
#' in the harmonium's coordinates, with the chunk's log-likelihood and total
#' weight. Statistics of disjoint chunks add up to those of their union, so
#' any data set can be processed chunk by chunk (from files, a database, or
#' parallel workers) and the sums handed to `lvm_mstep()`, which returns the
#' EM update of the parameters. Iterating the two is exactly EM on the whole
#' data; no data are standardised, so parameters stay in the data's units.
#'
#' @param model An `lvm_model` with an EM (see [exactness()]).
#' @param params Source parameters (a fit's `coef()`).
#' @param data A chunk of data, as for [fit_lvm()].
#' @param weights Optional case weights of the chunk.
#' @param stats Statistics of `lvm_estep()`, summed over chunks.
#' @param control [lvm_control()] settings (`reg` is used).
#' @return `lvm_estep()`: an object of class `lvm_stats`, a list with
#'   `stats` (the summed statistics), `loglik` and `weight`; they add with
#'   `+`. `lvm_mstep()`: the updated source parameters.
#' @examples
#' m <- mixture(ef_normal(2), 2)
#' p <- list(weights = c(0.5, 0.5), components = list(
#'   list(mean = c(2, 55), cov = diag(c(0.1, 30))),
#'   list(mean = c(4.5, 80), cov = diag(c(0.2, 35)))))
#' chunks <- split(faithful, rep(1:3, length.out = nrow(faithful)))
#' s <- Reduce(`+`, lapply(chunks, function(d) lvm_estep(m, p, d)))
#' # The sums over chunks are those of the whole data:
#' s$loglik
#' logLik(with_params(m, p, faithful))
#' # One EM step from p:
#' lvm_mstep(m, s)$weights
#' @export
lvm_estep <- function(model, params, data, weights = NULL) {
  check_model(model)
  env <- rlang::current_env()
  check_chunked_model(model, env)
  theta <- model_to_nat(model, params, call = env)
  prep <- prepare_data(model, data, weights, "fail", env)
  es <- native_model_estep(prep$model, theta, prep$x, prep$weights, logp = FALSE, post = FALSE,
    threads = resolve_threads())
  stop_status(es, "the E-step", call = env)
  k <- model$dim
  structure(list(stats = es$stats[seq_len(k)], loglik = es$stats[k + 1L], weight = es$stats[k + 2L]),
    class = "lvm_stats")
}

#' @export
Ops.lvm_stats <- function(e1, e2) {
  if (.Generic != "+" || !inherits(e1, "lvm_stats") || !inherits(e2, "lvm_stats") ||
    length(e1$stats) != length(e2$stats)) {
    abort_hm("Statistics of the same model can only be added.", "argument")
  }
  structure(list(stats = e1$stats + e2$stats, loglik = e1$loglik + e2$loglik, weight = e1$weight + e2$weight),
    class = "lvm_stats")
}

#' @export
print.lvm_stats <- function(x, ...) {
  cat("<lvm_stats> ", length(x$stats), " statistics over a total weight of ", format(x$weight),
    ", log-likelihood ", format(x$loglik, digits = 10), "\n", sep = "")
  invisible(x)
}

#' @rdname lvm_estep
#' @export
lvm_mstep <- function(model, stats, control = lvm_control()) {
  check_model(model)
  env <- rlang::current_env()
  check_chunked_model(model, env)
  if (!inherits(control, "lvm_control")) {
    abort_hm("{.arg control} must come from {.fn lvm_control}.", "argument", call = env)
  }
  if (!inherits(stats, "lvm_stats") || length(stats$stats) != model$dim) {
    abort_hm("{.arg stats} must come from {.fn lvm_estep} for this model.", "argument", call = env)
  }
  if (isFALSE(model$has_em)) abort_no_em(model, env)
  if (!(stats$weight > 0)) {
    abort_hm("{.arg stats} has no weight.", "argument", call = env)
  }
  eta <- stats$stats / stats$weight
  if (model_whitens(model)) {
    wh <- native_model_whiten(model, eta)
    stop_status(wh, "the whitened statistics", call = env)
    eta <- wh$value
  }
  floor <- if (model$kind == "mixture") mixture_floor else 0
  res <- native_model_to_natural(model, eta, fam_ctrl(reg = control$reg, floor = floor))
  stop_status(res, "the M-step", call = env)
  model_name_params(model, model_to_src(model, res$value))
}

# Chunked EM is for models of independent rows: a sequence's statistics do
# not split at arbitrary row boundaries.
check_chunked_model <- function(model, call) {
  if (is_sequence_model(model)) {
    abort_hm(c("{.arg model} is a sequence model ({model$label}); chunked EM is for independent rows.",
      i = "Fit it with {.fn fit_lvm} on a list of sequences."), "unsupported", call = call)
  }
  invisible(model)
}
