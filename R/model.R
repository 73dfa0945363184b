# Internal generics over model kinds. Each model kind (model-<kind>.R)
# supplies its source <-> natural conversions, the change of units that goes
# with the internal standardisation, its default starts and the names of its
# posterior columns; fit.R and the methods are written once against these.

# Source parameters -> harmonium natural coordinates (a flat vector).
model_to_nat <- function(m, params, arg = "params", call = rlang::caller_env()) {
  UseMethod("model_to_nat")
}

# Harmonium natural coordinates -> source parameters.
model_to_src <- function(m, theta) UseMethod("model_to_src")

# Source parameters between internal (standardised) and user units.
model_affine <- function(m, sc, params, inverse) UseMethod("model_affine")

# Natural parameters (internal units) of the default start i: the first is
# deterministic, the others random from control$seed. NULL if it fails, or
# (mixtures, given the fit's start_cache()) a marker of class
# "hm_start_duplicate" when its partition repeats an earlier start's.
model_start <- function(m, xs, x, w, i, control, ctrl, threads, cache = NULL) UseMethod("model_start")

# Natural parameters (internal units) from a user's `init`.
model_init <- function(m, xs, w, init, ctrl, threads, sc, call) UseMethod("model_init")

#' @export
model_init.default <- function(m, xs, w, init, ctrl, threads, sc, call) {
  if (inherits(init, "lvm_fit")) init <- init$params
  if (is.list(init)) {
    return(model_to_nat(m, model_affine(m, sc, init, inverse = FALSE), arg = "init", call = call))
  }
  abort_hm(c("{.arg init} must be a fit or source parameters.", x = "It is {.obj_type_friendly {init}}."),
    "init", call = call)
}

# Column names of the per-row posterior output.
model_post_names <- function(m) UseMethod("model_post_names")

# Names the source parameters after the data columns.
model_name_params <- function(m, params) UseMethod("model_name_params")

#' @export
model_name_params.default <- function(m, params) params

# Whether EM should whiten the latent block (Gaussian latents only).
model_whitens <- function(m) isTRUE(m$whiten)
