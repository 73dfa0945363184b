# vcov(), confint(), anova() and the factor-analysis test and rotations
# (issue 10), against numerical Hessians of the exact log-likelihood, the
# engine's exact maps, mclust's bootstrap, factanal() and GPArotation.

tight <- lvm_control(tol = 1e-13, maxit = 100000L)

# The numerical observed information of a mixture in vcov()'s free source
# parameters, by central differences of the exact log-likelihood through
# with_params().
numeric_vcov <- function(fit, data) {
  ip <- harmonium:::mixture_inf_params(fit, NULL)
  ll <- function(phi) logLik(with_params(fit$model, ip$rebuild(phi), data = data))[1]
  V <- solve(-numDeriv::hessian(ll, ip$phi))
  dimnames(V) <- list(ip$names, ip$names)
  V
}

# Largest difference relative to the standard errors.
rel_diff <- function(V, Vn) max(abs(V - Vn) / sqrt(outer(diag(Vn), diag(Vn))))

test_that("the families' Fisher informations and Jacobians are those of the engine's exact maps", {
  cases <- list(
    list(ef_normal(3), list(mean = c(1, -2, 0.5), cov = matrix(c(2, 0.3, 0.1, 0.3, 1, -0.2, 0.1, -0.2, 0.7), 3))),
    list(ef_normal(2, "diagonal"), list(mean = c(1, -2), cov = diag(c(2, 0.5)))),
    list(ef_normal(3, "isotropic"), list(mean = c(1, -2, 3), cov = diag(1.7, 3))),
    list(ef_poisson(2), list(rate = c(0.7, 5))),
    list(ef_bernoulli(2), list(prob = c(0.2, 0.9))),
    list(ef_binomial(4, dim = 2), list(prob = c(0.3, 0.6))),
    list(ef_categorical(4), list(prob = c(0.1, 0.2, 0.3, 0.4))),
    list(ef_von_mises(2), list(mean = c(0.5, -2), kappa = c(3, 0.4))),
    list(ef_gamma(2), list(shape = c(2, 7), rate = c(1, 0.3))),
    list(ef_dirichlet(3), list(alpha = c(2, 3, 0.5)))
  )
  for (cs in cases) {
    fam <- cs[[1]]
    ib <- harmonium:::inf_block(fam, cs[[2]], NULL)
    expect_equal(ib$theta, to_natural(fam, cs[[2]]))
    expect_equal(to_natural(fam, ib$rebuild(ib$phi)), ib$theta)
    Fn <- numDeriv::jacobian(function(t) harmonium:::native_family_to_mean(fam$spec, t)$value, ib$theta)
    expect_equal(ib$fisher, Fn, tolerance = 1e-7, label = paste("Fisher of", fam$label))
    Jn <- numDeriv::jacobian(function(p) to_natural(fam, ib$rebuild(p)), ib$phi)
    expect_equal(ib$jac, Jn, tolerance = 1e-7, label = paste("Jacobian of", fam$label))
  }
})

test_that("vcov() of a Gaussian mixture is the inverse numerical Hessian (faithful, k = 2, full)", {
  skip_if_not_installed("numDeriv")
  fit <- fit_lvm(mixture(ef_normal(2), 2), faithful, control = tight)
  V <- vcov(fit)
  expect_equal(rownames(V)[1:6], c("weights[1]", "components[[1]]$mean[1]", "components[[1]]$mean[2]",
    "components[[1]]$cov[1,1]", "components[[1]]$cov[1,2]", "components[[1]]$cov[2,2]"))
  expect_equal(dim(V), c(11L, 11L))
  expect_lt(rel_diff(V, numeric_vcov(fit, faithful)), 1e-4)
  fd <- fit_lvm(mixture(ef_normal(2, "diagonal"), 2), faithful, control = tight)
  expect_lt(rel_diff(vcov(fd), numeric_vcov(fd, faithful)), 1e-4)
})

