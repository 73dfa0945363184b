# Choosing the number of components: one fit per k, a table of
# log-likelihood, df, BIC and ICL (both smaller-is-better), and a plot in the
# spirit of mclust's BIC plot.

#' Compare numbers of mixture components
#'
#' Fits `model_fn(k)` for each `k` and tabulates the log-likelihood, the
#' number of free parameters, BIC (`-2 l + df log n`) and ICL (BIC plus twice
#' the entropy of the hard classification, `-2 sum log z_i`), both smaller
#' is better. A value of `k` whose fit fails is kept in the table with `NA`
#' and reported, never fatal; a fit that ended degenerate is kept, marked
#' and not chosen while a healthy one exists.
#'
#' @param model_fn A function of `k` returning an `lvm_model`, or an
#'   exponential family (then `mixture(model_fn, k)` is used).
#' @param data The data, as for [fit_lvm()].
#' @param k The numbers of components to try.
#' @param factors Optional numbers of factors (latent dimensions) to try
#'   as well: `model_fn` is then a function of `k` and `factors` (for
#'   example `function(k, factors) mfa(p, factors, k)`) and every pair is
#'   fitted.
#' @param ... Further arguments of [fit_lvm()] (`control`, `weights`, ...).
#' @return An object of class `lvm_select`: `table` (a data frame with
#'   columns `k`, `loglik`, `df`, `BIC`, `ICL`, `converged`, `degenerate`
#'   and `warnings`, the number of events in the fit's `warnings`), `fits`
#'   (the fits, by k) and `best` (the k with the smallest BIC among the fits
#'   that did not end degenerate, when there is one; with `factors`, a list
#'   of the best `k` and `factors`, and a `factors` column). A degenerate
#'   fit (a component that collapsed, a Heywood case, a ridge added because
#'   the data are singular) is marked `degenerate = TRUE` and reported by a
#'   warning of class `harmonium_warning_select_degenerate`.
#' @examples
#' sel <- select_k(ef_normal(2), faithful, k = 1:4)
#' sel
#' plot(sel)
#' @export
select_k <- function(model_fn, data, k = 1:9, factors = NULL, ...) {
  env <- rlang::current_env()
  if (inherits(model_fn, "ef_family")) {
    if (!is.null(factors)) {
      abort_hm(c("{.arg factors} needs {.arg model_fn} to be a function of {.arg k} and {.arg factors}.",
        i = "For example {.code function(k, factors) mfa(p, factors, k)}."), "argument", call = env)
    }
    fam <- model_fn
    model_fn <- function(k) mixture(fam, k)
  }
  if (!is.function(model_fn)) {
    abort_hm("{.arg model_fn} must be a function of {.arg k} or an exponential family.", "argument", call = env)
  }
  k <- sort(unique(check_counts(k, call = env)))
  grid <- if (is.null(factors)) data.frame(k = k) else {
    n_formals <- length(formals(model_fn))
    if (n_formals < 2L && !("..." %in% names(formals(model_fn)))) {
      abort_hm("{.arg model_fn} must be a function of {.arg k} and {.arg factors} when {.arg factors} is given.",
        "argument", call = env)
    }
    expand.grid(k = k, factors = sort(unique(check_counts(factors, call = env))))
  }
  lab <- if (is.null(factors)) paste0("k = ", grid$k) else paste0("k = ", grid$k, ", factors = ", grid$factors)
  # The models first: a model_fn that fails or returns something else is the
  # caller's mistake, reported as such before any fitting.
  models <- lapply(seq_len(nrow(grid)), function(i) {
    m <- tryCatch(
      if (is.null(factors)) model_fn(grid$k[i]) else model_fn(grid$k[i], grid$factors[i]),
      harmonium_error = function(e) e,
      error = function(e) {
        abort_hm("{.arg model_fn} failed for {lab[i]}.", "argument", call = env, parent = e)
      }
    )
    if (!inherits(m, "error") && !inherits(m, "lvm_model")) {
      abort_hm("{.arg model_fn} must return an {.cls lvm_model}; for {lab[i]} it returned {.obj_type_friendly {m}}.",
        "argument", call = env)
    }
    m
  })
  fits <- vector("list", nrow(grid))
  names(fits) <- if (is.null(factors)) grid$k else paste(grid$k, grid$factors, sep = ":")
  failed <- character(0)
  for (i in seq_len(nrow(grid))) {
    # fits[i] <- list(.), not fits[[i]] <- .: assigning NULL would drop the slot.
    fits[i] <- list(tryCatch(
      if (inherits(models[[i]], "error")) rlang::cnd_signal(models[[i]]) else fit_lvm(models[[i]], data, ...),
      harmonium_error = function(e) {
        failed <<- c(failed, paste0(lab[i], ": ", conditionMessage(e)))
        NULL
      }
    ))
  }
  row <- function(f) {
    if (is.null(f)) return(c(NA, NA, NA, NA, NA))
    s <- summary(f)
    c(s$loglik, s$df, s$BIC, s$ICL, isTRUE(f$converged))
  }
  tab <- as.data.frame(do.call(rbind, lapply(fits, row)))
  names(tab) <- c("loglik", "df", "BIC", "ICL", "converged")
  tab <- cbind(grid, tab)
  tab$converged <- as.logical(tab$converged)
  # A fit that ended degenerate (a collapsed component, a Heywood case, a
  # ridge needed for singular data) is marked, and the best k is chosen among
  # the healthy fits when there is one: a degenerate fit's likelihood is
  # spurious.
  tab$degenerate <- vapply(fits, function(f) if (is.null(f)) NA else fit_is_degenerate(f), logical(1))
  tab$warnings <- vapply(fits, function(f) if (is.null(f)) NA_integer_ else NROW(f$warnings), integer(1))
  rownames(tab) <- NULL
  if (length(failed)) {
    warn_hm(c("{length(failed)} fit{?s} failed and {?is/are} recorded as NA:", stats::setNames(failed, rep("x", length(failed)))),
      "select_failed")
  }
  crit <- tab$BIC
  healthy <- !is.na(crit) & !tab$degenerate
  if (any(healthy)) {
    crit[!healthy] <- NA
  }
  degen <- which(tab$degenerate %in% TRUE)
  if (length(degen)) {
    ev <- paste0(lab[degen], ": ", vapply(fits[degen], function(f) {
      w <- f$warnings$message[f$warnings$class %in% degenerate_events]
      if (length(w)) w[1] else paste("status", f$status)
    }, ""))
    tail <- if (any(healthy)) "; the best k is chosen among the others" else "; no fit was healthy"
    warn_hm(c("{length(degen)} fit{?s} ended degenerate (column {.field degenerate} of the table){tail}:",
      stats::setNames(gsub("\\s+", " ", ev), rep("*", length(ev)))), "select_degenerate", events = ev)
  }
  best <- if (all(is.na(crit))) NA_integer_ else tab$k[which.min(crit)]
  if (!is.null(factors) && !all(is.na(crit))) {
    best <- list(k = tab$k[which.min(crit)], factors = tab$factors[which.min(crit)])
  }
  structure(list(table = tab, fits = fits, best = best), class = "lvm_select")
}

