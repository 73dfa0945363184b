# Boltzmann machines: binary vectors with pairwise
# couplings, energy bias . x + sum_{i<j} coupling_ij x_i x_j; exact by
# enumeration of the 2^dim states, so dim is limited to 20.

#' @rdname ef_family
#' @export
ef_boltzmann <- function(dim) {
  n <- check_count(dim)
  if (n > 20L) {
    abort_hm(c("{.arg dim} is {n}, but Boltzmann machines are exact only up to 20 units (2^20 states).",
      i = "Use fewer units, or independent units with {.code ef_bernoulli({n})}."), "too_large")
  }
  new_family("boltzmann", n,
    label = sprintf("Boltzmann(%d)", n),
    to_nat = function(params) {
      check_params_list(params, c("bias", "coupling"), arg = "params")
      b <- check_numeric_vector(params$bias, n, arg = "params$bias")
      C <- check_matrix(params$coupling, n, n, arg = "params$coupling")
      if (max(abs(C - t(C))) > 1e-12 || any(diag(C) != 0)) {
        abort_hm("{.arg params$coupling} must be symmetric with a zero diagonal.", "params")
      }
      M <- C
      diag(M) <- b
      pack_sym(M)
    },
    to_src = function(theta) {
      M <- unpack_sym(theta, n)
      b <- diag(M)
      diag(M) <- 0
      list(bias = b, coupling = M)
    },
    encode = encode_binary,
    support = support_counts(0, 1, "Boltzmann data must be 0 or 1."),
    features = function(x) x, n_free = n * (n + 1L) / 2L
  )
}
