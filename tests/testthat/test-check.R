# R/check.R and R/conditions.R: every check_*() error, every classed error
# the family functions raise on purpose, and malformed input that must give
# a classed harmonium_error (never a crash, a hang or an unclassed error).

hm <- function(name) getFromNamespace(name, "harmonium")

# --- check_count -----------------------------------------------------------------

test_that("check_count accepts whole numbers and returns an integer", {
  expect_identical(hm("check_count")(3), 3L)
  expect_identical(hm("check_count")(0, min = 0L), 0L)
})

test_that("check_count rejects non-numbers, vectors, NA, Inf, fractions and out-of-range values", {
  cc <- hm("check_count")
  expect_hm_error(cc("3", arg = "k"), "argument", "k")
  expect_hm_error(cc(c(1, 2), arg = "k"), "argument", "k")
  expect_hm_error(cc(NULL, arg = "k"), "argument", "k")
  expect_hm_error(cc(NA, arg = "k"), "argument", "k")
  expect_hm_error(cc(NA_real_, arg = "k"), "argument", "k")
  expect_hm_error(cc(Inf, arg = "k"), "argument", "k")
  expect_hm_error(cc(2.5, arg = "k"), "argument", "k")
  expect_hm_error(cc(0, arg = "k"), "argument", "at least 1")
  expect_hm_error(cc(7, arg = "k", max = 5), "argument", "between 1 and 5")
  expect_hm_error(cc(TRUE, arg = "k"), "argument", "k")
})

test_that("check_count rejects counts beyond the integer range instead of returning NA", {
  expect_hm_error(hm("check_count")(3e9, arg = "n"), "argument", "n")
})

# --- check_number ------------------------------------------------------------------

test_that("check_number accepts a number in range and NULL when allowed", {
  expect_identical(hm("check_number")(2L, min = 0), 2)
  expect_null(hm("check_number")(NULL, allow_null = TRUE))
})

test_that("check_number rejects non-numbers, NA, vectors and out-of-range values", {
  cn <- hm("check_number")
  expect_hm_error(cn("a", arg = "tol"), "argument", "tol")
  expect_hm_error(cn(NA_real_, arg = "tol"), "argument", "tol")
  expect_hm_error(cn(NaN, arg = "tol"), "argument", "tol")
  expect_hm_error(cn(c(1, 2), arg = "tol"), "argument", "tol")
  expect_hm_error(cn(-1, arg = "tol", min = 0), "argument", "tol")
  expect_hm_error(cn(2, arg = "tol", max = 1), "argument", "tol")
  expect_hm_error(cn(NULL, arg = "tol"), "argument", "tol")
})

# --- check_flag ----------------------------------------------------------------------

test_that("check_flag accepts TRUE and FALSE only", {
  cf <- hm("check_flag")
  expect_true(cf(TRUE))
  expect_hm_error(cf(NA, arg = "trace"), "argument", "trace")
  expect_hm_error(cf("TRUE", arg = "trace"), "argument", "trace")
  expect_hm_error(cf(c(TRUE, FALSE), arg = "trace"), "argument", "trace")
  expect_hm_error(cf(1, arg = "trace"), "argument", "trace")
})

# --- check_numeric_vector --------------------------------------------------------------

test_that("check_numeric_vector returns doubles and checks type, length, finiteness and sign", {
  cv <- hm("check_numeric_vector")
  expect_identical(cv(1:3, 3), c(1, 2, 3))
  expect_identical(cv(c(1, Inf), 2, finite = FALSE), c(1, Inf))
  expect_hm_error(cv("a", arg = "rate"), "argument", "rate")
  expect_hm_error(cv(list(1), arg = "rate"), "argument", "rate")
  expect_hm_error(cv(c(1, 2), 3, arg = "rate"), "argument", "length 3")
  expect_hm_error(cv(c(1, NA), arg = "rate"), "argument", "rate")
  expect_hm_error(cv(c(1, NaN), arg = "rate"), "argument", "rate")
  expect_hm_error(cv(c(1, Inf), arg = "rate"), "argument", "finite")
  expect_hm_error(cv(c(1, NA), arg = "rate", finite = FALSE), "argument", "rate")
  expect_hm_error(cv(c(1, 0), arg = "rate", positive = TRUE), "argument", "positive")
})

# --- check_prob_vector ----------------------------------------------------------------

