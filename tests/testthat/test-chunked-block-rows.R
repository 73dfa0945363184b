# The chunked driver aligns chunks to the grid of the model's E-step blocks
# (C_model_block_rows); that grid must be the one the kind's E-step uses.
# Mixtures with more than 32 sufficient statistics per row (8 columns with a
# full covariance: 44) and the hierarchical kinds size their blocks
# themselves.

test_that("the E-step's tree nodes of a whole data set cover every block of the driver's grid", {
  set.seed(3)
  d <- 8L
  x <- matrix(rnorm(5000 * d), ncol = d)
  m <- mixture(ef_normal(d), 2)
  fit <- suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 1, tol = 0)))
  B <- harmonium:::native_estep_block_rows(m)
  xs <- harmonium:::scale_data(fit$scaler, x, 1L)
  nodes <- harmonium:::native_estep_part(m, fit$theta, xs, 0, 1L)[[1]]$nodes
  expect_equal(sum(nodes$size), ceiling(nrow(x) / B))
})

test_that("a mixture with 44 statistics per row fits on chunks as in memory", {
  set.seed(4)
  d <- 8L
  x <- matrix(rnorm(6000 * d), ncol = d) + rep(c(0, 2), each = 3000)
  colnames(x) <- paste0("x", seq_len(d))
  m <- mixture(ef_normal(d), 2)
  init <- coef(suppressWarnings(fit_lvm(m, x[1:2000, ], control = lvm_control(maxit = 3))))
  ctrl <- lvm_control(maxit = 4, tol = 0)
  mem <- suppressWarnings(fit_lvm(m, x, init = init, control = ctrl))
  parts <- list(x[1:2500, ], x[2501:3100, ], x[3101:6000, ])
  chk <- suppressWarnings(fit_lvm(m, lvm_chunks(parts), init = init, control = ctrl))
  expect_identical(chk$loglik, mem$loglik)
  expect_identical(coef(chk), coef(mem))
})

test_that("a hierarchical mixture whose blocks are sized by k * q fits on chunks as in memory", {
  set.seed(5)
  d <- 40L
  x <- matrix(rnorm(6000 * d), ncol = d) + rep(c(0, 2), each = 3000)
  colnames(x) <- paste0("x", seq_len(d))
  # k * q = 50 > d = 40 columns: the kind's block size (640 rows) is not the
  # generic one (816).
  m <- hmog(d, 5, 10)
  init <- coef(suppressWarnings(fit_lvm(m, x[1:2000, ], control = lvm_control(maxit = 3))))
  ctrl <- lvm_control(maxit = 3, tol = 0)
  mem <- suppressWarnings(fit_lvm(m, x, init = init, control = ctrl))
  chk <- suppressWarnings(fit_lvm(m, lvm_chunks(list(x[1:2500, ], x[2501:6000, ])), init = init, control = ctrl))
  expect_identical(chk$loglik, mem$loglik)
  expect_identical(coef(chk), coef(mem))
})
