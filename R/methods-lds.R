# Methods for fitted linear dynamical systems (class lds_fit): state
# inference (filter_states, smooth_states, posterior), forecasts, one-step
# predictions, per-sequence log densities, simulation, print, summary, plot.

# The fit's own sequences, or newdata normalised like the fitted data.
lds_newdata <- function(fit, newdata, call = rlang::caller_env()) {
  if (is.null(newdata)) {
    if (is.null(fit$y)) abort_hm("This fit holds no data; supply {.arg newdata}.", "argument", call = call)
    return(list(y = fit$y, seqs = list(lengths = fit$lengths, ids = fit$ids, start = fit$start)))
  }
  seqs <- as_sequences(newdata, NULL, "newdata", call)
  list(y = lds_data(fit$model, seqs, "newdata", call), seqs = seqs)
}

lds_moments <- function(fit, newdata, want, call) {
  nd <- lds_newdata(fit, newdata, call)
  es <- lds_estep(nd$y, nd$seqs, NULL, fit$params, resolve_threads(), want)
  lds_stop(es, nd$seqs, call)
  c(es, nd)
}

# Splits q x N means and q^2 x N covariances into per-sequence lists.
lds_split <- function(mean, cov, seqs, q, names = NULL) {
  out <- lapply(seq_along(seqs$lengths), function(i) {
    cols <- seqs$start[i] + seq_len(seqs$lengths[i])
    m <- t(mean[, cols, drop = FALSE])
    colnames(m) <- names
    list(mean = m, cov = array(cov[(seqs$start[i] * q * q) + seq_len(q * q * seqs$lengths[i])],
      c(q, q, seqs$lengths[i])))
  })
  stats::setNames(out, seqs$ids)
}

lds_tidy <- function(res, level = 0.95) {
  z <- stats::qnorm(0.5 + level / 2)
  do.call(rbind, lapply(names(res), function(id) {
    m <- res[[id]]$mean
    se <- sqrt(t(apply(res[[id]]$cov, 3L, diag, simplify = TRUE)))
    if (ncol(m) == 1L) se <- matrix(se, ncol = 1L)
    data.frame(sequence = id, time = rep(seq_len(nrow(m)), ncol(m)),
      state = rep(if (is.null(colnames(m))) seq_len(ncol(m)) else colnames(m), each = nrow(m)),
      mean = as.vector(m), se = as.vector(se), lower = as.vector(m - z * se), upper = as.vector(m + z * se),
      stringsAsFactors = FALSE)
  }))
}

state_names <- function(q) paste0("state", seq_len(q))

#' State inference, forecasts and predictions for a linear dynamical system
#'
#' `filter_states()` gives p(z_t | y_1..y_t), `smooth_states()` (and
#' `posterior()`) p(z_t | y_1..y_T) (Rauch-Tung-Striebel), per sequence,
#' as a list with the means (`mean`, T x q) and covariances (`cov`,
#' q x q x T), or with `tidy = TRUE` one data frame with columns
#' `sequence`, `time`, `state`, `mean`, `se`, `lower`, `upper` (a `level`
#' interval). `forecast()` propagates the last filtered state of each
#' sequence `h` steps ahead: state and observation means and covariances.
#' `predict()` gives the one-step-ahead predictions `E[y_t | y_1..y_{t-1}]`
#' (`type = "one_step"`) or the smoothed observation means `C E[z_t | y] + d`
#' (`type = "smoothed"`), stacked over sequences, with the covariances in
#' attribute `"cov"`.
#'
#' @param fit,object A fit from `fit_lvm(lds(...), ...)` or `with_params()`.
#' @param newdata Optional sequences (default: the fitted data).
#' @param tidy Return a data frame.
#' @param level Coverage of the intervals.
#' @param h Steps ahead.
#' @param type For `predict()`: `"one_step"` or `"smoothed"`.
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return See Description.
#' @examples
#' m <- lds(1, 1, fixed = list(transition = 1, observation = 1, transition_offset = 0,
#'   observation_offset = 0, initial_mean = 0, initial_cov = 1000))
#' fit <- fit_lvm(m, Nile)
#' head(filter_states(fit, tidy = TRUE))
#' sm <- smooth_states(fit)[[1]]
#' range(sm$mean)
#' forecast(fit, h = 5)
#' head(predict(fit))
#' @name lds-methods
NULL

