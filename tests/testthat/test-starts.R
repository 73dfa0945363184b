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

# --- the starts in C (issue 11) -----------------------------------------------------

starts_blobs <- function(n, seed) {
  set.seed(seed)
  mu <- rbind(c(0, 0, 0), c(7, 0, 0), c(0, 7, 7), c(7, 7, 0))
  lab <- sample.int(4L, n, replace = TRUE)
  list(x = mu[lab, ] + matrix(stats::rnorm(n * 3), n, 3), lab = lab)
}

test_that("k-means++ in C is reproducible from the seed, identical for any thread count, and a Lloyd fixed point", {
  b <- starts_blobs(3000, 21)
  f <- scale(b$x)
  seed_before <- .Random.seed
  l1 <- harmonium:::with_seed(7L, harmonium:::kmeans_pp_labels(f, 4L, threads = 1L))
  expect_identical(.Random.seed, seed_before)
  l2 <- harmonium:::with_seed(7L, harmonium:::kmeans_pp_labels(f, 4L, threads = 2L))
  expect_identical(l1, l2)
  expect_true(is.integer(l1) && all(l1 %in% 1:4))
  # The separated clusters, up to the labels' names (a point or two of the
  # Gaussian noise lies nearer another centre).
  expect_gte(sum(apply(table(l1, b$lab), 1, max)), 2995L)
  # Lloyd converged: every row's nearest centre (the mean of its cluster) is its own.
  cen <- rowsum(f, l1) / as.vector(table(l1))
  dd <- -2 * f %*% t(cen) + matrix(rowSums(cen^2), nrow(f), nrow(cen), byrow = TRUE)
  expect_identical(max.col(-dd, ties.method = "first"), l1)
  # Other seeds draw other centres, which may end in the same partition but
  # not necessarily under the same label names.
  ls <- lapply(1:6, function(s) harmonium:::with_seed(s, harmonium:::kmeans_pp_labels(f, 4L, threads = 2L)))
  expect_gt(length(unique(ls)), 1L)
  # More rows than centres needed: one row per label.
  expect_identical(harmonium:::kmeans_pp_labels(f[1:3, ], 4L), 1:3)
  expect_identical(harmonium:::kmeans_pp_labels(f, 1L), rep(1L, 3000))
})

test_that("the starts in C are identical for 1 and 2 threads over many row blocks", {
  # 20000 rows: 5 blocks of k-means (4096 rows for k = 4), 2 of Ward's subsample.
  b <- starts_blobs(20000, 28)
  f <- scale(b$x)
  for (k in c(4L, 9L)) {
    l1 <- harmonium:::with_seed(5L, harmonium:::kmeans_pp_labels(f, k, threads = 1L))
    l2 <- harmonium:::with_seed(5L, harmonium:::kmeans_pp_labels(f, k, threads = 2L))
    expect_identical(l1, l2)
  }
  h1 <- harmonium:::with_seed(5L, harmonium:::hc_labels(f, 4L, threads = 1L))
  h2 <- harmonium:::with_seed(5L, harmonium:::hc_labels(f, 4L, threads = 2L))
  expect_identical(h1, h2)
  a <- fit_lvm(mixture(ef_normal(3), 4), b$x, control = lvm_control(threads = 1, n_init = 4))
  c2 <- fit_lvm(mixture(ef_normal(3), 4), b$x, control = lvm_control(threads = 2, n_init = 4))
  expect_identical(a$starts, c2$starts)
  expect_identical(a$loglik, c2$loglik)
})

test_that("Ward's clustering in C gives hclust's ward.D2 partitions", {
  set.seed(29)
  for (trial in 1:12) {
    n <- c(7L, 60L, 400L)[trial %% 3L + 1L]
    d <- trial %% 4L + 1L
    z <- matrix(stats::rnorm(n * d), n, d) + sample(0:3, n, replace = TRUE)
    for (k in unique(pmin(c(2L, 3L, 6L), n))) {
      expect_identical(harmonium:::native_ward_labels(z, k, 2L)$labels,
        as.integer(stats::cutree(stats::hclust(stats::dist(z), "ward.D2"), k)), info = paste(n, d, k))
    }
  }
})

