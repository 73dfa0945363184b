# Methods for fitted composite models (hmog, mfa, mixture(<model>, k)):
# clusters, the posterior of the continuous latent, summaries, simulation
# and the plot of the data in the latent space.

# Cluster probabilities (n x k) and posterior latent means (n x q) from the
# engine's per-row output [k probabilities | sum_k r_k E[y | x, k]].
composite_post <- function(fit, newdata = NULL, call = rlang::caller_env()) {
  post <- fit_rows(fit, newdata, call)$post
  k <- fit$model$k
  list(cluster = post[, seq_len(k), drop = FALSE], latent = post[, -seq_len(k), drop = FALSE])
}

#' @rdname predict.mixture_fit
#' @export
predict.composite_fit <- function(object, newdata = NULL, type = c("class", "posterior"), ...) {
  check_dots(...)
  type <- check_choice(type, c("class", "posterior"))
  cl <- composite_post(object, newdata)$cluster
  if (type == "posterior") return(cl)
  max.col(cl, ties.method = "first")
}

#' @export
fitted.composite_fit <- function(object, ...) {
  check_dots(...)
  predict(object, type = "class")
}

#' @rdname posterior
#' @param type For hierarchical models and mixtures of models:
#'   `"cluster"` for the cluster probabilities p(k | x), `"latent"` for the
#'   posterior mean of the continuous latent, `E[y | x]` = sum_k p(k | x)
#'   `E[y | x, k]`, with its per-row posterior covariance as attribute
#'   `"cov"` (a q x q x n array; the posterior of y is a mixture of Normals).
#' @export
posterior.composite_fit <- function(object, newdata = NULL, type = c("cluster", "latent"), ...) {
  check_dots(...)
  type <- check_choice(type, c("cluster", "latent"))
  pp <- composite_post(object, newdata)
  if (type == "cluster") return(pp$cluster)
  lat <- pp$latent
  parts <- composite_gaussian_parts(object)
  if (!is.null(parts)) {
    x <- newdata_x(object, newdata)
    attr(lat, "cov") <- latent_mixture_cov(parts, x, pp$cluster)
  }
  lat
}

# The fitted model as k linear-Gaussian components x | y, k ~ N(b_k + A_k y,
# Psi_k), y | k ~ N(m_k, S_k) (user units), or NULL when the base model's
# latent is not Gaussian.
composite_gaussian_parts <- function(fit) {
  m <- fit$model
  p <- fit$params
  if (inherits(m, "hmog_model")) {
    return(lapply(hmog_latent_mixture(p$latent)$components, function(ck) {
      list(b = p$mean, A = p$loadings, Psi = p$cov, m = ck$mean, S = ck$cov)
    }))
  }
  if (m$kind == "mixture_of" && m$base$kind == "lgm") {
    q <- m$q
    return(lapply(p$components, function(ck) {
      list(b = ck$mean, A = ck$loadings, Psi = ck$cov, m = numeric(q), S = diag(q))
    }))
  }
  NULL
}

# Per component k: Sigma_k = (S_k^-1 + A' Psi^-1 A)^-1 and the means
# m_ik = Sigma_k (S_k^-1 m_k + A' Psi^-1 (x_i - b)); the posterior
# covariance of y per row is sum_k r_ik (Sigma_k + m_ik m_ik') - ybar ybar'.
latent_mixture_cov <- function(parts, x, r) {
  n <- nrow(x)
  q <- length(parts[[1]]$m)
  second <- array(0, c(q, q, n))
  ybar <- matrix(0, n, q)
  for (k in seq_along(parts)) {
    pk <- parts[[k]]
    Si <- solve(pk$S)
    PiA <- solve(pk$Psi, pk$A)
    Sig <- solve(Si + crossprod(pk$A, PiA))
    M <- (sweep(x, 2L, pk$b) %*% PiA + matrix(as.vector(Si %*% pk$m), n, q, byrow = TRUE)) %*% Sig
    ybar <- ybar + r[, k] * M
    for (i in seq_len(n)) second[, , i] <- second[, , i] + r[i, k] * (Sig + tcrossprod(M[i, ]))
  }
  for (i in seq_len(n)) second[, , i] <- second[, , i] - tcrossprod(ybar[i, ])
  nm <- paste0("F", seq_len(q))
  dimnames(second) <- list(nm, nm, NULL)
  second
}

#' @export
summary.composite_fit <- function(object, ...) {
  check_dots(...)
  ll <- object$loglik
  n <- object$n
  cl <- composite_post(object)$cluster
  map <- max.col(cl, ties.method = "first")
  zmap <- cl[cbind(seq_len(nrow(cl)), map)]
  bic <- -2 * ll + object$df * log(n)
  m <- object$model
  weights <- if (inherits(m, "hmog_model")) hmog_latent_mixture(object$params$latent)$weights else object$params$weights
  structure(
    list(
      warnings = object$warnings,
      label = m$label, exactness = exactness(m), n = n, loglik = ll, df = object$df,
      AIC = -2 * ll + 2 * object$df, BIC = bic, ICL = bic - 2 * sum(log(pmax(zmap, .Machine$double.xmin))),
      iterations = object$iterations, converged = object$converged, status = object$status,
      method = object$method, starts = object$starts, sizes = table(factor(map, levels = seq_len(m$k))),
      weights = weights,
      latent_dim = m$q, explained = composite_explained(object), params = object$params
    ),
    class = "summary.composite_fit"
  )
}

