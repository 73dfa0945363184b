# Base-graphics plots of fits: the log-likelihood trace, the fitted density
# over the data (one or two dimensions) and the classification.

#' Plot a fitted model
#'
#' @param x A fit.
#' @param type `"density"`: for one column, a histogram (or, for counts and
#'   categories, the observed frequencies) with the fitted density and its
#'   weighted components; for two continuous columns, the data coloured by
#'   class over contours of the fitted density. `"classification"`: the
#'   data (pairs of columns) coloured by most probable class. `"trace"`: the
#'   log-likelihood per EM iteration. The default is `"density"` for one or
#'   two columns and `"classification"` otherwise.
#' @param ... Passed to the underlying plotting function.
#' @return `x`, invisibly.
#' @examples
#' fit <- fit_lvm(mixture(ef_normal(2), 2), faithful)
#' plot(fit)
#' plot(fit, type = "trace")
#' @export
plot.lvm_fit <- function(x, type = NULL, ...) {
  d <- x$model$d
  if (!inherits(x, "mixture_fit")) {
    # Without classes (e.g. the Categorical-Dirichlet harmonium) only the
    # trace can be drawn.
    if (is.null(type)) type <- "trace"
    type <- check_choice(type, "trace")
  }
  if (is.null(type)) type <- if (d <= 2L) "density" else "classification"
  type <- check_choice(type, c("density", "classification", "trace"))
  switch(type,
    trace = plot_trace(x, ...),
    density = if (d == 1L) plot_density_1d(x, ...) else plot_density_2d(x, ...),
    classification = plot_classes(x, ...)
  )
  invisible(x)
}

plot_trace <- function(fit, ...) {
  tr <- fit$trace
  if (length(tr) == 0L) {
    abort_hm("This fit has no log-likelihood trace.", "argument")
  }
  graphics::plot(seq_along(tr), tr, type = "b", pch = 20, xlab = "EM iteration",
    ylab = "log-likelihood", main = "Log-likelihood trace", ...)
}

class_colours <- function(k) grDevices::hcl.colors(max(k, 2L), "Dark 3")[seq_len(k)]

# Families whose data are whole numbers or categories get frequency plots.
discrete_family <- function(fam) {
  fam$name %in% c("poisson", "binomial", "bernoulli", "categorical", "com_poisson", "boltzmann")
}

# Per-component densities on a grid of the (single) data column, weighted.
component_curves <- function(fit, grid) {
  m <- fit$model
  fam <- m$component
  vapply(seq_len(m$k), function(j) {
    fit$params$weights[j] * exp(ef_log_density(fam, fit$params$components[[j]], grid))
  }, numeric(NROW(grid)))
}

plot_density_1d <- function(fit, ...) {
  if (nrow(fit$x) == 0L) abort_hm("This fit holds no data to plot.", "argument")
  fam <- fit$model$component
  x <- fit$x[, 1]
  k <- fit$model$k
  cols <- class_colours(k)
  xlab <- family_colnames(fam)[1]
  if (discrete_family(fam)) {
    grid <- seq(min(x), max(x))
    tab <- tabulate(x - min(x) + 1, nbins = length(grid)) / length(x)
    gd <- if (fam$name == "categorical") {
      factor(fam$levels[grid + 1], levels = fam$levels)
    } else {
      grid
    }
    dens <- exp(log_density(fit, data.frame(x = gd)))
    comp <- component_curves(fit, data.frame(x = gd))
    graphics::plot(grid, tab, type = "h", lwd = 6, col = "grey75", xlab = xlab, ylab = "probability",
      ylim = c(0, max(tab, dens)), main = fit$model$label, ...)
    graphics::matlines(grid, comp, type = "b", pch = 20, col = cols, lty = 2)
    graphics::lines(grid, dens, type = "b", pch = 19)
  } else {
    rng <- range(x)
    pad <- 0.05 * diff(rng)
    grid <- seq(rng[1] - pad, rng[2] + pad, length.out = 400)
    dens <- exp(log_density(fit, grid))
    comp <- component_curves(fit, grid)
    h <- graphics::hist(x, breaks = "FD", plot = FALSE)
    graphics::plot(h, freq = FALSE, col = "grey90", border = "grey60", xlab = xlab,
      ylim = c(0, max(h$density, dens)), main = fit$model$label, ...)
    graphics::matlines(grid, comp, col = cols, lty = 2, lwd = 1.5)
    graphics::lines(grid, dens, lwd = 2)
    cls <- predict(fit)
    graphics::rug(x, col = cols[cls])
  }
}

plot_density_2d <- function(fit, ...) {
  if (nrow(fit$x) == 0L) abort_hm("This fit holds no data to plot.", "argument")
  fam <- fit$model$component
  if (fam$name == "product" && any(vapply(fam$blocks, discrete_family, logical(1))) ||
    fam$name != "product" && discrete_family(fam)) {
    return(plot_classes(fit, ...))
  }
  x <- fit$x
  nm <- family_colnames(fam)
  cls <- predict(fit)
  cols <- class_colours(fit$model$k)
  g1 <- seq(min(x[, 1]), max(x[, 1]), length.out = 80)
  g2 <- seq(min(x[, 2]), max(x[, 2]), length.out = 80)
  grid <- as.matrix(expand.grid(g1, g2))
  colnames(grid) <- nm
  z <- matrix(log_density(fit, grid), length(g1), length(g2))
  graphics::plot(x[, 1], x[, 2], col = cols[cls], pch = 20, xlab = nm[1], ylab = nm[2],
    main = fit$model$label, ...)
  lev <- stats::quantile(z[is.finite(z)], c(0.5, 0.7, 0.8, 0.9, 0.95, 0.99))
  graphics::contour(g1, g2, z, levels = lev, drawlabels = FALSE, add = TRUE, col = "grey30")
}

plot_classes <- function(fit, ...) {
  if (nrow(fit$x) == 0L) abort_hm("This fit holds no data to plot.", "argument")
  cls <- predict(fit)
  cols <- class_colours(fit$model$k)
  x <- fit$x
  colnames(x) <- family_colnames(fit$model$component)
  if (ncol(x) == 1L) {
    graphics::stripchart(split(x[, 1], factor(cls, levels = seq_len(fit$model$k))), col = cols,
      method = "jitter", pch = 20, xlab = colnames(x), ylab = "class", main = fit$model$label, ...)
  } else {
    jit <- if (discrete_family(fit$model$component) || fit$model$component$name == "product") {
      apply(x, 2L, jitter)
    } else {
      x
    }
    p <- min(ncol(x), 6L)
    graphics::pairs(jit[, seq_len(p), drop = FALSE], col = cols[cls], pch = 20,
      main = fit$model$label, ...)
  }
}
