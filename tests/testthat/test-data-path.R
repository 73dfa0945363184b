# The data path (R/data-path.R, src/engine/columns.c): one C pass over the
# user's columns against plain-R computations of the same things.

hm <- function(name) get(name, envir = asNamespace("harmonium"))

# The pass on a double matrix with every column's moments and no support.
scan_moments <- function(x, threads = 1L) {
  d <- ncol(x)
  hm("native_data_scan")(x, cbind(seq_len(d), 0, 0, 1), matrix(0, 0L, 6L), FALSE, threads)
}

test_that("column means and rms match plain R to 1e-14, across block boundaries", {
  set.seed(11)
  # 4096 rows per block: n not a multiple, several blocks, and a one-row tail.
  for (n in c(1L, 7L, 4096L, 4097L, 20481L)) {
    x <- cbind(rnorm(n, 1000.385, 0.01), rexp(n) * 1e6, rnorm(n), rep(2.385, n))
    res <- scan_moments(x)
    mu <- colMeans(x)
    rms <- sqrt(colMeans(sweep(x, 2L, mu)^2))
    expect_equal(res$mean, mu, tolerance = 1e-14, info = n)
    ok <- rms > 0
    expect_equal(res$rms[ok], rms[ok], tolerance = 1e-14, info = n)
    # A constant column: exactly no spread, its value as the mean.
    expect_identical(res$rms[4], 0)
    expect_identical(res$mean[4], 2.385)
    expect_equal(res$sumsq, colSums(x^2), tolerance = 1e-14, info = n)
  }
})

test_that("the scan and the standardisation are identical for 1 and 2 threads", {
  set.seed(12)
  n <- 30011L
  x <- cbind(rnorm(n, 5), rpois(n, 3), runif(n))
  x[c(17, 9000, 25000), 2] <- NA
  a <- scan_moments(x, 1L)
  b <- scan_moments(x, 2L)
  expect_identical(a, b)
  expect_identical(a$bad_rows, c(17L, 9000L, 25000L))
  s1 <- hm("native_data_scale")(x, c(5, 3, 0.5), c(1, 2, 0.3), 1L)
  s2 <- hm("native_data_scale")(x, c(5, 3, 0.5), c(1, 2, 0.3), 2L)
  expect_identical(s1, s2)
  expect_identical(s1$x, sweep(sweep(x, 2L, c(5, 3, 0.5), "-"), 2L, c(1, 2, 0.3), "/"))
  # Whole fits.
  m <- mixture(ef_normal(3), 2)
  y <- x[-c(17, 9000, 25000), ]
  f1 <- suppressWarnings(fit_lvm(m, y, control = lvm_control(threads = 1, maxit = 3, n_init = 1)))
  f2 <- suppressWarnings(fit_lvm(m, y, control = lvm_control(threads = 2, maxit = 3, n_init = 1)))
  expect_identical(f1$theta, f2$theta)
  expect_identical(f1$scaler, f2$scaler)
})

test_that("rows with missing or non-finite values are found and named as before", {
  set.seed(13)
  x <- matrix(rnorm(3 * 9000), 9000, 3)
  x[5000, 1] <- NA
  x[12, 3] <- Inf
  x[8999, 2] <- -Inf
  x[12, 2] <- NaN
  for (i in 20:40) x[i * 3, 1] <- NaN
  ref <- which(rowSums(!is.finite(x)) > 0)
  res <- scan_moments(x)
  expect_identical(res$n_bad, as.double(length(ref)))
  expect_identical(res$bad_rows, head(ref, 10))
  err <- expect_error(fit_lvm(mixture(ef_normal(3), 2), x), class = "harmonium_error_data_na")
  # (The message says "row" for any count: the template's quantity is `arg`.)
  expect_match(conditionMessage(err), paste("in row", paste(head(ref, 9), collapse = ", ")), fixed = TRUE)
  # NA in an integer column of a data frame.
  df <- data.frame(a = c(1L, NA, 3L, 4L), b = c(2.385, 1, 0.5, 2))
  expect_error(fit_lvm(mixture(ef_product(ef_poisson(), ef_normal()), 2), df), "in row 2",
    class = "harmonium_error_data_na")
  # na_action = "omit": NA/NaN rows dropped (as stats::complete.cases);
  # an infinite value is still an error.
  y <- x
  y[!is.finite(y) & !is.na(y)] <- 0
  f <- suppressWarnings(fit_lvm(mixture(ef_normal(3), 2), y, na_action = "omit",
    control = lvm_control(maxit = 2, n_init = 1)))
  expect_identical(f$omitted, which(!stats::complete.cases(y)))
  expect_identical(f$x, y[stats::complete.cases(y), ])
  # Rows are numbered in the data left after omission, as before.
  kept <- x[stats::complete.cases(x), ]
  inf_rows <- which(rowSums(!is.finite(kept)) > 0)
  # (Row 12 also has a NaN, so only -Inf in row 8999 remains.)
  expect_identical(inf_rows, 8999L - sum(!stats::complete.cases(x[1:8999, ])))
  expect_error(fit_lvm(mixture(ef_normal(3), 2), x, na_action = "omit"),
    paste0("in row ", inf_rows, "."), fixed = TRUE, class = "harmonium_error_data_na")
})

