# ef_product() (R/family-product.R; theory.md 1.1 "heterogeneous pair"):
# independent blocks, each consuming its own columns left to right, so
# statistics and parameters concatenate and log densities, log-partitions
# and negative entropies add.

prod_blocks <- function() {
  list(ef_normal(2), ef_categorical(c("a", "b", "c")), ef_poisson(2), ef_von_mises())
}

prod_par <- function() {
  list(
    list(mean = c(0.4, -1.1), cov = matrix(c(2.385, -0.81, -0.81, 0.93), 2)),
    list(prob = c(a = 0.2385, b = 0.4402, c = 0.3213)),
    list(rate = c(2.385, 0.613)),
    list(mean = -0.77, kappa = 1.385)
  )
}

prod_df <- function() {
  data.frame(
    y1 = c(0.3, -2.1, 1.7, 0.05, 4),
    y2 = c(-1, 0.4, -0.8, 2.2, -3.3),
    g = factor(c("b", "a", "c", "c", "b"), levels = c("a", "b", "c")),
    n1 = c(0, 3, 1, 7, 2),
    n2 = c(1, 0, 0, 2, 5),
    ang = c(0.1, -2.9, 1.4, 3, -0.6)
  )
}

# Block b's columns of the product's data frame.
prod_cols <- list(1:2, 3, 4:5, 6)

test_that("a product's sizes are the sums of its blocks' sizes", {
  f <- ef_product(prod_blocks())
  expect_identical(c(f$d, f$dim), c(6L, 5L + 2L + 2L + 2L))
})

test_that("ef_product takes families or one list of families, and flattens nesting", {
  a <- ef_product(prod_blocks())
  b <- do.call(ef_product, prod_blocks())
  nested <- ef_product(ef_product(ef_normal(2), ef_categorical(c("a", "b", "c"))), ef_poisson(2), ef_von_mises())
  expect_identical(b$spec, a$spec)
  expect_identical(nested$spec, a$spec)
})

test_that("a product's natural parameters concatenate the blocks'", {
  f <- ef_product(prod_blocks())
  want <- unlist(Map(to_natural, prod_blocks(), prod_par()))
  expect_close(to_natural(f, prod_par()), want, rtol = 0)
})

test_that("a product's log density is the sum of the blocks' log densities", {
  f <- ef_product(prod_blocks())
  df <- prod_df()
  parts <- Map(function(b, p, cols) ef_log_density(b, p, df[, cols, drop = FALSE]), prod_blocks(), prod_par(), prod_cols)
  expect_close(ef_log_density(f, prod_par(), df), Reduce(`+`, parts), rtol = 1e-12)
})

test_that("a product's log density equals the plain-R oracles", {
  f <- ef_product(prod_blocks())
  df <- prod_df()
  p <- prod_par()
  want <- oracle_normal_logpdf(as.matrix(df[, 1:2]), p[[1]]$mean, p[[1]]$cov) +
    oracle_categorical_logpmf(as.integer(df$g), p[[2]]$prob) +
    oracle_poisson_logpmf(as.matrix(df[, 4:5]), p[[3]]$rate) +
    oracle_von_mises_logpdf(df$ang, p[[4]]$mean, p[[4]]$kappa)
  expect_close(ef_log_density(f, p, df), want, rtol = 1e-10)
})

test_that("a product's statistics, log-partition, mean and negative entropy combine blockwise", {
  f <- ef_product(prod_blocks())
  th <- to_natural(f, prod_par())
  blocks <- prod_blocks()
  ths <- Map(to_natural, blocks, prod_par())
  x <- harmonium:::family_encode(f, prod_df())
  stat_parts <- Map(function(b, cols) fam_stat(b, x[, cols]), blocks, prod_cols)
  expect_close(fam_stat(f, x), do.call(cbind, stat_parts), rtol = 0)
  expect_close(fam_psi(f, th), sum(unlist(Map(fam_psi, blocks, ths))), rtol = 1e-13)
  expect_close(fam_eta(f, th), unlist(Map(fam_eta, blocks, ths)), rtol = 1e-13)
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(unlist(Map(fam_phi, blocks, Map(fam_eta, blocks, ths)))), rtol = 1e-11)
})

