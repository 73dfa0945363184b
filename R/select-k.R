# Choosing the number of components (and, for a Normal component, the
# covariance structure): one fit per k (and structure), a table of
# log-likelihood, df, BIC and ICL (both smaller-is-better), mclust's BIC
# table shape, and a plot in the spirit of mclust's BIC plot.

#' Compare numbers of mixture components and covariance structures
#'
#' Fits `mixture(component, k)` for each `k` (and, for a Normal component,
#' each covariance structure in `covariance`) and tabulates the
#' log-likelihood, the number of free parameters, BIC (`-2 l + df log n`)
#' and ICL (BIC plus twice the entropy of the hard classification,
#' `-2 sum log z_i`). Both are smaller-is-better: mclust's BIC is
#' `2 l - df log n`, the same number with the opposite sign. A fit that
#' fails is kept in the table with `NA` and reported, never fatal. A fit that
#' ended degenerate (a component that collapsed onto a point or a subspace,
#' a component with fewer than d + 1 effective observations for an
#' unrestricted covariance, a singular covariance, a concentration running
#' off to infinity, a Heywood case, a ridge added because the data are
#' singular) has a spurious log-likelihood: it is shown with `NA` BIC and
#' ICL, as mclust shows `NA`, marked `degenerate = TRUE`, reported by a
#' warning of class `harmonium_warning_select_degenerate`, and never chosen.
#'
#' @param component An exponential family (then `mixture(component, k)` is
#'   fitted), or a function of `k` returning an `lvm_model` (of `k` and
#'   `factors` when `factors` is given).
#' @param data The data, as for [fit_lvm()].
#' @param k The numbers of components to try.
#' @param covariance For a Normal component ([ef_normal()]): the covariance
#'   structures to compare, as names of [ef_normal()]'s `covariance`
#'   (mclust's `"EII"`, `"VII"`, `"EEI"`, `"VEI"`, `"EVI"`, `"VVI"`,
#'   `"EEE"`, `"VEE"`, `"EVE"`, `"VVE"`, `"EEV"`, `"VEV"`, `"EVV"`, `"VVV"`,
#'   or `"full"`, `"diagonal"`, `"isotropic"`; `"E"` and `"V"` for one
#'   column), or `"all"`: mclust's 14 models (`"E"` and `"V"` for one
#'   column). `NULL` (the default) fits only the component's own structure.
#'   Every pair of `k` and structure is fitted.
#' @param factors Optional numbers of factors (latent dimensions) to try
#'   as well: `component` is then a function of `k` and `factors` (for
#'   example `function(k, factors) mfa(p, factors, k)`) and every pair is
#'   fitted.
#' @param ... Further arguments of [fit_lvm()] (`control`, `weights`, ...).
#' @return An object of class `lvm_select`:
#' * `table` (also `as.data.frame()`): one row per fit, with columns `k`,
#'   `covariance` (the structure's name; `NA` for a component that is not
#'   Normal or a function), `loglik`, `df`, `BIC`, `ICL`, `converged`,
#'   `degenerate` and `warnings` (the number of events in the fit's
#'   `warnings`); with `factors`, a `factors` column after `k`.
#' * `bic`: the BIC in mclust's shape, a matrix with a row per `k` and a
#'   column per structure (one column when there is no structure to
#'   compare), `NA` for failed and degenerate fits; smaller is better.
#' * `fits`: the fits, named `"k"` or `"structure,k"` (mclust's labels) or
#'   `"k:factors"`.
#' * `best`: a list with the chosen `k` and `covariance` (and `factors`),
#'   the smallest BIC among the fits that did not fail or end degenerate;
#'   `NA` when there is none.
#' @seealso [fit_lvm()], [plot.lvm_select()].
#' @examples
#' sel <- select_k(ef_normal(2), faithful, k = 1:4)
#' sel
#' sel$best
#' sel2 <- select_k(ef_normal(2), faithful, k = 1:3, covariance = c("EII", "EEE", "VVV"))
#' sel2
#' sel2$bic
#' head(as.data.frame(sel2))
#' plot(sel2)
#' @export
select_k <- function(component, data, k = 1:9, covariance = NULL, factors = NULL, ...) {
  env <- rlang::current_env()
  structures <- NA_character_
  model_fn <- component
  if (inherits(component, "ef_family")) {
    if (!is.null(factors)) {
      abort_hm(c("{.arg factors} needs {.arg component} to be a function of {.arg k} and {.arg factors}.",
        i = "For example {.code function(k, factors) mfa(p, factors, k)}."), "argument", call = env)
    }
    fam <- component
    own <- normal_structure_label(fam)
    if (!is.null(covariance)) {
      if (is.na(own)) {
        abort_hm(c("{.arg covariance} compares the covariance structures of a Normal component.",
          x = "{.arg component} is {fam$label}."), "argument", call = env)
      }
      structures <- select_structures(covariance, fam$d, env)
    } else {
      structures <- own
    }
    model_fn <- function(k, s) {
      if (is.na(s) || identical(s, own)) mixture(fam, k) else mixture(ef_normal(fam$d, covariance = s), k)
    }
  } else if (!is.function(component)) {
    abort_hm("{.arg component} must be an exponential family or a function of {.arg k}.", "argument", call = env)
  } else if (!is.null(covariance)) {
    abort_hm(c("{.arg covariance} needs {.arg component} to be a Normal family such as {.code ef_normal(2)}.",
      i = "A function of {.arg k} sets the covariance itself."), "argument", call = env)
  }
  k <- sort(unique(check_counts(k, call = env)))
  if (is.null(factors)) {
    grid <- expand.grid(k = k, covariance = structures, stringsAsFactors = FALSE)
    grid <- grid[order(match(grid$covariance, structures), grid$k), , drop = FALSE]
    lab <- if (length(structures) > 1L) paste0(grid$covariance, ",", grid$k) else paste0("k = ", grid$k)
    nm <- if (length(structures) > 1L) paste0(grid$covariance, ",", grid$k) else as.character(grid$k)
  } else {
    n_formals <- length(formals(model_fn))
    if (n_formals < 2L && !("..." %in% names(formals(model_fn)))) {
      abort_hm("{.arg component} must be a function of {.arg k} and {.arg factors} when {.arg factors} is given.",
        "argument", call = env)
    }
    grid <- expand.grid(k = k, factors = sort(unique(check_counts(factors, call = env))))
    grid$covariance <- NA_character_
    lab <- paste0("k = ", grid$k, ", factors = ", grid$factors)
    nm <- paste(grid$k, grid$factors, sep = ":")
  }
  rownames(grid) <- NULL
  fn_given <- !inherits(component, "ef_family")
  # The models first: a component function that fails or returns something
  # else is the caller's mistake, reported as such before any fitting.
  models <- lapply(seq_len(nrow(grid)), function(i) {
    m <- tryCatch(
      if (!is.null(factors)) model_fn(grid$k[i], grid$factors[i]) else if (fn_given) model_fn(grid$k[i]) else
        model_fn(grid$k[i], grid$covariance[i]),
      harmonium_error = function(e) e,
      error = function(e) {
        abort_hm("{.arg component} failed for {lab[i]}.", "argument", call = env, parent = e)
      }
    )
    if (!inherits(m, "error") && !inherits(m, "lvm_model")) {
      abort_hm("{.arg component} must return an {.cls lvm_model}; for {lab[i]} it returned {.obj_type_friendly {m}}.",
        "argument", call = env)
    }
    m
  })
  fits <- vector("list", nrow(grid))
  names(fits) <- nm
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
  vals <- as.data.frame(do.call(rbind, lapply(fits, row)))
  names(vals) <- c("loglik", "df", "BIC", "ICL", "converged")
  tab <- data.frame(k = grid$k, stringsAsFactors = FALSE)
  if (!is.null(factors)) tab$factors <- grid$factors
  tab$covariance <- grid$covariance
  tab <- cbind(tab, vals)
  tab$converged <- as.logical(tab$converged)
  # A fit that ended degenerate (a collapsed component, a singular
  # covariance, a Heywood case, a ridge needed for singular data) has a
  # spurious likelihood: NA criteria, as mclust's NA BIC, and never chosen.
  tab$degenerate <- vapply(fits, function(f) if (is.null(f)) NA else fit_is_degenerate(f), logical(1))
  tab$warnings <- vapply(fits, function(f) if (is.null(f)) NA_integer_ else NROW(f$warnings), integer(1))
  tab$BIC[tab$degenerate %in% TRUE] <- NA_real_
  tab$ICL[tab$degenerate %in% TRUE] <- NA_real_
  rownames(tab) <- NULL
  if (length(failed)) {
    warn_hm(c("{length(failed)} fit{?s} failed and {?is/are} recorded as NA:", stats::setNames(failed, rep("x", length(failed)))),
      "select_failed")
  }
  degen <- which(tab$degenerate %in% TRUE)
  healthy <- !is.na(tab$BIC)
  if (length(degen)) {
    ev <- paste0(lab[degen], ": ", vapply(fits[degen], function(f) {
      w <- f$warnings$message[f$warnings$class %in% degenerate_events]
      if (length(w)) w[1] else paste("status", f$status)
    }, ""))
    tail <- if (any(healthy)) "; their BIC is NA and they are not chosen" else "; no fit was healthy, none is chosen"
    warn_hm(c("{length(degen)} fit{?s} ended degenerate (column {.field degenerate} of the table){tail}:",
      stats::setNames(gsub("\\s+", " ", ev), rep("*", length(ev)))), "select_degenerate", events = ev)
  }
  best <- list(k = NA_integer_, covariance = NA_character_)
  if (!is.null(factors)) best$factors <- NA_integer_
  if (any(healthy)) {
    b <- which.min(tab$BIC)
    best$k <- tab$k[b]
    best$covariance <- tab$covariance[b]
    if (!is.null(factors)) best$factors <- tab$factors[b]
  }
  structure(list(table = tab, bic = select_bic_matrix(tab, structures, factors), fits = fits, best = best),
    class = "lvm_select")
}

