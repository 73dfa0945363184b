# The default starts (lvm_control(n_init = NULL)): mclust's hierarchical
# start and random k-means++ starts for Normal mixtures, poLCA's random
# probability tables for latent class analysis, and the known maxima of
# textbook data sets that the defaults must reach (bench/bench-starts.R
# measures how many starts that takes). Starts that collapse lose.

starts_shared <- function(file) {
  file.path(testthat::test_path(), "..", "..", "..", "shared", "data", file)
}

# mclust::Mclust() evaluates its calls of mclustBIC() in the caller's frame,
# so mclust must be on the search path while it runs.
starts_mclust <- function(...) {
  if (!"package:mclust" %in% search()) {
    suppressPackageStartupMessages(attachNamespace("mclust"))
    on.exit(detach("package:mclust"), add = TRUE)
  }
  mclust::Mclust(..., verbose = FALSE)
}

test_that("n_init = NULL resolves to a default per model kind, and to 1 with init", {
  expect_null(lvm_control()$n_init)
  f <- fit_lvm(mixture(ef_normal(2), 2), faithful)
  expect_identical(f$control$n_init, 10L)
  expect_identical(nrow(f$starts), 10L)
  df <- data.frame(a = factor(rep(c("x", "y"), 30)), b = factor(rep(c("u", "v", "v"), 20)))
  g <- suppressWarnings(fit_lvm(mixture(ef_product(ef_categorical(2), ef_categorical(2)), 2), df))
  expect_identical(g$control$n_init, 10L)
  h <- fit_lvm(mixture(ef_poisson(), 2), c(0, 1, 1, 2, 8, 9, 11, 10, 12, 7))
  expect_identical(h$control$n_init, 5L)
  i <- fit_lvm(mixture(ef_normal(2), 2), faithful, init = f)
  expect_identical(i$control$n_init, 1L)
  expect_identical(fit_lvm(mixture(ef_normal(2), 2), faithful, control = lvm_control(n_init = 3))$control$n_init, 3L)
})

test_that("default fits reach mclust's VVV maxima on iris and diabetes (and at least mclust's elsewhere)", {
  # mclust 6.1.3, Mclust(x, G = k, modelNames = "VVV"): iris -180.186 (3
  # components), diabetes -2303.496 (3); with one k-means++ start these fits
  # ended at -190.650 and -2338.45.
  fi <- fit_lvm(mixture(ef_normal(4), 3), iris[, 1:4])
  expect_equal(fi$loglik, -180.1855, tolerance = 1e-4 / 180)
  # The deterministic first start alone (mclust's hierarchical start) gets there.
  expect_equal(fi$starts$loglik[1], -180.1855, tolerance = 1e-4 / 180)
  skip_if_not_installed("mclust")
  d <- as.matrix(mclust::diabetes[, -1])
  fd <- fit_lvm(mixture(ef_normal(3), 3), d)
  expect_gt(fd$loglik, -2303.496 - 1e-3)
  # On data that the package does not ship, at least mclust's own VVV
  # maximum (from its hierarchical start) and not degenerate.
  sets <- list(faithful = faithful, banknote = mclust::banknote[, -1], thyroid = mclust::thyroid[, -1])
  if (requireNamespace("MASS", quietly = TRUE)) sets$crabs <- MASS::crabs[, 4:8]
  for (nm in names(sets)) {
    x <- as.matrix(sets[[nm]])
    for (k in 2:3) {
      mc <- starts_mclust(x, G = k, modelNames = "VVV")
      f <- fit_lvm(mixture(ef_normal(ncol(x)), k), x)
      expect_false(harmonium:::fit_is_degenerate(f), info = paste(nm, k))
      expect_gt(f$loglik, mc$loglik - 1e-3, label = sprintf("%s, k = %d: %.3f vs mclust %.3f", nm, k, f$loglik,
        mc$loglik))
    }
  }
})

