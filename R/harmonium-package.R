#' harmonium: exact inference and learning in exponential family latent variable models
#'
#' Every model in the package is a *conjugated harmonium* (Sokoloski 2024): a
#' product of two exponential families with a bilinear coupling whose prior is
#' conjugate to its posterior. The log-likelihood, the posterior and the exact
#' EM step then follow from a handful of family-level maps, implemented once in
#' the package's C engine.
#'
#' Start with [mixture()], [fit_lvm()] and the family constructors such as
#' [ef_normal()]; [select_k()] compares numbers of components.
#'
#' @keywords internal
#' @useDynLib harmonium, .registration = TRUE, .fixes = "C_"
#' @importFrom stats AIC BIC coef fitted logLik nobs predict simulate update
#' @importFrom graphics plot
"_PACKAGE"
