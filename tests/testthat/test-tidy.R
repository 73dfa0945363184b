# tidy(), glance(), augment() and as.data.frame() for every fit kind,
# through harmonium's re-exported generics and through broom, checked
# against coef(), logLik(), AIC(), BIC(), nobs(), predict(), posterior(),
# viterbi(), smooth_states() and fitted() of the same fit.

tidy_fits <- local({
  cache <- NULL
  function() {
    if (!is.null(cache)) return(cache)
    set.seed(10)
    X <- as.matrix(iris[, 1:4])
    ctl <- lvm_control(maxit = 200, tol = 1e-6)
    q <- function(e) suppressWarnings(e)
    xv <- c(rnorm(60, 0.5, 0.4), rnorm(40, 2.8, 0.6))
    cache <<- list(
      mix = q(fit_lvm(mixture(ef_normal(2), 2), faithful, control = ctl)),
      diag = q(fit_lvm(mixture(ef_normal(4, "diagonal"), 3), X, control = ctl)),
      pois = q(fit_lvm(mixture(ef_poisson(2), 2), cbind(a = rpois(60, rep(c(2, 9), 30)), b = rpois(60, 4)),
        control = ctl)),
      mixdf = q(fit_lvm(mixture(ef_product(ef_normal(1), ef_categorical(3)), 2),
        data.frame(x = iris$Sepal.Length, g = iris$Species), control = ctl)),
      vm_grad = q(fit_lvm(mixture(ef_von_mises(), 2), xv, method = "gradient", control = lvm_control(maxit = 300))),
      fa = q(fit_lvm(factor_analysis(4, 1), X, control = ctl)),
      ppca = q(fit_lvm(ppca(4, 1), X, control = ctl)),
      lgm = q(fit_lvm(lgm(ef_normal(4), 1), X, control = ctl)),
      blgm = q(fit_lvm(boltzmann_lgm(ef_normal(4), 2), X, control = lvm_control(maxit = 30))),
      hmog = q(fit_lvm(hmog(4, 1, 2), X, control = lvm_control(maxit = 30))),
      mfa = q(fit_lvm(mfa(4, 1, 2), X, control = lvm_control(maxit = 30))),
      hmogd = q(fit_lvm(hmog(4, 1, 2, posterior = "diagonal"), X, control = lvm_control(maxit = 20))),
      deep = q(fit_lvm(harmonium(ef_normal(4, "diagonal"), hmog(2, 1, 2, covariance = "full")), X,
        control = lvm_control(maxit = 20))),
      catdir = with_params(harmonium(ef_categorical(c("a", "b", "c")), ef_dirichlet(3)),
        list(alpha = c(a = 1, b = 2, c = 3)), data = factor(c("a", "c", "c", "b", "a", "c"), levels = c("a", "b", "c"))),
      hmm = q(fit_lvm(hmm(ef_normal(1), 2), list(X[1:60, 1], X[61:150, 1]), control = ctl)),
      lds = q(fit_lvm(lds(1, 1), list(X[1:60, 1], X[61:150, 1]), control = lvm_control(maxit = 30)))
    )
    cache
  }
})

test_that("the generics are re-exported from generics, and broom dispatches to the methods", {
  expect_identical(harmonium::tidy, generics::tidy)
  expect_identical(harmonium::glance, generics::glance)
  expect_identical(harmonium::augment, generics::augment)
  skip_if_not_installed("broom")
  f <- tidy_fits()$mix
  expect_identical(broom::tidy(f), harmonium::tidy(f))
  expect_identical(broom::glance(f), harmonium::glance(f))
  expect_identical(broom::augment(f), harmonium::augment(f))
  h <- tidy_fits()$hmm
  expect_identical(broom::augment(h), harmonium::augment(h))
})