#' @rdname lds-methods
#' @export
filter_states.lds_fit <- function(fit, newdata = NULL, tidy = FALSE, level = 0.95, ...) {
  check_dots(...)
  tidy <- check_flag(tidy)
  level <- check_level(level)
  r <- lds_moments(fit, newdata, c(0L, 0L, 1L, 0L, 0L), rlang::current_env())
  res <- lds_split(r$filt_mean, r$filt_cov, r$seqs, fit$model$q, state_names(fit$model$q))
  if (isTRUE(tidy)) lds_tidy(res, level) else res
}

#' @rdname lds-methods
#' @export
smooth_states.lds_fit <- function(fit, newdata = NULL, tidy = FALSE, level = 0.95, ...) {
  check_dots(...)
  tidy <- check_flag(tidy)
  level <- check_level(level)
  r <- lds_moments(fit, newdata, c(0L, 0L, 0L, 1L, 0L), rlang::current_env())
  res <- lds_split(r$smooth_mean, r$smooth_cov, r$seqs, fit$model$q, state_names(fit$model$q))
  if (isTRUE(tidy)) lds_tidy(res, level) else res
}

#' @rdname lds-methods
#' @export
posterior.lds_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  smooth_states.lds_fit(object, newdata)
}

#' @rdname lds-methods
#' @export
forecast.lds_fit <- function(fit, h = 1, newdata = NULL, level = 0.95, ...) {
  check_dots(...)
  h <- check_count(h, min = 1L, max = 1e6)
  level <- check_level(level)
  r <- lds_moments(fit, newdata, c(0L, 0L, 1L, 0L, 0L), rlang::current_env())
  pr <- fit$params
  q <- fit$model$q
  p <- fit$model$p
  z <- stats::qnorm(0.5 + level / 2)
  out <- lapply(seq_along(r$seqs$lengths), function(i) {
    last <- r$seqs$start[i] + r$seqs$lengths[i]
    x <- r$filt_mean[, last]
    v <- matrix(r$filt_cov[(last - 1) * q * q + seq_len(q * q)], q)
    sm <- matrix(0, h, q, dimnames = list(NULL, state_names(q)))
    sc <- array(0, c(q, q, h))
    om <- matrix(0, h, p, dimnames = list(NULL, rownames(pr$observation)))
    oc <- array(0, c(p, p, h))
    for (k in seq_len(h)) {
      x <- as.vector(pr$transition %*% x + pr$transition_offset)
      v <- pr$transition %*% v %*% t(pr$transition) + pr$state_cov
      v <- (v + t(v)) / 2
      sm[k, ] <- x
      sc[, , k] <- v
      om[k, ] <- pr$observation %*% x + pr$observation_offset
      oc[, , k] <- pr$observation %*% v %*% t(pr$observation) + pr$observation_cov
    }
    se <- sqrt(t(apply(oc, 3L, diag)))
    if (p == 1L) se <- matrix(se, ncol = 1L)
    list(mean = om, cov = oc, lower = om - z * se, upper = om + z * se, state_mean = sm, state_cov = sc,
      time = r$seqs$lengths[i] + seq_len(h))
  })
  structure(stats::setNames(out, r$seqs$ids), class = "lds_forecast", level = level)
}

#' @export
print.lds_forecast <- function(x, digits = 5, ...) {
  check_dots(...)
  cat("<lds_forecast> ", length(x), " sequence", if (length(x) != 1L) "s", ", ",
    nrow(x[[1]]$mean), " step", if (nrow(x[[1]]$mean) != 1L) "s", " ahead, ",
    100 * attr(x, "level"), "% intervals\n", sep = "")
  for (id in names(x)) {
    f <- x[[id]]
    if (length(x) > 1L) cat("sequence ", id, "\n", sep = "")
    tab <- data.frame(time = f$time)
    for (j in seq_len(ncol(f$mean))) {
      nm <- if (is.null(colnames(f$mean))) paste0("y", j) else colnames(f$mean)[j]
      tab[[nm]] <- f$mean[, j]
      tab[[paste0(nm, " lower")]] <- f$lower[, j]
      tab[[paste0(nm, " upper")]] <- f$upper[, j]
    }
    print(tab, digits = digits, row.names = FALSE)
  }
  invisible(x)
}

