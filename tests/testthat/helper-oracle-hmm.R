# Plain-R oracles for hidden Markov models: emission log densities written
# from the textbook formulas (not through the package) and the scaled
# forward algorithm (Rabiner 1989; Zucchini, MacDonald and Langrock 2016,
# section 3.2) over a list of sequences.

# T x S log densities of one sequence; `dens(x_row, k)` gives log p(x | k); rows
# with an NA are missing (0 for every state).
oracle_logp <- function(x, S, dens) {
  x <- as.data.frame(x)
  out <- matrix(0, nrow(x), S)
  for (t in seq_len(nrow(x))) {
    if (anyNA(x[t, ])) next
    for (k in seq_len(S)) out[t, k] <- dens(x[t, , drop = FALSE], k)
  }
  out
}

# Scaled forward recursion: log p(x_1..T) of one sequence.
oracle_forward <- function(logp, init, A) {
  ll <- 0
  a <- NULL
  for (t in seq_len(nrow(logp))) {
    m <- max(logp[t, ])
    pred <- if (t == 1L) init else as.vector(a %*% A)
    a <- pred * exp(logp[t, ] - m)
    c <- sum(a)
    a <- a / c
    ll <- ll + log(c) + m
  }
  ll
}
