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
  if (!is.null(src <- chunk_newdata(object, newdata))) {
    return(chunk_apply_fit(object, src, function(f, d) posterior(f, d), "the posterior"))
  }
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
#' or oblique (promax, oblimin, quartimin) rotation, from [stats::varimax()],
#' [stats::promax()] and, for oblimin and quartimin, the GPArotation
#' package (`GPArotation::oblimin()`, `GPArotation::quartimin()` with their
#' defaults; GPArotation must be installed). The model, and so its
#' likelihood, is unchanged by any rotation of the latent space; rotation
#' only eases interpretation.
#'
#' @param fit A fit of [lgm()], [factor_analysis()] or [ppca()].
#' @param rotation `"varimax"`, `"promax"`, `"oblimin"`, `"quartimin"` or
#'   `"none"`.
#' @param standardize Rotate and report loadings on the correlation scale
#'   (each row divided by the variable's fitted standard deviation), as
#'   [stats::factanal()] does.
#' @return The p x q matrix of loadings, with attribute `"rotmat"` (the
#'   rotation matrix) for the rotated forms and, for the oblique rotations,
#'   attribute `"Phi"`, the correlation matrix of the rotated factors.
#' @examples
#' fit <- fit_lvm(factor_analysis(7, 2), attitude)
#' rotate_loadings(fit, "varimax")
#' if (requireNamespace("GPArotation", quietly = TRUE)) rotate_loadings(fit, "oblimin")
#' @export
rotate_loadings <- function(fit, rotation = c("varimax", "promax", "oblimin", "quartimin", "none"),
                            standardize = TRUE) {
  if (!inherits(fit, "lgm_fit") || !isTRUE(fit$model$gaussian_latent)) {
    abort_hm("{.arg fit} must be a fit of {.fn lgm}, {.fn factor_analysis} or {.fn ppca}.", "argument")
  }
  rotation <- check_choice(rotation, rotation_choices)
  standardize <- check_flag(standardize)
  A <- fit$params$loadings
  if (standardize) A <- A / sqrt(diag(tcrossprod(A) + fit$params$cov))
  if (rotation == "none" || ncol(A) < 2L) return(A)
  if (rotation %in% c("oblimin", "quartimin") && !requireNamespace("GPArotation", quietly = TRUE)) {
    abort_hm(c("The {rotation} rotation needs the {.pkg GPArotation} package.",
      i = "Install it with {.code install.packages(\"GPArotation\")}."), "unsupported")
  }
  out <- switch(rotation,
    varimax = {
      r <- stats::varimax(A)
      structure(unclass(r$loadings), rotmat = r$rotmat)
    },
    promax = {
      r <- stats::promax(A)
      structure(unclass(r$loadings), rotmat = r$rotmat, Phi = solve(crossprod(r$rotmat)))
    },
    {
      r <- if (rotation == "oblimin") GPArotation::oblimin(A) else GPArotation::quartimin(A)
      structure(unclass(r$loadings), rotmat = r$Th, Phi = r$Phi)
    }
  )
  dimnames(out) <- dimnames(A)
  if (!is.null(attr(out, "Phi"))) dimnames(attr(out, "Phi")) <- list(colnames(A), colnames(A))
  out
}

rotation_choices <- c("varimax", "promax", "oblimin", "quartimin", "none")