# The share of each variable's fitted variance that the continuous latent
# explains: per cluster for a mixture of models, overall for a hierarchy.
composite_explained <- function(fit) {
  parts <- composite_gaussian_parts(fit)
  if (is.null(parts)) return(NULL)
  share <- function(A, S, Psi) {
    v <- diag(A %*% S %*% t(A))
    v / (v + diag(Psi))
  }
  if (inherits(fit$model, "hmog_model")) {
    p <- fit$params
    lm <- hmog_latent_mixture(p$latent)
    w <- lm$weights
    cs <- lm$components
    mbar <- Reduce(`+`, Map(function(wk, ck) wk * ck$mean, w, cs))
    S <- Reduce(`+`, Map(function(wk, ck) wk * (ck$cov + tcrossprod(ck$mean - mbar)), w, cs))
    return(share(p$loadings, S, p$cov))
  }
  out <- vapply(parts, function(pk) share(pk$A, pk$S, pk$Psi), numeric(nrow(parts[[1]]$A)))
  colnames(out) <- paste("cluster", seq_along(parts))
  out
}

#' @export
print.summary.composite_fit <- function(x, digits = 4, ...) {
  check_dots(...)
  cat("Model: ", x$label, " (", x$exactness, ")\n", sep = "")
  how <- if (identical(x$method, "gradient")) "gradient: " else "EM: "
  unit <- if (identical(x$method, "gradient")) " evaluation" else " iteration"
  cat("Fitted by ", how, x$iterations, unit, if (x$iterations != 1L) "s", ", ",
    if (isTRUE(x$converged)) "converged" else paste0("not converged (", x$status, ")"), "\n\n", sep = "")
  tab <- data.frame(`log-likelihood` = x$loglik, n = x$n, df = x$df, AIC = x$AIC, BIC = x$BIC, ICL = x$ICL,
    check.names = FALSE)
  print(tab, row.names = FALSE, digits = 10)
  cat("\nClustering table:\n")
  print(x$sizes)
  cat("\nMixing weights:\n")
  w <- x$weights
  names(w) <- seq_along(w)
  print(round(w, digits))
  cat("\nLatent dimension: ", x$latent_dim, "\n", sep = "")
  if (!is.null(x$explained)) {
    cat("Share of each variable's variance explained by the latent space:\n")
    print(round(x$explained, digits))
  }
  if (!is.null(x$starts) && nrow(x$starts) > 1L) {
    cat("\nStarts:\n")
    print(x$starts, row.names = FALSE, digits = 10)
  }
  print_fit_warnings(x$warnings)
  invisible(x)
}

#' @export
simulate.composite_fit <- function(object, nsim = NULL, seed = NULL, ...) {
  check_dots(...)
  out <- NextMethod()
  z <- attr(out, "latent")
  m <- object$model
  if (inherits(m, "hmog_model")) {
    q <- m$q
    attr(out, "cluster") <- as.integer(z[, ncol(z)]) + 1L
    lat <- z[, seq_len(q), drop = FALSE]
  } else {
    attr(out, "cluster") <- as.integer(z[, 1L]) + 1L
    lat <- z[, -1L, drop = FALSE]
  }
  gaussian <- inherits(m, "hmog_model") || m$base$kind == "lgm"
  colnames(lat) <- paste0(if (gaussian) "F" else "z", seq_len(ncol(lat)))
  attr(out, "latent") <- lat
  out
}

#' Plot a fitted hierarchical model or mixture of models
#'
#' `type = "latent"`: the posterior latent means `E[y | x]` of the data,
#' coloured by their most probable cluster (the first two latent
#' dimensions; a strip chart for one), with the latent mixture's component
#' ellipses (two standard deviations) for a hierarchical model;
#' `type = "trace"`: the log-likelihood by EM iteration.
#'
#' @param x A fit of [hmog()], [mfa()] or `mixture(<model>, k)`.
#' @param type `"latent"` or `"trace"`.
#' @param dims The two latent dimensions to show.
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @examples
#' fit <- fit_lvm(hmog(4, 2, 2), iris[, 1:4])
#' plot(fit)
#' plot(fit, type = "trace")
#' @export
plot.composite_fit <- function(x, type = c("latent", "trace"), dims = c(1L, 2L), ...) {
  type <- check_choice(type, c("latent", "trace"))
  if (type == "trace") {
    plot_trace(x, ...)
    return(invisible(x))
  }
  pp <- composite_post(x)
  cl <- max.col(pp$cluster, ties.method = "first")
  col <- class_colours(x$model$k)[cl]
  lat <- pp$latent
  q <- ncol(lat)
  if (q == 1L) {
    graphics::stripchart(lat[, 1] ~ cl, method = "jitter", col = class_colours(x$model$k), pch = 19,
      xlab = colnames(lat)[1], ylab = "cluster", main = x$model$label, ...)
    return(invisible(x))
  }
  dims <- check_numeric_vector(dims, 2L)
  graphics::plot(lat[, dims[1]], lat[, dims[2]], col = col, pch = 19, cex = 0.6,
    xlab = colnames(lat)[dims[1]], ylab = colnames(lat)[dims[2]], main = "Data in the latent space", ...)
  if (inherits(x$model, "hmog_model")) {
    tt <- seq(0, 2 * pi, length.out = 100)
    for (k in seq_len(x$model$k)) {
      ck <- hmog_latent_mixture(x$params$latent)$components[[k]]
      S <- ck$cov[dims, dims]
      e <- eigen(S, symmetric = TRUE)
      pts <- t(ck$mean[dims] + e$vectors %*% (2 * sqrt(pmax(e$values, 0)) * rbind(cos(tt), sin(tt))))
      graphics::lines(pts, col = class_colours(x$model$k)[k], lwd = 2)
    }
  }
  graphics::legend("topright", legend = paste("cluster", seq_len(x$model$k)), col = class_colours(x$model$k),
    pch = 19, bty = "n", cex = 0.8)
  invisible(x)
}
