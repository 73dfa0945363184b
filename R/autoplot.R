# ggplot2 plots of fits and model-selection tables: autoplot() methods.
# ggplot2 is only suggested, so the methods are registered on ggplot2's
# autoplot() generic when ggplot2 is loaded (now, or later through a load
# hook), not through NAMESPACE. The base-graphics plot() methods are in
# R/plot.R and the methods files.

#' @importFrom rlang .data
NULL

# `prop` and `density` are variables computed by ggplot2's stats (after_stat()).
utils::globalVariables(c("prop", "density"))

# Registers `method` for `generic` ("pkg::name") and `class` in pkg's
# namespace once pkg is loaded: at once if it is, else on its load hook.
register_s3_lazily <- function(generic, class, method) {
  force(class)
  force(method)
  parts <- strsplit(generic, "::", fixed = TRUE)[[1]]
  pkg <- parts[1]
  name <- parts[2]
  do_register <- function(...) {
    ns <- asNamespace(pkg)
    if (exists(name, envir = ns, mode = "function", inherits = FALSE)) {
      registerS3method(name, class, method, envir = ns)
    }
    invisible()
  }
  setHook(packageEvent(pkg, "onLoad"), do_register)
  if (isNamespaceLoaded(pkg)) do_register()
  invisible()
}

register_autoplot_methods <- function() {
  methods <- list(
    lvm_fit = autoplot.lvm_fit, lgm_fit = autoplot.lgm_fit, hmm_fit = autoplot.hmm_fit,
    lds_fit = autoplot.lds_fit, lvm_select = autoplot.lvm_select
  )
  for (cl in names(methods)) register_s3_lazily("ggplot2::autoplot", cl, methods[[cl]])
  invisible()
}

check_ggplot2 <- function(call = rlang::caller_env()) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort_hm("{.fn autoplot} needs the {.pkg ggplot2} package; install it, or use {.fn plot}.", "unavailable",
      call = call)
  }
}

autoplot_trace <- function(object) {
  tr <- object$trace
  if (!length(tr)) abort_hm("This fit has no log-likelihood trace.", "argument")
  df <- data.frame(iteration = seq_along(tr), loglik = tr)
  p <- ggplot2::ggplot(df, ggplot2::aes(x = .data$iteration, y = .data$loglik)) + ggplot2::geom_point(size = 1)
  if (length(tr) > 1L) p <- p + ggplot2::geom_line()
  p +
    ggplot2::labs(x = "EM iteration", y = "log-likelihood", title = "Log-likelihood trace")
}

#' ggplot2 plots of fits
#'
#' `autoplot()` methods (for ggplot2's generic; available once ggplot2 is
#' loaded, e.g. by `library(ggplot2)`), drawn from the same tables as
#' [tidy()] and [augment()]. The base-graphics [plot()] methods are
#' unchanged.
#'
#' * Mixtures and hierarchical models (`type = "classification"`, the
#'   default): the first two data columns coloured by most probable
#'   component, lighter where the classification is uncertain; for one
#'   column, a histogram with the fitted density and its weighted
#'   components (counts and categories: observed proportions by class).
#' * Linear Gaussian models and [boltzmann_lgm()] (`type = "loadings"`,
#'   the default): the loadings, one panel per factor.
#' * [hmm()] (`type = "states"`): the first observed column over time,
#'   coloured by the Viterbi state, one panel per sequence.
#' * [lds()] (`type = "states"`): the smoothed state means with pointwise
#'   `level` bands, one panel per state dimension and sequence.
#' * [select_k()] results: BIC against k, one line per covariance
#'   structure (or number of factors) when the table has such a column.
#' * Any fit, `type = "trace"`: the log-likelihood per iteration.
#'
#' @param object A fit, or a [select_k()] result.
#' @param type The kind of plot (see Details).
#' @param level Level of the bands of an [lds()] plot.
#' @param ... Unused.
#' @return A ggplot object.
#' @examples
#' if (requireNamespace("ggplot2", quietly = TRUE)) {
#'   library(ggplot2)
#'   fit <- fit_lvm(mixture(ef_normal(2), 2), faithful)
#'   autoplot(fit)
#'   fa <- fit_lvm(factor_analysis(7, 2), attitude)
#'   autoplot(fa)
#' }
#' @name autoplot.lvm_fit
NULL