# The name of a Normal family's covariance structure (mclust's, or
# "full"/"diagonal"/"isotropic" as given), NA for another family.
normal_structure_label <- function(fam) {
  if (!identical(fam$name, "normal")) return(NA_character_)
  if (!is.null(fam$structure)) return(fam$structure)
  c(full = "VVV", diagonal = "VVI", isotropic = "VII")[[fam$covariance]]
}

# The structures of select_k(covariance = ): "all" is mclust's 14 models (E
# and V for one column); names are checked by ef_normal().
select_structures <- function(covariance, d, call) {
  if (!is.character(covariance) || !length(covariance) || anyNA(covariance)) {
    abort_hm("{.arg covariance} must be a character vector of covariance structures, or {.val all}.", "argument",
      call = call)
  }
  if (identical(covariance, "all")) {
    return(if (d == 1L) c("E", "V") else c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE",
      "EEV", "VEV", "EVV", "VVV"))
  }
  covariance <- unique(covariance)
  for (s in covariance) {
    tryCatch(ef_normal(d, covariance = s), harmonium_error = function(e) {
      abort_hm("{.arg covariance} has {.val {s}}, not a structure of {.fn ef_normal} with {d} column{?s}.",
        "argument", call = call, parent = e)
    })
  }
  covariance
}