# The condition the family's R support check raises on the encoded data.
r_support_error <- function(fam, x) {
  tryCatch(fam$support(x, "data", NULL), harmonium_error = identity)
}

test_that("support errors match the families' R checks in class and text", {
  set.seed(14)
  n <- 9000L
  cases <- list(
    list(ef_poisson(2), cbind(rpois(n, 3), rpois(n, 2)), function(x) { x[c(7, 8500), 1] <- -1; x[5, 2] <- 2.5; x }),
    list(ef_binomial(4), cbind(rbinom(n, 4, 0.3)), function(x) { x[c(3, 4100, 4101), 1] <- 5; x }),
    list(ef_bernoulli(3), matrix(rbinom(3 * n, 1, 0.4), n), function(x) { x[9, 3] <- 2; x[8999, 1] <- -1; x }),
    list(ef_gamma(2), cbind(rexp(n), rexp(n)), function(x) { x[seq(100, 1300, by = 100), 2] <- 0; x }),
    list(ef_com_poisson(), cbind(rpois(n, 3)), function(x) { x[2, 1] <- 1e6 + 1; x }),
    list(ef_categorical(3), cbind(sample(1:3, n, TRUE)), function(x) { x[c(1, 2), 1] <- 4; x[3, 1] <- 0; x })
  )
  for (cs in cases) {
    fam <- cs[[1]]
    x <- cs[[3]](cs[[2]])
    m <- mixture(fam, 2)
    err <- tryCatch(fit_lvm(m, x), harmonium_error = identity)
    expect_s3_class(err, "harmonium_error_data_support")
    # The R check on the engine's values (categorical codes are 0-based).
    enc <- if (fam$name == "categorical") x - 1 else x
    ref <- r_support_error(fam, enc)
    expect_s3_class(ref, "harmonium_error_data_support")
    expect_identical(conditionMessage(err), conditionMessage(ref), info = fam$label)
  }
  # Blocks of a product are checked left to right: the first block's error.
  p <- ef_product(ef_normal(), ef_poisson(), ef_bernoulli())
  x <- cbind(rnorm(20), rpois(20, 2), rbinom(20, 1, 0.5))
  x[c(4, 11), 3] <- 3
  x[15, 2] <- -2
  expect_error(fit_lvm(mixture(p, 2), x), "Poisson data must be non-negative whole numbers",
    class = "harmonium_error_data_support")
  x[15, 2] <- 2
  expect_error(fit_lvm(mixture(p, 2), x), "in row 4 and 11", class = "harmonium_error_data_support")
  # Dirichlet keeps its R check (rows must sum to 1).
  d3 <- matrix(c(0.2, 0.3, 0.5, 0.1, 0.1, 0.1), 2, 3, byrow = TRUE)
  expect_error(fit_lvm(mixture(ef_dirichlet(3), 1), d3), "row 2", class = "harmonium_error_data_support")
})

test_that("the radians warning counts and reports as the R check does", {
  set.seed(15)
  x <- cbind(runif(5000, -pi, pi), runif(5000, -pi, pi))
  x[c(3, 4000), 1] <- c(200, -7)
  x[10, 2] <- 355.5
  fam <- ef_von_mises(2)
  ref <- tryCatch(fam$support(x, "data", NULL), warning = identity)
  w <- tryCatch(hm("family_encode")(fam, x), warning = identity)
  expect_s3_class(w, "harmonium_warning_radians")
  expect_identical(conditionMessage(w), conditionMessage(ref))
  expect_match(conditionMessage(w), "3 angles .* \\(largest 355.5\\)")
})

