#' State inference for sequence models
#'
#' Exact posterior inference over the hidden states of a fitted sequence
#' model ([hmm()], [lds()]). `filter_states()` gives the filtered
#' distribution of each state given the observations up to its time point,
#' `smooth_states()` the smoothed one given the whole sequence (forward-backward
#' for an HMM, the Rauch-Tung-Striebel smoother for an LDS), `viterbi()` the
#' most probable state path of an HMM, and `forecast()` the predicted states
#' and observations `h` steps beyond the end of each sequence.
#'
#' @param fit A fitted sequence model.
#' @param newdata Optional sequences in the form the model was fitted to
#'   (a vector, matrix, data frame or `ts`, or a list of them); the fit's own
#'   data by default.
#' @param h Number of steps ahead.
#' @param ... Passed to methods.
#' @return For an HMM, `filter_states()` and `smooth_states()` return a
#'   data frame with columns `sequence`, `time` and one probability column
#'   per state, and `viterbi()` a data frame with columns `sequence`, `time`
#'   and `state`. For an LDS they return a list with the state means (time by
#'   state dimension) and covariances (array) per sequence. `forecast()`
#'   returns state and observation means with their covariances (LDS) or
#'   probabilities (HMM). See the methods' pages for the details.
#' @examples
#' fit <- fit_lvm(hmm(ef_normal(1), 2), as.numeric(LakeHuron))
#' head(filter_states(fit))
#' head(smooth_states(fit))
#' table(viterbi(fit)$state)
#' forecast(fit, h = 3)
#' kf <- fit_lvm(lds(1, 1), as.numeric(Nile))
#' str(filter_states(kf))
#' forecast(kf, h = 2)
#' @name state-inference
NULL

#' @rdname state-inference
#' @export
filter_states <- function(fit, newdata = NULL, ...) UseMethod("filter_states")

#' @rdname state-inference
#' @export
smooth_states <- function(fit, newdata = NULL, ...) UseMethod("smooth_states")

#' @rdname state-inference
#' @export
viterbi <- function(fit, newdata = NULL, ...) UseMethod("viterbi")

#' @rdname state-inference
#' @export
forecast <- function(fit, h = 1, ...) UseMethod("forecast")