test_that("tidy() has broom's columns and one row per parameter for every fit kind", {
  for (nm in names(tidy_fits())) {
    f <- tidy_fits()[[nm]]
    td <- tidy(f)
    expect_s3_class(td, "data.frame")
    if (requireNamespace("tibble", quietly = TRUE)) expect_s3_class(td, "tbl_df")
    group <- if (inherits(f, "hmm_fit")) "state" else "component"
    expect_identical(names(td), c(group, "parameter", "term", "estimate"), info = nm)
    expect_type(td$estimate, "double")
    expect_true(all(is.finite(td$estimate)), info = nm)
    # Terms are unique within each group.
    expect_false(anyDuplicated(paste(td[[group]], td$term)) > 0, info = nm)
    # as.data.frame() is the same table, as a plain data frame.
    df <- as.data.frame(f)
    expect_identical(class(df), "data.frame")
    expect_equal(df, as.data.frame(td), ignore_attr = TRUE)
  }
})

test_that("tidy() of a Normal mixture equals coef(): weights, means, covariance upper triangles", {
  f <- tidy_fits()$mix
  td <- tidy(f)
  cf <- coef(f)
  expect_identical(nrow(td), 2L * (1L + 2L + 3L))
  for (j in 1:2) {
    tj <- td[td$component == j, ]
    expect_equal(tj$estimate[tj$parameter == "weight"], cf$weights[j])
    expect_equal(tj$estimate[tj$parameter == "mean"], unname(cf$components[[j]]$mean))
    S <- cf$components[[j]]$cov
    expect_equal(tj$estimate[tj$parameter == "cov"], c(S[1, 1], S[1, 2], S[2, 2]))
    expect_identical(tj$term[tj$parameter == "mean"], c("mean[eruptions]", "mean[waiting]"))
    expect_identical(tj$term[tj$parameter == "cov"][2], "cov[eruptions,waiting]")
  }
  # A diagonal covariance structure gives only its diagonal.
  d <- tidy(tidy_fits()$diag)
  expect_identical(sum(d$parameter == "cov"), 3L * 4L)
  expect_equal(d$estimate[d$component == 2 & d$parameter == "cov"], unname(diag(coef(tidy_fits()$diag)$components[[2]]$cov)))
})

test_that("tidy() of Poisson, product and gradient-fitted mixtures equals coef()", {
  f <- tidy_fits()$pois
  td <- tidy(f)
  expect_equal(td$estimate[td$parameter == "rate"], unlist(lapply(coef(f)$components, function(p) unname(p$rate))))
  expect_identical(td$term[td$parameter == "rate"][1:2], c("rate[a]", "rate[b]"))
  f <- tidy_fits()$mixdf
  td <- tidy(f)
  expect_setequal(unique(td$parameter), c("weight", "x.mean", "x.cov", "g.prob"))
  expect_equal(td$estimate[td$component == 2 & td$parameter == "g.prob"], unname(coef(f)$components[[2]][[2]]$prob))
  expect_identical(td$term[td$component == 1 & td$parameter == "g.prob"], paste0("g.prob[", levels(iris$Species), "]"))
  f <- tidy_fits()$vm_grad
  expect_identical(f$method, "gradient")
  td <- tidy(f)
  expect_equal(td$estimate[td$parameter == "kappa"], vapply(coef(f)$components, function(p) unname(p$kappa), 0))
  expect_equal(td$estimate[td$parameter == "weight"], coef(f)$weights)
})