test_that("the M-step from hard labels in C equals the one through an n x k posterior", {
  b <- starts_blobs(500, 22)
  w <- stats::runif(500, 0.5, 2)
  for (m in list(mixture(ef_normal(3), 4), mixture(ef_normal(3, "EEE"), 4), mixture(ef_normal(3, "diagonal"), 4))) {
    for (s in c(0, 0.3)) {
      a <- harmonium:::theta_from_hard(m, b$x, w, b$lab, s, harmonium:::fam_ctrl(floor = 1e-12), 2L)
      p <- harmonium:::theta_from_post(m, b$x, w, harmonium:::labels_to_post(b$lab, 4L, s),
        harmonium:::fam_ctrl(floor = 1e-12), 2L)
      expect_identical(a, p)
    }
  }
})

test_that("effective observations from the E-step statistics equal the posterior's column sums", {
  b <- starts_blobs(400, 23)
  w <- stats::runif(400, 0.5, 2)
  for (m in list(mixture(ef_normal(3), 4), mixture(ef_normal(3, "VEV"), 4), mixture(ef_poisson(3), 2))) {
    xx <- if (identical(m$component$name, "poisson")) matrix(stats::rpois(1200, 3), 400, 3) else b$x
    f <- fit_lvm(m, xx, weights = w, control = lvm_control(n_init = 2))
    es <- harmonium:::native_model_estep(f$model, f$theta, harmonium:::scale_data(f$scaler, f$x), w,
      logp = FALSE, post = TRUE, threads = 1L)
    expect_equal(harmonium:::mixture_eff(f$model, es$stats), colSums(es$post * w), tolerance = 1e-12)
  }
})

test_that("a start whose partition repeats an earlier start's is not run again", {
  b <- starts_blobs(4000, 24)
  f <- fit_lvm(mixture(ef_normal(3), 4), b$x)
  dup <- which(f$starts$status == "duplicate")
  expect_gt(length(dup), 0L)
  of <- as.integer(sub("^the same partition as start (\\d+).*", "\\1", f$starts$note[dup]))
  expect_true(all(of < dup))
  expect_true(all(f$starts$status[of] != "duplicate"))
  expect_true(all(is.na(f$starts$loglik[dup])) && all(f$starts$iterations[dup] == 0L))
  # Duplicates are neither failures nor discarded starts.
  expect_false(any(c("harmonium_warning_failed_start", "harmonium_warning_discarded_start") %in% f$warnings$class))
  # The same partition again from the same labels: the start it repeats
  # is the one that reached the kept maximum or one as good.
  expect_equal(f$loglik, max(f$starts$loglik, na.rm = TRUE))
})