# mclust's BIC table shape: a row per k, a column per structure (NA for a
# failed or degenerate fit); with factors, a column per number of factors.
select_bic_matrix <- function(tab, structures, factors) {
  ks <- sort(unique(tab$k))
  cols <- if (!is.null(factors)) sort(unique(tab$factors)) else structures
  key <- if (!is.null(factors)) tab$factors else tab$covariance
  out <- matrix(NA_real_, length(ks), length(cols),
    dimnames = list(as.character(ks), if (!is.null(factors)) paste0("factors=", cols) else
      if (length(cols) == 1L && is.na(cols)) "BIC" else cols))
  for (i in seq_len(nrow(tab))) {
    j <- if (is.na(key[i])) 1L else match(key[i], cols)
    out[match(tab$k[i], ks), j] <- tab$BIC[i]
  }
  out
}

# "VVV,3" (mclust's label of a model) or "k = 3", for a row of the table.
select_labels <- function(tab) {
  if (!is.null(tab$factors)) return(paste0("k = ", tab$k, ", factors = ", tab$factors))
  ifelse(is.na(tab$covariance), paste0("k = ", tab$k), paste0(tab$covariance, ",", tab$k))
}

#' @export
print.lvm_select <- function(x, ...) {
  tab <- x$table
  many <- ncol(x$bic) > 1L
  cat(if (!is.null(tab$factors)) "Model selection over k and the number of factors\n" else if (many)
    "Model selection over k and covariance structure\n" else "Model selection over k\n")
  cat("BIC = -2 log-likelihood + df log(n): smaller is better (mclust's BIC has the opposite sign)\n")
  if (many) {
    cat("\nBIC:\n")
    print(x$bic, digits = 7)
  } else {
    cat("\n")
    print(tab, row.names = FALSE, digits = 8)
  }
  ok <- which(!is.na(tab$BIC))
  if (length(ok)) {
    top <- ok[order(tab$BIC[ok])][seq_len(min(3L, length(ok)))]
    cat(sprintf("\nTop %d model%s by BIC:\n", length(top), if (length(top) > 1L) "s" else ""))
    v <- stats::setNames(format(tab$BIC[top], nsmall = 3, digits = 7), select_labels(tab)[top])
    print(noquote(v))
  }
  nd <- sum(tab$degenerate %in% TRUE)
  if (nd) cat(sprintf("%d degenerate fit%s (BIC NA, not chosen)\n", nd, if (nd > 1L) "s" else ""))
  b <- x$best
  if (is.na(b$k)) {
    cat("No healthy fit to choose.\n")
  } else if (!is.null(b$factors)) {
    cat("Best by BIC: k =", b$k, "with", b$factors, "factors\n")
  } else if (!is.na(b$covariance)) {
    cat("Best by BIC: k = ", b$k, ", covariance ", b$covariance, "\n", sep = "")
  } else {
    cat("Best by BIC: k =", b$k, "\n")
  }
  invisible(x)
}