test_that("check_prob_vector checks the unit interval and the simplex", {
  cp <- hm("check_prob_vector")
  expect_identical(cp(c(0.25, 0.75), 2, simplex = TRUE), c(0.25, 0.75))
  expect_hm_error(cp(c(-0.1, 0.5), arg = "prob"), "argument", "[0, 1]")
  expect_hm_error(cp(c(0.5, 1.1), arg = "prob"), "argument", "prob")
  expect_hm_error(cp(c(0.3, 0.3), arg = "prob", simplex = TRUE), "argument", "sum to 1")
  expect_hm_error(cp(c(0.3, NA), arg = "prob"), "argument", "prob")
  expect_hm_error(cp(c(0.3, 0.7), 3, arg = "prob"), "argument", "length 3")
})

# --- check_matrix -----------------------------------------------------------------------

test_that("check_matrix reshapes numbers and rejects wrong sizes, types and non-finite entries", {
  cm <- hm("check_matrix")
  expect_identical(cm(c(1, 0, 0, 1), 2, 2), diag(2))
  expect_hm_error(cm(1:3, 2, 2, arg = "cov"), "argument", "2 x 2")
  expect_hm_error(cm(matrix("a", 2, 2), 2, 2, arg = "cov"), "argument", "cov")
  expect_hm_error(cm(c(1, NA, 0, 1), 2, 2, arg = "cov"), "argument", "finite")
  expect_hm_error(cm(c(1, Inf, 0, 1), 2, 2, arg = "cov"), "argument", "finite")
})

# --- check_family, check_model, check_params_list, check_weights --------------------------------

test_that("check_family and check_model reject other objects", {
  expect_hm_error(hm("check_family")("normal", arg = "family"), "argument", "family")
  expect_hm_error(hm("check_family")(list(name = "normal"), arg = "family"), "argument", "family")
  expect_hm_error(hm("check_model")(ef_normal(), arg = "model"), "argument", "model")
  expect_s3_class(hm("check_family")(ef_poisson()), "ef_family")
})

test_that("check_params_list needs a list holding the named elements", {
  cl <- hm("check_params_list")
  expect_hm_error(cl(NULL, "rate", arg = "params"), "params", "rate")
  expect_hm_error(cl(c(rate = 1), "rate", arg = "params"), "params", "params")
  expect_hm_error(cl(list(1, 2), c("mean", "cov"), arg = "params"), "params", "cov")
  expect_hm_error(cl(list(mean = 1), c("mean", "cov"), arg = "params"), "params", "cov")
})

test_that("check_weights needs n finite non-negative numbers with a positive sum", {
  cw <- hm("check_weights")
  expect_identical(cw(c(1L, 0L, 2L), 3), c(1, 0, 2))
  expect_hm_error(cw(c(1, 2), 3), "argument", "weights")
  expect_hm_error(cw(c(1, -1, 2), 3), "argument", "weights")
  expect_hm_error(cw(c(1, NA, 2), 3), "argument", "weights")
  expect_hm_error(cw(c(1, Inf, 2), 3), "argument", "weights")
  expect_hm_error(cw(c(0, 0, 0), 3), "argument", "weights")
  expect_hm_error(cw(c("1", "2", "3"), 3), "argument", "weights")
})

# --- conditions.R -----------------------------------------------------------------------------

test_that("abort_hm raises harmonium_error_<what> below harmonium_error and rlang_error", {
  err <- expect_error(hm("abort_hm")("boom", "something"), class = "harmonium_error_something")
  expect_identical(class(err)[1:3], c("harmonium_error_something", "harmonium_error", "rlang_error"))
})

test_that("warn_hm raises harmonium_warning_<what>", {
  w <- expect_warning(hm("warn_hm")("careful", "something"), class = "harmonium_warning_something")
  expect_s3_class(w, "harmonium_warning")
})

test_that("stop_status passes status 0 and maps every engine status to its class", {
  ss <- hm("stop_status")
  expect_silent(ss(list(value = 1, status = 0L), "x"))
  statuses <- c("continue", "domain", "not_pd", "no_memory", "max_iter", "no_progress", "overflow", "invalid")
  for (st in seq_along(statuses)) {
    expect_hm_error(ss(list(value = NA, status = st), "the answer"), paste0("engine_", statuses[st]), "the answer")
  }
})

# --- family constructors ----------------------------------------------------------------------

