# Bernoulli, Binomial, Poisson and Conway-Maxwell-Poisson families, each
# replicated over `dim` independent columns.

logit <- function(p) log(p) - log1p(-p)
expit <- function(a) 1 / (1 + exp(-a))

#' @rdname ef_family
#' @export
ef_bernoulli <- function(dim = 1) {
  n <- check_count(dim, max = 1000000L)
  new_family("bernoulli", n,
    label = sprintf("Bernoulli(%d)", n),
    to_nat = function(params) {
      check_params_list(params, "prob", arg = "params")
      p <- check_prob_vector(params$prob, n, arg = "params$prob")
      if (any(p <= 0 | p >= 1)) abort_hm("{.arg params$prob} must lie strictly between 0 and 1.", "params")
      logit(p)
    },
    to_src = function(theta) list(prob = expit(theta)),
    encode = encode_binary,
    support = support_counts(0, 1, "Bernoulli data must be 0 or 1."),
    features = function(x) x, n_free = n
  )
}

encode_binary <- function(x, fam, arg, call) {
  cols <- lapply(x, function(v) {
    if (is.factor(v) && nlevels(v) == 2L) return(as.double(as.integer(v) - 1L))
    if (is.factor(v) || is.character(v)) {
      abort_hm("{.arg {arg}} must hold 0/1 values (or two-level factors) for {fam$label}.", "data", call = call)
    }
    as.double(v)
  })
  matrix(unlist(cols, use.names = FALSE), nrow(x), ncol(x))
}

#' @rdname ef_family
#' @export
ef_binomial <- function(trials, dim = 1) {
  trials <- check_count(trials, arg = "trials")
  n <- check_count(dim, max = 1000000L)
  new_family("binomial", n, trials = trials,
    label = sprintf("Binomial(%d trials, %d)", trials, n),
    to_nat = function(params) {
      check_params_list(params, "prob", arg = "params")
      p <- check_prob_vector(params$prob, n, arg = "params$prob")
      if (any(p <= 0 | p >= 1)) abort_hm("{.arg params$prob} must lie strictly between 0 and 1.", "params")
      logit(p)
    },
    to_src = function(theta) list(prob = expit(theta)),
    support = support_counts(0, trials, sprintf("Binomial data must be whole numbers in 0..%d.", trials)),
    features = function(x) x, n_free = n
  )
}

#' @rdname ef_family
#' @export
ef_poisson <- function(dim = 1) {
  n <- check_count(dim, max = 1000000L)
  new_family("poisson", n,
    label = sprintf("Poisson(%d)", n),
    to_nat = function(params) {
      check_params_list(params, "rate", arg = "params")
      log(check_numeric_vector(params$rate, n, arg = "params$rate", positive = TRUE))
    },
    to_src = function(theta) list(rate = exp(theta)),
    support = support_counts(0, Inf, "Poisson data must be non-negative whole numbers."),
    features = function(x) log1p(x), n_free = n
  )
}

#' @rdname ef_family
#' @export
ef_com_poisson <- function(dim = 1) {
  n <- check_count(dim, max = 1000000L)
  i1 <- seq(1, 2 * n, by = 2)
  new_family("com_poisson", n,
    label = sprintf("Conway-Maxwell-Poisson(%d)", n),
    to_nat = function(params) {
      check_params_list(params, c("mode", "nu"), arg = "params")
      mode <- check_numeric_vector(params$mode, n, arg = "params$mode", positive = TRUE)
      nu <- check_numeric_vector(params$nu, n, arg = "params$nu", positive = TRUE)
      th <- numeric(2 * n)
      th[i1] <- nu * log(mode)
      th[i1 + 1] <- -nu
      th
    },
    to_src = function(theta) {
      nu <- -theta[i1 + 1]
      list(mode = exp(theta[i1] / nu), nu = nu)
    },
    # The normaliser is summed term by term around the mode, so counts are
    # capped where that stays fast.
    support = support_counts(0, 1e6, "CoM-Poisson data must be whole numbers in [0, 1e6]."),
    features = function(x) log1p(x), n_free = 2L * n
  )
}
