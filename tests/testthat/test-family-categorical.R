# ef_categorical() (R/family-categorical.R; theory.md 2.3 and 7.4).

cat_levels <- c("low", "mid", "high", "top")
cat_prob <- c(low = 0.1835, mid = 0.2385, high = 0.3214, top = 0.2566)

test_that("categorical family has K - 1 natural parameters and one data column", {
  f <- ef_categorical(cat_levels)
  expect_identical(c(f$d, f$dim), c(1L, 3L))
  expect_identical(f$levels, cat_levels)
})

test_that("categorical statistic is one-hot without the reference level", {
  f <- ef_categorical(cat_levels)
  expect_identical(fam_stat(f, 0:3), rbind(c(0, 0, 0), diag(3)))
})

test_that("categorical natural parameters are log odds against the first level", {
  f <- ef_categorical(cat_levels)
  expect_close(to_natural(f, list(prob = cat_prob)), log(cat_prob[-1] / cat_prob[1]), rtol = 1e-14)
})

test_that("categorical probabilities named in another order are matched by name", {
  f <- ef_categorical(cat_levels)
  shuffled <- list(prob = cat_prob[c(3, 1, 4, 2)])
  expect_close(to_natural(f, shuffled), to_natural(f, list(prob = cat_prob)), rtol = 1e-15)
})

test_that("categorical pmf sums to 1 over the levels", {
  f <- ef_categorical(cat_levels)
  all_levels <- factor(cat_levels, levels = cat_levels)
  expect_close(sum(exp(ef_log_density(f, list(prob = cat_prob), all_levels))), 1, rtol = 1e-14)
})

test_that("categorical log density equals log prob for factor, character and code data", {
  f <- ef_categorical(cat_levels)
  p <- list(prob = cat_prob)
  pos <- c(2, 4, 1, 3, 3, 2)
  want <- oracle_categorical_logpmf(pos, cat_prob)
  expect_close(ef_log_density(f, p, factor(cat_levels[pos], levels = cat_levels)), want, rtol = 1e-10)
  expect_close(ef_log_density(f, p, cat_levels[pos]), want, rtol = 1e-10)
  expect_close(ef_log_density(f, p, pos), want, rtol = 1e-10)
})

test_that("factor data are matched to the family's levels by name, not by code", {
  f <- ef_categorical(cat_levels)
  x <- factor(c("top", "low", "mid"), levels = c("top", "mid", "low", "high"))
  expect_close(ef_log_density(f, list(prob = cat_prob), x), log(cat_prob[c("top", "low", "mid")]),
    rtol = 1e-10
  )
})

test_that("unseen levels give harmonium_error_data_levels", {
  f <- ef_categorical(cat_levels)
  expect_hm_error(ef_log_density(f, list(prob = cat_prob), c("low", "extreme")), "data_levels", "extreme")
  expect_hm_error(ef_fit(f, factor(c("low", "mid", "huge"))), "data_levels", "huge")
})

test_that("categorical source parameters round trip with level names", {
  f <- ef_categorical(cat_levels)
  back <- to_source(f, to_natural(f, list(prob = cat_prob)))
  expect_equal(back, list(prob = cat_prob), tolerance = 1e-12)
})

test_that("categorical natural -> mean -> natural round trips", {
  f <- ef_categorical(cat_levels)
  th <- to_natural(f, list(prob = cat_prob))
  expect_close(fam_theta(f, fam_eta(f, th)), th, rtol = 1e-8, atol = 1e-12)
})

test_that("categorical log-partition is log-sum-exp of (0, theta)", {
  f <- ef_categorical(5)
  th <- c(0.37, -1.21, 2.385, 0.04)
  expect_close(fam_psi(f, th), log_sum_exp(c(0, th)), rtol = 1e-14)
})

test_that("categorical mean parameters are the non-reference probabilities", {
  f <- ef_categorical(cat_levels)
  expect_close(to_mean(f, list(prob = cat_prob)), cat_prob[-1], rtol = 1e-13)
})

test_that("categorical to_mean does not overflow at large natural parameters", {
  f <- ef_categorical(3)
  expect_close(fam_eta(f, c(800, -5)), c(1, 0), rtol = 0, atol = 1e-300)
})

test_that("categorical Legendre identity phi(eta) = theta . eta - psi(theta)", {
  f <- ef_categorical(cat_levels)
  th <- to_natural(f, list(prob = cat_prob))
  eta <- fam_eta(f, th)
  expect_close(fam_phi(f, eta), sum(th * eta) - fam_psi(f, th), rtol = 1e-10)
})

test_that("categorical negative entropy is sum p log p (-log 4 when uniform)", {
  f <- ef_categorical(cat_levels)
  expect_close(fam_phi(f, cat_prob[-1]), sum(cat_prob * log(cat_prob)), rtol = 1e-12)
  expect_close(fam_phi(f, rep(0.25, 3)), -log(4), rtol = 1e-12)
})

test_that("categorical to_mean is the gradient of the log-partition", {
  f <- ef_categorical(cat_levels)
  th <- to_natural(f, list(prob = cat_prob))
  expect_close(fam_eta(f, th), fd_grad(function(t) fam_psi(f, t), th), rtol = 1e-6, atol = 1e-8)
})

test_that("categorical draws are factors with the family's levels and the right frequencies", {
  f <- ef_categorical(cat_levels)
  seed <- 4412L
  set.seed(seed)
  x <- ef_sample(f, list(prob = cat_prob), 50000)
  expect_identical(levels(x[[1]]), cat_levels)
  expect_sample_moments(fam_stat(f, as.integer(x[[1]]) - 1), cat_prob[-1], seed, atol = 0.01)
})

test_that("categorical MLE is the vector of proportions, named by level", {
  f <- ef_categorical(cat_levels)
  x <- factor(rep(cat_levels, c(17, 41, 29, 13)), levels = cat_levels)
  fit <- ef_fit(f, x)
  expect_identical(names(fit$prob), cat_levels)
  expect_close(fit$prob, c(17, 41, 29, 13) / 100, rtol = 1e-10)
})

test_that("categorical with an integer count has levels 1..k and accepts codes", {
  f <- ef_categorical(3)
  fit <- ef_fit(f, c(1, 2, 2, 3, 3, 3))
  expect_close(fit$prob, c(1, 2, 3) / 6, rtol = 1e-10)
  expect_identical(names(fit$prob), c("1", "2", "3"))
})

test_that("ef_sample of a categorical is reproducible under set.seed", {
  f <- ef_categorical(cat_levels)
  set.seed(99)
  a <- ef_sample(f, list(prob = cat_prob), 30)
  set.seed(99)
  expect_identical(ef_sample(f, list(prob = cat_prob), 30), a)
})