#' @export
as.data.frame.lvm_select <- function(x, ...) x$table

# mclust's plotting symbols and colours of its models
# (mclust.options("bicPlotSymbols") and ("bicPlotColors")).
mclust_symbols <- c(EII = 17, VII = 2, EEI = 16, EVI = 10, VEI = 13, VVI = 1, EEE = 15, VEE = 8, EVE = 5,
  VVE = 9, EEV = 12, VEV = 7, EVV = 14, VVV = 0, E = 17, V = 2)
mclust_colours <- c(EII = "gray", VII = "black", EEI = "#218B21", EVI = "#41884F", VEI = "#508476",
  VVI = "#58819C", EEE = "#597DC3", VEE = "#5178EA", EVE = "#716EE7", VVE = "#9B60B8", EEV = "#B2508B",
  VEV = "#C03F60", EVV = "#C82A36", VVV = "#CC0000", E = "gray", V = "black")

#' Plot a model-selection table
#'
#' With several covariance structures, as mclust's BIC plot: BIC against
#' the number of components, one line per structure with mclust's symbols
#' and colours (a gap where a fit failed or ended degenerate), the best
#' model circled. Our BIC is `-2 l + df log n`, so lower is better (mclust
#' plots the opposite sign). With one structure, BIC and ICL against k, the
#' best k marked; with `factors`, one BIC line per number of factors.
#'
#' @param x An `lvm_select` from [select_k()].
#' @param ... Passed to [graphics::matplot()].
#' @return `x`, invisibly.
#' @examples
#' sel <- select_k(ef_normal(2), faithful, k = 1:3, covariance = c("EII", "VVI", "VVV"))
#' plot(sel)
#' @export
plot.lvm_select <- function(x, ...) {
  fixed <- intersect(names(list(...)), c("type", "pch", "lty", "col", "xlab", "ylab", "xaxt", "main"))
  if (length(fixed)) {
    abort_hm("{.arg {fixed[1]}} is set by {.fn plot} for a model selection and cannot be passed.", "argument")
  }
  tab <- x$table
  ks <- as.numeric(rownames(x$bic))
  if (!is.null(tab$factors)) {
    fs <- sort(unique(tab$factors))
    graphics::matplot(ks, x$bic, type = "b", pch = 19, lty = 1, col = class_colours(length(fs)),
      xlab = "number of components k", ylab = "BIC (smaller is better)", xaxt = "n", main = "Model selection", ...)
    graphics::axis(1, at = ks)
    graphics::legend("topright", paste(fs, "factor(s)"), pch = 19, col = class_colours(length(fs)), bty = "n")
    return(invisible(x))
  }
  if (ncol(x$bic) > 1L) {
    st <- colnames(x$bic)
    key <- ifelse(st %in% names(mclust_symbols), st,
      c(full = "VVV", diagonal = "VVI", isotropic = "VII")[st])
    pch <- unname(mclust_symbols[key])
    col <- unname(mclust_colours[key])
    graphics::matplot(ks, x$bic, type = "b", pch = pch, lty = 1, col = col,
      xlab = "number of components k", ylab = "BIC (smaller is better)", xaxt = "n", main = "Model selection",
      ...)
    graphics::axis(1, at = ks)
    if (!is.na(x$best$k)) {
      graphics::points(x$best$k, x$bic[as.character(x$best$k), x$best$covariance], cex = 2.5, lwd = 1.5)
    }
    graphics::legend("topright", st, pch = pch, col = col, lty = 1, bty = "n", ncol = if (length(st) > 7L) 2L else 1L,
      cex = 0.8)
    return(invisible(x))
  }
  y <- cbind(tab$BIC, tab$ICL)
  graphics::matplot(tab$k, y, type = "b", pch = c(19, 17), lty = 1:2, col = c("black", "grey45"),
    xlab = "number of components k", ylab = "criterion (smaller is better)", xaxt = "n",
    main = "Model selection", ...)
  graphics::axis(1, at = tab$k)
  if (!is.na(x$best$k)) graphics::abline(v = x$best$k, lty = 3)
  graphics::legend("topright", c("BIC", "ICL"), pch = c(19, 17), lty = 1:2, col = c("black", "grey45"),
    bty = "n")
  invisible(x)
}
