# Fuzz cases for the tidiers (tidy, glance, augment, as.data.frame of a
# fit), added to fuzz_cases_api() by helper-fuzz-api.R: each on every cheap
# fit of fuzz_fit_exprs(), and their arguments with malformed values.

fuzz_cases_tidy <- function(values) {
  out <- list()
  add <- function(...) out <<- c(out, ...)
  for (key in c("mix", "mixdf", "pois", "fa", "hmog", "mfa", "blgm", "catdir", "hmm", "lds")) {
    add(list(
      fuzz_case(sprintf("tidy(%s)", key), fuzz_with_fit(key, quote(tidy(.f))), expect = "ok"),
      fuzz_case(sprintf("glance(%s)", key), fuzz_with_fit(key, quote(glance(.f))), expect = "ok"),
      fuzz_case(sprintf("augment(%s)", key), fuzz_with_fit(key, quote(augment(.f))), expect = "ok"),
      fuzz_case(sprintf("as.data.frame(%s)", key), fuzz_with_fit(key, quote(as.data.frame(.f))), expect = "ok"),
      fuzz_case(sprintf("tidy(%s): conf.int without vcov", key),
        fuzz_with_fit(key, quote(suppressWarnings(tidy(.f, conf.int = TRUE)))), expect = "ok")
    ))
  }
  nd_bad <- list(
    wrong_cols = quote(X[, 1:2]), zero_cols = quote(X[, 0]), na = quote(replace(X, 2, NA)),
    chr = quote(matrix("a", 2, 3)), list = quote(list(1, 2)), factor = quote(factor(1:3))
  )
  data_bad <- list(short = quote(X[1:5, ]), chr = quote("a"), list = quote(list(1, "a")), fn = quote(function(x) x),
    env = quote(new.env()), empty = quote(X[0, ]))
  seq_nd <- list(
    wrong_cols = quote(X[, 1:2]), zero_len = quote(numeric(0)), na = quote(c(NA, 1, 2)), chr = quote(c("a", "b")),
    list_empty = quote(list()), list_bad = quote(list(1:3, "a")), fn = quote(function(x) x)
  )
  add(
    fuzz_substitute_fit("mix", "tidy(mix)", quote(tidy(.f, conf.int = FALSE)), "conf.int", values),
    fuzz_substitute_fit("mix", "tidy(mix)", quote(tidy(.f, se = FALSE)), "se", values),
    fuzz_substitute_fit("mix", "tidy(mix)", quote(tidy(.f, conf.level = 0.9)), "conf.level",
      values),
    fuzz_substitute_fit("mix", "augment(mix)", quote(augment(.f, newdata = X)), "newdata", c(values, nd_bad)),
    fuzz_substitute_fit("fa", "augment(fa)", quote(augment(.f, newdata = X)), "newdata", nd_bad),
    fuzz_substitute_fit("mix", "augment(mix)", quote(augment(.f, data = X)), "data", c(values, data_bad)),
    fuzz_substitute_fit("hmm", "augment(hmm)", quote(augment(.f, newdata = NULL)), "newdata", seq_nd),
    fuzz_substitute_fit("lds", "augment(lds)", quote(augment(.f, newdata = NULL)), "newdata", seq_nd),
    fuzz_substitute_fit("hmm", "augment(hmm)", quote(augment(.f, data = NULL)), "data", c(values, data_bad)),
    fuzz_substitute_fit("lds", "augment(lds)", quote(augment(.f, data = NULL)), "data", data_bad),
    list(
      fuzz_case("augment(mix): newdata ok", fuzz_with_fit("mix", quote(augment(.f, newdata = X[1:3, ]))), expect = "ok"),
      fuzz_case("augment(mixdf): data ok", fuzz_with_fit("mixdf", quote(augment(.f, data = DF))), expect = "ok"),
      fuzz_case("augment(mix): data and newdata", fuzz_with_fit("mix", quote(augment(.f, data = X, newdata = X)))),
      fuzz_case("augment(hmm): newdata ok", fuzz_with_fit("hmm", quote(augment(.f, newdata = X[1:5, 1]))), expect = "ok"),
      fuzz_case("augment(lds): newdata ok", fuzz_with_fit("lds", quote(augment(.f, newdata = list(X[1:5, 1])))),
        expect = "ok"),
      fuzz_case("tidy: not a fit", quote(harmonium:::tidy.lvm_fit(list()))),
      fuzz_case("glance: not a fit", quote(harmonium:::glance.lvm_fit(1))),
      fuzz_case("augment: not a fit", quote(harmonium:::augment.lvm_fit("a"))),
      fuzz_case("as.data.frame(select) still ok", fuzz_with_fit("sel", quote(as.data.frame(.f))), expect = "ok")
    )
  )
  out
}
