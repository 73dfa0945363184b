# The messages a user sees for the common mistakes: each by class and text.

faithful_fit <- function() fit_lvm(mixture(ef_normal(2), 2), faithful)

test_that("a misspelt fit_lvm() argument is an error suggesting the lvm_control() setting", {
  m <- mixture(ef_normal(2), 2)
  err <- expect_error(fit_lvm(m, faithful, ninit = 5), class = "harmonium_error_unknown_argument")
  expect_s3_class(err, "harmonium_error")
  msg <- conditionMessage(err)
  expect_match(msg, "`ninit` is not an argument of `fit_lvm()`", fixed = TRUE)
  expect_match(msg, "control = lvm_control(n_init = 5)", fixed = TRUE)
  # A control setting given to fit_lvm() itself.
  err <- expect_error(fit_lvm(m, faithful, maxit = 50), class = "harmonium_error_unknown_argument")
  expect_match(conditionMessage(err), "control = lvm_control(maxit = 50)", fixed = TRUE)
  # A misspelt argument of fit_lvm() itself, and one close to nothing.
  err <- expect_error(fit_lvm(m, faithful, wieghts = w), class = "harmonium_error_unknown_argument")
  expect_match(conditionMessage(err), "Did you mean `weights = w`?", fixed = TRUE)
  err <- expect_error(fit_lvm(m, faithful, zzzzzz = 1), class = "harmonium_error_unknown_argument")
  expect_no_match(conditionMessage(err), "Did you mean")
  # Nothing was evaluated: the value is shown as written.
  err <- expect_error(fit_lvm(m, faithful, tolerance = stop("evaluated")),
    class = "harmonium_error_unknown_argument")
  expect_match(conditionMessage(err), "`tolerance` is not an argument", fixed = TRUE)
})

test_that("the formula form of fit_lvm() still works and still rejects strays", {
  fit <- fit_lvm(~eruptions, faithful, mixture(ef_normal(1), 2), control = lvm_control(n_init = 2))
  expect_s3_class(fit, "mixture_fit")
  expect_equal(nrow(fit$starts), 2L)
  err <- expect_error(fit_lvm(~eruptions, faithful, mixture(ef_normal(1), 2), n_init = 2),
    class = "harmonium_error_unknown_argument")
  expect_match(conditionMessage(err), "control = lvm_control(n_init = 2)", fixed = TRUE)
})

test_that("fit methods reject unknown arguments, named by their generic", {
  fit <- faithful_fit()
  err <- expect_error(posterior(fit, nwedata = faithful), class = "harmonium_error_unknown_argument")
  expect_match(conditionMessage(err), "`nwedata` is not an argument of `posterior()`", fixed = TRUE)
  expect_match(conditionMessage(err), "newdata = faithful", fixed = TRUE)
  expect_error(log_density(fit, foo = 1), class = "harmonium_error_unknown_argument")
  expect_error(summary(fit, foo = 1), class = "harmonium_error_unknown_argument")
  expect_error(simulate(fit, 2, sed = 1), class = "harmonium_error_unknown_argument")
  expect_error(coef(fit, foo = 1), class = "harmonium_error_unknown_argument")
  expect_error(logLik(fit, foo = 1), class = "harmonium_error_unknown_argument")
  expect_error(predict(fit, newdata = faithful, foo = 1), class = "harmonium_error_unknown_argument")
  # Unnamed strays are named by position.
  err <- expect_error(fitted(fit, 3), class = "harmonium_error_unknown_argument")
  expect_match(conditionMessage(err), "unnamed extra argument `3`", fixed = TRUE)
  # AIC/BIC call logLik() without extras; plot() keeps graphical parameters.
  expect_equal(BIC(fit), -2 * fit$loglik + log(fit$n) * fit$df)
  pdf(NULL)
  on.exit(dev.off())
  expect_no_error(plot(fit, type = "trace", col = "red", lwd = 2))
})

test_that("sequence fits reject unknown arguments too", {
  h <- fit_lvm(hmm(ef_normal(1), 2), as.numeric(LakeHuron))
  expect_error(viterbi(h, foo = 1), class = "harmonium_error_unknown_argument")
  expect_error(forecast(h, 2, levl = 0.9), class = "harmonium_error_unknown_argument")
})

test_that("predict() and posterior() with wrong columns name newdata and the fitted columns", {
  fit <- fit_lvm(mixture(ef_normal(4), 2), iris[, 1:4])
  err <- expect_error(predict(fit, newdata = iris[, 2:4]), class = "harmonium_error_data")
  msg <- cli::ansi_strip(conditionMessage(err))
  expect_match(msg, "`newdata` has 3 columns", fixed = TRUE)
  expect_match(msg, "Sepal.Length", fixed = TRUE)
  expect_no_match(msg, "`data`", fixed = TRUE)
  expect_no_match(msg, "formula")
  expect_error(posterior(fit, newdata = as.matrix(iris[, 1:2])), "`newdata` has 2 columns", fixed = TRUE,
    class = "harmonium_error_data")
  expect_error(log_density(fit, newdata = iris[, 1:3]), "`newdata`", fixed = TRUE,
    class = "harmonium_error_data")
  # New data holding the fitted columns among others: selected by name.
  expect_identical(predict(fit, newdata = iris), predict(fit, newdata = iris[, 1:4]))
  expect_identical(predict(fit, newdata = iris[, c(5, 4:1)][, 5:1]), predict(fit))
})

