# Methods for hidden Markov model fits (class hmm_fit): print, summary,
# state inference (filter_states, smooth_states, viterbi, forecast),
# posterior, predict, log_density, simulate and plot. logLik, nobs, coef and
# update are the lvm_fit methods (nobs = time points, as depmixS4 counts).

#' @export
print.hmm_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  cat("<hmm_fit> ", x$model$label, "\n", sep = "")
  ll <- x$loglik
  ns <- length(x$sequences$lengths)
  cat("  ", ns, " sequence", if (ns != 1L) "s", ", n = ", x$n, " time points",
    if (!is.null(x$n_obs) && x$n_obs < x$n) paste0(" (", x$n - x$n_obs, " missing)"), "\n", sep = "")
  cat("  log-likelihood = ", format(ll, digits = 10), ", df = ", x$df,
    ", BIC = ", format(-2 * ll + x$df * log(x$n), digits = 10), "\n", sep = "")
  if (x$iterations > 0L) {
    cat("  ", x$iterations, " Baum-Welch iteration", if (x$iterations != 1L) "s", ", ",
      if (isTRUE(x$converged)) "converged" else paste0("not converged (", x$status, ")"), "\n", sep = "")
  }
  cat("  transition:\n")
  print(round(x$params$transition, digits))
  print_fit_warnings(x$warnings)
  invisible(x)
}

#' @export
summary.hmm_fit <- function(object, ...) {
  check_dots(...)
  tr <- object$params$transition
  S <- nrow(tr)
  ll <- object$loglik
  occ <- if (!is.null(object$posterior)) colSums(object$posterior) / nrow(object$posterior) else rep(NA_real_, S)
  structure(
    list(
      warnings = object$warnings,
      label = object$model$label, n = object$n, n_seq = length(object$sequences$lengths), loglik = ll,
      df = object$df, AIC = -2 * ll + 2 * object$df, BIC = -2 * ll + object$df * log(object$n),
      iterations = object$iterations, converged = object$converged, status = object$status,
      initial = object$params$initial, transition = tr,
      dwell = stats::setNames(1 / (1 - diag(tr)), rownames(tr)),
      occupancy = stats::setNames(occ, rownames(tr)),
      emission = object$params$emission, family = object$model$emission, starts = object$starts
    ),
    class = "summary.hmm_fit"
  )
}

#' @export
print.summary.hmm_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  cat("Model: ", x$label, "\n", sep = "")
  cat("Fitted by Baum-Welch: ", x$iterations, " iteration", if (x$iterations != 1L) "s", ", ",
    if (isTRUE(x$converged)) "converged" else paste0("not converged (", x$status, ")"), "\n\n", sep = "")
  print(data.frame(`log-likelihood` = x$loglik, sequences = x$n_seq, n = x$n, df = x$df, AIC = x$AIC,
    BIC = x$BIC, check.names = FALSE), row.names = FALSE, digits = 10)
  cat("\nInitial state distribution:\n")
  print(round(x$initial, digits))
  cat("\nTransition matrix (row: from, column: to):\n")
  print(round(x$transition, digits))
  cat("\nExpected dwell time 1 / (1 - a_ii) and occupancy (mean smoothed probability):\n")
  print(round(rbind(dwell = x$dwell, occupancy = x$occupancy), digits))
  cat("\nEmission (", x$family$label, "):\n", sep = "")
  for (j in seq_along(x$emission)) {
    cat("-- state ", j, "\n", sep = "")
    print_params(x$emission[[j]], digits)
  }
  if (!is.null(x$starts) && nrow(x$starts) > 1L) {
    cat("\nStarts:\n")
    print(x$starts, row.names = FALSE, digits = 10)
  }
  print_fit_warnings(x$warnings)
  invisible(x)
}

# Inference on the fit's own sequences or on newdata.
hmm_inference <- function(fit, newdata, want, call) {
  nd <- hmm_newdata(fit, newdata, call)
  res <- hmm_run_infer(fit$model, fit$theta, fit$chain, nd$xs, nd$seqs, want, resolve_threads(), call)
  list(res = res, seqs = nd$seqs, ok = nd$ok)
}

seq_index <- function(seqs) {
  data.frame(
    sequence = rep(seqs$ids, seqs$lengths),
    time = unlist(lapply(seqs$lengths, seq_len), use.names = FALSE),
    stringsAsFactors = FALSE
  )
}

state_frame <- function(seqs, p) {
  out <- seq_index(seqs)
  p <- as.matrix(p)
  for (k in seq_len(ncol(p))) out[[paste0("S", k)]] <- p[, k]
  out
}

