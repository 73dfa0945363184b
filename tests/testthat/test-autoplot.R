# autoplot() methods: registered on ggplot2's generic when ggplot2 is
# loaded, returning ggplot objects that build, whose layer data are the
# fit's own classes, loadings, states and BIC table.

skip_if_not_installed("ggplot2")

ap_fits <- local({
  cache <- NULL
  function() {
    if (!is.null(cache)) return(cache)
    set.seed(11)
    X <- as.matrix(iris[, 1:4])
    q <- function(e) suppressWarnings(e)
    cache <<- list(
      mix = q(fit_lvm(mixture(ef_normal(2), 2), faithful, control = lvm_control(maxit = 100))),
      mix1 = q(fit_lvm(mixture(ef_normal(1), 2), faithful$eruptions, control = lvm_control(maxit = 100))),
      pois1 = q(fit_lvm(mixture(ef_poisson(1), 2), rpois(80, rep(c(2, 9), 40)), control = lvm_control(maxit = 100))),
      mixdf = q(fit_lvm(mixture(ef_product(ef_normal(1), ef_categorical(3)), 2),
        data.frame(x = iris$Sepal.Length, g = iris$Species), control = lvm_control(maxit = 50))),
      fa = q(fit_lvm(factor_analysis(4, 2), X, control = lvm_control(maxit = 100))),
      blgm = q(fit_lvm(boltzmann_lgm(ef_normal(4), 2), X, control = lvm_control(maxit = 20))),
      hmog = q(fit_lvm(hmog(4, 1, 2), X, control = lvm_control(maxit = 20))),
      mfa = q(fit_lvm(mfa(4, 1, 2), X, control = lvm_control(maxit = 20))),
      catdir = with_params(harmonium(ef_categorical(c("a", "b", "c")), ef_dirichlet(3)),
        list(alpha = c(a = 1, b = 2, c = 3)), data = factor(c("a", "c", "b"), levels = c("a", "b", "c"))),
      hmm = q(fit_lvm(hmm(ef_normal(1), 2), list(X[1:60, 1], X[61:150, 1]), control = lvm_control(maxit = 50))),
      lds = q(fit_lvm(lds(1, 1), list(X[1:60, 1], X[61:150, 1]), control = lvm_control(maxit = 20)))
    )
    cache
  }
})

built <- function(p) {
  expect_s3_class(p, "ggplot")
  ggplot2::ggplot_build(p)
}

test_that("the methods are registered on ggplot2's autoplot() once ggplot2 is loaded", {
  loadNamespace("ggplot2")
  for (cl in c("lvm_fit", "lgm_fit", "hmm_fit", "lds_fit", "lvm_select")) {
    m <- utils::getS3method("autoplot", cl, optional = TRUE, envir = asNamespace("ggplot2"))
    expect_true(is.function(m), info = cl)
  }
  expect_identical(utils::getS3method("autoplot", "hmm_fit", envir = asNamespace("ggplot2")),
    harmonium:::autoplot.hmm_fit)
})

test_that("the lazy registration waits for the generic's package and then registers", {
  # A stand-in package namespace event: the hook registers once the
  # namespace is loaded; here the namespace (stats) is loaded already, so
  # registration is immediate, in that namespace's S3 table.
  harmonium:::register_s3_lazily("stats::median", "tidy_test_median", function(x, na.rm = FALSE, ...) "stand-in")
  expect_identical(stats::median(structure(1, class = "tidy_test_median")), "stand-in")
  hooks <- getHook(packageEvent("stats", "onLoad"))
  expect_true(length(hooks) >= 1L)
})

test_that("autoplot() of mixtures: one point per observation, coloured by the class of predict()", {
  for (nm in c("mix", "hmog", "mfa")) {
    f <- ap_fits()[[nm]]
    b <- built(ggplot2::autoplot(f))
    d <- b$data[[1]]
    expect_identical(nrow(d), nrow(f$x), info = nm)
    # Colour groups follow the classes.
    expect_identical(as.integer(table(d$group)), as.integer(table(factor(predict(f), levels = 1:2))), info = nm)
    expect_equal(d$x, as.double(f$x[, 1]), info = nm)
  }
  f <- ap_fits()$mixdf
  d <- built(ggplot2::autoplot(f))$data[[1]]
  expect_identical(nrow(d), 150L)
})