test_that("a factor with more levels than ef_categorical(k) says so in words", {
  x <- factor(c("a", "b", "c", "a", "b", "c"))
  err <- expect_error(fit_lvm(mixture(ef_categorical(2), 2), x), class = "harmonium_error_data_levels")
  msg <- cli::ansi_strip(conditionMessage(err))
  expect_match(msg, "has 3 levels", fixed = TRUE)
  expect_match(msg, "ef_categorical(2)", fixed = TRUE)
  expect_match(msg, "with 2 categories", fixed = TRUE)
  expect_match(msg, "Use `ef_categorical(3)`", fixed = TRUE)
  # Named levels: the new ones are listed.
  err <- expect_error(fit_lvm(mixture(ef_categorical(c("a", "b")), 2), x),
    class = "harmonium_error_data_levels")
  expect_match(cli::ansi_strip(conditionMessage(err)), "1 level (\"c\")", fixed = TRUE)
  # The right k fits.
  expect_s3_class(fit_lvm(mixture(ef_categorical(3), 1), x), "mixture_fit")
})

test_that("factor_analysis() and ppca() errors name their own arguments", {
  err <- expect_error(factor_analysis(4), class = "harmonium_error_argument_missing")
  expect_match(conditionMessage(err), "`factors` is missing", fixed = TRUE)
  expect_equal(rlang::call_name(err$call), "factor_analysis")
  err <- expect_error(factor_analysis(4, 4), class = "harmonium_error_argument")
  msg <- cli::ansi_strip(conditionMessage(err))
  expect_match(msg, "`factors` is 4, but a model of 4 variables has at most 3 factors.", fixed = TRUE)
  err <- expect_error(factor_analysis(4, 0), class = "harmonium_error_argument")
  expect_match(conditionMessage(err), "`factors` must be a whole number", fixed = TRUE)
  err <- expect_error(ppca(3), class = "harmonium_error_argument_missing")
  expect_match(conditionMessage(err), "`components` is missing", fixed = TRUE)
  err <- expect_error(ppca(3, 3), class = "harmonium_error_argument")
  expect_match(cli::ansi_strip(conditionMessage(err)), "`components` is 3, but a model of 3 variables has at most 2 components.",
    fixed = TRUE)
  expect_no_match(conditionMessage(err), "latent_dim")
  err <- expect_error(mfa(4, 5, 2), class = "harmonium_error_argument")
  expect_match(conditionMessage(err), "`factors`", fixed = TRUE)
})

test_that("mixture(component, k = 1:3) points to select_k()", {
  err <- expect_error(mixture(ef_normal(1), k = 1:3), class = "harmonium_error_argument")
  msg <- cli::ansi_strip(conditionMessage(err))
  expect_match(msg, "one number of components", fixed = TRUE)
  expect_match(msg, "select_k(ef_normal(1), data, k = 1:3)", fixed = TRUE)
  expect_error(mixture(ef_normal(1)), "`k` is missing", class = "harmonium_error_argument_missing")
})

test_that("von Mises angles outside [-2 pi, 2 pi] warn that the data are radians", {
  deg <- c(10, 15, 20, 200, 190, 185, 350)
  w <- expect_warning(fit <- fit_lvm(mixture(ef_von_mises(), 2), deg), class = "harmonium_warning_radians")
  msg <- cli::ansi_strip(conditionMessage(w))
  expect_match(msg, "7 angles outside [-2 pi, 2 pi]", fixed = TRUE)
  expect_match(msg, "x * pi / 180", fixed = TRUE)
  expect_true("harmonium_warning_radians" %in% fit$warnings$class)
  # Radians (even a little beyond one turn) do not warn.
  expect_no_warning(fit_lvm(mixture(ef_von_mises(), 2), deg * pi / 180))
  expect_no_warning(fit_lvm(mixture(ef_von_mises(), 2), c(-6, -5.9, 0.1, 0.2, 6.2, 6.0)))
})

test_that("simulate() keeps the seed attribute but prints it in one line", {
  fit <- faithful_fit()
  s <- simulate(fit, 3, seed = 1)
  st <- attr(s, "seed")
  expect_length(st, 626L)
  out <- capture.output(print(s))
  expect_lt(length(out), 12L)
  expect_true(any(grepl("<RNG state: .Random.seed of 626 integers>", out, fixed = TRUE)))
  # The attribute is the state the draws started from: restoring it repeats them.
  assign(".Random.seed", unclass(st), envir = globalenv())
  s2 <- simulate(fit, 3)
  expect_identical(unclass(s2)[1:6], unclass(s)[1:6])
  expect_identical(attr(s2, "latent"), attr(s, "latent"))
})