test_that("vcov() of a Poisson mixture and of a latent class model is the inverse numerical Hessian", {
  skip_if_not_installed("numDeriv")
  set.seed(11)
  y <- c(rpois(120, 2), rpois(80, 9))
  fp <- fit_lvm(mixture(ef_poisson(), 2), y, control = tight)
  expect_lt(rel_diff(vcov(fp), numeric_vcov(fp, y)), 1e-4)

  set.seed(2)
  z <- rbinom(400, 1, 0.4)
  pr <- function(p0, p1) ifelse(z == 1, p1, p0)
  df <- data.frame(a = factor(ifelse(runif(400) < pr(.2, .8), "y", "n")),
    b = factor(ifelse(runif(400) < pr(.15, .6), "p", ifelse(runif(400) < .5, "q", "r"))),
    c = factor(ifelse(runif(400) < pr(.7, .25), "y", "n")))
  m <- mixture(ef_product(ef_categorical(2), ef_categorical(3), ef_categorical(2)), 2)
  fl <- fit_lvm(m, df, control = tight)
  V <- vcov(fl)
  expect_equal(rownames(V)[2:4], c("components[[1]][[1]]$prob[1]", "components[[1]][[2]]$prob[1]",
    "components[[1]][[2]]$prob[2]"))
  expect_lt(rel_diff(V, numeric_vcov(fl, df)), 1e-4)
})

test_that("vcov() of one-factor analysis is the inverse numerical Hessian of the marginal likelihood", {
  skip_if_not_installed("numDeriv")
  x <- scale(as.matrix(attitude))
  p <- 7
  # One factor: identified as it stands (up to sign). Two factors: below.
  f1 <- fit_lvm(factor_analysis(p, 1), x, control = tight)
  ip <- harmonium:::lgm_inf_params(f1)
  ll1 <- function(v) {
    logLik(with_params(f1$model, list(mean = v[1:p], loadings = matrix(v[p + 1:p]), cov = diag(v[2 * p + 1:p])),
      data = x))[1]
  }
  Vn <- solve(-numDeriv::hessian(ll1, ip$phi, method.args = list(r = 2)))
  expect_lt(rel_diff(vcov(f1), Vn), 1e-3)
})

test_that("vcov() of the loadings is that of the canonical orientation (delta method from identified loadings)", {
  skip_if_not_installed("numDeriv")
  # Raw units, so that the orientation (columns orthogonal after dividing
  # each variable by its standard deviation) matters.
  x <- as.matrix(attitude)
  p <- 7
  fit <- fit_lvm(factor_analysis(p, 2), x, control = tight)
  V <- vcov(fit)
  ip <- harmonium:::lgm_inf_params(fit)
  free <- lower.tri(matrix(0, p, 2), diag = TRUE)
  nf <- sum(free)
  unpack <- function(v) {
    Lm <- matrix(0, p, 2)
    Lm[free] <- v[p + seq_len(nf)]
    list(mean = v[1:p], loadings = Lm, cov = diag(v[p + nf + 1:p]))
  }
  # The Gaussian log-likelihood in plain R (checked against the fit's).
  gauss_ll <- function(mu, Sig, x) {
    R <- chol(Sig)
    z <- backsolve(R, t(x) - mu, transpose = TRUE)
    -0.5 * sum(z^2) - nrow(x) * (sum(log(diag(R))) + ncol(x) / 2 * log(2 * pi))
  }
  ll <- function(v) {
    u <- unpack(v)
    gauss_ll(u$mean, tcrossprod(u$loadings) + u$cov, x)
  }
  v0 <- c(ip$mean, (ip$A %*% qr.Q(qr(t(ip$A))))[free], ip$psi)
  expect_equal(ll(v0), fit$loglik, tolerance = 1e-10)
  Vn <- solve(-numDeriv::hessian(ll, v0))
  # The canonical orientation as a function of lower-triangular loadings.
  s <- fit$scaler$scale
  canon <- function(v) {
    u <- unpack(v)
    Ac <- u$loadings %*% svd(u$loadings / s)$v
    Ac <- Ac %*% diag(sign(colSums(Ac * ip$A)))
    c(u$mean, Ac, diag(u$cov))
  }
  expect_equal(canon(v0), ip$phi, tolerance = 1e-10)
  G <- numDeriv::jacobian(canon, v0)
  expect_equal(unname(V), G %*% Vn %*% t(G), tolerance = 1e-4, ignore_attr = TRUE)
  # PPCA: the common noise variance.
  fp <- fit_lvm(ppca(p, 2), scale(x), control = tight)
  ip <- harmonium:::lgm_inf_params(fp)
  xs <- scale(x)
  llp <- function(v) {
    Lm <- matrix(0, p, 2)
    Lm[free] <- v[p + seq_len(nf)]
    gauss_ll(v[1:p], tcrossprod(Lm) + diag(v[p + nf + 1], p), xs)
  }
  vp <- c(ip$mean, (ip$A %*% qr.Q(qr(t(ip$A))))[free], ip$psi)
  expect_equal(llp(vp), fp$loglik, tolerance = 1e-10)
  Vn <- solve(-numDeriv::hessian(llp, vp))
  expect_equal(vcov(fp)["cov[1,1]", "cov[1,1]"], Vn[p + nf + 1, p + nf + 1], tolerance = 1e-5)
})