#' Summary of a fitted linear Gaussian model
#'
#' For factor analysis, probabilistic PCA and the linear Gaussian model:
#' uniquenesses, loadings on the correlation scale (optionally rotated, see
#' [rotate_loadings()]; the factor correlations for oblique rotations),
#' their sums of squares, and the likelihood-ratio test of the model
#' against the saturated Gaussian exactly as [stats::factanal()] computes
#' it: the statistic `(n - 1 - (2p + 5) / 6 - 2q / 3)` times the minimised
#' discrepancy `log det(Sigma) - log det(S) + tr(Sigma^-1 S) - p`
#' (Bartlett's correction), with `dof = p (p + 1) / 2` minus the number
#' of free covariance parameters (`((p - q)^2 - p - q) / 2` for factor
#' analysis), its chi-square p-value, and the RMSEA
#' `sqrt(max(chi2 - dof, 0) / (dof (n - 1)))`. The test is reported when
#' `dof > 0`.
#'
#' Standard errors of the mean, loadings (in the fit's canonical
#' orientation) and uniquenesses (see [vcov.lvm_fit()]) are shown when
#' `se = TRUE` and the model has at most 200 free parameters; they are
#' computed when the summary is printed or by `coef(summary(fit))`.
#'
#' @param object A fit of [lgm()], [factor_analysis()], [ppca()] or
#'   [boltzmann_lgm()].
#' @param rotation One of `"none"`, `"varimax"`, `"promax"`, `"oblimin"`,
#'   `"quartimin"`.
#' @param se Compute standard errors.
#' @param ... Unused.
#' @return An object of class `summary.lgm_fit`.
#' @examples
#' fit <- fit_lvm(factor_analysis(7, 2), attitude)
#' summary(fit, rotation = "varimax")
#' @export
summary.lgm_fit <- function(object, rotation = c("none", "varimax", "promax", "oblimin", "quartimin"),
                            se = TRUE, ...) {
  rotation <- check_choice(rotation, c("none", "varimax", "promax", "oblimin", "quartimin"))
  se <- check_flag(se)
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
    out$rotmat <- attr(L, "rotmat")
    out$Phi <- attr(L, "Phi")
    attr(L, "rotmat") <- NULL
    attr(L, "Phi") <- NULL
    out$loadings <- L
    # Sums of squares of the (pattern) loadings, as factanal() prints them.
    ss <- colSums(L^2)
    out$variance <- rbind(`SS loadings` = ss, `Proportion Var` = ss / nrow(L),
      `Cumulative Var` = cumsum(ss) / nrow(L))
    out$test <- lgm_chisq_test(object)
    if (se) out$coefficients <- lazy_coef_table(object)
  }
  structure(out, class = "summary.lgm_fit")
}

# The likelihood-ratio test against the saturated Gaussian, as factanal().
lgm_chisq_test <- function(fit) {
  x <- fit$x
  if (nrow(x) == 0L) return(NULL)
  pp <- ncol(x)
  q <- fit$model$q
  n <- fit$n
  w <- if (is.null(fit$weights)) rep(1, nrow(x)) else fit$weights
  xc <- sweep(x, 2L, colSums(x * w) / sum(w))
  S <- crossprod(xc * sqrt(w)) / sum(w)
  Sig <- tcrossprod(fit$params$loadings) + fit$params$cov
  obj <- as.numeric(determinant(Sig)$modulus - determinant(S)$modulus) + sum(diag(solve(Sig, S))) - pp
  dof <- pp * (pp + 1) / 2 - (fit$df - pp)
  if (dof <= 0) return(NULL)
  stat <- (n - 1 - (2 * pp + 5) / 6 - 2 * q / 3) * obj
  list(objective = obj, statistic = stat, dof = dof,
    p.value = stats::pchisq(stat, dof, lower.tail = FALSE),
    rmsea = sqrt(max(stat - dof, 0) / (dof * (n - 1))))
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
    if (!is.null(x$Phi)) {
      cat("\nFactor correlations:\n")
      print(round(x$Phi, digits))
    }
    if (!is.null(x$test)) {
      t <- x$test
      cat("\nTest of the hypothesis that ", ncol(x$loadings), " factor", if (ncol(x$loadings) != 1L) "s are" else " is",
        " sufficient:\nchi-square = ", format(round(t$statistic, 2)), " on ", t$dof, " degree",
        if (t$dof != 1) "s", " of freedom, p-value = ", format(signif(t$p.value, 4)),
        "; RMSEA = ", format(round(t$rmsea, 4)), "\n", sep = "")
    }
    print_coef_table(x$coefficients, digits, "data units, unrotated loadings")
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