#' @rdname autoplot.lvm_fit
autoplot.lvm_fit <- function(object, type = NULL, ...) {
  check_ggplot2()
  classes <- inherits(object, c("mixture_fit", "composite_fit"))
  if (is.null(type)) type <- if (classes) "classification" else "trace"
  type <- check_choice(type, if (classes) c("classification", "trace") else "trace")
  if (type == "trace") return(autoplot_trace(object))
  if (!length(object$x) || nrow(object$x) == 0L) abort_hm("This fit holds no data to plot.", "argument")
  aug <- as.data.frame(augment(object))
  fam <- object$model$obs
  cn <- if (inherits(fam, "ef_family")) family_colnames(fam) else colnames(object$x)
  aug$.class <- factor(aug$.class, levels = seq_len(object$model$k))
  if (length(cn) == 1L) return(autoplot_mixture_1d(object, aug, cn))
  ggplot2::ggplot(aug, ggplot2::aes(x = .data[[cn[1]]], y = .data[[cn[2]]], colour = .data$.class,
    alpha = 1 - .data$.uncertainty)) +
    ggplot2::geom_point() +
    ggplot2::scale_alpha_continuous(range = c(0.25, 1), limits = c(0, 1), guide = "none") +
    ggplot2::labs(colour = "class", title = object$model$label)
}

# One column: a histogram with the fitted mixture density and its weighted
# components for a continuous family; observed proportions by class for a
# discrete one.
autoplot_mixture_1d <- function(object, aug, cn) {
  fam <- object$model$component
  if (!inherits(object, "mixture_fit") || !inherits(fam, "ef_family") || discrete_family(fam) ||
      fam$name == "product") {
    return(ggplot2::ggplot(aug, ggplot2::aes(x = .data[[cn]], fill = .data$.class)) +
      ggplot2::geom_bar(ggplot2::aes(y = ggplot2::after_stat(prop), group = .data$.class)) +
      ggplot2::labs(y = "proportion", fill = "class", title = object$model$label))
  }
  xs <- as.double(object$x[, 1])
  grid <- seq(min(xs), max(xs), length.out = 200L)
  comp <- component_curves(object, grid)
  curves <- data.frame(
    x = rep(grid, ncol(comp)),
    density = as.double(comp),
    component = factor(rep(seq_len(ncol(comp)), each = length(grid)))
  )
  total <- data.frame(x = grid, density = rowSums(comp))
  ggplot2::ggplot(aug, ggplot2::aes(x = .data[[cn]])) +
    ggplot2::geom_histogram(ggplot2::aes(y = ggplot2::after_stat(density)), bins = 30L, fill = "grey85",
      colour = "grey60") +
    ggplot2::geom_line(data = curves, ggplot2::aes(x = .data$x, y = .data$density, colour = .data$component)) +
    ggplot2::geom_line(data = total, ggplot2::aes(x = .data$x, y = .data$density), linetype = "dashed") +
    ggplot2::labs(y = "density (dashed: the mixture)", colour = "component", title = object$model$label)
}

#' @rdname autoplot.lvm_fit
autoplot.lgm_fit <- function(object, type = c("loadings", "trace"), ...) {
  check_ggplot2()
  type <- check_choice(type, c("loadings", "trace"))
  if (type == "trace") return(autoplot_trace(object))
  L <- as.matrix(object$params$loadings)
  vars <- rownames(L)
  if (is.null(vars)) vars <- family_colnames(object$model$obs)
  fac <- colnames(L)
  if (is.null(fac)) fac <- paste0(if (isTRUE(object$model$gaussian_latent)) "F" else "z", seq_len(ncol(L)))
  df <- data.frame(
    variable = factor(rep(vars, ncol(L)), levels = rev(vars)),
    factor = factor(rep(fac, each = nrow(L)), levels = fac),
    loading = as.double(L)
  )
  ggplot2::ggplot(df, ggplot2::aes(x = .data$loading, y = .data$variable)) +
    ggplot2::geom_col() +
    ggplot2::geom_vline(xintercept = 0, colour = "grey50") +
    ggplot2::facet_wrap(ggplot2::vars(.data$factor)) +
    ggplot2::labs(x = "loading", y = NULL, title = object$model$label)
}