test_that("bootstrap standard errors agree with mclust::MclustBootstrap on faithful (VVV, G = 2)", {
  skip_if_not_installed("mclust")
  fit <- fit_lvm(mixture(ef_normal(2), 2), faithful, control = lvm_control(tol = 1e-10))
  V <- vcov(fit, method = "bootstrap", B = 100, seed = 1)
  se <- sqrt(diag(V))
  # MclustBootstrap() re-evaluates calls that need mclust attached.
  if (!"package:mclust" %in% search()) {
    suppressPackageStartupMessages(attachNamespace("mclust"))
    on.exit(detach("package:mclust"), add = TRUE)
  }
  mc <- mclust::Mclust(faithful, G = 2, modelNames = "VVV", verbose = FALSE)
  set.seed(1)
  bs <- mclust::MclustBootstrap(mc, nboot = 100, type = "pb", verbose = FALSE)
  sm <- summary(bs, what = "se")
  # mclust's component order: match by the mean of eruptions.
  ord <- if (fit$params$components[[1]]$mean[1] < fit$params$components[[2]]$mean[1]) {
    order(mc$parameters$mean[1, ])
  } else {
    rev(order(mc$parameters$mean[1, ]))
  }
  for (j in 1:2) {
    g <- ord[j]
    pre <- sprintf("components[[%d]]$", j)
    ours <- se[paste0(pre, c("mean[1]", "mean[2]", "cov[1,1]", "cov[1,2]", "cov[2,2]"))]
    theirs <- c(sm$mean[, g], sm$variance[1, 1, g], sm$variance[1, 2, g], sm$variance[2, 2, g])
    expect_equal(unname(ours), unname(theirs), tolerance = 0.3)
  }
  expect_equal(unname(se["weights[1]"]), unname(sm$pro[ord[1]]), tolerance = 0.3)
  # And with the observed information.
  expect_equal(unname(se), unname(sqrt(diag(vcov(fit)))), tolerance = 0.3)
})

test_that("bootstrap standard errors of a latent class model agree with the observed information", {
  set.seed(2)
  z <- rbinom(400, 1, 0.4)
  pr <- function(p0, p1) ifelse(z == 1, p1, p0)
  df <- data.frame(a = factor(ifelse(runif(400) < pr(.2, .8), "y", "n")),
    b = factor(ifelse(runif(400) < pr(.15, .6), "p", ifelse(runif(400) < .5, "q", "r"))),
    c = factor(ifelse(runif(400) < pr(.7, .25), "y", "n")))
  m <- mixture(ef_product(ef_categorical(2), ef_categorical(3), ef_categorical(2)), 2)
  fl <- fit_lvm(m, df, control = lvm_control(tol = 1e-10))
  Vb <- vcov(fl, "bootstrap", B = 60, seed = 1)
  expect_equal(nrow(attr(Vb, "replicates")), 60L)
  expect_equal(sqrt(diag(Vb)), sqrt(diag(vcov(fl))), tolerance = 0.35, ignore_attr = TRUE)
})

test_that("the bootstrap is deterministic for a seed, under lapply and a future plan", {
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  y <- c(0, 1, 1, 2, 0, 3, 8, 9, 11, 10, 12, 7)
  fp <- fit_lvm(mixture(ef_poisson(), 2), y, control = lvm_control(tol = 1e-10))
  set.seed(99)
  before <- .Random.seed
  a <- vcov(fp, "bootstrap", B = 6, seed = 3)
  expect_identical(.Random.seed, before)
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  b <- vcov(fp, "bootstrap", B = 6, seed = 3)
  expect_identical(attr(a, "replicates"), attr(b, "replicates"))
  expect_equal(dim(attr(a, "replicates")), c(6L, 3L))
  expect_equal(unclass(a)[1:3, 1:3], stats::cov(attr(a, "replicates")), ignore_attr = TRUE)
  ci <- confint(fp, method = "bootstrap", vcov = a)
  expect_equal(unname(ci[2, ]), unname(quantile(attr(a, "replicates")[, 2], c(0.025, 0.975))))
})

