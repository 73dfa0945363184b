# Likelihood-ratio comparison of fits of the same data (anova()).

#' Likelihood-ratio comparison of fitted models
#'
#' A table of the models' degrees of freedom, log-likelihoods, AIC and BIC
#' and, for each model after the first, the likelihood-ratio statistic
#' `2 (logLik - logLik of the previous model)`, the difference in degrees
#' of freedom and the chi-square p-value. The models are ordered by their
#' number of free parameters, must be fitted to the same data and must be
#' nested in turn: mixtures with the same number of components whose
#' component families differ only in a Normal block's covariance
#' (isotropic within diagonal within full), linear Gaussian models with
#' fewer latent dimensions or a more constrained noise (PPCA within factor
#' analysis), or mixtures of the same family with fewer components.
#'
#' When two models differ in their number of components the smaller sits
#' on the boundary of the larger (a weight at zero), the regularity
#' conditions fail and the statistic has no chi-square distribution: the
#' p-value is then `NA` and a message says so; compare such models by BIC
#' (see [select_k()]) or by a parametric-bootstrap likelihood-ratio test
#' (for example `mclust::mclustBootstrapLRT()`).
#'
#' @param object A fit.
#' @param ... More fits of the same data.
#' @return A data frame of class `anova` with one row per model.
#' @examples
#' fit1 <- fit_lvm(mixture(ef_normal(2, "diagonal"), 2), faithful)
#' fit2 <- fit_lvm(mixture(ef_normal(2), 2), faithful)
#' anova(fit1, fit2)
#' @export
anova.lvm_fit <- function(object, ...) {
  env <- rlang::current_env()
  fits <- c(list(object), list(...))
  if (length(fits) < 2L) {
    abort_hm("{.fn anova} needs at least two fits to compare.", "argument", call = env)
  }
  for (i in seq_along(fits)) {
    if (!inherits(fits[[i]], "lvm_fit")) {
      what <- if (i == 1L) "{.arg object}" else "Argument {i} of {.fn anova} (in {.arg ...})"
      abort_hm(paste(what, "must be a fit from {.fn fit_lvm}, not {.obj_type_friendly {fits[[i]]}}."),
        "argument", call = env)
    }
    if (!is.finite(fits[[i]]$loglik)) {
      abort_hm("Fit {i} has no log-likelihood (it holds no data).", "argument", call = env)
    }
  }
  n <- vapply(fits, function(f) as.double(f$n), numeric(1))
  if (length(unique(n)) > 1L) {
    abort_hm(c("The fits must be of the same data, but they have {n} observations.",
      i = "Fit every model to the same rows."), "data", call = env)
  }
  same_data <- vapply(fits[-1L], function(f) {
    a <- fits[[1]]$x
    b <- f$x
    nrow(a) == 0L || nrow(b) == 0L || ncol(a) != ncol(b) || isTRUE(all.equal(unname(a), unname(b)))
  }, logical(1))
  if (!all(same_data)) {
    abort_hm(c("The fits must be of the same data, but fit {which(!same_data)[1] + 1L} was fitted to other values.",
      i = "Fit every model to the same rows."), "data", call = env)
  }
  df <- vapply(fits, function(f) as.double(f$df), numeric(1))
  ord <- order(df)
  fits <- fits[ord]
  df <- df[ord]
  ll <- vapply(fits, function(f) f$loglik, numeric(1))
  nn <- n[1]
  stat <- ddf <- pv <- rep(NA_real_, length(fits))
  k_differs <- FALSE
  for (i in seq_along(fits)[-1L]) {
    nest <- nesting(fits[[i - 1L]]$model, fits[[i]]$model)
    if (nest == "no" || df[i] == df[i - 1L]) {
      abort_hm(c("Fits {ord[i - 1L]} and {ord[i]} are not nested, so no likelihood-ratio test applies.",
        i = "Compare non-nested models by {.fn AIC} or {.fn BIC}."), "not_nested", call = env)
    }
    stat[i] <- 2 * (ll[i] - ll[i - 1L])
    ddf[i] <- df[i] - df[i - 1L]
    if (nest == "regular") {
      pv[i] <- stats::pchisq(max(stat[i], 0), ddf[i], lower.tail = FALSE)
    } else {
      k_differs <- TRUE
    }
  }
  if (k_differs) {
    cli::cli_inform(c("Some models differ in their number of components: the chi-square reference does not hold and those p-values are {.code NA}.",
      i = "Compare them by BIC ({.fn select_k}) or a parametric-bootstrap likelihood-ratio test."),
      class = "harmonium_message_anova_components")
  }
  tab <- data.frame(df = df, logLik = ll, AIC = -2 * ll + 2 * df, BIC = -2 * ll + df * log(nn),
    LR = stat, `Df diff` = ddf, `Pr(>Chisq)` = pv, check.names = FALSE)
  rownames(tab) <- paste0("Model ", seq_along(fits))
  labels <- vapply(fits, function(f) f$model$label, "")
  structure(tab, heading = c("Likelihood-ratio comparison of fitted models\n",
    paste0("Model ", seq_along(fits), ": ", labels, collapse = "\n")),
    class = c("anova", "data.frame"))
}

# Whether model `a` is nested in model `b`: "regular" (the chi-square
# reference holds), "components" (fewer components: nested on the boundary)
# or "no".
nesting <- function(a, b) {
  if (identical(a$kind, "mixture") && identical(b$kind, "mixture")) {
    if (!identical(a$hm_kind, hm_kind[["mixture"]]) || !identical(b$hm_kind, hm_kind[["mixture"]])) return("no")
    if (!family_nested(a$component, b$component)) return("no")
    if (a$k == b$k) return("regular")
    if (a$k < b$k) return("components")
    return("no")
  }
  if (identical(a$kind, "lgm") && identical(b$kind, "lgm")) {
    if (a$p != b$p || a$q > b$q || !cov_nested(a$obs$covariance, b$obs$covariance)) return("no")
    return("regular")
  }
  "no"
}

cov_order <- c(isotropic = 1L, diagonal = 2L, full = 3L)

cov_nested <- function(ca, cb) {
  if (identical(ca, cb)) return(TRUE)
  !is.null(ca) && !is.null(cb) && ca %in% names(cov_order) && cb %in% names(cov_order) &&
    cov_order[[ca]] <= cov_order[[cb]]
}

family_nested <- function(fa, fb) {
  ba <- fam_blocks(fa)$blocks
  bb <- fam_blocks(fb)$blocks
  if (length(ba) != length(bb)) return(FALSE)
  all(vapply(seq_along(ba), function(i) {
    x <- ba[[i]]
    y <- bb[[i]]
    if (x$name != y$name || x$d != y$d) return(FALSE)
    if (x$name == "normal") return(cov_nested(x$covariance, y$covariance))
    identical(x$spec, y$spec)
  }, logical(1)))
}