#' @export
print.lvm_select <- function(x, ...) {
  cat("Model selection over k (smaller BIC and ICL are better)\n")
  print(x$table, row.names = FALSE, digits = 8)
  if (is.list(x$best)) {
    cat("Best by BIC: k =", x$best$k, "with", x$best$factors, "factors\n")
  } else {
    cat("Best by BIC: k =", x$best, "\n")
  }
  invisible(x)
}

#' @export
as.data.frame.lvm_select <- function(x, ...) x$table

#' Plot a model-selection table
#'
#' BIC and ICL against the number of components, with the best k marked.
#'
#' @param x An `lvm_select` from [select_k()].
#' @param ... Passed to [graphics::matplot()].
#' @return `x`, invisibly.
#' @export
plot.lvm_select <- function(x, ...) {
  fixed <- intersect(names(list(...)), c("type", "pch", "lty", "col", "xlab", "ylab", "xaxt", "main"))
  if (length(fixed)) {
    abort_hm("{.arg {fixed[1]}} is set by {.fn plot} for a model selection and cannot be passed.", "argument")
  }
  tab <- x$table
  if (!is.null(tab$factors)) {
    fs <- sort(unique(tab$factors))
    y <- sapply(fs, function(f) tab$BIC[match(sort(unique(tab$k)), tab$k[tab$factors == f]) +
      min(which(tab$factors == f)) - 1L])
    ks <- sort(unique(tab$k))
    graphics::matplot(ks, y, type = "b", pch = 19, lty = 1, col = class_colours(length(fs)),
      xlab = "number of components k", ylab = "BIC (smaller is better)", xaxt = "n", main = "Model selection", ...)
    graphics::axis(1, at = ks)
    graphics::legend("topright", paste(fs, "factor(s)"), pch = 19, col = class_colours(length(fs)), bty = "n")
    return(invisible(x))
  }
  y <- cbind(tab$BIC, tab$ICL)
  graphics::matplot(tab$k, y, type = "b", pch = c(19, 17), lty = 1:2, col = c("black", "grey45"),
    xlab = "number of components k", ylab = "criterion (smaller is better)", xaxt = "n",
    main = "Model selection", ...)
  graphics::axis(1, at = tab$k)
  if (!is.na(x$best)) graphics::abline(v = x$best, lty = 3)
  graphics::legend("topright", c("BIC", "ICL"), pch = c(19, 17), lty = 1:2, col = c("black", "grey45"),
    bty = "n")
  invisible(x)
}