test_that("confint() gives Wald intervals from vcov()", {
  y <- c(0, 1, 1, 2, 0, 3, 8, 9, 11, 10, 12, 7)
  fp <- fit_lvm(mixture(ef_poisson(), 2), y, control = lvm_control(tol = 1e-10))
  V <- vcov(fp)
  est <- c(fp$params$weights[1], fp$params$components[[1]]$rate, fp$params$components[[2]]$rate)
  ci <- confint(fp, level = 0.9)
  expect_equal(colnames(ci), c("5 %", "95 %"))
  expect_equal(unname(ci[, 1]), unname(est - qnorm(0.95) * sqrt(diag(V))))
  expect_equal(confint(fp, "weights[1]"), ci <- confint(fp)["weights[1]", , drop = FALSE])
  expect_error(confint(fp, "banana"), class = "harmonium_error_argument")
  expect_error(confint(fp, level = 2), class = "harmonium_error_argument")
})

test_that("summary() shows standard errors; print() of the summary has no stray attributes", {
  fit <- fit_lvm(mixture(ef_normal(2), 2), faithful, control = lvm_control(tol = 1e-10))
  s <- summary(fit)
  expect_equal(coef(s)$std.error, unname(sqrt(diag(vcov(fit)))))
  expect_equal(rownames(coef(s)), rownames(vcov(fit)))
  expect_null(summary(fit, se = FALSE)$coefficients)
  fa <- fit_lvm(factor_analysis(7, 2), attitude, control = lvm_control(tol = 1e-10, maxit = 100000L))
  expect_equal(coef(summary(fa))$std.error, unname(sqrt(diag(vcov(fa)))))
  expect_output(print(s), "standard errors")
  fa <- fit_lvm(factor_analysis(7, 2), attitude, control = lvm_control(tol = 1e-10, maxit = 100000L))
  out <- utils::capture.output(print(summary(fa, rotation = "varimax")))
  expect_false(any(grepl("attr(", out, fixed = TRUE)))
  expect_true(any(grepl("RMSEA", out)))
})

test_that("the factor-analysis chi-square test is factanal()'s; RMSEA by its formula", {
  x <- scale(as.matrix(attitude))
  for (q in 1:2) {
    fit <- fit_lvm(factor_analysis(7, q), x, control = tight)
    ref <- stats::factanal(x, q)
    t <- summary(fit)$test
    expect_equal(t$statistic, unname(ref$STATISTIC), tolerance = 1e-6)
    expect_equal(t$dof, ref$dof)
    expect_equal(t$p.value, unname(ref$PVAL), tolerance = 1e-6)
    n <- nrow(x)
    expect_equal(t$rmsea, sqrt(max(t$statistic - t$dof, 0) / (t$dof * (n - 1))))
  }
  # A misfitting model has a positive RMSEA.
  fit <- fit_lvm(factor_analysis(7, 1), x, control = tight)
  t <- summary(fit)$test
  expect_gt(t$statistic, t$dof)
  expect_gt(t$rmsea, 0)
})

test_that("oblimin and quartimin rotations are GPArotation's on the same loadings", {
  skip_if_not_installed("GPArotation")
  fit <- fit_lvm(factor_analysis(7, 2), attitude, control = lvm_control(tol = 1e-10, maxit = 100000L))
  A <- rotate_loadings(fit, "none")
  for (rot in c("oblimin", "quartimin")) {
    ref <- if (rot == "oblimin") GPArotation::oblimin(A) else GPArotation::quartimin(A)
    L <- rotate_loadings(fit, rot)
    expect_equal(unclass(L), unclass(ref$loadings), ignore_attr = TRUE)
    expect_equal(attr(L, "Phi"), ref$Phi, ignore_attr = TRUE)
    s <- summary(fit, rotation = rot)
    expect_equal(s$Phi, ref$Phi, ignore_attr = TRUE)
    expect_null(attributes(s$loadings)$rotmat)
  }
  pm <- stats::promax(A)
  expect_equal(attr(rotate_loadings(fit, "promax"), "Phi"), solve(crossprod(pm$rotmat)), ignore_attr = TRUE)
})