#' @rdname autoplot.lvm_fit
autoplot.hmm_fit <- function(object, type = c("states", "trace"), ...) {
  check_ggplot2()
  type <- check_choice(type, c("states", "trace"))
  if (type == "trace") return(autoplot_trace(object))
  aug <- as.data.frame(augment(object))
  obs <- setdiff(names(aug), c(".sequence", ".time", ".state", ".uncertainty", grep("^\\.prob_", names(aug), value = TRUE)))
  aug$.state <- factor(aug$.state, levels = seq_len(object$model$states))
  y <- if (length(obs)) obs[1] else NULL
  p <- if (is.null(y)) {
    ggplot2::ggplot(aug, ggplot2::aes(x = .data$.time, y = as.integer(.data$.state))) +
      ggplot2::geom_step(colour = "grey60") + ggplot2::labs(y = "state")
  } else {
    aug$.y <- if (is.factor(aug[[y]])) as.integer(aug[[y]]) else as.double(aug[[y]])
    ggplot2::ggplot(aug, ggplot2::aes(x = .data$.time, y = .data$.y)) +
      ggplot2::geom_line(colour = "grey60") + ggplot2::labs(y = y)
  }
  p <- p + ggplot2::geom_point(ggplot2::aes(colour = .data$.state)) +
    ggplot2::labs(x = "time", colour = "Viterbi state", title = object$model$label)
  if (length(unique(aug$.sequence)) > 1L) {
    p <- p + ggplot2::facet_wrap(ggplot2::vars(.data$.sequence), scales = "free_x")
  }
  p
}

#' @rdname autoplot.lvm_fit
autoplot.lds_fit <- function(object, type = c("states", "trace"), level = 0.95, ...) {
  check_ggplot2()
  type <- check_choice(type, c("states", "trace"))
  level <- check_level(level)
  if (type == "trace") return(autoplot_trace(object))
  st <- smooth_states(object, tidy = TRUE, level = level)
  p <- ggplot2::ggplot(st, ggplot2::aes(x = .data$time, y = .data$mean)) +
    ggplot2::geom_ribbon(ggplot2::aes(ymin = .data$lower, ymax = .data$upper), fill = "grey80") +
    ggplot2::geom_line() +
    ggplot2::labs(x = "time", y = sprintf("smoothed state (%g%% band)", 100 * level), title = object$model$label)
  if (length(unique(st$sequence)) > 1L || length(unique(st$state)) > 1L) {
    p <- p + ggplot2::facet_grid(rows = ggplot2::vars(.data$state), cols = ggplot2::vars(.data$sequence),
      scales = "free")
  }
  p
}

#' @rdname autoplot.lvm_fit
autoplot.lvm_select <- function(object, ...) {
  check_ggplot2()
  tab <- as.data.frame(object)
  group <- intersect(c("covariance", "factors"), names(tab))
  tab <- tab[is.finite(tab$BIC), , drop = FALSE]
  if (!nrow(tab)) abort_hm("No model in this selection has a finite BIC.", "argument")
  lab <- "BIC (smaller is better)"
  if (length(group)) {
    g <- group[1]
    tab$.group <- factor(tab[[g]])
    return(ggplot2::ggplot(tab, ggplot2::aes(x = .data$k, y = .data$BIC, colour = .data$.group, group = .data$.group)) +
      ggplot2::geom_line() + ggplot2::geom_point() +
      ggplot2::scale_x_continuous(breaks = sort(unique(tab$k))) +
      ggplot2::labs(x = "number of components k", y = lab, colour = g, title = "Model selection"))
  }
  ggplot2::ggplot(tab, ggplot2::aes(x = .data$k, y = .data$BIC)) +
    ggplot2::geom_line() + ggplot2::geom_point() +
    ggplot2::scale_x_continuous(breaks = sort(unique(tab$k))) +
    ggplot2::labs(x = "number of components k", y = lab, title = "Model selection")
}