#' @rdname lds-methods
#' @export
predict.lds_fit <- function(object, newdata = NULL, type = c("one_step", "smoothed"), ...) {
  check_dots(...)
  type <- check_choice(type, c("one_step", "smoothed"))
  want <- if (type == "one_step") c(0L, 1L, 0L, 0L, 0L) else c(0L, 0L, 0L, 1L, 0L)
  r <- lds_moments(object, newdata, want, rlang::current_env())
  pr <- object$params
  q <- object$model$q
  p <- object$model$p
  mm <- if (type == "one_step") r$pred_mean else r$smooth_mean
  cv <- if (type == "one_step") r$pred_cov else r$smooth_cov
  n <- ncol(mm)
  out <- t(pr$observation %*% mm + pr$observation_offset)
  colnames(out) <- rownames(pr$observation)
  cc <- array(0, c(p, p, n))
  for (t in seq_len(n)) {
    v <- matrix(cv[(t - 1) * q * q + seq_len(q * q)], q)
    cc[, , t] <- pr$observation %*% v %*% t(pr$observation) + if (type == "one_step") pr$observation_cov else 0
  }
  attr(out, "cov") <- cc
  attr(out, "sequence") <- rep(r$seqs$ids, r$seqs$lengths)
  out
}

#' @export
fitted.lds_fit <- function(object, ...) {
  check_dots(...)
  predict.lds_fit(object, type = "smoothed")
}

#' @rdname lds-methods
#' @export
log_density.lds_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  if (is.null(newdata) && length(object$logp)) return(object$logp)
  r <- lds_moments(object, newdata, c(0L, 0L, 0L, 0L, 0L), rlang::current_env())
  stats::setNames(r$loglik, r$seqs$ids)
}

#' Simulate from a linear dynamical system
#'
#' @param object An `lds_fit`.
#' @param nsim Number of sequences.
#' @param seed Optional seed, as in [stats::simulate()].
#' @param length Time points per sequence (default: the first fitted
#'   sequence's length, else 100).
#' @param ... Not used: an argument here is an error of class
#'   `harmonium_error_unknown_argument` naming the closest valid one.
#' @return A list of `nsim` matrices (length x p), each with attribute
#'   `"states"` (length x q).
#' @examples
#' m <- lds(1, 1, fixed = list(transition = 1, observation = 1, transition_offset = 0,
#'   observation_offset = 0, initial_mean = 0, initial_cov = 1000))
#' fit <- fit_lvm(m, Nile)
#' str(simulate(fit, 2, seed = 1, length = 5))
#' @export
simulate.lds_fit <- function(object, nsim = 1, seed = NULL, length = NULL, ...) {
  check_dots(...)
  nsim <- check_count(nsim, min = 1L)
  if (is.null(length)) length <- if (length(object$lengths)) object$lengths[1] else 100L
  length <- check_count(length, min = 1L)
  seed <- check_seed(seed)
  # The state is propagated step by step in R: cap the total number of steps.
  if (as.double(nsim) * length > 1e7) {
    abort_hm("{.arg nsim} x {.arg length} asks for {format(as.double(nsim) * length)} time steps; at most 1e7 are drawn at once.",
      "too_large")
  }
  if (!is.null(seed)) set.seed(seed)
  pr <- object$params
  q <- object$model$q
  p <- object$model$p
  lq <- t(chol(pr$state_cov))
  lr <- t(chol(pr$observation_cov))
  e1 <- eigen(pr$initial_cov, symmetric = TRUE)
  l1 <- e1$vectors %*% diag(sqrt(pmax(e1$values, 0)), q)
  lapply(seq_len(nsim), function(s) {
    z <- matrix(0, length, q, dimnames = list(NULL, state_names(q)))
    yy <- matrix(0, length, p, dimnames = list(NULL, rownames(pr$observation)))
    x <- pr$initial_mean + as.vector(l1 %*% stats::rnorm(q))
    for (t in seq_len(length)) {
      if (t > 1L) x <- as.vector(pr$transition %*% x + pr$transition_offset + lq %*% stats::rnorm(q))
      z[t, ] <- x
      yy[t, ] <- pr$observation %*% x + pr$observation_offset + lr %*% stats::rnorm(p)
    }
    attr(yy, "states") <- z
    yy
  })
}

#' @export
print.lds_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  cat("<lds_fit> ", x$model$label, "\n", sep = "")
  cat("  ", length(x$lengths), " sequence", if (length(x$lengths) != 1L) "s", ", n = ", x$n,
    " time points, log-likelihood = ", format(x$loglik, digits = 10), ", df = ", x$df,
    ", BIC = ", format(-2 * x$loglik + x$df * log(max(x$n, 1)), digits = 10), "\n", sep = "")
  if (x$iterations > 0L) {
    cat("  ", x$iterations, " EM iteration", if (x$iterations != 1L) "s", ", ",
      if (isTRUE(x$converged)) "converged" else paste0("not converged (", x$status, ")"), "\n", sep = "")
  }
  print_fit_warnings(x$warnings)
  invisible(x)
}