test_that("family sizes must be whole positive numbers", {
  for (bad in list(0, -1, 1.5, "2", NA, Inf, c(1, 2), NULL)) {
    expect_hm_error(ef_normal(bad), "argument", "dim")
  }
  expect_hm_error(ef_bernoulli(0), "argument", "dim")
  expect_hm_error(ef_poisson("a"), "argument", "dim")
  expect_hm_error(ef_von_mises(NA), "argument", "dim")
  expect_hm_error(ef_com_poisson(Inf), "argument", "dim")
  expect_hm_error(ef_gamma(0), "argument", "dim")
  expect_hm_error(ef_boltzmann(0), "argument", "dim")
  expect_hm_error(ef_dirichlet(1), "argument", "between 2 and")
  expect_hm_error(ef_binomial(0), "argument", "trials")
  expect_hm_error(ef_binomial(2.5), "argument", "trials")
  expect_hm_error(ef_binomial(3, dim = 0), "argument", "dim")
})

test_that("errors are reported against the user's call", {
  err <- expect_error(ef_normal(0), class = "harmonium_error")
  expect_identical(err$call[[1]], quote(ef_normal))
  err <- expect_error(ef_fit(ef_poisson(), c(1, -1)), class = "harmonium_error")
  expect_identical(err$call[[1]], quote(ef_fit))
  err <- expect_error(ef_sample(ef_poisson(), list(rate = 1), -1), class = "harmonium_error")
  expect_identical(err$call[[1]], quote(ef_sample))
})

test_that("an unknown covariance type gives harmonium_error_argument", {
  expect_hm_error(ef_normal(2, covariance = "banana"), "argument", "covariance")
})

test_that("categorical levels must be at least 2 distinct names or a count", {
  expect_hm_error(ef_categorical(1), "argument", "levels")
  expect_hm_error(ef_categorical(2.5), "argument", "levels")
  expect_hm_error(ef_categorical("a"), "argument", "levels")
  expect_hm_error(ef_categorical(c("a", "b", "a")), "argument", "levels")
  expect_hm_error(ef_categorical(c("a", NA)), "argument", "levels")
  expect_hm_error(ef_categorical(list()), "argument", "levels")
  expect_hm_error(ef_categorical(NULL), "argument", "levels")
})

test_that("ef_product needs families, at most 64 blocks", {
  expect_hm_error(ef_product(), "argument", "ef_product")
  expect_hm_error(ef_product(1), "argument", "Argument 1")
  expect_hm_error(ef_product(list(ef_normal(), "x")), "argument", "Argument 2")
  expect_hm_error(ef_product(rep(list(ef_poisson()), 65)), "argument", "64")
})

# --- source parameters --------------------------------------------------------------------------

test_that("normal parameters are checked for names, shapes, symmetry and positive definiteness", {
  f <- ef_normal(2)
  mu <- c(0, 1)
  expect_hm_error(to_natural(f, c(0, 1)), "params", "params")
  expect_hm_error(to_natural(f, list(mean = mu)), "params", "cov")
  expect_hm_error(to_natural(f, list(mean = 0, cov = diag(2))), "argument", "params$mean")
  expect_hm_error(to_natural(f, list(mean = mu, cov = diag(3))), "argument", "params$cov")
  expect_hm_error(to_natural(f, list(mean = c(0, NA), cov = diag(2))), "argument", "params$mean")
  expect_hm_error(to_natural(f, list(mean = mu, cov = matrix(c(1, NA, NA, 1), 2))), "argument", "params$cov")
  expect_hm_error(to_natural(f, list(mean = mu, cov = matrix(c(1, 0.2, 0.3, 1), 2))), "params", "symmetric")
  expect_hm_error(to_natural(f, list(mean = mu, cov = matrix(c(1, 2, 2, 1), 2))), "params", "positive definite")
  expect_hm_error(ef_log_density(f, list(mean = mu, cov = -diag(2)), rbind(mu)), "params", "positive definite")
  expect_hm_error(to_natural(ef_normal(2, "diagonal"), list(mean = mu, cov = matrix(c(1, 0.2, 0.2, 1), 2))),
    "params", "diagonal")
  expect_hm_error(to_natural(ef_normal(2, "isotropic"), list(mean = mu, cov = diag(c(1, 2)))),
    "params", "identity")
})

