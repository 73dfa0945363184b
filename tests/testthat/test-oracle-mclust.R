# mclust as a live oracle (r-ecosystem.md 7): both sides start from the same
# hard memberships (mclust::me starts with an M-step from z, as our label
# start does), both run EM to a tight tolerance, and the log-likelihoods must
# agree to 1e-6 relative. mclust's VVV, VVI and VII are our full, diagonal
# and isotropic covariances.

mclust_case <- function(x, k, model_name, covariance, seed) {
  skip_if_not_installed("mclust")
  set.seed(seed)
  labels <- stats::kmeans(scale(x), k, nstart = 5)$cluster
  z <- mclust::unmap(labels)
  me_fn <- get(paste0("me", model_name), envir = asNamespace("mclust"))
  mc <- me_fn(x, z = z,
    control = mclust::emControl(tol = c(1e-13, sqrt(.Machine$double.eps)), itmax = c(20000, 20000)))
  fit <- fit_lvm(mixture(ef_normal(ncol(x), covariance), k), x, init = labels,
    control = lvm_control(tol = 1e-13, maxit = 20000))
  list(fit = fit, mc = mc, seed = seed)
}

for (cfg in list(
  list("faithful", as.matrix(faithful), 2L, 101),
  list("faithful", as.matrix(faithful), 3L, 102),
  list("iris", as.matrix(iris[, 1:4]), 3L, 103)
)) {
  for (mn in c(VVV = "full", VVI = "diagonal", VII = "isotropic")) {
    model_name <- names(which(c(VVV = "full", VVI = "diagonal", VII = "isotropic") == mn))
    test_that(sprintf("%s, k = %d, %s matches mclust", cfg[[1]], cfg[[3]], model_name), {
      r <- mclust_case(cfg[[2]], cfg[[3]], model_name, mn, cfg[[4]])
      expect_equal(r$fit$loglik, r$mc$loglik, tolerance = 1e-6,
        info = paste("seed", r$seed))
      # Same optimum: the component means agree after matching by order.
      mu_h <- sapply(r$fit$params$components, `[[`, "mean")
      mu_m <- r$mc$parameters$mean
      perm <- apply(mu_m, 2, function(m) which.min(colSums((mu_h - m)^2)))
      expect_equal(unname(mu_h[, perm]), unname(mu_m), tolerance = 1e-4, info = paste("seed", r$seed))
    })
  }
}

test_that("one M-step from memberships matches mclust::mstep", {
  skip_if_not_installed("mclust")
  x <- as.matrix(iris[, 1:4])
  labels <- as.integer(iris$Species)
  z <- mclust::unmap(labels)
  ms <- mclust::mstepVVV(x, z = z)
  m <- mixture(ef_normal(4), 3)
  sc <- harmonium:::identity_scaler(4)
  th <- harmonium:::theta_from_post(m, x, NULL, z, harmonium:::fam_ctrl(), 1L)
  p <- harmonium:::mixture_to_src(m, th)
  expect_equal(p$weights, unname(ms$parameters$pro), tolerance = 1e-12)
  for (j in 1:3) {
    expect_equal(p$components[[j]]$mean, unname(ms$parameters$mean[, j]), tolerance = 1e-10)
    expect_equal(p$components[[j]]$cov, unname(ms$parameters$variance$sigma[, , j]), tolerance = 1e-10)
  }
})
