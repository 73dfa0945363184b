# Hidden Markov chains (theory.md section 5.8): exact inference given log
# emission densities. The constructor hmm() and Baum-Welch build on this.

# Forward-backward and Viterbi for one sequence. logp: T x S log emission
# densities (NA rows: log density 0, the state is still propagated); initial:
# length-S probabilities; transition: S x S, row i = P(next state | i).
hmm_infer <- function(logp, initial, transition, call = rlang::caller_env()) {
  if (!is.matrix(logp) || !is.numeric(logp)) {
    abort_hm("{.arg logp} must be a numeric matrix (time points x states).", "argument", call = call)
  }
  S <- ncol(logp)
  if (nrow(logp) < 2L) {
    abort_hm("{.arg logp}: a sequence needs at least 2 time points, not {nrow(logp)}.", "argument", call = call)
  }
  check_prob_vector(initial, len = S, arg = "initial", call = call, simplex = TRUE)
  if (!is.matrix(transition) || !identical(dim(transition), c(S, S)) || anyNA(transition) ||
    any(transition < 0) || any(abs(rowSums(transition) - 1) > 1e-8)) {
    abort_hm("{.arg transition} must be a {S} x {S} matrix of probabilities whose rows sum to 1.",
      "argument", call = call)
  }
  logp[is.na(logp)] <- 0
  storage.mode(logp) <- "double"
  r <- native_hmm_infer(logp, as.double(initial), as.double(t(transition)))
  if (r$status != 0L) {
    abort_hm("Forward-backward failed: {status_message(r$status)}.", "engine", call = call)
  }
  list(
    loglik = r$loglik, filtered = r$filtered, smoothed = r$smoothed,
    pair = matrix(r$pair, S, S, byrow = TRUE), path = r$path + 1L, logjoint = r$logjoint
  )
}
