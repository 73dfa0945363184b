# Each C self-test of src/engine/selftest.c as its own test (style.md 3.11).

for (i in seq_along(harmonium:::native_selftest_list())) {
  name <- harmonium:::native_selftest_list()[i]
  test_that(paste("engine:", name), {
    expect_identical(harmonium:::native_selftest_run(i - 1L), "")
  })
}