test_that("integer, logical, factor and data frame columns encode as the families' encode functions", {
  set.seed(16)
  n <- 5000L
  enc_ref <- function(fam, data) {
    df <- hm("as_data_frame_cols")(data, "data", NULL)
    fam$encode(df, fam, "data", NULL)
  }
  cat3 <- ef_categorical(c("lo", "mid", "hi"))
  p <- ef_product(ef_normal(2), ef_poisson(), cat3, ef_bernoulli(2), ef_categorical(2))
  df <- data.frame(
    a = rnorm(n), b = rnorm(n, 3),
    k = rpois(n, 4),
    f = factor(sample(c("hi", "lo", "mid"), n, TRUE), levels = c("hi", "lo", "mid")),
    l = sample(c(TRUE, FALSE), n, TRUE), two = factor(sample(c("no", "yes"), n, TRUE)),
    z = sample(1:2, n, TRUE)
  )
  x <- hm("family_encode")(p, df)
  expect_identical(x, enc_ref(p, df))
  expect_identical(x[, 4], match(as.character(df$f), c("lo", "mid", "hi")) - 1)
  expect_identical(x[, 5], as.double(df$l))
  expect_identical(names(attributes(x)), "dim")
  # Integer and logical matrices, vectors and characters.
  im <- matrix(rpois(3 * n, 2), n, 3)
  expect_identical(hm("family_encode")(ef_poisson(3), im), enc_ref(ef_poisson(3), im))
  lm <- matrix(runif(2 * n) > 0.5, n, 2)
  expect_identical(hm("family_encode")(ef_bernoulli(2), lm), enc_ref(ef_bernoulli(2), lm))
  expect_identical(hm("family_encode")(ef_categorical(2), lm[, 1]), enc_ref(ef_categorical(2), lm[, 1]))
  ch <- sample(c("lo", "mid", "hi"), n, TRUE)
  expect_identical(hm("family_encode")(cat3, ch), enc_ref(cat3, ch))
  expect_identical(hm("family_encode")(ef_categorical(3), 3:1), enc_ref(ef_categorical(3), 3:1))
  expect_identical(hm("family_encode")(ef_normal(), 1:4), enc_ref(ef_normal(), 1:4))
  # Encoding errors are those of the encode functions.
  for (case in list(list(ef_normal(1), data.frame(f = factor("a"))), list(ef_bernoulli(), factor(c("a", "b", "c"))),
    list(cat3, c("lo", "top")), list(ef_categorical(3), factor(c("a", "b"))), list(cat3, list(1 + 2i)))) {
    ref <- tryCatch(enc_ref(case[[1]], case[[2]]), error = identity)
    new <- tryCatch(hm("family_encode")(case[[1]], case[[2]]), error = identity)
    expect_identical(class(new), class(ref))
    expect_identical(conditionMessage(new), conditionMessage(ref))
  }
  # The same fit from a matrix and from its data frame.
  m <- mixture(ef_normal(2), 2)
  X <- cbind(c(rnorm(300), rnorm(300, 4)), rnorm(600))
  fm <- fit_lvm(m, X, control = lvm_control(n_init = 1))
  fd <- fit_lvm(m, as.data.frame(X), control = lvm_control(n_init = 1))
  expect_identical(fm$theta, fd$theta)
  expect_identical(fm$model$obs$colnames, c("V1", "V2"))
})

test_that("a double matrix reaches the engine without a copy beyond the standardised one", {
  set.seed(17)
  n <- 200000L
  X <- matrix(rnorm(4 * n), n, 4, dimnames = list(NULL, c("a", "b", "c", "d")))
  m <- mixture(ef_normal(4), 2)
  prep_fn <- hm("prepare_data")
  env <- environment()
  invisible(prep_fn(m, X[1:10, ], NULL, "fail", env, scale = TRUE))
  gc(reset = TRUE)
  before <- gc()[2L, 1L]
  prep <- prep_fn(m, X, NULL, "fail", env, scale = TRUE)
  peak <- gc()[2L, 5L] - before
  # One n x d copy (the standardised data) and O(d + blocks) more.
  expect_lt(peak, 1.1 * length(X))
  expect_gt(peak, 0.9 * length(X))
  expect_null(dimnames(prep$x))
  expect_identical(unname(X), prep$x)
  expect_identical(prep$model$obs$colnames, c("a", "b", "c", "d"))
  # Nothing standardised (Poisson) and a plain double matrix: no copy at all.
  P <- matrix(as.double(rpois(4 * n, 3)), n, 4)
  gc(reset = TRUE)
  before <- gc()[2L, 1L]
  prep <- prep_fn(mixture(ef_poisson(4), 2), P, NULL, "fail", env, scale = TRUE)
  expect_lt(gc()[2L, 5L] - before, 0.1 * length(P))
  expect_identical(prep$x, P)
  expect_identical(prep$xs, P)
})