test_that("tidy() of linear Gaussian and Boltzmann models equals coef()", {
  for (nm in c("fa", "ppca", "lgm")) {
    f <- tidy_fits()[[nm]]
    td <- tidy(f)
    cf <- coef(f)
    expect_true(all(is.na(td$component)))
    expect_equal(td$estimate[td$parameter == "mean"], unname(cf$mean))
    L <- cf$loadings
    expect_equal(td$estimate[td$parameter == "loadings"], as.double(t(L)), info = nm)
    S <- cf$cov
    # Full: the upper triangle row by row (= the lower triangle column by
    # column of a symmetric matrix); diagonal and isotropic: the diagonal.
    want <- if (nm == "lgm") S[lower.tri(S, diag = TRUE)] else diag(S)
    expect_equal(td$estimate[td$parameter == "cov"], unname(want), info = nm)
  }
  f <- tidy_fits()$blgm
  td <- tidy(f)
  expect_equal(td$estimate[td$parameter == "prior.bias"], coef(f)$prior$bias)
  expect_equal(td$estimate[td$parameter == "prior.coupling"], coef(f)$prior$coupling[1, 2])
  expect_equal(td$estimate[td$parameter == "offset"], unname(coef(f)$offset))
})

test_that("tidy() of hierarchical models: shared loadings, then the latent mixture by component", {
  f <- tidy_fits()$hmog
  td <- tidy(f)
  cf <- coef(f)
  expect_true(all(is.na(td$component[td$parameter %in% c("mean", "loadings", "cov")])))
  expect_equal(td$estimate[td$parameter == "latent.weight"], cf$latent$weights)
  expect_equal(td$estimate[td$parameter == "latent.mean"], vapply(cf$latent$components, function(p) unname(p$mean), 0))
  expect_identical(td$component[td$parameter == "latent.mean"], 1:2)
  f <- tidy_fits()$hmogd
  td <- tidy(f)
  expect_equal(td$estimate[td$parameter == "latent.weight"], coef(f)$latent$weights)
  # Two levels: the latent of the latent is the mixture.
  f <- tidy_fits()$deep
  td <- tidy(f)
  cf <- coef(f)
  expect_equal(td$estimate[td$parameter == "latent.loadings"], as.double(t(cf$latent$loadings)))
  expect_equal(td$estimate[td$parameter == "latent.latent.weight"], cf$latent$latent$weights)
  expect_identical(td$component[td$parameter == "latent.latent.mean"], 1:2)
  expect_true(all(is.na(td$component[td$parameter == "latent.cov"])))
  f <- tidy_fits()$mfa
  td <- tidy(f)
  expect_equal(td$estimate[td$component == 2 & td$parameter == "loadings"], as.double(coef(f)$components[[2]]$loadings))
  expect_equal(td$estimate[td$parameter == "weight"], coef(f)$weights)
})

test_that("tidy() of the Categorical-Dirichlet harmonium, hmm and lds equals coef()", {
  td <- tidy(tidy_fits()$catdir)
  expect_equal(td$estimate, c(1, 2, 3))
  expect_identical(td$term, c("alpha[a]", "alpha[b]", "alpha[c]"))
  f <- tidy_fits()$hmm
  td <- tidy(f)
  cf <- coef(f)
  expect_identical(nrow(td), 2L * (1L + 2L + 2L))
  expect_equal(td$estimate[td$parameter == "initial"], unname(cf$initial))
  for (s in 1:2) {
    expect_equal(td$estimate[td$state == s & td$parameter == "transition"], unname(cf$transition[s, ]))
    expect_equal(td$estimate[td$state == s & td$parameter == "emission.mean"], unname(cf$emission[[s]]$mean))
  }
  f <- tidy_fits()$lds
  td <- tidy(f)
  expect_equal(td$estimate, unname(vapply(coef(f), function(v) as.double(v), 0)))
  expect_identical(td$parameter, names(coef(f)))
})