test_that("anova() gives 2 * the difference of log-likelihoods and its chi-square p-value", {
  f1 <- fit_lvm(mixture(ef_normal(2, "diagonal"), 2), faithful)
  f2 <- fit_lvm(mixture(ef_normal(2), 2), faithful)
  f0 <- fit_lvm(mixture(ef_normal(2, "isotropic"), 2), faithful)
  a <- anova(f2, f1, f0)
  expect_s3_class(a, "anova")
  expect_equal(a$df, c(f0$df, f1$df, f2$df))
  expect_equal(a$LR[3], 2 * (f2$loglik - f1$loglik))
  expect_equal(a$LR[2], 2 * (f1$loglik - f0$loglik))
  expect_equal(a$`Pr(>Chisq)`[3], pchisq(2 * (f2$loglik - f1$loglik), f2$df - f1$df, lower.tail = FALSE))
  expect_equal(a$BIC, c(BIC(f0), BIC(f1), BIC(f2)))
  # Different numbers of components: a caveat and no p-value.
  f3 <- fit_lvm(mixture(ef_normal(2), 3), faithful)
  expect_message(a <- anova(f2, f3), class = "harmonium_message_anova_components")
  expect_true(is.na(a$`Pr(>Chisq)`[2]))
  expect_equal(a$LR[2], 2 * (f3$loglik - f2$loglik))
  # Factor models: fewer factors within more.
  x <- scale(attitude)
  g1 <- fit_lvm(factor_analysis(7, 1), x)
  g2 <- fit_lvm(factor_analysis(7, 2), x)
  a <- anova(g1, g2)
  expect_equal(a$`Df diff`[2], g2$df - g1$df)
})

test_that("anova() and vcov() reject bad inputs with classed errors", {
  f2 <- fit_lvm(mixture(ef_normal(2), 2), faithful)
  expect_error(anova(f2, lm(waiting ~ eruptions, faithful)), class = "harmonium_error_argument")
  expect_error(anova(f2), class = "harmonium_error_argument")
  fsmall <- fit_lvm(mixture(ef_normal(2), 2), faithful[1:200, ])
  expect_error(anova(f2, fsmall), class = "harmonium_error_data")
  fother <- fit_lvm(mixture(ef_normal(2), 2), faithful[272:1, ])
  expect_error(anova(fother, fit_lvm(mixture(ef_normal(2), 3), faithful)), class = "harmonium_error_data")
  fp <- fit_lvm(mixture(ef_poisson(2), 2), round(as.matrix(faithful)))
  fn <- suppressWarnings(fit_lvm(mixture(ef_normal(2, "diagonal"), 3), round(as.matrix(faithful)),
    control = lvm_control(reg = 1e-3)))
  expect_error(anova(fp, fn), class = "harmonium_error_not_nested")
  fa <- suppressWarnings(fit_lvm(factor_analysis(3, 1), cbind(as.matrix(faithful), faithful$waiting^0.5)))
  expect_error(anova(f2, fa), class = "harmonium_error_not_nested")

  expect_error(vcov(f2, method = "banana"), class = "harmonium_error_argument")
  expect_error(vcov(f2, B = 1, method = "bootstrap"), class = "harmonium_error_argument")
  expect_error(vcov(f2, foo = 1), class = "harmonium_error_unknown_argument")
  hm <- suppressWarnings(fit_lvm(hmm(ef_normal(1), 2), list(faithful$waiting[1:100], faithful$waiting[101:200])))
  expect_error(vcov(hm), "bootstrap", class = "harmonium_error_unsupported")
  # A covariance structure other than full, diagonal or isotropic.
  for (st in c("VEV", "EEE", "EII")) {
    fv <- fit_lvm(mixture(ef_normal(2, st), 2), faithful)
    expect_error(vcov(fv), paste0("bootstrap"), class = "harmonium_error_unsupported")
    expect_error(vcov(fv), st, class = "harmonium_error_unsupported")
  }
  # Per-component structures named as mclust does are the plain ones.
  fvv <- fit_lvm(mixture(ef_normal(2, "VVI"), 2), faithful)
  fd <- fit_lvm(mixture(ef_normal(2, "diagonal"), 2), faithful)
  expect_equal(unname(vcov(fvv)), unname(vcov(fd)), tolerance = 1e-6)
  nodata <- with_params(mixture(ef_poisson(), 2),
    list(weights = c(0.4, 0.6), components = list(list(rate = 2), list(rate = 9))))
  expect_error(vcov(nodata), class = "harmonium_error_argument")
  # A fit at a boundary (a probability floored at 1e-12) has no invertible information.
  xb <- cbind(rep(0:1, each = 20), rbinom(40, 1, 0.5))
  fb <- suppressWarnings(fit_lvm(mixture(ef_bernoulli(2), 2), xb, init = rep(1:2, each = 20)))
  expect_error(vcov(fb), class = "harmonium_error_vcov_singular")
  expect_output(print(summary(fb)), "not computed")
})