test_that("values too large to standardise are refused as before", {
  x <- cbind(c(1, 2, 3, 1e200), c(1, 2, 3, 4))
  expect_error(fit_lvm(mixture(ef_normal(2), 1), x), "too large to standardise in column 1",
    class = "harmonium_error_data")
  expect_error(fit_lvm(mixture(ef_poisson(), 1), c(1e160, 2, 3)), "too large to standardise",
    class = "harmonium_error_data")
  # A mean that overflows: the same classed error (it used to reach the
  # glue's internal check of the centre).
  x <- cbind(c(1, 2, 3, 4), c(1e308, 1e308, 1, 5))
  expect_error(fit_lvm(mixture(ef_normal(2), 1), x), "too large to standardise in column 2",
    class = "harmonium_error_data")
})

test_that("newdata with the fitted columns among others is matched by name", {
  set.seed(18)
  X <- cbind(a = c(rnorm(50), rnorm(50, 5)), b = rnorm(100))
  f <- fit_lvm(mixture(ef_normal(2), 2), X, control = lvm_control(n_init = 1))
  wide <- cbind(z = 1, b = X[, "b"], a = X[, "a"])
  expect_identical(posterior(f, wide), posterior(f, X))
  expect_identical(posterior(f, as.data.frame(wide)), posterior(f, X))
  expect_equal(sum(log_density(f, X)), as.numeric(logLik(f)), tolerance = 1e-12)
})

test_that("malformed input to the data pass entry points is refused, never a crash", {
  scan <- function(...) .Call(hm("C_data_scan"), ...)
  sup0 <- matrix(0, 0L, 6L)
  spec1 <- cbind(1, 0, 0, 1)
  bad <- list(
    list("a", spec1, sup0, FALSE, 1L),
    list(matrix("a", 2, 1), spec1, sup0, FALSE, 1L),
    list(list("a"), spec1, sup0, FALSE, 1L),
    list(list(1:3, 1:2), cbind(1:2, 0, 0, 0), sup0, FALSE, 1L),
    list(list(NULL), spec1, sup0, FALSE, 1L),
    list(matrix(1, 2, 1), cbind(2, 0, 0, 0), sup0, FALSE, 1L),
    list(matrix(1, 2, 1), cbind(1, NaN, 0, 0), sup0, FALSE, 1L),
    list(matrix(1, 2, 1), cbind(1, 0, 1, 0), sup0, FALSE, 1L),
    list(matrix(1, 2, 1), cbind(1, 0, 1, 0), matrix(c(0, NaN, 1, 0, 0, 0), 1), FALSE, 1L),
    list(matrix(1, 2, 1), spec1, sup0, NA, 1L),
    list(matrix(1, 2, 1), spec1, sup0, FALSE, 0L),
    list(matrix(1, 2, 1), matrix(1L, 1, 4), sup0, FALSE, 1L),
    # groups out of order
    list(matrix(1, 2, 2), cbind(1:2, 0, c(2, 1), 0), rbind(c(0, -Inf, Inf, 0, 0, 0), c(0, -Inf, Inf, 0, 0, 0)),
      FALSE, 1L)
  )
  for (i in seq_along(bad)) {
    expect_error(do.call(scan, bad[[i]]), class = "harmonium_error_native", info = i)
  }
  # Zero rows, zero columns, NA integers: results, not errors.
  z <- scan(matrix(0, 0, 2), cbind(1:2, 0, 0, 1), sup0, TRUE, 2L)
  expect_identical(dim(z$raw), c(0L, 2L))
  expect_true(all(is.nan(z$mean)))
  expect_identical(scan(matrix(0, 5, 0), matrix(0, 0, 4), sup0, FALSE, 1L)$n_bad, 0)
  na <- scan(list(c(1L, NA, 3L), c(NA, TRUE, FALSE)), cbind(1:2, c(1, 0), c(1, 0), 0),
    matrix(c(1, 0, 2, 0, 0, 0), 1), TRUE, 2L)
  expect_identical(na$bad_rows, 1:2)
  expect_identical(is.na(na$raw), cbind(c(FALSE, TRUE, FALSE), c(TRUE, FALSE, FALSE)))
  expect_identical(na$raw[c(1, 3, 5, 6)], c(0, 2, 1, 0))
  expect_error(.Call(hm("C_data_scale"), matrix(1, 2, 2), c(0, 0), c(1, 0), 1L), "`scale`",
    class = "harmonium_error_native")
  expect_error(.Call(hm("C_data_scale"), matrix(1L, 2, 2), c(0, 0), c(1, 1), 1L), "`x`",
    class = "harmonium_error_native")
})
