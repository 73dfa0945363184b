# The README's main job (tools/demo.R): a real fit on a built-in data set,
# its summary printed and its plots written. Run from the source tree only.
test_that("the README's demo runs, prints the best fit's summary and writes its plot", {
  demo <- normalizePath(file.path("..", "..", "tools", "demo.R"), mustWork = FALSE)
  skip_if_not(file.exists(demo), "not in the source tree")
  dir <- tempfile("hm-demo-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  old <- setwd(dir)
  on.exit(setwd(old), add = TRUE, after = FALSE)
  out <- capture.output(sys.source(demo, envir = new.env(parent = globalenv())))
  expect_true(any(grepl("Best by BIC: k = 2", out, fixed = TRUE)), info = paste(out, collapse = "\n"))
  expect_true(any(grepl("Model: mixture of 2 Normal(2, full covariance)", out, fixed = TRUE)),
    info = paste(out, collapse = "\n"))
  png <- file.path(dir, "demo-output", "faithful-mixture.png")
  expect_true(file.exists(png))
  expect_gt(file.size(png), 10000)
})