test_that("EM abandons a start whose Aitken limit stays below the best by more than the margin", {
  set.seed(3)
  x <- rbind(matrix(stats::rnorm(2400 * 2, sd = 3), 2400, 2),
    cbind(stats::rnorm(300, 9, 0.3), stats::rnorm(300, 0, 0.3)),
    cbind(stats::rnorm(300, 0, 0.3), stats::rnorm(300, 9, 0.3)),
    cbind(stats::rnorm(300, -9, 0.3), stats::rnorm(300, -9, 0.3)))
  m <- mixture(ef_normal(2), 4)
  ctrl <- harmonium:::fam_ctrl(floor = harmonium:::mixture_floor)
  good <- fit_lvm(m, x, control = lvm_control(n_init = 1))
  xs <- harmonium:::scale_data(good$scaler, good$x)
  best <- good$loglik + nrow(x) * good$scaler$log_jac
  below <- best - harmonium:::abandon_margin(nrow(x))
  # Start 10 of seed 3 climbs slowly to an optimum about 1300 below.
  th <- harmonium:::model_start(good$model, xs, good$x, NULL, 10L, lvm_control(seed = 3), ctrl, 1L)
  em <- function(maxit, hist = rep(NA_real_, 6), done = 0, b = below, theta = th) {
    harmonium:::native_em_run(m, theta, xs, NULL, ctrl, c(1e-8, maxit, hist[6], done, b, hist), 1L)
  }
  full <- em(1000, b = -Inf)
  expect_false(full$abandoned)
  expect_lt(full$trace[length(full$trace)], below)
  ab <- em(1000)
  expect_true(ab$abandoned)
  expect_true(ab$at_theta)
  tr <- ab$trace
  k <- length(tr)
  expect_gte(k, 10L)
  # The same iterations as the full run up to there.
  expect_identical(tr, full$trace[seq_len(k)])
  # The rule, in R: the last 5 rates in (0, 1), the limit at the largest.
  rule <- function(i) {
    g <- diff(tr[(i - 6L):i])
    a <- g[-1] / g[-length(g)]
    if (all(g > 0) && all(a < 1)) tr[i] + g[5] * max(a) / (1 - max(a)) else NA_real_
  }
  expect_lt(rule(k), below)
  earlier <- vapply(seq_len(k - 1L), function(i) if (i >= 10L) rule(i) else NA_real_, 0)
  expect_true(all(is.na(earlier) | earlier >= below))
  # In bursts (as with a progress bar): the same stop.
  ab2 <- em(4)
  ab3 <- em(1000, hist = c(NA, NA, tr[1:4]), done = 4, theta = ab2$theta)
  expect_identical(c(ab2$trace, ab3$trace), tr)
  expect_true(ab3$abandoned)
  # The engine's limit itself.
  expect_false(harmonium:::native_em_run(m, th, xs, NULL, ctrl, c(1e-8, 1000, NA, 0, -Inf, rep(NA, 6)), 1L)$abandoned)
})

test_that("abandon = FALSE runs every start; the abandoned ones end below the kept maximum", {
  # A wide cluster and three tight ones: some k-means++ partitions split the
  # wide one and EM from them climbs slowly to a poorer optimum.
  set.seed(3)
  x <- rbind(matrix(stats::rnorm(2400 * 2, sd = 3), 2400, 2),
    cbind(stats::rnorm(300, 9, 0.3), stats::rnorm(300, 0, 0.3)),
    cbind(stats::rnorm(300, 0, 0.3), stats::rnorm(300, 9, 0.3)),
    cbind(stats::rnorm(300, -9, 0.3), stats::rnorm(300, -9, 0.3)))
  m <- mixture(ef_normal(2), 4)
  a <- fit_lvm(m, x, control = lvm_control(seed = 3))
  f <- fit_lvm(m, x, control = lvm_control(seed = 3, abandon = FALSE))
  ab <- a$starts$status == "abandoned"
  expect_true(any(ab))
  expect_true(all(a$starts$iterations[ab] >= 10L))
  expect_match(a$starts$note[ab], "^abandoned at iteration \\d+: Aitken's limit")
  expect_false("abandoned" %in% f$starts$status)
  expect_equal(a$loglik, f$loglik, tolerance = 1e-10)
  # Run to the end, the abandoned starts reach less than the kept maximum
  # (by more than the margin), and the other starts are unchanged.
  expect_true(all(f$starts$loglik[ab] < a$loglik - harmonium:::abandon_margin(nrow(x))))
  expect_identical(f$starts$loglik[!ab], a$starts$loglik[!ab])
  # Abandoned starts are neither failed nor discarded.
  expect_false(any(c("harmonium_warning_failed_start", "harmonium_warning_discarded_start") %in% a$warnings$class))
  expect_error(lvm_control(abandon = NA), class = "harmonium_error")
})

test_that("tol = 0 runs exactly maxit iterations without a non-convergence warning", {
  b <- starts_blobs(2000, 27)
  expect_no_warning(f <- fit_lvm(mixture(ef_normal(3), 4), b$x, control = lvm_control(tol = 0, maxit = 7)))
  expect_identical(f$iterations, 7L)
  expect_false(f$converged)
  expect_true(all(f$starts$iterations[f$starts$status != "duplicate"] == 7L))
  expect_warning(fit_lvm(mixture(ef_normal(3), 4), b$x, control = lvm_control(tol = 1e-300, maxit = 3)),
    class = "harmonium_warning_not_converged")
})