test_that("probability parameters are checked", {
  cat3 <- ef_categorical(c("a", "b", "c"))
  expect_hm_error(to_natural(cat3, list(prob = c(0.2, 0.2, 0.2))), "argument", "sum to 1")
  expect_hm_error(to_natural(cat3, list(prob = c(0.5, 0.5))), "argument", "params$prob")
  expect_hm_error(to_natural(cat3, list(prob = c(0.5, 0.5, 0))), "params", "positive")
  expect_hm_error(to_natural(cat3, list(prob = c(a = 0.2, b = 0.3, z = 0.5))), "params", "names")
  expect_hm_error(to_natural(cat3, list(prob = c(-0.2, 0.7, 0.5))), "argument", "[0, 1]")
  expect_hm_error(to_natural(ef_bernoulli(), list(prob = 0)), "params", "strictly")
  expect_hm_error(to_natural(ef_bernoulli(), list(prob = 1.2)), "argument", "[0, 1]")
  expect_hm_error(to_natural(ef_bernoulli(2), list(prob = 0.3)), "argument", "length 2")
  expect_hm_error(to_natural(ef_binomial(4), list(prob = 1)), "params", "strictly")
  expect_hm_error(to_natural(ef_binomial(4), list(p = 0.3)), "params", "prob")
})

test_that("rates, shapes, concentrations and dispersions must be positive and finite", {
  expect_hm_error(to_natural(ef_poisson(), list(rate = 0)), "argument", "positive")
  expect_hm_error(to_natural(ef_poisson(), list(rate = -2)), "argument", "positive")
  expect_hm_error(to_natural(ef_poisson(), list(rate = NA)), "argument", "params$rate")
  expect_hm_error(to_natural(ef_poisson(), list(lambda = 2)), "params", "rate")
  expect_hm_error(to_natural(ef_com_poisson(), list(mode = 2, nu = 0)), "argument", "params$nu")
  expect_hm_error(to_natural(ef_com_poisson(), list(mode = -1, nu = 1)), "argument", "params$mode")
  expect_hm_error(to_natural(ef_com_poisson(), list(mode = 2)), "params", "nu")
  expect_hm_error(to_natural(ef_dirichlet(3), list(alpha = c(1, 0, 2))), "argument", "params$alpha")
  expect_hm_error(to_natural(ef_dirichlet(3), list(alpha = c(1, 2))), "argument", "length 3")
  expect_hm_error(to_natural(ef_gamma(), list(shape = -1, rate = 1)), "argument", "params$shape")
  expect_hm_error(to_natural(ef_gamma(), list(shape = 1, rate = Inf)), "argument", "params$rate")
  expect_hm_error(to_natural(ef_von_mises(), list(mean = 0, kappa = -1)), "params", "kappa")
  expect_hm_error(to_natural(ef_von_mises(), list(mean = NA, kappa = 1)), "argument", "params$mean")
})

test_that("Boltzmann couplings must be a symmetric matrix with a zero diagonal", {
  f <- ef_boltzmann(3)
  b <- c(0.1, 0.2, 0.3)
  C <- matrix(c(0, 0.5, 0, 0.5, 0, 0.2, 0, 0.2, 0), 3)
  expect_hm_error(to_natural(f, list(bias = b, coupling = C + diag(3))), "params", "zero diagonal")
  C2 <- C
  C2[1, 3] <- 0.4
  expect_hm_error(to_natural(f, list(bias = b, coupling = C2)), "params", "symmetric")
  expect_hm_error(to_natural(f, list(bias = b, coupling = diag(2))), "argument", "params$coupling")
  expect_hm_error(to_natural(f, list(bias = b[1:2], coupling = C)), "argument", "params$bias")
})

test_that("product parameters need one element per block", {
  f <- ef_product(ef_normal(), ef_poisson())
  expect_hm_error(to_natural(f, list(list(mean = 0, cov = 1))), "params", "one element per block")
  expect_hm_error(to_natural(f, "x"), "params", "block")
  expect_hm_error(to_natural(f, list(list(mean = 0, cov = 1), list(rate = -1))), "argument", "params$rate")
})

test_that("to_source checks the natural parameter vector", {
  expect_hm_error(to_source(ef_normal(2), c(0, 0, -1)), "argument", "theta")
  expect_hm_error(to_source(ef_poisson(), "a"), "argument", "theta")
  expect_hm_error(to_source(ef_poisson(), NA_real_), "argument", "theta")
  expect_hm_error(to_source(ef_normal(), c(0, 0.5)), "params", "theta")
  expect_hm_error(to_source(ef_dirichlet(2), c(-1, 2)), "params", "theta")
  expect_hm_error(to_source(ef_com_poisson(), c(0.3, 0.2)), "params", "theta")
})

# --- data -------------------------------------------------------------------------------------