#' State inference for a hidden Markov model
#'
#' @param fit A fit of [hmm()].
#' @param newdata Optional sequences (any form [fit_lvm()] takes, without a
#'   grouping formula: a vector, matrix, data frame or `ts`, or a list of
#'   them); the fitted sequences by default.
#' @param h Number of steps ahead.
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return `filter_states()` and `smooth_states()`: a data frame with
#'   columns `sequence`, `time` and `S1`, ..., `Sk` (the state
#'   probabilities). `viterbi()`: columns `sequence`, `time`, `state` (the
#'   most probable path, by the Viterbi algorithm). `forecast()`: a list of
#'   `states` (columns `sequence`, `h`, `S1`, ...: the state probabilities
#'   `h` steps beyond the last time point of each sequence) and
#'   `observations` (the expected observation, per encoded column: the mean
#'   of Normal, Poisson and other numeric columns, one probability column per
#'   level of a categorical column).
#' @examples
#' fit <- fit_lvm(hmm(ef_poisson(), 2), earthquakes$count)
#' tail(filter_states(fit), 3)
#' table(viterbi(fit)$state)
#' forecast(fit, h = 2)$observations
#' @name hmm-states
NULL

#' @rdname hmm-states
#' @export
filter_states.hmm_fit <- function(fit, newdata = NULL, ...) {
  check_dots(...)
  env <- rlang::current_env()
  if (is.null(newdata) && !is.null(fit$filtered)) return(state_frame(fit$sequences, fit$filtered))
  inf <- hmm_inference(fit, newdata, c(TRUE, FALSE, FALSE), env)
  state_frame(inf$seqs, inf$res$filtered)
}

#' @rdname hmm-states
#' @export
smooth_states.hmm_fit <- function(fit, newdata = NULL, ...) {
  check_dots(...)
  env <- rlang::current_env()
  if (is.null(newdata) && !is.null(fit$posterior)) return(state_frame(fit$sequences, fit$posterior))
  inf <- hmm_inference(fit, newdata, c(FALSE, TRUE, FALSE), env)
  state_frame(inf$seqs, inf$res$smoothed)
}

#' @rdname hmm-states
#' @export
viterbi.hmm_fit <- function(fit, newdata = NULL, ...) {
  check_dots(...)
  env <- rlang::current_env()
  inf <- hmm_inference(fit, newdata, c(FALSE, FALSE, TRUE), env)
  out <- seq_index(inf$seqs)
  out$state <- inf$res$path + 1L
  attr(out, "logjoint") <- stats::setNames(inf$res$logjoint, inf$seqs$ids)
  out
}

# E[x | state] per encoded column, in the data's units. `fam` is the
# emission: a family, or a linear Gaussian model (whose mean is E[x | state]).
state_obs_means <- function(fam, p) {
  if (inherits(fam, "lvm_model")) return(stats::setNames(as.double(p$mean), family_colnames(fam$obs)))
  blocks <- if (fam$name == "product") fam$blocks else list(fam)
  pars <- if (fam$name == "product") p else list(p)
  cn <- family_colnames(fam)
  off <- 0L
  out <- list()
  for (b in seq_along(blocks)) {
    blk <- blocks[[b]]
    pb <- pars[[b]]
    cols <- cn[off + seq_len(blk$d)]
    v <- switch(blk$name,
      normal = pb$mean,
      poisson = pb$rate,
      bernoulli = pb$prob,
      binomial = blk$trials * pb$prob,
      von_mises = pb$mean,
      dirichlet = pb$alpha / sum(pb$alpha),
      gamma = pb$shape / pb$rate,
      categorical = stats::setNames(pb$prob, paste0(cols, ".", blk$levels)),
      to_mean(blk, pb)[seq_len(blk$d)]
    )
    if (blk$name != "categorical") v <- stats::setNames(as.double(v), cols)
    out[[b]] <- v
    off <- off + blk$d
  }
  unlist(out)
}

#' @rdname hmm-states
#' @export
forecast.hmm_fit <- function(fit, h = 1, newdata = NULL, ...) {
  check_dots(...)
  env <- rlang::current_env()
  h <- check_count(h, min = 1L, max = 1e6, call = env)
  if (is.null(newdata) && !is.null(fit$filtered)) {
    filt <- fit$filtered
    seqs <- fit$sequences
  } else {
    inf <- hmm_inference(fit, newdata, c(TRUE, FALSE, FALSE), env)
    filt <- inf$res$filtered
    seqs <- inf$seqs
  }
  A <- fit$params$transition
  S <- nrow(A)
  means <- do.call(rbind, lapply(fit$params$emission, function(p) state_obs_means(fit$model$emission, p)))
  st <- list()
  ob <- list()
  for (s in seq_along(seqs$lengths)) {
    p <- filt[seqs$start[s] + seqs$lengths[s], ]
    P <- matrix(0, h, S)
    for (j in seq_len(h)) {
      p <- as.vector(p %*% A)
      P[j, ] <- p
    }
    st[[s]] <- data.frame(sequence = seqs$ids[s], h = seq_len(h), P, stringsAsFactors = FALSE)
    ob[[s]] <- data.frame(sequence = seqs$ids[s], h = seq_len(h), P %*% means, stringsAsFactors = FALSE,
      check.names = FALSE)
  }
  states <- do.call(rbind, st)
  names(states)[-(1:2)] <- paste0("S", seq_len(S))
  obs <- do.call(rbind, ob)
  names(obs)[-(1:2)] <- colnames(means)
  list(states = states, observations = obs)
}

