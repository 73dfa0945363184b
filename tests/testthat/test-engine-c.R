# Each C self-test of src/engine/selftest.c as its own test (style.md 3.11).

for (i in seq_along(harmonium:::native_selftest_list())) {
  name <- harmonium:::native_selftest_list()[i]
  test_that(paste("engine:", name), {
    expect_identical(harmonium:::native_selftest_run(i - 1L), "")
  })
}

test_that("the bench hook times the gemm kernel on the product it checks", {
  # bench/bench-mixture.R divides flop counts by this rate. Odd sizes reach
  # the kernel's edge tiles; the two checked entries of C must match plain
  # dot products, and the rate must count 2 m k n flops per product.
  r <- .Call(harmonium:::C_bench_gemm_rate, c(37L, 53L, 11L), 0.02, 2L)
  expect_named(r, c("gflops", "threads", "seconds", "reps", "rel_error"))
  expect_lt(r[["rel_error"]], 1e-13)
  expect_true(r[["threads"]] %in% c(1, 2))
  expect_gte(r[["reps"]], 1)
  expect_equal(r[["gflops"]], 2 * 37 * 53 * 11 * r[["reps"]] * r[["threads"]] / r[["seconds"]] / 1e9,
    tolerance = 1e-12)
  expect_error(.Call(harmonium:::C_bench_gemm_rate, c(37L, 53L, 11L), 60, 1L), "`seconds`",
    class = "harmonium_error_native")
  expect_error(.Call(harmonium:::C_bench_gemm_rate, c(0L, 53L, 11L), 0.02, 1L), "`shape`",
    class = "harmonium_error_native")
})