test_that("tidy(se = TRUE, conf.int = TRUE) adds std.error and Wald limits only when vcov() exists", {
  f <- tidy_fits()$mix
  # A stand-in vcov() for a subclass, named as vcov() names the free parameters.
  fake <- f
  class(fake) <- c("tidy_test_fit", class(f))
  nm <- c("weights[1]", "components[[1]]$mean[1]", "components[[2]]$cov[1,2]")
  V <- diag(c(0.01, 0.04, 0.09))
  dimnames(V) <- list(nm, nm)
  registerS3method("vcov", "tidy_test_fit", function(object, ...) V, envir = asNamespace("stats"))
  td <- tidy(fake, conf.int = TRUE, conf.level = 0.9)
  expect_identical(names(td), c("component", "parameter", "term", "estimate", "std.error", "conf.low", "conf.high"))
  i <- c(which(td$component == 1 & td$parameter == "weight"), which(td$component == 1 & td$term == "mean[eruptions]"),
    which(td$component == 2 & td$term == "cov[eruptions,waiting]"))
  expect_equal(td$std.error[i], c(0.1, 0.2, 0.3))
  # The last weight is 1 minus the others: the same standard error here.
  w2 <- which(td$component == 2 & td$parameter == "weight")
  expect_equal(td$std.error[w2], 0.1)
  expect_true(all(is.na(td$std.error[-c(i, w2)])))
  z <- qnorm(0.95)
  expect_equal(td$conf.low[i], td$estimate[i] - z * c(0.1, 0.2, 0.3))
  expect_equal(td$conf.high[i], td$estimate[i] + z * c(0.1, 0.2, 0.3))
  # Three weights: var(w3) = var(w1) + var(w2) + 2 cov(w1, w2).
  f3 <- tidy_fits()$diag
  class(f3) <- c("tidy_test_fit3", class(f3))
  V3 <- matrix(c(0.04, -0.01, -0.01, 0.09), 2, dimnames = list(c("weights[1]", "weights[2]"), c("weights[1]", "weights[2]")))
  registerS3method("vcov", "tidy_test_fit3", function(object, ...) V3, envir = asNamespace("stats"))
  t3 <- tidy(f3, se = TRUE)
  expect_equal(t3$std.error[t3$parameter == "weight"], sqrt(c(0.04, 0.09, 0.04 + 0.09 - 0.02)))
  se <- tidy(fake, se = TRUE)
  expect_identical(names(se), c("component", "parameter", "term", "estimate", "std.error"))
  # Without a vcov() method: a classed warning, and no such columns.
  noV <- fake
  class(noV) <- c("tidy_test_novcov", class(f))
  registerS3method("vcov", "tidy_test_novcov", function(object, ...) stop("not for this one"),
    envir = asNamespace("stats"))
  expect_warning(td <- tidy(noV, conf.int = TRUE), class = "harmonium_warning_no_vcov")
  expect_identical(names(td), c("component", "parameter", "term", "estimate"))
  expect_no_warning(tidy(noV))
})

test_that("glance() is one row equal to logLik(), AIC(), BIC(), nobs() and the fit's record", {
  for (nm in names(tidy_fits())) {
    f <- tidy_fits()[[nm]]
    g <- glance(f)
    expect_identical(nrow(g), 1L)
    ll <- logLik(f)
    expect_equal(g$logLik, as.double(ll), info = nm)
    expect_equal(g$df, as.integer(attr(ll, "df")), info = nm)
    expect_equal(g$AIC, AIC(f), info = nm)
    expect_equal(g$BIC, BIC(f), info = nm)
    expect_equal(g$nobs, nobs(f), info = nm)
    expect_identical(g$n_warnings, if (is.data.frame(f$warnings)) nrow(f$warnings) else 0L)
    expect_true(all(c("logLik", "df", "AIC", "BIC", "nobs", "iterations", "converged", "n_warnings") %in% names(g)))
  }
  f <- tidy_fits()$mix
  g <- glance(f)
  expect_equal(g$ICL, summary(f)$ICL)
  expect_identical(g$k, 2L)
  expect_identical(g$iterations, f$iterations)
  expect_identical(g$converged, f$converged)
  expect_equal(glance(tidy_fits()$hmog)$ICL, summary(tidy_fits()$hmog)$ICL)
  expect_identical(glance(tidy_fits()$fa)$factors, 1L)
  expect_identical(glance(tidy_fits()$blgm)$units, 2L)
  expect_identical(glance(tidy_fits()$hmm)$states, 2L)
  expect_identical(glance(tidy_fits()$lds)$state_dim, 1L)
  expect_identical(glance(tidy_fits()$vm_grad)$method, "gradient")
  expect_false("ICL" %in% names(glance(tidy_fits()$fa)))
  # A fit that warned counts its warnings.
  expect_gt(glance(tidy_fits()$blgm)$n_warnings, 0L)
})

