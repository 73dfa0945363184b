# Methods for fitted linear Gaussian models and Gaussian-Boltzmann
# harmoniums: factor scores, uniquenesses, explained variance, rotations and
# a plot of the data in the latent space.

#' @export
predict.lgm_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  posterior(object, newdata)
}

#' @rdname posterior
#' @details For linear Gaussian models the posterior of the factors is
#'   Gaussian with a covariance that does not depend on the observation: the
#'   result holds the posterior means (factor scores) with that covariance
#'   as attribute `"cov"`. For Gaussian-Boltzmann harmoniums it holds each
#'   unit's posterior probability of being on.
#' @export
posterior.lgm_fit <- function(object, newdata = NULL, ...) {
  check_dots(...)
  post <- fit_rows(object, newdata)$post
  if (isTRUE(object$model$gaussian_latent)) attr(post, "cov") <- lgm_posterior_cov(object$params)
  post
}

# (I + A' Psi^-1 A)^-1: the posterior covariance of z ~ N(0, I) given x.
lgm_posterior_cov <- function(params) {
  A <- params$loadings
  P <- diag(ncol(A)) + crossprod(A, solve(params$cov, A))
  S <- chol2inv(chol(P))
  dimnames(S) <- list(colnames(A), colnames(A))
  S
}

#' Rotated factor loadings
#'
#' Loadings of a fitted linear Gaussian model after an orthogonal (varimax)
#' or oblique (promax) rotation, from [stats::varimax()] and
#' [stats::promax()]. The model, and so its likelihood, is unchanged by
#' any rotation of the latent space; rotation only eases interpretation.
#'
#' @param fit A fit of [lgm()], [factor_analysis()] or [ppca()].
#' @param rotation `"varimax"`, `"promax"` or `"none"`.
#' @param standardize Rotate and report loadings on the correlation scale
#'   (each row divided by the variable's fitted standard deviation), as
#'   [stats::factanal()] does.
#' @return The p x q matrix of loadings, with attribute `"rotmat"` (the
#'   rotation matrix) for the rotated forms.
#' @examples
#' fit <- fit_lvm(factor_analysis(7, 2), attitude)
#' rotate_loadings(fit, "varimax")
#' @export
rotate_loadings <- function(fit, rotation = c("varimax", "promax", "none"), standardize = TRUE) {
  if (!inherits(fit, "lgm_fit") || !isTRUE(fit$model$gaussian_latent)) {
    abort_hm("{.arg fit} must be a fit of {.fn lgm}, {.fn factor_analysis} or {.fn ppca}.", "argument")
  }
  rotation <- check_choice(rotation, c("varimax", "promax", "none"))
  standardize <- check_flag(standardize)
  A <- fit$params$loadings
  if (standardize) A <- A / sqrt(diag(tcrossprod(A) + fit$params$cov))
  if (rotation == "none" || ncol(A) < 2L) return(A)
  r <- if (rotation == "varimax") stats::varimax(A) else stats::promax(A)
  out <- unclass(r$loadings)
  attr(out, "rotmat") <- r$rotmat
  out
}

#' @export
summary.lgm_fit <- function(object, rotation = c("none", "varimax", "promax"), ...) {
  rotation <- check_choice(rotation, c("none", "varimax", "promax"))
  ll <- object$loglik
  p <- object$params
  out <- list(
    warnings = object$warnings,
    label = object$model$label, gaussian = isTRUE(object$model$gaussian_latent), n = object$n, loglik = ll,
    df = object$df, AIC = -2 * ll + 2 * object$df, BIC = -2 * ll + object$df * log(object$n),
    iterations = object$iterations, converged = object$converged, status = object$status,
    params = p, rotation = rotation, method = if (identical(object$method, "gradient")) "gradient" else "EM"
  )
  if (out$gaussian) {
    marg <- diag(tcrossprod(p$loadings) + p$cov)
    out$uniquenesses <- diag(p$cov) / marg
    L <- rotate_loadings(object, rotation, standardize = TRUE)
    out$loadings <- L
    ss <- colSums(L^2)
    out$variance <- rbind(`SS loadings` = ss, `Proportion Var` = ss / nrow(L),
      `Cumulative Var` = cumsum(ss) / nrow(L))
  }
  structure(out, class = "summary.lgm_fit")
}

#' @export
print.summary.lgm_fit <- function(x, digits = 3, ...) {
  cat("Model: ", x$label, "\n", sep = "")
  cat("Fitted by ", x$method, ": ", x$iterations, " iteration", if (x$iterations != 1L) "s", ", ",
    if (isTRUE(x$converged)) "converged" else paste0("not converged (", x$status, ")"), "\n\n", sep = "")
  tab <- data.frame(`log-likelihood` = x$loglik, n = x$n, df = x$df, AIC = x$AIC, BIC = x$BIC,
    check.names = FALSE)
  print(tab, row.names = FALSE, digits = 10)
  if (x$gaussian) {
    cat("\nUniquenesses:\n")
    print(round(x$uniquenesses, digits))
    cat("\nLoadings (correlation scale", if (x$rotation != "none") paste0(", ", x$rotation), "):\n", sep = "")
    print(round(x$loadings, digits))
    cat("\n")
    print(round(x$variance, digits))
  } else {
    cat("\nOffset:\n")
    print(round(x$params$offset, digits))
    cat("\nLoadings:\n")
    print(round(x$params$loadings, digits))
    cat("\nBoltzmann prior: bias\n")
    print(round(x$params$prior$bias, digits))
  }
  print_fit_warnings(x$warnings)
  invisible(x)
}

#' @rdname plot.lvm_fit
#' @export
plot.lgm_fit <- function(x, type = c("latent", "trace"), ...) {
  type <- check_choice(type, c("latent", "trace"))
  if (type == "trace") {
    plot_trace(x, ...)
    return(invisible(x))
  }
  if (nrow(x$x) == 0L) abort_hm("This fit holds no data to plot.", "argument")
  z <- posterior(x)
  if (ncol(z) == 1L) {
    graphics::stripchart(z[, 1], method = "jitter", pch = 20, xlab = colnames(z)[1],
      main = x$model$label, ...)
  } else {
    graphics::plot(z[, 1], z[, 2], pch = 20, col = grDevices::adjustcolor("black", 0.6),
      xlab = colnames(z)[1], ylab = colnames(z)[2], main = x$model$label, ...)
    if (isTRUE(x$model$gaussian_latent)) {
      graphics::abline(h = 0, v = 0, lty = 3, col = "grey50")
    }
  }
  invisible(x)
}
