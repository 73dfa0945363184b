# Sequence data (R/sequences.R): every accepted form normalises to the same
# stacked rows and sequence lengths.

test_that("a vector, a ts, a matrix and a data frame are one sequence", {
  for (d in list(1:5, stats::ts(1:5), matrix(1:5), data.frame(y = 1:5))) {
    s <- as_sequences(d)
    expect_equal(s$lengths, 5L)
    expect_equal(s$start, 0L)
    expect_equal(as.numeric(s$data[[1]]), 1:5)
  }
})

test_that("a list of sequences is stacked in order with its names as ids", {
  s <- as_sequences(list(a = 1:3, b = 4:7))
  expect_equal(s$lengths, c(3L, 4L))
  expect_equal(s$start, c(0L, 3L))
  expect_equal(s$ids, c("a", "b"))
  expect_equal(s$data[[1]], 1:7)
  s2 <- as_sequences(list(matrix(1:6, 3), matrix(7:10, 2)))
  expect_equal(s2$ids, c("1", "2"))
  expect_equal(unname(as.matrix(s2$data)), rbind(matrix(1:6, 3), matrix(7:10, 2)))
})

test_that("a grouping variable splits rows by first appearance, keeping their order", {
  df <- data.frame(y = c(10, 20, 30, 40, 50, 60))
  g <- c("b", "b", "a", "a", "a", "b")
  s <- as_sequences(df, g)
  expect_equal(s$ids, c("b", "a"))
  expect_equal(s$lengths, c(3L, 3L))
  expect_equal(s$data$y, c(10, 20, 60, 30, 40, 50))
})

test_that("malformed sequence data are classed errors naming the argument", {
  expect_error(as_sequences(list(1:3, matrix(1:6, 3))), class = "harmonium_error_data")
  expect_error(as_sequences(list(1:3, 4)), "at least 2", class = "harmonium_error_data")
  expect_error(as_sequences(list()), class = "harmonium_error_data")
  expect_error(as_sequences(data.frame(y = 1:4), c(1, 1, NA, 2)), class = "harmonium_error_data_na")
  expect_error(as_sequences(data.frame(y = 1:4), c(1, 2)), "grouping", class = "harmonium_error_data")
  expect_error(as_sequences(NULL), class = "harmonium_error_data")
})

test_that("sequence_encode keeps missing rows as whole NA rows and validates the rest", {
  fam <- ef_poisson()
  x <- sequence_encode(fam, data.frame(y = c(1, NA, 3)))
  expect_equal(dim(x), c(3L, 1L))
  expect_true(is.na(x[2, 1]))
  expect_equal(x[c(1, 3), 1], c(1, 3))
  expect_error(sequence_encode(fam, data.frame(y = c(1, -2, 3))), class = "harmonium_error")
  expect_error(sequence_encode(fam, data.frame(y = c(NA, NA))), class = "harmonium_error_data_na")
  expect_error(sequence_encode(fam, data.frame(a = 1, b = 2)), class = "harmonium_error_data")
})

test_that("a grouping term in a formula is refused for models of independent rows", {
  df <- data.frame(y = c(1, 2, 3, 4), id = c(1, 1, 2, 2))
  expect_error(fit_lvm(~ y | id, df, mixture(ef_poisson(), 2)), "sequence models",
    class = "harmonium_error_argument")
})