test_that("data with the wrong number of columns or no rows give harmonium_error_data", {
  f <- ef_normal(2)
  p <- list(mean = c(0, 0), cov = diag(2))
  expect_hm_error(ef_log_density(f, p, matrix(0, 3, 3)), "data", "2")
  expect_hm_error(ef_log_density(f, p, matrix(0, 0, 2)), "data", "no rows")
  expect_hm_error(ef_fit(f, data.frame()), "data", "column")
  expect_hm_error(ef_fit(ef_poisson(), numeric(0)), "data", "no rows")
})

test_that("data of the wrong type give harmonium_error_data", {
  expect_hm_error(ef_fit(ef_poisson(), list(1, 2)), "data", "data")
  expect_hm_error(ef_fit(ef_poisson(), c(1i, 2i)), "data", "data")
  expect_hm_error(ef_fit(ef_poisson(), mean), "data", "data")
  expect_hm_error(ef_fit(ef_normal(), c("a", "b")), "data", "categorical")
  expect_hm_error(ef_fit(ef_bernoulli(), factor(c("x", "y", "z"))), "data", "0/1")
  expect_hm_error(ef_fit(ef_categorical(3), list(a = 1)), "data", "data")
})

test_that("missing and non-finite data give harmonium_error_data_na naming the rows", {
  f <- ef_normal(2)
  p <- list(mean = c(0, 0), cov = diag(2))
  expect_hm_error(ef_log_density(f, p, rbind(c(0, 0), c(NA, 1))), "data_na", "2")
  expect_hm_error(ef_log_density(f, p, rbind(c(0, 0), c(1, 1), c(Inf, 1))), "data_na", "3")
  expect_hm_error(ef_log_density(f, p, rbind(c(-Inf, 0))), "data_na", "1")
  expect_hm_error(ef_fit(f, rbind(c(0, 0), c(NaN, 1), c(2, 2))), "data_na", "2")
  expect_hm_error(ef_fit(ef_categorical(c("a", "b")), factor(c("a", NA, "b"))), "data_na", "2")
})

test_that("categorical codes outside 1..k give harmonium_error_data_support", {
  f <- ef_categorical(3)
  expect_hm_error(ef_fit(f, c(1, 2, 0)), "data_support", "3")
  expect_hm_error(ef_fit(f, c(1, 4)), "data_support", "2")
  expect_hm_error(ef_fit(f, c(1, 1.5)), "data_support", "2")
})

test_that("case weights are checked", {
  f <- ef_poisson()
  expect_hm_error(ef_fit(f, c(1, 2, 3), weights = c(1, 1)), "argument", "weights")
  expect_hm_error(ef_fit(f, c(1, 2, 3), weights = c(1, -1, 1)), "argument", "weights")
  expect_hm_error(ef_fit(f, c(1, 2, 3), weights = c(1, NA, 1)), "argument", "weights")
  expect_hm_error(ef_fit(f, c(1, 2, 3), weights = c(0, 0, 0)), "argument", "weights")
})

test_that("the number of draws is checked", {
  f <- ef_poisson()
  p <- list(rate = 2)
  for (bad in list(-1, 1.5, NA, "3", c(1, 2), Inf, NULL)) {
    expect_hm_error(ef_sample(f, p, bad), "argument", "n")
  }
  expect_hm_error(ef_sample(f, p, 3e9), "argument", "n")
})

test_that("zero draws give an empty matrix with the family's columns", {
  x <- ef_sample(ef_normal(2), list(mean = c(0, 0), cov = diag(2)), 0)
  expect_identical(dim(x), c(0L, 2L))
})

test_that("functions taking a family reject other objects", {
  expect_hm_error(ef_fit("normal", 1:3), "argument", "family")
  expect_hm_error(ef_log_density(list(), list(), 1), "argument", "family")
  expect_hm_error(ef_sample(NULL, list(), 1), "argument", "family")
  expect_hm_error(to_natural("normal", list(mean = 0, cov = 1)), "argument", "family")
  expect_hm_error(to_mean(1, list(rate = 1)), "argument", "family")
  expect_hm_error(to_source(list(), 1), "argument", "family")
})

# --- malformed input never crashes --------------------------------------------------------------