#' @export
posterior.hmm_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  env <- rlang::current_env()
  if (!is.null(src <- chunk_newdata(object, newdata))) {
    return(chunk_apply_fit(object, src, function(f, d) posterior(f, d), "the posterior"))
  }
  if (is.null(newdata) && !is.null(object$posterior)) return(object$posterior)
  p <- hmm_inference(object, newdata, c(FALSE, TRUE, FALSE), env)$res$smoothed
  colnames(p) <- paste0("S", seq_len(ncol(p)))
  p
}

#' Predicted states of a hidden Markov model
#'
#' @param object A fit of [hmm()].
#' @param newdata Optional sequences (see [filter_states()]).
#' @param type `"class"`: the Viterbi path (the jointly most probable states;
#'   not always the argmax of each smoothed probability). `"posterior"`: the
#'   smoothed state probabilities (a matrix, one row per time point).
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return An integer vector of states or a matrix of probabilities.
#' @examples
#' fit <- fit_lvm(hmm(ef_poisson(), 2), earthquakes$count)
#' head(predict(fit))
#' @export
predict.hmm_fit <- function(object, newdata = NULL, type = c("class", "posterior"), ...) {
  check_dots(...)
  type <- check_choice(type, c("class", "posterior"))
  if (!is.null(src <- chunk_newdata(object, newdata))) {
    return(chunk_apply_fit(object, src, function(f, d) predict(f, d, type = type), "the predictions"))
  }
  if (type == "posterior") return(posterior(object, newdata))
  viterbi(object, newdata)$state
}

#' @export
fitted.hmm_fit <- function(object, ...) {
  check_dots(...)
  predict(object, type = "class")
}

#' @export
log_density.hmm_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  env <- rlang::current_env()
  if (!is.null(src <- chunk_newdata(object, newdata))) {
    return(chunk_apply_fit(object, src, function(f, d) log_density(f, d), "the log densities"))
  }
  if (is.null(newdata) && !is.null(object$seq_loglik)) return(object$seq_loglik)
  inf <- hmm_inference(object, newdata, c(FALSE, FALSE, FALSE), env)
  hmm_seq_loglik(inf$res, inf$ok, inf$seqs, object$scaler)
}

#' Simulate from a fitted hidden Markov model
#'
#' @param object A fit of [hmm()] (or [with_params()] of one).
#' @param nsim Number of simulated sets of sequences, each with the fitted
#'   sequences' lengths (or `lengths`).
#' @param seed Optional seed, as in [stats::simulate()].
#' @param lengths Lengths of the simulated sequences (default: the fitted
#'   ones; required for a fit without data).
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return A data frame with columns `sim`, `sequence`, `time`, `state` and
#'   the observation columns (factors for categorical columns).
#' @examples
#' fit <- fit_lvm(hmm(ef_poisson(), 2), earthquakes$count)
#' head(simulate(fit, seed = 1))
#' @export
simulate.hmm_fit <- function(object, nsim = 1, seed = NULL, lengths = NULL, ...) {
  check_dots(...)
  nsim <- check_count(nsim, min = 1L)
  seed <- check_seed(seed)
  if (is.null(lengths)) lengths <- object$sequences$lengths
  if (is.null(lengths)) {
    abort_hm("This fit holds no sequences; give {.arg lengths}.", "argument")
  }
  if (!is.numeric(lengths) || length(lengths) < 1L) {
    abort_hm("{.arg lengths} must be the lengths of the sequences to draw, not {.obj_type_friendly {lengths}}.",
      "argument")
  }
  lengths <- vapply(lengths, function(l) check_count(l, min = 1L, arg = "lengths"), 1L)
  # The chain is drawn step by step in R: cap the total number of time points.
  if (nsim * sum(as.double(lengths)) > 1e7) {
    abort_hm("{.arg nsim} x {.arg lengths} asks for {format(nsim * sum(as.double(lengths)))} time points; at most 1e7 are drawn at once.",
      "too_large")
  }
  if (!is.null(seed)) set.seed(seed)
  p <- object$params
  S <- length(p$initial)
  A <- p$transition
  fam <- object$model$emission
  ns <- length(lengths)
  ids <- if (!is.null(object$sequences$ids) && length(object$sequences$ids) == ns) object$sequences$ids else
    as.character(seq_len(ns))
  z <- integer(0)
  for (r in seq_len(nsim)) {
    for (s in seq_len(ns)) {
      zs <- integer(lengths[s])
      zs[1] <- sample.int(S, 1L, prob = p$initial)
      for (t in seq_len(lengths[s])[-1]) zs[t] <- sample.int(S, 1L, prob = A[zs[t - 1L], ])
      z <- c(z, zs)
    }
  }
  N <- length(z)
  obs <- NULL
  for (k in seq_len(S)) {
    idx <- which(z == k)
    if (!length(idx)) next
    xk <- as.data.frame(hmm_emission_sample(fam, p$emission[[k]], length(idx)), stringsAsFactors = FALSE)
    if (is.null(obs)) {
      obs <- xk[rep(NA_integer_, N), , drop = FALSE]
      rownames(obs) <- NULL
    }
    obs[idx, ] <- xk
  }
  names(obs) <- family_colnames(object$model$obs)
  data.frame(
    sim = rep(seq_len(nsim), each = sum(lengths)),
    sequence = rep(rep(ids, lengths), nsim),
    time = rep(unlist(lapply(lengths, seq_len), use.names = FALSE), nsim),
    state = z, obs, stringsAsFactors = FALSE, check.names = FALSE
  )
}

