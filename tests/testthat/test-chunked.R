# Chunked EM: statistics of chunks add up to those of the whole data, and
# one step from summed chunk statistics is one EM step on the whole data.

test_that("chunk statistics add up and the M-step equals an EM step", {
  m <- mixture(ef_normal(2), 2)
  p0 <- list(weights = c(0.4, 0.6), components = list(
    list(mean = c(2, 55), cov = diag(c(0.5, 40))), list(mean = c(4.4, 80), cov = diag(c(0.4, 35)))))
  whole <- lvm_estep(m, p0, faithful)
  idx <- rep(1:4, length.out = nrow(faithful))
  parts <- Reduce(`+`, lapply(split(faithful, idx), function(d) lvm_estep(m, p0, d)))
  expect_equal(parts$stats, whole$stats, tolerance = 1e-12)
  expect_equal(parts$loglik, whole$loglik, tolerance = 1e-12)
  expect_equal(parts$weight, 272)
  expect_equal(whole$loglik, sum(log_density(with_params(m, p0, faithful))), tolerance = 1e-12)
  p1 <- lvm_mstep(m, parts)
  ref <- oracle_gmm_em_step(as.matrix(faithful), p0)
  expect_equal(p1$weights, ref$weights, tolerance = 1e-10)
  expect_equal(p1$components[[2]]$cov, ref$components[[2]]$cov, tolerance = 1e-10, ignore_attr = TRUE)
  expect_output(print(parts), "lvm_stats")
})

test_that("chunked EM on factor analysis reaches the in-memory fit", {
  x <- as.matrix(mtcars)
  m <- factor_analysis(11, 2)
  f <- fit_lvm(m, x, control = lvm_control(tol = 1e-12, maxit = 20000))
  p <- coef(suppressWarnings(fit_lvm(m, x, control = lvm_control(maxit = 1))))
  chunks <- split(as.data.frame(x), rep(1:3, length.out = nrow(x)))
  for (it in 1:300) {
    s <- Reduce(`+`, lapply(chunks, function(d) lvm_estep(m, p, d)))
    p <- lvm_mstep(m, s)
  }
  expect_equal(s$loglik, f$loglik, tolerance = 1e-6)
  expect_error(lvm_mstep(m, list()), class = "harmonium_error_argument")
  expect_error(lvm_estep(m, p, x[, 1:3]), class = "harmonium_error_data")
  expect_error(lvm_mstep(lgm(ef_normal(3, "diagonal"), 1, posterior = "diagonal"),
    lvm_estep(lgm(ef_normal(3, "diagonal"), 1, posterior = "diagonal"),
      list(mean = c(0, 0, 0), loadings = matrix(1, 3, 1), cov = diag(3)), x[, 1:3])),
    class = "harmonium_error_unsupported")
})
