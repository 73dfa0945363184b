# von Mises, Dirichlet and Gamma families: exact
# log-partition and mean maps, numerical mean -> natural maps in the engine.

#' @rdname ef_family
#' @export
ef_von_mises <- function(dim = 1) {
  n <- check_count(dim, max = 1000000L)
  i1 <- seq(1, 2 * n, by = 2)
  new_family("von_mises", n,
    label = sprintf("von Mises(%d)", n),
    to_nat = function(params) {
      check_params_list(params, c("mean", "kappa"), arg = "params")
      m <- check_numeric_vector(params$mean, n, arg = "params$mean")
      k <- check_numeric_vector(params$kappa, n, arg = "params$kappa")
      if (any(k < 0)) abort_hm("{.arg params$kappa} must be non-negative.", "params")
      th <- numeric(2 * n)
      th[i1] <- k * cos(m)
      th[i1 + 1] <- k * sin(m)
      th
    },
    to_src = function(theta) {
      list(mean = atan2(theta[i1 + 1], theta[i1]), kappa = sqrt(theta[i1]^2 + theta[i1 + 1]^2))
    },
    support = support_radians,
    features = function(x) cbind(cos(x), sin(x)), n_free = 2L * n
  )
}

# Von Mises data are angles in radians; values beyond two full turns are
# almost surely degrees (a classed warning, harmonium_warning_radians; the fit
# goes on, as any real number is an angle).
support_radians <- support_code(function(x, arg, call) {
  big <- which(abs(x) > 2 * pi)
  if (length(big)) warn_radians(length(big), max(abs(x[big])), arg)
  invisible(x)
}, radians = TRUE)

warn_radians <- function(count, largest, arg) {
  warn_hm(c("{.arg {arg}} has {count} angle{?s} outside [-2 pi, 2 pi] (largest {format(largest, digits = 4)}); von Mises data are in radians.",
    i = "If the data are in degrees, convert them with {.code x * pi / 180}."), "radians")
}

#' @rdname ef_family
#' @export
ef_dirichlet <- function(dim) {
  n <- check_count(dim, min = 2L, max = 1000000L)
  new_family("dirichlet", n,
    label = sprintf("Dirichlet(%d)", n),
    to_nat = function(params) {
      check_params_list(params, "alpha", arg = "params")
      check_numeric_vector(params$alpha, n, arg = "params$alpha", positive = TRUE)
    },
    to_src = function(theta) list(alpha = theta),
    support = function(x, arg, call) {
      bad <- which(rowSums(x <= 0) > 0 | abs(rowSums(x) - 1) > 1e-8)
      if (length(bad)) support_error(bad, "Dirichlet data must be positive and each row must sum to 1.", arg, call)
      invisible(x)
    },
    features = function(x) log(x), n_free = n
  )
}

#' @rdname ef_family
#' @export
ef_gamma <- function(dim = 1) {
  n <- check_count(dim, max = 1000000L)
  i1 <- seq(1, 2 * n, by = 2)
  new_family("gamma", n,
    label = sprintf("Gamma(%d)", n),
    to_nat = function(params) {
      check_params_list(params, c("shape", "rate"), arg = "params")
      a <- check_numeric_vector(params$shape, n, arg = "params$shape", positive = TRUE)
      b <- check_numeric_vector(params$rate, n, arg = "params$rate", positive = TRUE)
      th <- numeric(2 * n)
      th[i1] <- a - 1
      th[i1 + 1] <- -b
      th
    },
    to_src = function(theta) list(shape = theta[i1] + 1, rate = -theta[i1 + 1]),
    support = support_positive("Gamma data must be positive."),
    features = function(x) log(x), n_free = 2L * n
  )
}