#' @export
summary.lds_fit <- function(object, ...) {
  check_dots(...)
  ll <- object$loglik
  structure(list(warnings = object$warnings, label = object$model$label, n = object$n, sequences = length(object$lengths), loglik = ll,
    df = object$df, AIC = -2 * ll + 2 * object$df, BIC = -2 * ll + object$df * log(max(object$n, 1)),
    iterations = object$iterations, converged = object$converged, status = object$status,
    params = object$params, spec = vapply(object$model$spec, `[[`, "", "type"), starts = object$starts),
    class = "summary.lds_fit")
}

#' @export
print.summary.lds_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  cat("Model: ", x$label, " (analytic)\n", sep = "")
  cat("Fitted by EM: ", x$iterations, " iteration", if (x$iterations != 1L) "s", ", ",
    if (isTRUE(x$converged)) "converged" else x$status, "\n\n", sep = "")
  print(data.frame(`log-likelihood` = x$loglik, sequences = x$sequences, n = x$n, df = x$df, AIC = x$AIC,
    BIC = x$BIC, check.names = FALSE), row.names = FALSE, digits = 10)
  cat("\nParameters (", paste(names(x$spec), x$spec, sep = ": ", collapse = ", "), "):\n", sep = "")
  for (nm in names(x$params)) {
    cat("-- ", nm, "\n", sep = "")
    print(round(x$params[[nm]], digits))
  }
  if (!is.null(x$starts) && nrow(x$starts) > 1L) {
    cat("\nStarts:\n")
    print(x$starts, row.names = FALSE, digits = 10)
  }
  print_fit_warnings(x$warnings)
  invisible(x)
}

#' Plot a fitted linear dynamical system
#'
#' @param x An `lds_fit`.
#' @param type `"states"`: the observations of one sequence (first
#'   observation dimension) with the smoothed (or filtered) fitted
#'   observation mean and its `level` band; `"filtered"`: the same with the
#'   filter; `"trace"`: the log-likelihood per EM iteration.
#' @param sequence Which sequence (index or id).
#' @param dim Which observation dimension.
#' @param level Coverage of the band.
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @examples
#' m <- lds(1, 1, fixed = list(transition = 1, observation = 1, transition_offset = 0,
#'   observation_offset = 0, initial_mean = 0, initial_cov = 1000))
#' fit <- fit_lvm(m, Nile)
#' plot(fit)
#' plot(fit, type = "filtered")
#' @export
plot.lds_fit <- function(x, type = c("states", "filtered", "trace"), sequence = 1, dim = 1, level = 0.95, ...) {
  type <- check_choice(type, c("states", "filtered", "trace"))
  level <- check_level(level)
  if (type == "trace") {
    plot_trace(x, ...)
    return(invisible(x))
  }
  if (is.null(x$y)) abort_hm("This fit holds no data to plot.", "argument")
  i <- if (is.character(sequence)) match(sequence, x$ids) else sequence
  if (length(i) != 1L || is.na(i) || i < 1 || i > length(x$lengths)) {
    abort_hm("{.arg sequence} must name or index one of the {length(x$lengths)} sequence{?s}.", "argument")
  }
  dim <- check_count(dim, max = x$model$p)
  res <- if (type == "states") smooth_states.lds_fit(x) else filter_states.lds_fit(x)
  s <- res[[i]]
  pr <- x$params
  cr <- pr$observation[dim, ]
  m <- as.vector(s$mean %*% cr) + pr$observation_offset[dim]
  se <- sqrt(apply(s$cov, 3L, function(v) sum(cr * (v %*% cr))))
  z <- stats::qnorm(0.5 + level / 2)
  cols <- x$start[i] + seq_len(x$lengths[i])
  yv <- x$y[dim, cols]
  tt <- seq_along(yv)
  rng <- range(c(yv, m - z * se, m + z * se), na.rm = TRUE)
  graphics::plot(tt, yv, ylim = rng, pch = 20, col = "grey40", xlab = "time",
    ylab = if (is.null(rownames(x$y))) paste0("y", dim) else rownames(x$y)[dim],
    main = paste(if (type == "states") "Smoothed" else "Filtered", "state (observation scale)"), ...)
  graphics::polygon(c(tt, rev(tt)), c(m - z * se, rev(m + z * se)), col = grDevices::adjustcolor("steelblue", 0.3),
    border = NA)
  graphics::lines(tt, m, col = "steelblue", lwd = 2)
  invisible(x)
}