test_that("augment() of mixtures adds .class, .uncertainty and .prob_ equal to predict() and posterior()", {
  for (nm in c("mix", "diag", "pois", "mixdf", "vm_grad")) {
    f <- tidy_fits()[[nm]]
    a <- augment(f)
    post <- posterior(f)
    expect_identical(nrow(a), nrow(post))
    expect_identical(a$.class, predict(f), info = nm)
    expect_equal(a$.uncertainty, 1 - apply(post, 1, max), info = nm)
    for (j in seq_len(ncol(post))) expect_equal(a[[paste0(".prob_", j)]], unname(post[, j]), info = nm)
  }
  # The fitted data come first, with their names and types.
  a <- augment(tidy_fits()$mixdf)
  expect_identical(names(a)[1:2], c("x", "g"))
  expect_s3_class(a$g, "factor")
  # data = keeps every column of the user's data.
  a <- augment(tidy_fits()$mix, data = faithful)
  expect_identical(names(a), c("eruptions", "waiting", ".class", ".uncertainty", ".prob_1", ".prob_2"))
  # newdata = new rows.
  nd <- data.frame(eruptions = c(2, 4.5), waiting = c(55, 80))
  a <- augment(tidy_fits()$mix, newdata = nd)
  expect_identical(nrow(a), 2L)
  expect_identical(a$.class, predict(tidy_fits()$mix, nd))
  expect_equal(a$.prob_2, unname(predict(tidy_fits()$mix, nd, type = "posterior")[, 2]))
})

test_that("augment() puts rows omitted by na_action = 'omit' back as NA", {
  d <- faithful[1:60, ]
  d$waiting[c(3, 10)] <- NA
  f <- suppressWarnings(fit_lvm(mixture(ef_normal(2), 2), d, na_action = "omit", control = lvm_control(maxit = 50)))
  a <- augment(f, data = d)
  expect_identical(nrow(a), 60L)
  expect_true(all(is.na(a$.class[c(3, 10)])))
  expect_identical(a$.class[-c(3, 10)], predict(f))
})

test_that("augment() of latent-variable models adds factor scores and latent probabilities", {
  for (nm in c("fa", "ppca", "lgm")) {
    f <- tidy_fits()[[nm]]
    a <- augment(f, data = iris)
    expect_identical(names(a), c(names(iris), ".fs1"))
    expect_equal(a$.fs1, as.double(posterior(f)[, 1]), info = nm)
  }
  f <- tidy_fits()$blgm
  a <- augment(f)
  expect_equal(a$.prob_z2, as.double(posterior(f)[, 2]))
  for (nm in c("hmogd", "deep")) {
    f <- tidy_fits()[[nm]]
    a <- augment(f)
    expect_identical(a$.class, predict(f), info = nm)
    expect_equal(a$.prob_2, unname(posterior(f)[, 2]), info = nm)
  }
  f <- tidy_fits()$hmog
  a <- augment(f)
  expect_identical(a$.class, predict(f))
  expect_equal(a$.fs1, as.double(posterior(f, type = "latent")[, 1]))
  expect_equal(a$.prob_1, unname(posterior(f)[, 1]))
  f <- tidy_fits()$catdir
  a <- augment(f)
  post <- posterior(f)
  expect_equal(a$.alpha_c, unname(post[, "c"]))
  expect_equal(a$.alpha_a[6], 1 + 2)
})