test_that("the hierarchical start recovers separated clusters, on a subsample when n > 2000", {
  set.seed(11)
  mu <- rbind(c(0, 0, 0), c(8, 0, 0), c(0, 8, 8))
  lab <- rep(1:3, c(1200, 1000, 800))
  x <- mu[lab, ] + matrix(stats::rnorm(3000 * 3), 3000, 3)
  f <- scale(x)
  seed_before <- .Random.seed
  h1 <- harmonium:::with_seed(1L, harmonium:::hc_labels(f, 3L))
  expect_identical(.Random.seed, seed_before)
  h2 <- harmonium:::with_seed(1L, harmonium:::hc_labels(f, 3L))
  expect_identical(h1, h2)
  # The same partition as the truth, up to the labels' names.
  tab <- table(h1, lab)
  expect_identical(sum(apply(tab, 1, max)), 3000L)
  # At most 2000 rows go to hclust(): with max_n rows or fewer, the tree
  # of every row.
  small <- x[c(1:40, 1201:1240, 2201:2240), ]
  hs <- harmonium:::hc_labels(scale(small), 3L)
  expect_identical(hs, as.integer(stats::cutree(stats::hclust(stats::dist(harmonium:::svd_features(scale(small))),
    "ward.D2"), 3L)))
})

test_that("results depend on the seed and data, never on threads", {
  x <- as.matrix(faithful)
  a <- fit_lvm(mixture(ef_normal(2), 3), x, control = lvm_control(threads = 1, seed = 4))
  b <- fit_lvm(mixture(ef_normal(2), 3), x, control = lvm_control(threads = 2, seed = 4))
  expect_identical(a$starts$loglik, b$starts$loglik)
  expect_equal(a$params, b$params, tolerance = 1e-12)
  c5 <- fit_lvm(mixture(ef_normal(2), 3), x, control = lvm_control(seed = 5))
  # Start 1 is the deterministic one; the random ones move with the seed.
  expect_identical(a$starts$loglik[1], c5$starts$loglik[1])
  expect_false(identical(a$starts$loglik[-1], c5$starts$loglik[-1]))
})

test_that("random latent class starts are probability tables, drawn from the seed", {
  fam <- ef_product(ef_categorical(3), ef_bernoulli(2), ef_binomial(4))
  p <- harmonium:::with_seed(3L, harmonium:::dirichlet_params(fam, 4L))
  expect_equal(p$weights, rep(0.25, 4))
  for (cp in p$components) {
    expect_equal(sum(cp[[1]]$prob), 1)
    expect_true(all(cp[[1]]$prob > 0))
    expect_true(all(cp[[2]]$prob > 0 & cp[[2]]$prob < 1))
    expect_length(cp[[3]]$prob, 1L)
  }
  expect_false(identical(p, harmonium:::with_seed(4L, harmonium:::dirichlet_params(fam, 4L))))
  m <- mixture(fam, 4)
  expect_length(harmonium:::model_to_nat(m, p), m$dim)
})

lca_model <- function(df, k) {
  mixture(ef_product(lapply(unname(vapply(df, nlevels, integer(1))), ef_categorical)), k)
}

test_that("default LCA fits reach poLCA's maxima: cheating, gss82, election", {
  skip_if_not_installed("poLCA")
  env <- new.env()
  utils::data("cheating", "election", package = "poLCA", envir = env)
  ch <- as.data.frame(lapply(env$cheating[, 1:4], factor))
  # poLCA's documented 3-class maximum of the cheating data.
  f <- suppressWarnings(fit_lvm(lca_model(ch, 3), ch))
  expect_equal(f$loglik, -436.2356, tolerance = 2e-3 / 436)
  el <- env$election[, c("MORALG", "CARESG", "KNOWG", "LEADG", "DISHONG", "INTELG",
    "MORALB", "CARESB", "KNOWB", "LEADB", "DISHONB", "INTELB")]
  el <- el[stats::complete.cases(el), ]
  el[] <- lapply(el, factor)
  # The best of poLCA(cbind(MORALG, ..., INTELB) ~ 1, election, nclass = 3,
  # nrep = 50, maxiter = 5000) with poLCA 1.6 (na.rm = TRUE drops the same
  # rows): -16714.659 (bench/bench-starts.R).
  f <- suppressWarnings(fit_lvm(lca_model(el, 3), el))
  expect_equal(f$loglik, -16714.659, tolerance = 0.01 / 16714)
  skip_if_not(file.exists(starts_shared("gss82.rda")), "shared gss82.rda not found")
  load(starts_shared("gss82.rda"), envir = env)
  # poLCA's documented 3-class maximum of gss82; 20 k-means++ starts with
  # hard labels missed it by 0.29.
  f <- suppressWarnings(fit_lvm(lca_model(env$gss82, 3), env$gss82))
  expect_equal(f$loglik, -2754.545, tolerance = 2e-3 / 2754)
})