test_that("autoplot() of a one-column mixture: histogram, weighted component densities and their sum", {
  f <- ap_fits()$mix1
  b <- built(ggplot2::autoplot(f))
  expect_length(b$data, 3L)
  comp <- b$data[[2]]
  total <- b$data[[3]]
  # The dashed line is the mixture density: the sum of the weighted components.
  expect_equal(total$y, as.double(tapply(comp$y, comp$x, sum)[as.character(total$x)]), tolerance = 1e-12)
  p <- coef(f)
  dens <- p$weights[1] * dnorm(total$x, p$components[[1]]$mean, sqrt(p$components[[1]]$cov[1, 1])) +
    p$weights[2] * dnorm(total$x, p$components[[2]]$mean, sqrt(p$components[[2]]$cov[1, 1]))
  expect_equal(total$y, dens, tolerance = 1e-8)
  # Counts: bars of observed proportions by class.
  b <- built(ggplot2::autoplot(ap_fits()$pois1))
  expect_equal(sum(b$data[[1]]$y), 2, tolerance = 1e-12)
})

test_that("autoplot() of factor models draws the loadings", {
  f <- ap_fits()$fa
  b <- built(ggplot2::autoplot(f))
  bars <- b$data[[1]]
  expect_identical(nrow(bars), 8L)
  # Each bar runs from 0 to its loading (xmin for a negative one).
  ends <- ifelse(bars$xmax > 0, bars$xmax, bars$xmin)
  L <- coef(f)$loadings
  expect_equal(ends[order(bars$PANEL, -bars$y)], as.double(L))
  b <- built(ggplot2::autoplot(ap_fits()$blgm))
  expect_identical(nrow(b$data[[1]]), 8L)
})

test_that("autoplot() of an hmm: the series coloured by the Viterbi state, a panel per sequence", {
  f <- ap_fits()$hmm
  b <- built(ggplot2::autoplot(f))
  pts <- b$data[[2]]
  expect_identical(nrow(pts), 150L)
  vt <- viterbi(f)
  expect_identical(as.integer(table(pts$group)), as.integer(table(factor(vt$state, levels = 1:2))))
  expect_identical(length(unique(pts$PANEL)), 2L)
})

test_that("autoplot() of an lds: smoothed means with their bands", {
  f <- ap_fits()$lds
  b <- built(ggplot2::autoplot(f, level = 0.8))
  st <- smooth_states(f, tidy = TRUE, level = 0.8)
  rib <- b$data[[1]]
  expect_identical(nrow(rib), 150L)
  expect_equal(sort(rib$ymin), sort(st$lower))
  expect_equal(sort(b$data[[2]]$y), sort(st$mean))
})

test_that("autoplot() type = 'trace' draws the log-likelihood trace of any fit", {
  for (nm in c("mix", "fa", "hmm", "lds", "catdir")) {
    f <- ap_fits()[[nm]]
    b <- built(ggplot2::autoplot(f, type = "trace"))
    expect_equal(b$data[[1]]$y, f$trace, info = nm)
  }
  expect_no_warning(built(ggplot2::autoplot(ap_fits()$catdir)))
})

test_that("autoplot() of select_k(): BIC against k, one line per covariance structure when given", {
  s <- suppressWarnings(select_k(ef_normal(2), faithful, k = 1:3, control = lvm_control(maxit = 50)))
  b <- built(ggplot2::autoplot(s))
  tab <- as.data.frame(s)
  expect_equal(b$data[[2]]$y, tab$BIC[is.finite(tab$BIC)])
  # A table with a covariance column (as select_k() over structures gives).
  s2 <- s
  s2$table <- rbind(transform(tab, covariance = "VVV"), transform(tab, covariance = "EII", BIC = tab$BIC + 10))
  b <- built(ggplot2::autoplot(s2))
  expect_identical(length(unique(b$data[[1]]$group)), 2L)
  expect_identical(nrow(b$data[[2]]), 6L)
})

test_that("autoplot() rejects bad types with classed errors", {
  f <- ap_fits()$mix
  expect_error(ggplot2::autoplot(f, type = "banana"), class = "harmonium_error_argument", regexp = "type")
  expect_error(ggplot2::autoplot(ap_fits()$lds, level = 3), class = "harmonium_error_argument", regexp = "level")
  expect_error(ggplot2::autoplot(ap_fits()$catdir, type = "classification"), class = "harmonium_error_argument")
})