test_that("augment() of an hmm gives the Viterbi path and smoothed state probabilities per time point", {
  f <- tidy_fits()$hmm
  a <- augment(f)
  vt <- viterbi(f)
  sm <- smooth_states(f)
  expect_identical(nrow(a), 150L)
  expect_identical(a$.sequence, vt$sequence)
  expect_identical(a$.time, vt$time)
  expect_identical(a$.state, as.integer(vt$state))
  expect_equal(a$.prob_S1, sm$S1)
  expect_equal(a$.uncertainty, 1 - pmax(sm$S1, sm$S2))
  expect_equal(a$x, iris$Sepal.Length)
  nd <- list(c(5, 5.1, 6.5, 6.7))
  a <- augment(f, newdata = nd)
  expect_identical(a$.state, as.integer(viterbi(f, nd)$state))
  expect_equal(a$x, nd[[1]])
})

test_that("augment(data =) of a sequence fit grouped by a formula matches rows to their sequences", {
  set.seed(12)
  DF <- data.frame(x = c(rnorm(30, rep(c(0, 3), each = 15)), rnorm(30, rep(c(3, 0), each = 15))),
    g = rep(c("b", "a"), 30))
  f <- suppressWarnings(fit_lvm(~ x | g, DF, hmm(ef_normal(1), 2), control = lvm_control(maxit = 50)))
  a <- augment(f, data = DF)
  expect_identical(nrow(a), 60L)
  # Each data row carries its own sequence and time point.
  expect_identical(a$.sequence, DF$g)
  expect_identical(a$.time, as.integer(ave(seq_len(60), DF$g, FUN = seq_along)))
  vt <- viterbi(f)
  for (id in c("a", "b")) {
    expect_identical(a$.state[DF$g == id], as.integer(vt$state[vt$sequence == id]))
  }
  l <- suppressWarnings(fit_lvm(~ x | g, DF, lds(1, 1), control = lvm_control(maxit = 10)))
  b <- augment(l, data = DF)
  st <- smooth_states(l, tidy = TRUE)
  expect_equal(b$.state1[DF$g == "a"], st$mean[st$sequence == "a"])
})

test_that("augment() of an lds gives smoothed state means, their standard errors and fitted values", {
  f <- tidy_fits()$lds
  a <- augment(f)
  st <- smooth_states(f, tidy = TRUE)
  expect_identical(nrow(a), 150L)
  expect_equal(a$.state1, st$mean)
  expect_equal(a$.se_state1, st$se)
  expect_equal(a$.fitted_x, as.double(fitted(f)[, 1]))
  expect_equal(a$x, iris$Sepal.Length)
  b <- augment(f, data = data.frame(when = 1:150))
  expect_identical(names(b)[1], "when")
})

test_that("tidiers reject malformed arguments with classed errors naming them", {
  f <- tidy_fits()$mix
  expect_error(tidy(f, conf.int = "yes"), class = "harmonium_error_argument", regexp = "conf.int")
  expect_error(tidy(f, conf.int = TRUE, conf.level = 2), class = "harmonium_error_argument", regexp = "conf.level")
  expect_error(augment(f, data = faithful[1:5, ]), class = "harmonium_error_argument", regexp = "data")
  expect_error(augment(f, data = faithful, newdata = faithful), class = "harmonium_error_argument")
  expect_error(augment(f, data = "a"), class = "harmonium_error_argument", regexp = "data")
  expect_error(augment(tidy_fits()$hmm, data = 1:3), class = "harmonium_error_argument", regexp = "data")
  expect_error(harmonium:::tidy.lvm_fit(list()), class = "harmonium_error")
})

test_that("as.data.frame() of a select_k() result is its model-selection table", {
  s <- suppressWarnings(select_k(ef_normal(2), faithful, k = 1:2, control = lvm_control(maxit = 50)))
  tab <- as.data.frame(s)
  expect_s3_class(tab, "data.frame")
  expect_true(all(c("k", "BIC") %in% names(tab)))
  expect_identical(nrow(tab), 2L)
})