test_that("a start with a component on fewer than d + 1 points, or a singular covariance, is degenerate", {
  set.seed(3)
  x <- rbind(matrix(stats::rnorm(300), 100, 3), matrix(10, 3, 3) + matrix(stats::rnorm(9, sd = 0.1), 3, 3))
  m <- mixture(ef_normal(3), 2)
  p_small <- list(weights = c(0.97, 0.03), components = list(list(mean = c(0, 0, 0), cov = diag(3)),
    list(mean = colMeans(x[101:103, ]), cov = diag(0.01, 3))))
  f <- with_params(m, p_small, x)
  expect_match(harmonium:::mixture_health(f$model, f$theta, f$posterior, NULL),
    "component 2 has 3 effective observations, fewer than d \\+ 1 = 4")
  # Weights count: the same rows weighted 2 make 6 effective observations.
  expect_identical(harmonium:::mixture_health(f$model, f$theta, f$posterior, rep(2, nrow(x))), "")
  # 20 rows on the plane x3 = 0, held by a component of variance 1e-10 across it.
  xs <- rbind(x, cbind(matrix(stats::rnorm(40), 20, 2), 0))
  p_sing <- p_small
  p_sing$components[[2]] <- list(mean = c(0, 0, 0), cov = diag(c(1, 1, 1e-10)))
  p_sing$weights <- c(0.5, 0.5)
  g <- with_params(m, p_sing, xs)
  expect_match(harmonium:::mixture_health(g$model, g$theta, g$posterior, NULL), "component 2 has a singular covariance")
  p_ok <- p_small
  p_ok$components[[2]] <- list(mean = c(1, 1, 1), cov = diag(2, 3))
  p_ok$weights <- c(0.5, 0.5)
  h <- with_params(m, p_ok, x)
  expect_identical(harmonium:::mixture_health(h$model, h$theta, h$posterior, NULL), "")
  # Not a Normal mixture: nothing to judge.
  fp <- with_params(mixture(ef_poisson(), 2), list(weights = c(0.5, 0.5),
    components = list(list(rate = 1), list(rate = 5))), c(0, 1, 5, 6))
  expect_identical(harmonium:::mixture_health(fp$model, fp$theta, fp$posterior, NULL), "")
})

test_that("a fit whose every start collapsed is flagged; with a healthy start, the healthy one wins", {
  # 4 columns, 3 exactly repeated points far away: a component there has a
  # singular covariance (EM stops) or too few points.
  set.seed(5)
  x <- rbind(matrix(stats::rnorm(400), 100, 4), matrix(c(20, 20, 20, 20), 3, 4, byrow = TRUE))
  f <- suppressWarnings(fit_lvm(mixture(ef_normal(4), 2), x, control = lvm_control(n_init = 6, seed = 2)))
  bad <- f$starts$status != "converged" & f$starts$status != "max_iter"
  if (any(!bad)) {
    expect_false(bad[f$best_start])
    expect_false(harmonium:::fit_is_degenerate(f))
  } else {
    expect_true(harmonium:::fit_is_degenerate(f))
  }
  # The labels that put the 3 far points alone: the start collapses.
  lab <- c(rep(1L, 100), rep(2L, 3))
  g <- suppressWarnings(fit_lvm(mixture(ef_normal(4), 2), x, init = lab))
  expect_true(harmonium:::fit_is_degenerate(g))
  expect_true("harmonium_warning_collapse" %in% g$warnings$class)
})