test_that("a product's source parameters round trip", {
  f <- ef_product(prod_blocks())
  expect_equal(to_source(f, to_natural(f, prod_par())), prod_par(), tolerance = 1e-10)
})

test_that("a product's natural -> mean -> natural round trips", {
  f <- ef_product(prod_blocks())
  th <- to_natural(f, prod_par())
  expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-10)
})

test_that("a product's Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_product(prod_blocks())
  th <- to_natural(f, prod_par())
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-9, atol = 1e-11)
})

test_that("a product's to_mean is the gradient of its log-partition", {
  f <- ef_product(prod_blocks())
  th <- to_natural(f, prod_par())
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("a product's draws are a data frame with the categorical column as a factor", {
  f <- ef_product(prod_blocks())
  set.seed(5)
  x <- ef_sample(f, prod_par(), 12)
  expect_s3_class(x, "data.frame")
  expect_identical(dim(x), c(12L, 6L))
  expect_identical(levels(x[[3]]), c("a", "b", "c"))
})

test_that("a product's draws have the model's mean statistics", {
  f <- ef_product(prod_blocks())
  seed <- 4242L
  set.seed(seed)
  x <- ef_sample(f, prod_par(), 50000)
  expect_sample_moments(fam_stat(f, harmonium:::family_encode(f, x)), to_mean(f, prod_par()), seed)
})

test_that("a product of numeric blocks samples a matrix", {
  f <- ef_product(ef_normal(), ef_gamma())
  set.seed(6)
  x <- ef_sample(f, list(list(mean = 0, cov = matrix(1)), list(shape = 2, rate = 1)), 4)
  expect_true(is.matrix(x))
  expect_identical(dim(x), c(4L, 2L))
})

test_that("a product's MLE is the blocks' MLEs", {
  f <- ef_product(prod_blocks())
  set.seed(7)
  x <- ef_sample(f, prod_par(), 300)
  want <- Map(function(b, cols) ef_fit(b, x[, cols, drop = FALSE]), prod_blocks(), prod_cols)
  expect_equal(ef_fit(f, x), want, tolerance = 1e-10)
})

test_that("a product's blocks check their own columns' support", {
  f <- ef_product(ef_normal(), ef_poisson())
  p <- list(list(mean = 0, cov = matrix(1)), list(rate = 2))
  expect_hm_error(ef_log_density(f, p, cbind(-3, 2.5)), "data_support")
  expect_hm_error(ef_log_density(f, p, cbind(NA, 2)), "data_na")
  expect_hm_error(ef_log_density(f, p, cbind(1, 2, 3)), "data", "2")
})

test_that("ef_sample of a product is reproducible under set.seed", {
  f <- ef_product(prod_blocks())
  set.seed(123)
  a <- ef_sample(f, prod_par(), 20)
  set.seed(123)
  expect_identical(ef_sample(f, prod_par(), 20), a)
})

test_that("the in-line categorical and Bernoulli blocks give the blocks' own statistics and base measure", {
  # prod_stat() and prod_log_base() (family.c) write these blocks without
  # their operation tables; every code of each block, in random order.
  blocks <- list(ef_categorical(4), ef_bernoulli(3), ef_categorical(2), ef_normal(1), ef_categorical(3))
  f <- do.call(ef_product, blocks)
  set.seed(8)
  n <- 200
  x <- cbind(sample(0:3, n, TRUE), matrix(stats::rbinom(3 * n, 1, 0.5), n), sample(0:1, n, TRUE),
    stats::rnorm(n), sample(0:2, n, TRUE))
  cols <- list(1, 2:4, 5, 6, 7)
  own <- do.call(cbind, lapply(seq_along(blocks), function(b) {
    harmonium:::native_family_stat(blocks[[b]]$spec, x[, cols[[b]], drop = FALSE])
  }))
  expect_identical(harmonium:::native_family_stat(f$spec, x), own)
  expect_identical(unname(own[, 1:3]), outer(x[, 1], 1:3, "==") * 1)
  lb <- Reduce(`+`, lapply(seq_along(blocks), function(b) {
    harmonium:::native_family_log_base(blocks[[b]]$spec, x[, cols[[b]], drop = FALSE])
  }))
  expect_identical(harmonium:::native_family_log_base(f$spec, x), lb)
})
