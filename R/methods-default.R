# Fallbacks of the package's generics and of stats' generics on fits: a call
# on something that is not a fit of the right kind is a classed error naming
# the argument, not R's "no applicable method".

not_a_fit <- function(x, arg, what = "a fit from {.fn fit_lvm} or {.fn with_params}", call = rlang::caller_env()) {
  abort_hm(paste0("{.arg {arg}} must be ", what, ", not {.obj_type_friendly {x}}."), "argument", call = call)
}

#' @export
posterior.default <- function(object, ...) not_a_fit(object, "object")

#' @export
log_density.default <- function(object, ...) not_a_fit(object, "object")

sequence_fit_what <- "a fit of a sequence model ({.fn hmm} or {.fn lds})"

#' @export
filter_states.default <- function(fit, newdata = NULL, ...) not_a_fit(fit, "fit", sequence_fit_what)

#' @export
smooth_states.default <- function(fit, newdata = NULL, ...) not_a_fit(fit, "fit", sequence_fit_what)

#' @export
viterbi.default <- function(fit, newdata = NULL, ...) not_a_fit(fit, "fit", "a fit of {.fn hmm}")

#' @export
forecast.default <- function(fit, h = 1, ...) not_a_fit(fit, "fit", sequence_fit_what)

# A fit kind without predictions (e.g. the Categorical-Dirichlet harmonium,
# whose posterior() is the whole answer).
#' @export
predict.lvm_fit <- function(object, ...) {
  check_dots(...)
  abort_hm(c("{.arg object} ({object$model$label}) has no {.fn predict} method.",
    i = "Use {.fn posterior} or {.fn log_density}."), "unsupported")
}

# update(): the fit's call with arguments replaced, checked against the
# function that made the fit (fit_lvm() or with_params()) so that a misspelt
# or foreign argument is named instead of R's "unused argument".
#' @export
update.lvm_fit <- function(object, ..., evaluate = TRUE) {
  env <- rlang::current_env()
  cl <- object$call
  if (!is.call(cl)) {
    abort_hm("{.arg object} holds no call to update.", "argument", call = env)
  }
  extras <- match.call(expand.dots = FALSE)$...
  fn_name <- if (is.name(cl[[1]])) as.character(cl[[1]]) else deparse(cl[[1]])
  fn_name <- sub("^harmonium:::?", "", fn_name)
  allowed <- switch(fn_name,
    fit_lvm = setdiff(names(formals(fit_lvm)), "..."),
    with_params = names(formals(with_params)),
    NULL
  )
  if (length(extras)) {
    nms <- names(extras)
    if (is.null(nms) || any(!nzchar(nms))) {
      abort_hm("Every argument of {.fn update} must be named.", "argument", call = env)
    }
    if (!is.null(allowed)) {
      bad <- setdiff(nms, allowed)
      if (length(bad)) {
        abort_hm(c("{.arg {bad[1]}} is not an argument of {.fn {fn_name}}.",
          i = "The arguments are {.arg {allowed}}."), "argument", call = env)
      }
    }
    for (nm in nms) cl[[nm]] <- extras[[nm]]
  }
  if (!isTRUE(evaluate)) return(cl)
  eval(cl, parent.frame())
}