test_that("degenerate data without a maximum-likelihood estimate give a classed error", {
  expect_error(ef_fit(ef_normal(2), rbind(c(1, 2), c(1, 2), c(1, 2))), class = "harmonium_error")
  expect_error(ef_fit(ef_normal(2), rbind(c(1, 2), c(2, 4), c(3, 6))), class = "harmonium_error")
  expect_error(ef_fit(ef_von_mises(), c(0.7, 0.7, 0.7)), class = "harmonium_error")
  expect_error(ef_fit(ef_gamma(), c(2, 2, 2)), class = "harmonium_error")
  expect_error(ef_fit(ef_dirichlet(3), rbind(c(0.2, 0.3, 0.5))), class = "harmonium_error")
  expect_error(ef_fit(ef_com_poisson(), c(3, 3, 3, 3)), class = "harmonium_error")
  expect_error(ef_fit(ef_boltzmann(2), rbind(c(0, 1), c(0, 0), c(0, 1))), class = "harmonium_error")
})

test_that("boundary data either fit at the boundary or give a classed error", {
  cases <- list(
    quote(ef_fit(ef_poisson(), c(0, 0, 0))),
    quote(ef_fit(ef_bernoulli(), c(1, 1, 1))),
    quote(ef_fit(ef_binomial(3), c(0, 0))),
    quote(ef_fit(ef_categorical(3), c(1, 1, 2)))
  )
  for (cl in cases) {
    res <- tryCatch(eval(cl), error = function(e) e)
    vals <- if (is.list(res) && !inherits(res, "condition")) unlist(res) else NA
    ok <- inherits(res, "harmonium_error") || (all(is.finite(vals)) && all(vals >= 0))
    expect_true(ok, info = deparse(cl))
  }
})

test_that("a sweep of malformed inputs gives classed errors only", {
  pn <- list(mean = 0, cov = matrix(1))
  cases <- list(
    quote(ef_log_density(ef_normal(), pn, NULL)),
    quote(ef_log_density(ef_normal(), pn, NA)),
    quote(ef_log_density(ef_normal(), pn, list())),
    quote(ef_log_density(ef_normal(), pn, character(0))),
    quote(ef_log_density(ef_normal(), pn, matrix(numeric(0), 0, 1))),
    quote(ef_log_density(ef_normal(), pn, data.frame(x = numeric(0)))),
    quote(ef_log_density(ef_normal(), pn, c(1, NaN))),
    quote(ef_log_density(ef_normal(), pn, 1e308 * 10)),
    quote(ef_log_density(ef_normal(), NULL, 1)),
    quote(ef_log_density(ef_normal(), list(mean = NULL, cov = 1), 1)),
    quote(ef_log_density(ef_normal(), list(mean = 0, cov = "1"), 1)),
    quote(ef_log_density(ef_normal(), list(mean = 0, cov = NaN), 1)),
    quote(ef_log_density(ef_normal(), list(mean = Inf, cov = 1), 1)),
    quote(ef_log_density(ef_normal(), list(mean = 0, cov = 0), 1)),
    quote(ef_log_density(ef_categorical(2), list(prob = c(0.5, 0.5)), matrix("a"))),
    quote(ef_log_density(ef_categorical(2), list(prob = c(NA, 0.5)), 1)),
    quote(ef_log_density(ef_dirichlet(2), list(alpha = c(1, 1)), c(0.5, 0.5))),
    quote(ef_log_density(ef_boltzmann(2), list(bias = 1:2, coupling = NULL), c(0, 1))),
    quote(ef_fit(ef_poisson(), NULL)),
    quote(ef_fit(ef_poisson(), matrix(1:4, 2))),
    quote(ef_fit(ef_poisson(), -Inf)),
    quote(ef_fit(ef_gamma(), NA)),
    quote(ef_fit(ef_poisson(), 1:3, weights = "a")),
    quote(ef_sample(ef_poisson(), list(rate = NULL), 2)),
    quote(ef_sample(ef_poisson(), list(rate = c(1, 2)), 2)),
    quote(ef_sample(ef_normal(), list(mean = 0, cov = -1), 2)),
    quote(to_mean(ef_gamma(), list(shape = 1))),
    quote(to_source(ef_gamma(), numeric(0))),
    quote(to_source(ef_gamma(), c(NaN, -1))),
    quote(to_source(ef_gamma(), c(1, 1))),
    quote(to_source(ef_boltzmann(2), 1:2))
  )
  for (cl in cases) {
    res <- tryCatch(eval(cl), error = function(e) e)
    expect_s3_class(res, "harmonium_error")
  }
})

test_that("huge family sizes give a classed error or consistent sizes, never an overflow", {
  res <- tryCatch(ef_normal(1e5), error = function(e) e)
  ok <- inherits(res, "harmonium_error") || isTRUE(all.equal(as.numeric(res$dim), 1e5 + 1e5 * (1e5 + 1) / 2))
  expect_true(ok)
})