#' Plot a fitted hidden Markov model
#'
#' @param x A fit of [hmm()].
#' @param type `"states"`: each observation column over time (sequences one
#'   after another, separated by dashed lines) on a background shaded by the
#'   Viterbi state, with each state's expected observation as a step line.
#'   `"trace"`: the log-likelihood per Baum-Welch iteration.
#' @param which Which observation column to plot (`"states"`).
#' @param ... Passed to the plotting function.
#' @return `x`, invisibly.
#' @examples
#' fit <- fit_lvm(hmm(ef_poisson(), 2), earthquakes$count)
#' plot(fit)
#' plot(fit, type = "trace")
#' @export
plot.hmm_fit <- function(x, type = c("states", "trace"), which = 1L, ...) {
  type <- check_choice(type, c("states", "trace"))
  if (type == "trace") {
    plot_trace(x, ...)
    return(invisible(x))
  }
  if (is.null(x$x) || nrow(x$x) == 0L) abort_hm("This fit holds no data to plot.", "argument")
  which <- check_count(which, min = 1L, max = ncol(x$x))
  path <- viterbi(x)$state
  S <- x$model$states
  y <- x$x[, which]
  tt <- seq_along(y)
  col <- class_colours(S)
  bg <- grDevices::adjustcolor(col, alpha.f = 0.25)
  graphics::plot(tt, y, type = "n", xlab = "time (sequences stacked)", ylab = family_colnames(x$model$obs)[which],
    main = "Observations and decoded states", ...)
  usr <- graphics::par("usr")
  r <- rle(path)
  ends <- cumsum(r$lengths)
  begins <- ends - r$lengths + 1L
  graphics::rect(begins - 0.5, usr[3], ends + 0.5, usr[4], col = bg[r$values], border = NA)
  graphics::lines(tt, y, col = "grey30")
  graphics::points(tt, y, pch = 20, cex = 0.6, col = col[path])
  means <- vapply(x$params$emission, function(p) state_obs_means(x$model$emission, p)[which], 1)
  graphics::lines(tt, means[path], type = "s", lwd = 2, col = "black")
  if (length(x$sequences$lengths) > 1L) {
    graphics::abline(v = x$sequences$start[-1] + 0.5, lty = 2)
  }
  graphics::legend("topright", legend = paste("state", seq_len(S)), fill = bg, bty = "n")
  invisible(x)
}

# n draws of one state's emission: the family's sampler, or for a linear
# Gaussian model x = b + A z + e with z ~ N(0, I_q) and e ~ N(0, Psi).
hmm_emission_sample <- function(emission, p, n) {
  if (!inherits(emission, "lvm_model")) return(ef_sample(emission, p, n))
  A <- as.matrix(p$loadings)
  z <- matrix(stats::rnorm(n * ncol(A)), n, ncol(A))
  e <- matrix(stats::rnorm(n * nrow(A)), n, nrow(A)) %*% chol(as.matrix(p$cov))
  x <- sweep(z %*% t(A) + e, 2L, as.double(p$mean), "+")
  dimnames(x) <- NULL
  x
}
