# Fuzz cases for the exported R interface (issue 9), for fuzz_run() of
# helper-fuzz.R. Every export and every S3 method on fits is called with
# malformed arguments (fuzz_bad_values() in one slot at a time) and with
# malformed data for each family (out-of-support values, wrong columns,
# zero and one row, k > n, constant and duplicated rows, unseen levels).
#
# Cases that need a fit get it from a cache in the child's global
# environment (.fz_<key>), built on first use from a cheap fit (small data,
# few iterations), so that the method cases cost a call each.
#
# fuzz_cases_api("ci") is the deterministic set run by test-fuzz.R;
# fuzz_cases_api("full") adds every bad value in every slot and random
# combinations of bad arguments from a seeded generator (tools/fuzz.R).

# How many bad values each argument slot gets: all in level "full"; in
# level "ci" a few, rotating with the slot's name so that across slots every
# kind of bad value is used (set by fuzz_cases_api()).
fuzz_level <- new.env()
fuzz_level$per_slot <- Inf

# `n` of `values`, starting at an offset derived from `key`.
fuzz_pick <- function(values, key, n = fuzz_level$per_slot) {
  if (n >= length(values)) return(values)
  start <- sum(utf8ToInt(key)) %% length(values)
  values[(start + seq_len(n) - 1L) %% length(values) + 1L]
}

# The cheap fits the method cases use, by key: quoted expressions building
# them from the fixtures X (40 x 3 numeric), XC (20 x 3 counts) and DF
# (x numeric, g a factor with levels a, b, c).
fuzz_fit_exprs <- function() {
  ctl <- quote(lvm_control(maxit = 5L, tol = 1e-4))
  list(
    mix = bquote(fit_lvm(mixture(ef_normal(3), 2), X, control = .(ctl))),
    mixdf = bquote(fit_lvm(mixture(ef_product(ef_normal(1), ef_categorical(3)), 2), DF, control = .(ctl))),
    pois = bquote(fit_lvm(mixture(ef_poisson(3), 2), XC, control = .(ctl))),
    fa = bquote(fit_lvm(factor_analysis(3, 1), X, control = .(ctl))),
    hmog = bquote(fit_lvm(hmog(3, 1, 2), X, control = .(ctl))),
    mfa = bquote(fit_lvm(mfa(3, 1, 2), X, control = .(ctl))),
    blgm = bquote(fit_lvm(boltzmann_lgm(ef_normal(3), 2), X, control = .(ctl))),
    catdir = quote(with_params(harmonium(ef_categorical(c("a", "b", "c")), ef_dirichlet(3)),
      list(alpha = c(a = 1, b = 1, c = 1)), data = DF$g)),
    hmm = bquote(fit_lvm(hmm(ef_normal(1), 2), list(X[1:20, 1], X[21:40, 1]), control = .(ctl))),
    lds = bquote(fit_lvm(lds(1, 1), list(X[1:20, 1], X[21:40, 1]), control = .(ctl))),
    sel = quote(suppressWarnings(select_k(ef_normal(3), X, k = 1:2, control = lvm_control(maxit = 5L))))
  )
}

# `call` evaluated with the fit `key` bound to `.f`: the fit is built once
# per child session and kept as .fz_<key>.
fuzz_with_fit <- function(key, call) {
  var <- paste0(".fz_", key)
  build <- fuzz_fit_exprs()[[key]]
  bquote({
    if (!exists(.(var), envir = globalenv(), inherits = FALSE)) {
      assign(.(var), suppressWarnings(.(build)), envir = globalenv())
    }
    .f <- get(.(var), envir = globalenv())
    .(call)
  })
}

# Substitution cases on a call that uses the fit `key` (as `.f`).
fuzz_substitute_fit <- function(key, name, call, arg, values) {
  call <- fuzz_named(call)
  values <- fuzz_pick(values, paste(name, arg))
  lapply(fuzz_substitute(name, call, arg, values), function(cs) {
    cs$expr <- fuzz_with_fit(key, cs$expr)
    cs$arg <- arg
    cs
  })
}

fuzz_case <- function(name, expr, expect = NULL) {
  cs <- list(name = name, expr = expr)
  if (!is.null(expect)) cs$expect <- expect
  cs
}

# `call` with its arguments named (fuzz_substitute() replaces a slot by
# name), matched against the package's function of that name.
fuzz_named <- function(call) {
  fn <- get0(as.character(call[[1]]), envir = asNamespace("harmonium"), mode = "function")
  if (is.null(fn)) call else match.call(fn, call, expand.dots = TRUE)
}

# Substitution cases for each of `args` of `call`, marked with the argument
# (numeric positions are not marked: they are unnamed `...` slots).
fuzz_slots <- function(name, call, args, values) {
  if (is.character(args)) call <- fuzz_named(call)
  out <- list()
  for (a in args) {
    out <- c(out, lapply(fuzz_substitute(name, call, a, fuzz_pick(values, paste(name, a))), function(cs) {
      cs$arg <- a
      cs
    }))
  }
  out
}

# --- constructors --------------------------------------------------------------

fuzz_cases_constructors <- function(values) {
  c(
    fuzz_slots("ef_normal", quote(ef_normal(2, "full")), c("dim", "covariance"), values),
    fuzz_slots("ef_categorical", quote(ef_categorical(3)), "levels", values),
    fuzz_slots("ef_bernoulli", quote(ef_bernoulli(2)), "dim", values),
    fuzz_slots("ef_binomial", quote(ef_binomial(5, 2)), c("trials", "dim"), values),
    fuzz_slots("ef_poisson", quote(ef_poisson(2)), "dim", values),
    fuzz_slots("ef_von_mises", quote(ef_von_mises(2)), "dim", values),
    fuzz_slots("ef_com_poisson", quote(ef_com_poisson(2)), "dim", values),
    fuzz_slots("ef_dirichlet", quote(ef_dirichlet(3)), "dim", values),
    fuzz_slots("ef_gamma", quote(ef_gamma(2)), "dim", values),
    fuzz_slots("ef_boltzmann", quote(ef_boltzmann(3)), "dim", values),
    fuzz_slots("ef_product", quote(ef_product(ef_normal(1), ef_poisson(1))), 2L, values),
    fuzz_slots("mixture", quote(mixture(ef_normal(2), 2)), c("component", "k"), values),
    fuzz_slots("mixture(model)", quote(mixture(factor_analysis(3, 1), 2)), "k", values),
    fuzz_slots("factor_analysis", quote(factor_analysis(3, 1)), c("dim", "factors"), values),
    fuzz_slots("ppca", quote(ppca(3, 1)), c("dim", "components"), values),
    fuzz_slots("lgm", quote(lgm(ef_normal(3), 1, "full")), c("observable", "latent_dim", "posterior"), values),
    fuzz_slots("hmog", quote(hmog(3, 1, 2, "diagonal", "full")),
      c("dim", "latent_dim", "k", "covariance", "posterior"), values),
    fuzz_slots("mfa", quote(mfa(3, 1, 2)), c("dim", "factors", "k"), values),
    fuzz_slots("harmonium", quote(harmonium(ef_normal(3, "diagonal"), ef_normal(1))),
      c("observable", "latent"), values),
    fuzz_slots("boltzmann_lgm", quote(boltzmann_lgm(ef_normal(3), 2, "exact")),
      c("observable", "units", "posterior"), values),
    fuzz_slots("hmm", quote(hmm(ef_normal(1), 2, "free")), c("emission", "states", "initial"), values),
    fuzz_slots("lds", quote(lds(1, 1, list())), c("dim", "state_dim", "fixed"), values),
    fuzz_slots("lds(fixed)", quote(lds(1, 1, fixed = list(transition = 0.5))), "fixed", list(
      unnamed = quote(list(1)), unknown = quote(list(foo = 1)), transition_chr = quote(list(transition = "a")),
      transition_na = quote(list(transition = NA)), transition_wrong_dim = quote(list(transition = diag(2))),
      cov_neg = quote(list(state_cov = -1)), cov_type = quote(list(state_cov = "banana")),
      cov_list = quote(list(observation_cov = list(1))), twice = quote(list(transition = 1, transition = 1))
    )),
    fuzz_slots("exactness", quote(exactness(mixture(ef_normal(1), 2))), "model", values),
    list(
      fuzz_case("ef_categorical: duplicated levels", quote(ef_categorical(c("a", "a")))),
      fuzz_case("ef_categorical: one level", quote(ef_categorical("a"))),
      fuzz_case("ef_categorical: NA level", quote(ef_categorical(c("a", NA)))),
      fuzz_case("ef_categorical: empty level name", quote(ef_categorical(c("a", "")))),
      fuzz_case("ef_categorical: huge", quote(ef_categorical(1e7))),
      fuzz_case("ef_normal: huge dim", quote(ef_normal(1e5))),
      fuzz_case("ef_boltzmann: huge dim", quote(ef_boltzmann(1e4))),
      fuzz_case("ef_product: nothing", quote(ef_product())),
      fuzz_case("ef_product: nested list of non-families", quote(ef_product(list(1, 2)))),
      fuzz_case("ef_product: empty list", quote(ef_product(list()))),
      fuzz_case("ef_product: one list of families", quote(ef_product(list(ef_normal(1), ef_poisson(1)))),
        expect = "ok"),
      fuzz_case("ef_product: a product inside", quote(ef_product(ef_product(ef_normal(1), ef_poisson(1)), ef_gamma()))),
      fuzz_case("ef_product: model inside", quote(ef_product(ef_normal(1), mixture(ef_normal(1), 2)))),
      fuzz_case("harmonium: categorical-dirichlet wrong k", quote(harmonium(ef_categorical(3), ef_dirichlet(2)))),
      fuzz_case("harmonium: unsupported pair", quote(harmonium(ef_poisson(2), ef_gamma(1)))),
      fuzz_case("harmonium: latent model not a mixture", quote(harmonium(ef_normal(3), factor_analysis(2, 1)))),
      fuzz_case("harmonium: latent normal diagonal", quote(harmonium(ef_normal(3), ef_normal(1, "diagonal")))),
      fuzz_case("lgm: latent_dim = dim", quote(lgm(ef_normal(3), 3))),
      fuzz_case("lgm: non-normal observable", quote(lgm(ef_poisson(3), 1))),
      fuzz_case("boltzmann_lgm: too many units", quote(boltzmann_lgm(ef_normal(3), 25))),
      fuzz_case("hmm: emission a mixture", quote(hmm(mixture(ef_normal(1), 2), 2))),
      fuzz_case("hmm: emission hmm", quote(hmm(hmm(ef_normal(1), 2), 2))),
      fuzz_case("mixture: of a sequence model", quote(mixture(hmm(ef_normal(1), 2), 2))),
      fuzz_case("mixture: of an lds", quote(mixture(lds(1, 1), 2))),
      fuzz_case("exactness: a fit", fuzz_with_fit("mix", quote(exactness(.f))), expect = "ok")
    )
  )
}

# --- control, fitting -------------------------------------------------------

fuzz_cases_control <- function(values) {
  fuzz_slots("lvm_control", quote(lvm_control(1e-8, 100, 1, NULL, NULL, FALSE, 0, "lbfgs", 0.01, 0)),
    c("tol", "maxit", "n_init", "seed", "threads", "trace", "reg", "optimizer", "lr", "cd_k"), values)
}

fuzz_cases_chunks <- function(values) {
  ctl <- quote(lvm_control(maxit = 3L))
  src <- quote(lvm_chunks(list(X[1:20, ], X[21:40, ])))
  chunk_fit <- bquote(fit_lvm(mixture(ef_normal(3), 2), .(src), NULL, "auto", .(ctl), NULL, "fail"))
  c(
    fuzz_slots("lvm_chunks", quote(lvm_chunks(list(X[1:20, ], X[21:40, ]))), "source", values),
    fuzz_slots("lvm_chunks(function)", quote(lvm_chunks(function(i) X, n = 2)), "n", values),
    fuzz_slots("fit_lvm(chunks)", chunk_fit, c("model", "init", "method", "control", "weights", "na_action"), values),
    list(
      fuzz_case("fit_lvm(chunks): ok", chunk_fit, expect = "ok"),
      fuzz_case("lvm_chunks: chunks of other widths", quote(lvm_chunks(list(X[1:20, ], X[21:40, 1:2])))),
      fuzz_case("lvm_chunks: missing file", quote(lvm_chunks(c("no-such-file.csv")))),
      fuzz_case("fit_lvm(chunks): a reader that returns a list",
        quote(fit_lvm(mixture(ef_normal(3), 2), lvm_chunks(function(i) list(1), n = 2)))),
      fuzz_case("fit_lvm(chunks): a reader that fails",
        quote(fit_lvm(mixture(ef_normal(3), 2), lvm_chunks(function(i) stop("no"), n = 2)))),
      fuzz_case("fit_lvm(chunks): an empty chunk only", quote(fit_lvm(mixture(ef_normal(3), 2), lvm_chunks(list(X[0, ]))))),
      fuzz_case("fit_lvm(chunks): NA rows", quote(fit_lvm(mixture(ef_normal(3), 2),
        lvm_chunks(list(X[1:20, ], rbind(X[21:40, ], NA)))))),
      fuzz_case("fit_lvm(chunks): a sequence model", quote(fit_lvm(hmm(ef_normal(3), 2), lvm_chunks(list(X)),
        control = lvm_control(maxit = 3)))),
      fuzz_case("fit_lvm(chunks): an LDS", quote(fit_lvm(lds(1, 1), lvm_chunks(list(X[, 1, drop = FALSE]))))),
      fuzz_case("predict(chunks): bad `to`", bquote(predict(fit_lvm(mixture(ef_normal(3), 2), .(src),
        control = .(ctl)), to = 1)))
    )
  )
}

fuzz_cases_fit <- function(values) {
  ctl <- quote(lvm_control(maxit = 3L))
  fit_call <- bquote(fit_lvm(mixture(ef_normal(3), 2), X, NULL, "auto", .(ctl), NULL, "fail"))
  seq_call <- bquote(fit_lvm(hmm(ef_normal(1), 2), list(X[1:20, 1], X[21:40, 1]), NULL, "auto", .(ctl), NULL))
  lds_call <- bquote(fit_lvm(lds(1, 1), list(X[1:20, 1], X[21:40, 1]), NULL, "auto", .(ctl), NULL))
  fml <- bquote(fit_lvm(~ x + g, DF, mixture(ef_product(ef_normal(1), ef_categorical(3)), 2), control = .(ctl)))
  c(
    fuzz_slots("fit_lvm", fit_call, c("model", "data", "init", "method", "control", "weights", "na_action"), values),
    fuzz_slots("fit_lvm(hmm)", seq_call, c("data", "init", "method", "control", "weights"), values),
    fuzz_slots("fit_lvm(lds)", lds_call, c("data", "init", "weights"), values),
    fuzz_slots("fit_lvm(formula)", fml, 4L, values),
    list(
      fuzz_case("fit_lvm: matrix ok", fit_call, expect = "ok"),
      fuzz_case("fit_lvm: formula ok", fml, expect = "ok"),
      fuzz_case("fit_lvm(formula): unknown column", bquote(fit_lvm(~ x + nope, DF, mixture(ef_normal(2), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): data a matrix", bquote(fit_lvm(~ a, X, mixture(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): data a list", bquote(fit_lvm(~ a, list(a = 1:5), mixture(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): no model", bquote(fit_lvm(~ x, DF))),
      fuzz_case("fit_lvm(formula): model second", bquote(fit_lvm(mixture(ef_normal(1), 2), ~ x, DF, control = .(ctl)))),
      fuzz_case("fit_lvm(formula): grouping for a mixture", bquote(fit_lvm(~ x | g, DF, mixture(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): two-sided", bquote(fit_lvm(x ~ g, DF, mixture(ef_categorical(3), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): empty rhs", bquote(fit_lvm(~ 1, DF, mixture(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): expression term", bquote(fit_lvm(~ log(x), DF, mixture(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): dot", bquote(fit_lvm(~ ., DF, mixture(ef_product(ef_normal(1), ef_categorical(3)), 2), control = .(ctl))),
        expect = "ok"),
      fuzz_case("fit_lvm(formula): bad grouping", bquote(fit_lvm(~ x | nope, DF, hmm(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): two grouping vars", bquote(fit_lvm(~ x | g + x, DF, hmm(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): grouping with NA",
        bquote(fit_lvm(~ x | g, transform(DF, g = replace(g, 3, NA)), hmm(ef_normal(1), 2), control = .(ctl)))),
      fuzz_case("fit_lvm(formula): hmm grouped ok", bquote(fit_lvm(~ x | g, DF, hmm(ef_normal(1), 2), control = .(ctl))),
        expect = "ok"),
      fuzz_case("fit_lvm: k > n", bquote(fit_lvm(mixture(ef_normal(3), 5), X[1:3, ], control = .(ctl)))),
      fuzz_case("fit_lvm: zero rows", bquote(fit_lvm(mixture(ef_normal(3), 2), X[0, ], control = .(ctl)))),
      fuzz_case("fit_lvm: one row", bquote(fit_lvm(mixture(ef_normal(3), 1), X[1, , drop = FALSE], control = .(ctl)))),
      fuzz_case("fit_lvm: one row, k = 2", bquote(fit_lvm(mixture(ef_normal(3), 2), X[1, , drop = FALSE], control = .(ctl)))),
      fuzz_case("fit_lvm: wrong column count", bquote(fit_lvm(mixture(ef_normal(3), 2), X[, 1:2], control = .(ctl)))),
      fuzz_case("fit_lvm: constant columns", bquote(fit_lvm(mixture(ef_normal(3), 2), matrix(1, 20, 3), control = .(ctl)))),
      fuzz_case("fit_lvm: one constant column", bquote(fit_lvm(mixture(ef_normal(3), 2), cbind(X[, 1:2], 5), control = .(ctl)))),
      fuzz_case("fit_lvm: duplicated rows", bquote(fit_lvm(mixture(ef_normal(3), 2), X[rep(1:3, 10), ], control = .(ctl)))),
      fuzz_case("fit_lvm: NA in data", bquote(fit_lvm(mixture(ef_normal(3), 2), replace(X, 5, NA), control = .(ctl)))),
      fuzz_case("fit_lvm: NA omitted", bquote(fit_lvm(mixture(ef_normal(3), 2), replace(X, 5, NA), control = .(ctl), na_action = "omit")),
        expect = "ok"),
      fuzz_case("fit_lvm: all NA omitted", bquote(fit_lvm(mixture(ef_normal(3), 2), X * NA, control = .(ctl), na_action = "omit"))),
      fuzz_case("fit_lvm: Inf in data", bquote(fit_lvm(mixture(ef_normal(3), 2), replace(X, 5, Inf), control = .(ctl)))),
      fuzz_case("fit_lvm: character matrix", bquote(fit_lvm(mixture(ef_normal(3), 2), matrix("a", 10, 3), control = .(ctl)))),
      fuzz_case("fit_lvm: complex matrix", bquote(fit_lvm(mixture(ef_normal(3), 2), X + 0i, control = .(ctl)))),
      fuzz_case("fit_lvm: list column", bquote(fit_lvm(mixture(ef_normal(1), 2), data.frame(x = I(as.list(1:10))), control = .(ctl)))),
      fuzz_case("fit_lvm: character data frame", bquote(fit_lvm(mixture(ef_normal(1), 2), data.frame(x = letters), control = .(ctl)))),
      fuzz_case("fit_lvm: Date column", bquote(fit_lvm(mixture(ef_normal(1), 2), data.frame(x = Sys.Date() + 1:10), control = .(ctl)))),
      fuzz_case("fit_lvm: array data", bquote(fit_lvm(mixture(ef_normal(3), 2), array(1, c(4, 3, 2)), control = .(ctl)))),
      fuzz_case("fit_lvm: huge values", bquote(fit_lvm(mixture(ef_normal(3), 2), X * 1e300, control = .(ctl)))),
      fuzz_case("fit_lvm: tiny values", bquote(fit_lvm(mixture(ef_normal(3), 2), X * 1e-300, control = .(ctl)))),
      fuzz_case("fit_lvm: weights all zero", bquote(fit_lvm(mixture(ef_normal(3), 2), X, weights = rep(0, 40), control = .(ctl)))),
      fuzz_case("fit_lvm: weights negative", bquote(fit_lvm(mixture(ef_normal(3), 2), X, weights = c(-1, rep(1, 39)), control = .(ctl)))),
      fuzz_case("fit_lvm: init labels wrong length", bquote(fit_lvm(mixture(ef_normal(3), 2), X, init = c(1, 2), control = .(ctl)))),
      fuzz_case("fit_lvm: init labels out of range", bquote(fit_lvm(mixture(ef_normal(3), 2), X, init = rep(1:3, length.out = 40), control = .(ctl)))),
      fuzz_case("fit_lvm: init labels with NA", bquote(fit_lvm(mixture(ef_normal(3), 2), X, init = c(NA, rep(1:2, length.out = 39)), control = .(ctl)))),
      fuzz_case("fit_lvm: init labels one class", bquote(fit_lvm(mixture(ef_normal(3), 2), X, init = rep(1L, 40), control = .(ctl)))),
      fuzz_case("fit_lvm: init params missing element", bquote(fit_lvm(mixture(ef_normal(3), 2), X, init = list(weights = c(0.5, 0.5)), control = .(ctl)))),
      fuzz_case("fit_lvm: init fit of another model", fuzz_with_fit("pois", bquote(fit_lvm(mixture(ef_normal(3), 2), X, init = .f, control = .(ctl))))),
      fuzz_case("fit_lvm: init fit ok", fuzz_with_fit("mix", bquote(fit_lvm(mixture(ef_normal(3), 2), X, init = .f, control = .(ctl)))), expect = "ok"),
      fuzz_case("fit_lvm: gradient for a closed model", bquote(fit_lvm(mixture(ef_poisson(3), 2), XC, method = "gradient", control = .(ctl)))),
      fuzz_case("fit_lvm: hmm with na_action omit", bquote(fit_lvm(hmm(ef_normal(1), 2), X[, 1], na_action = "omit", control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): sequence of length 1", bquote(fit_lvm(hmm(ef_normal(1), 2), list(1, X[, 1]), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): empty list", bquote(fit_lvm(hmm(ef_normal(1), 2), list(), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): sequences of different columns", bquote(fit_lvm(hmm(ef_normal(1), 2), list(X[, 1], X[, 1:2]), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): all NA", bquote(fit_lvm(hmm(ef_normal(1), 2), rep(NA_real_, 10), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): some NA ok", bquote(fit_lvm(hmm(ef_normal(1), 2), replace(X[, 1], 3, NA), control = .(ctl))), expect = "ok"),
      fuzz_case("fit_lvm(hmm): list with NULL", bquote(fit_lvm(hmm(ef_normal(1), 2), list(X[, 1], NULL), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): list of lists", bquote(fit_lvm(hmm(ef_normal(1), 2), list(list(1, 2), X[, 1]), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): ts ok", bquote(fit_lvm(hmm(ef_normal(1), 2), ts(X[, 1]), control = .(ctl))), expect = "ok"),
      fuzz_case("fit_lvm(hmm): states > points", bquote(fit_lvm(hmm(ef_normal(1), 5), X[1:3, 1], control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): constant", bquote(fit_lvm(hmm(ef_normal(1), 2), rep(1, 20), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): init bad labels", bquote(fit_lvm(hmm(ef_normal(1), 2), X[, 1], init = rep(5L, 40), control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): weights wrong length", bquote(fit_lvm(hmm(ef_normal(1), 2), list(X[1:20, 1], X[21:40, 1]), weights = 1:3, control = .(ctl)))),
      fuzz_case("fit_lvm(hmm): poisson negative", bquote(fit_lvm(hmm(ef_poisson(1), 2), c(-1, XC[, 1]), control = .(ctl)))),
      fuzz_case("fit_lvm(lds): wrong columns", bquote(fit_lvm(lds(2, 1), X[, 1], control = .(ctl)))),
      fuzz_case("fit_lvm(lds): constant", bquote(fit_lvm(lds(1, 1), rep(1, 20), control = .(ctl)))),
      fuzz_case("fit_lvm(lds): factor data", bquote(fit_lvm(lds(1, 1), DF$g, control = .(ctl)))),
      fuzz_case("fit_lvm(lds): Inf", bquote(fit_lvm(lds(1, 1), replace(X[, 1], 2, Inf), control = .(ctl)))),
      fuzz_case("fit_lvm(lds): gradient", bquote(fit_lvm(lds(1, 1), X[, 1], method = "gradient", control = .(ctl)))),
      fuzz_case("fit_lvm(lds): fixed everything", bquote(fit_lvm(lds(1, 1, fixed = list(transition = 1, observation = 1,
        transition_offset = 0, observation_offset = 0, initial_mean = 0, initial_cov = 1, state_cov = 1,
        observation_cov = 1)), X[, 1], control = .(ctl))))
    )
  )
}

# --- data-level cases per family -------------------------------------------------

# For each family: a model and data that violate its support. The data are
# used by fit_lvm() on a mixture, ef_fit() and ef_log_density().
fuzz_family_data <- function() {
  list(
    normal = list(fam = quote(ef_normal(2)), params = quote(list(mean = c(0, 0), cov = diag(2))), bad = list(
      wrong_cols = quote(X), factor = quote(data.frame(a = DF$g, b = DF$g)), nan = quote(cbind(c(NaN, 1:9), 1:10)),
      constant = quote(matrix(2, 10, 2)), char = quote(cbind(letters[1:5], letters[1:5])))),
    diagonal = list(fam = quote(ef_normal(2, "diagonal")), params = quote(list(mean = c(0, 0), cov = diag(2))), bad = list(
      constant = quote(matrix(2, 10, 2)), collinear = quote(cbind(1:10, 2 * (1:10))))),
    poisson = list(fam = quote(ef_poisson(1)), params = quote(list(rate = 2)), bad = list(
      negative = quote(c(-1, 2, 3, 4)), fraction = quote(c(0.5, 2, 3)), zeros = quote(rep(0, 10)),
      huge = quote(c(1e300, 1, 2)), logical = quote(c(TRUE, FALSE, TRUE)), factor = quote(factor(c(1, 2, 3))))),
    categorical = list(fam = quote(ef_categorical(3)), params = quote(list(prob = c(0.2, 0.3, 0.5))), bad = list(
      out_of_range = quote(c(1, 2, 4)), zero_code = quote(c(0, 1, 2)), fraction = quote(c(1.5, 2, 3)),
      unseen_level = quote(factor(c("a", "b", "z", "q"))), negative = quote(c(-1, 1, 2)),
      chr = quote(c("a", "b", "c", "d")), one_level = quote(factor(rep("a", 5))))),
    categorical_named = list(fam = quote(ef_categorical(c("a", "b", "c"))), params = quote(list(prob = c(a = 0.2, b = 0.3, c = 0.5))),
      bad = list(unseen_level = quote(factor(c("a", "b", "z"))), codes = quote(c(1, 2, 3)), empty_str = quote(c("a", "")))),
    bernoulli = list(fam = quote(ef_bernoulli(1)), params = quote(list(prob = 0.3)), bad = list(
      two = quote(c(0, 1, 2)), negative = quote(c(0, -1, 1)), fraction = quote(c(0.5, 1, 0)), all_zero = quote(rep(0, 10)),
      chr = quote(c("yes", "no")))),
    binomial = list(fam = quote(ef_binomial(5)), params = quote(list(prob = 0.3)), bad = list(
      above_trials = quote(c(1, 6, 2)), negative = quote(c(-1, 2, 3)), fraction = quote(c(2.5, 1, 3)), all_trials = quote(rep(5, 10)))),
    von_mises = list(fam = quote(ef_von_mises(1)), params = quote(list(mean = 0, kappa = 1)), bad = list(
      huge_angle = quote(c(1e10, 1, 2)), inf = quote(c(Inf, 1, 2)), constant = quote(rep(1, 10)), degrees = quote(c(0, 90, 180, 270)))),
    com_poisson = list(fam = quote(ef_com_poisson(1)), params = quote(list(mode = 2, nu = 1)), bad = list(
      negative = quote(c(-1, 2, 3)), fraction = quote(c(0.5, 2, 3)), zeros = quote(rep(0, 10)), huge = quote(c(1e9, 1, 2)))),
    gamma = list(fam = quote(ef_gamma(1)), params = quote(list(shape = 2, rate = 1)), bad = list(
      zero = quote(c(0, 1, 2)), negative = quote(c(-1, 1, 2)), constant = quote(rep(3, 10)), tiny = quote(c(1e-320, 1, 2)))),
    dirichlet = list(fam = quote(ef_dirichlet(3)), params = quote(list(alpha = c(1, 2, 3))), bad = list(
      not_simplex = quote(matrix(c(0.5, 0.5, 0.5, 0.2, 0.2, 0.2), 2, byrow = TRUE)),
      zero = quote(matrix(c(0, 0.5, 0.5, 0.2, 0.3, 0.5), 2, byrow = TRUE)),
      negative = quote(matrix(c(-0.1, 0.6, 0.5, 0.2, 0.3, 0.5), 2, byrow = TRUE)),
      wrong_cols = quote(matrix(c(0.5, 0.5, 0.2, 0.8), 2, byrow = TRUE)),
      constant = quote(matrix(1 / 3, 5, 3)))),
    boltzmann = list(fam = quote(ef_boltzmann(2)), params = quote(list(bias = c(0, 0), coupling = matrix(c(0, 0.5, 0.5, 0), 2))),
      bad = list(two = quote(cbind(c(0, 1, 2), c(0, 1, 1))), negative = quote(cbind(c(0, -1), c(0, 1))),
        fraction = quote(cbind(c(0, 0.5), c(1, 1))), constant = quote(matrix(1, 10, 2)))),
    product = list(fam = quote(ef_product(ef_normal(1), ef_categorical(3))),
      params = quote(list(list(mean = 0, cov = matrix(1)), list(prob = c(0.2, 0.3, 0.5)))), bad = list(
        swapped = quote(DF[, 2:1]), unseen_level = quote(data.frame(x = 1:4, g = factor(c("a", "b", "c", "d")))),
        one_col = quote(DF[, 1, drop = FALSE]), na_level = quote(data.frame(x = 1:3, g = factor(c("a", NA, "b"))))))
  )
}

fuzz_cases_family_data <- function() {
  out <- list()
  ctl <- quote(lvm_control(maxit = 3L))
  for (nm in names(fuzz_family_data())) {
    f <- fuzz_family_data()[[nm]]
    for (b in names(f$bad)) {
      x <- f$bad[[b]]
      out <- c(out, fuzz_pick(list(
        fuzz_case(sprintf("ef_fit(%s): data %s", nm, b), bquote(ef_fit(.(f$fam), .(x)))),
        fuzz_case(sprintf("ef_log_density(%s): x %s", nm, b), bquote(ef_log_density(.(f$fam), .(f$params), .(x)))),
        fuzz_case(sprintf("fit_lvm(mixture of %s): data %s", nm, b), bquote(fit_lvm(mixture(.(f$fam), 2), .(x), control = .(ctl)))),
        fuzz_case(sprintf("with_params(mixture of %s): data %s", nm, b), bquote(with_params(mixture(.(f$fam), 1),
          list(weights = 1, components = list(.(f$params))), data = .(x))))
      ), paste(nm, b), n = if (is.finite(fuzz_level$per_slot)) 1L else Inf))
    }
    # The family-level functions with malformed arguments.
    params_bad <- list(
      `NULL` = quote(NULL), `NA` = quote(NA), empty = quote(list()), unnamed = quote(list(1, 2)),
      string = quote("a"), wrong_len = lapply(eval(f$params), function(v) c(v, v)),
      nan = rapply(eval(f$params), function(v) v * NaN, how = "replace"),
      inf = rapply(eval(f$params), function(v) v + Inf, how = "replace"),
      negative = rapply(eval(f$params), function(v) -abs(v) - 1, how = "replace"),
      zero = rapply(eval(f$params), function(v) v * 0, how = "replace"),
      chr = rapply(eval(f$params), function(v) as.character(v), how = "replace")
    )
    # In level "ci" two of the four functions per family, rotating.
    by_fn <- list(
      fuzz_slots(sprintf("ef_log_density(%s)", nm), bquote(ef_log_density(.(f$fam), .(f$params), X[, 1])), "params",
        fuzz_pick(params_bad, nm)),
      fuzz_slots(sprintf("ef_sample(%s)", nm), bquote(ef_sample(.(f$fam), .(f$params), 3)), "params",
        fuzz_pick(params_bad, paste0(nm, "s"))),
      fuzz_slots(sprintf("to_natural(%s)", nm), bquote(to_natural(.(f$fam), .(f$params))), "params",
        fuzz_pick(params_bad, paste0(nm, "n"))),
      fuzz_slots(sprintf("to_mean(%s)", nm), bquote(to_mean(.(f$fam), .(f$params))), "params",
        fuzz_pick(params_bad, paste0(nm, "m")))
    )
    out <- c(out,
      do.call(c, fuzz_pick(by_fn, nm, n = if (is.finite(fuzz_level$per_slot)) 2L else Inf)),
      list(fuzz_case(sprintf("ef_sample(%s): ok", nm), bquote(ef_sample(.(f$fam), .(f$params), 3)), expect = "ok")),
      fuzz_pick(list(
        fuzz_case(sprintf("to_source(%s): round trip", nm), bquote(to_source(.(f$fam), to_natural(.(f$fam), .(f$params)))),
          expect = "ok"),
        fuzz_case(sprintf("to_source(%s): theta NaN", nm), bquote(to_source(.(f$fam), to_natural(.(f$fam), .(f$params)) * NaN))),
        fuzz_case(sprintf("to_source(%s): theta huge", nm), bquote(to_source(.(f$fam), to_natural(.(f$fam), .(f$params)) * 1e300))),
        fuzz_case(sprintf("to_source(%s): theta -huge", nm), bquote(to_source(.(f$fam), to_natural(.(f$fam), .(f$params)) * -1e300))),
        fuzz_case(sprintf("ef_fit(%s): one row", nm), bquote(ef_fit(.(f$fam), ef_sample(.(f$fam), .(f$params), 1)))),
        fuzz_case(sprintf("ef_fit(%s): zero rows", nm), bquote(ef_fit(.(f$fam), ef_sample(.(f$fam), .(f$params), 3)[0, , drop = FALSE])))
      ), nm, n = min(2, fuzz_level$per_slot))
    )
  }
  out
}

fuzz_cases_family_fns <- function(values) {
  c(
    fuzz_slots("ef_fit", quote(ef_fit(ef_normal(1), X[, 1], NULL)), c("family", "data", "weights"), values),
    fuzz_slots("ef_log_density", quote(ef_log_density(ef_normal(1), list(mean = 0, cov = matrix(1)), X[, 1])),
      c("family", "params", "x"), values),
    fuzz_slots("ef_sample", quote(ef_sample(ef_normal(1), list(mean = 0, cov = matrix(1)), 3)),
      c("family", "params", "n"), values),
    fuzz_slots("to_natural", quote(to_natural(ef_normal(1), list(mean = 0, cov = matrix(1)))), c("family", "params"), values),
    fuzz_slots("to_mean", quote(to_mean(ef_normal(1), list(mean = 0, cov = matrix(1)))), c("family", "params"), values),
    fuzz_slots("to_source", quote(to_source(ef_normal(1), c(0, -0.5))), c("family", "theta"), values),
    fuzz_slots("to_natural(model)", quote(to_natural(mixture(ef_poisson(1), 2),
      list(weights = c(0.5, 0.5), components = list(list(rate = 1), list(rate = 3))))), "params", values),
    fuzz_slots("to_mean(model)", quote(to_mean(mixture(ef_poisson(1), 2),
      list(weights = c(0.5, 0.5), components = list(list(rate = 1), list(rate = 3))))), "params", values),
    fuzz_slots("to_source(model)", quote(to_source(mixture(ef_poisson(1), 2), c(0.1, 0.2, 0.3))), "theta", values),
    list(
      fuzz_case("ef_sample: n = 0", quote(ef_sample(ef_normal(1), list(mean = 0, cov = matrix(1)), 0))),
      fuzz_case("ef_sample: huge n", quote(ef_sample(ef_normal(2), list(mean = c(0, 0), cov = diag(2)), 1e10))),
      fuzz_case("ef_fit: weights wrong length", quote(ef_fit(ef_normal(1), X[, 1], 1:3))),
      fuzz_case("ef_fit: weights all zero", quote(ef_fit(ef_normal(1), X[, 1], rep(0, 40)))),
      fuzz_case("ef_log_density: normal cov not PD", quote(ef_log_density(ef_normal(2), list(mean = c(0, 0), cov = matrix(c(1, 2, 2, 1), 2)), X[, 1:2]))),
      fuzz_case("ef_log_density: normal cov asymmetric", quote(ef_log_density(ef_normal(2), list(mean = c(0, 0), cov = matrix(c(1, 0.5, 0, 1), 2)), X[, 1:2]))),
      fuzz_case("ef_log_density: normal cov wrong size", quote(ef_log_density(ef_normal(2), list(mean = c(0, 0), cov = diag(3)), X[, 1:2]))),
      fuzz_case("ef_log_density: categorical prob not summing", quote(ef_log_density(ef_categorical(3), list(prob = c(0.5, 0.5, 0.5)), c(1, 2)))),
      fuzz_case("ef_log_density: categorical prob negative", quote(ef_log_density(ef_categorical(3), list(prob = c(-0.5, 0.5, 1)), c(1, 2)))),
      fuzz_case("ef_log_density: bernoulli prob 1", quote(ef_log_density(ef_bernoulli(1), list(prob = 1), c(0, 1)))),
      fuzz_case("ef_log_density: von mises kappa 0", quote(ef_log_density(ef_von_mises(1), list(mean = 0, kappa = 0), c(0, 1)))),
      fuzz_case("ef_log_density: boltzmann coupling asymmetric", quote(ef_log_density(ef_boltzmann(2),
        list(bias = c(0, 0), coupling = matrix(c(0, 1, 0, 0), 2)), cbind(c(0, 1), c(1, 1))))),
      fuzz_case("ef_log_density: boltzmann coupling diag", quote(ef_log_density(ef_boltzmann(2),
        list(bias = c(0, 0), coupling = diag(2)), cbind(c(0, 1), c(1, 1))))),
      fuzz_case("ef_log_density: product params not a list of blocks", quote(ef_log_density(ef_product(ef_normal(1), ef_poisson(1)),
        list(mean = 0, cov = matrix(1)), cbind(1, 2)))),
      fuzz_case("ef_log_density: product one block", quote(ef_log_density(ef_product(ef_normal(1), ef_poisson(1)),
        list(list(mean = 0, cov = matrix(1))), cbind(1, 2)))),
      fuzz_case("to_source: theta wrong length", quote(to_source(ef_normal(2), c(1, 2)))),
      fuzz_case("to_source: theta not PD", quote(to_source(ef_normal(1), c(0, 1)))),
      fuzz_case("to_natural: model ok", quote(to_natural(mixture(ef_poisson(1), 2),
        list(weights = c(0.5, 0.5), components = list(list(rate = 1), list(rate = 3))))), expect = "ok"),
      fuzz_case("to_source: hmm model", quote(to_source(hmm(ef_normal(1), 2), c(1, 2)))),
      fuzz_case("to_mean: hmm params bad", quote(to_mean(hmm(ef_normal(1), 2), list(initial = 1)))),
      fuzz_case("to_natural: lds model", quote(to_natural(lds(1, 1), list()))),
      fuzz_case("to_mean: lds model", quote(to_mean(lds(1, 1), list())))
    )
  )
}

# --- with_params, select_k, chunks -----------------------------------------------

fuzz_cases_params <- function(values) {
  mp <- quote(list(weights = c(0.5, 0.5), components = list(list(rate = 1), list(rate = 4))))
  hp <- quote(list(initial = c(0.5, 0.5), transition = matrix(c(0.9, 0.1, 0.2, 0.8), 2, byrow = TRUE),
    emission = list(list(mean = 0, cov = matrix(1)), list(mean = 2, cov = matrix(1)))))
  fp <- quote(list(mean = c(0, 0, 0), loadings = matrix(c(1, 0.5, 0.2), 3), cov = diag(3)))
  bad_mix <- list(
    weights_na = quote(list(weights = c(NA, 0.5), components = list(list(rate = 1), list(rate = 4)))),
    weights_sum = quote(list(weights = c(0.6, 0.6), components = list(list(rate = 1), list(rate = 4)))),
    weights_zero = quote(list(weights = c(0, 1), components = list(list(rate = 1), list(rate = 4)))),
    weights_len = quote(list(weights = c(0.2, 0.3, 0.5), components = list(list(rate = 1), list(rate = 4)))),
    weights_chr = quote(list(weights = c("a", "b"), components = list(list(rate = 1), list(rate = 4)))),
    comp_short = quote(list(weights = c(0.5, 0.5), components = list(list(rate = 1)))),
    comp_not_list = quote(list(weights = c(0.5, 0.5), components = c(1, 4))),
    comp_rate_neg = quote(list(weights = c(0.5, 0.5), components = list(list(rate = -1), list(rate = 4)))),
    comp_rate_zero = quote(list(weights = c(0.5, 0.5), components = list(list(rate = 0), list(rate = 4)))),
    comp_rate_inf = quote(list(weights = c(0.5, 0.5), components = list(list(rate = Inf), list(rate = 4)))),
    comp_rate_null = quote(list(weights = c(0.5, 0.5), components = list(list(rate = NULL), list(rate = 4)))),
    comp_misnamed = quote(list(weights = c(0.5, 0.5), components = list(list(lambda = 1), list(rate = 4)))),
    comp_nested_list = quote(list(weights = c(0.5, 0.5), components = list(list(rate = list(1)), list(rate = 4))))
  )
  bad_hmm <- list(
    initial_sum = quote(list(initial = c(0.5, 0.6), transition = diag(2), emission = list(list(mean = 0, cov = matrix(1)), list(mean = 2, cov = matrix(1))))),
    transition_rows = quote(list(initial = c(0.5, 0.5), transition = matrix(0.7, 2, 2), emission = list(list(mean = 0, cov = matrix(1)), list(mean = 2, cov = matrix(1))))),
    transition_dim = quote(list(initial = c(0.5, 0.5), transition = diag(3), emission = list(list(mean = 0, cov = matrix(1)), list(mean = 2, cov = matrix(1))))),
    transition_na = quote(list(initial = c(0.5, 0.5), transition = matrix(NA, 2, 2), emission = list(list(mean = 0, cov = matrix(1)), list(mean = 2, cov = matrix(1))))),
    emission_short = quote(list(initial = c(0.5, 0.5), transition = diag(2), emission = list(list(mean = 0, cov = matrix(1))))),
    emission_cov_neg = quote(list(initial = c(0.5, 0.5), transition = diag(2), emission = list(list(mean = 0, cov = matrix(-1)), list(mean = 2, cov = matrix(1))))),
    missing = quote(list(initial = c(0.5, 0.5)))
  )
  bad_fa <- list(
    loadings_dim = quote(list(mean = c(0, 0, 0), loadings = matrix(1, 2, 2), cov = diag(3))),
    cov_neg = quote(list(mean = c(0, 0, 0), loadings = matrix(c(1, 0.5, 0.2), 3), cov = -diag(3))),
    cov_full = quote(list(mean = c(0, 0, 0), loadings = matrix(c(1, 0.5, 0.2), 3), cov = matrix(0.5, 3, 3) + diag(3))),
    mean_short = quote(list(mean = 0, loadings = matrix(c(1, 0.5, 0.2), 3), cov = diag(3))),
    loadings_na = quote(list(mean = c(0, 0, 0), loadings = matrix(NA_real_, 3, 1), cov = diag(3)))
  )
  c(
    fuzz_slots("with_params", bquote(with_params(mixture(ef_poisson(1), 2), .(mp), XC[, 1])), c("model", "params", "data"), values),
    fuzz_slots("with_params(mixture)", bquote(with_params(mixture(ef_poisson(1), 2), .(mp), XC[, 1])), "params", bad_mix),
    fuzz_slots("with_params(hmm)", bquote(with_params(hmm(ef_normal(1), 2), .(hp), X[, 1])), c("params", "data"), c(values, bad_hmm)),
    fuzz_slots("with_params(fa)", bquote(with_params(factor_analysis(3, 1), .(fp), X)), c("params", "data"), c(values, bad_fa)),
    fuzz_slots("with_params(lds)", quote(with_params(lds(1, 1), list(initial_mean = 0, initial_cov = 1, transition = 0.5,
      transition_offset = 0, state_cov = 1, observation = 1, observation_offset = 0, observation_cov = 1), X[, 1])),
      c("params", "data"), values),
    fuzz_slots("lvm_estep", bquote(lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1], NULL)),
      c("model", "params", "data", "weights"), values),
    fuzz_slots("lvm_mstep", bquote(lvm_mstep(mixture(ef_poisson(1), 2), lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1]), lvm_control())),
      c("model", "stats", "control"), values),
    fuzz_slots("select_k", quote(select_k(ef_normal(3), X, 1:2, NULL, control = lvm_control(maxit = 3L))),
      c("model_fn", "data", "k", "factors"), values),
    list(
      fuzz_case("with_params: mixture ok", bquote(with_params(mixture(ef_poisson(1), 2), .(mp), XC[, 1])), expect = "ok"),
      fuzz_case("with_params: hmm ok", bquote(with_params(hmm(ef_normal(1), 2), .(hp), X[, 1])), expect = "ok"),
      fuzz_case("with_params: fa ok", bquote(with_params(factor_analysis(3, 1), .(fp), X)), expect = "ok"),
      fuzz_case("with_params: params of another model", bquote(with_params(factor_analysis(3, 1), .(mp), X))),
      fuzz_case("with_params: a fit as params", fuzz_with_fit("mix", quote(with_params(mixture(ef_normal(3), 2), .f, X)))),
      fuzz_case("with_params: coef of a fit ok", fuzz_with_fit("mix", quote(with_params(mixture(ef_normal(3), 2), coef(.f), X))),
        expect = "ok"),
      fuzz_case("with_params: coef of a fit, other k", fuzz_with_fit("mix", quote(with_params(mixture(ef_normal(3), 3), coef(.f), X)))),
      fuzz_case("with_params: hmog coef ok", fuzz_with_fit("hmog", quote(with_params(hmog(3, 1, 2), coef(.f), X))), expect = "ok"),
      fuzz_case("with_params: hmog coef latent dropped", fuzz_with_fit("hmog", quote(with_params(hmog(3, 1, 2), within(coef(.f), latent <- NULL), X)))),
      fuzz_case("with_params: mfa coef, weights NA", fuzz_with_fit("mfa", quote(with_params(mfa(3, 1, 2), within(coef(.f), weights[1] <- NA), X)))),
      fuzz_case("with_params: blgm coef, coupling NA", fuzz_with_fit("blgm", quote(with_params(boltzmann_lgm(ef_normal(3), 2),
        rapply(coef(.f), function(v) v * NA, how = "replace"), X)))),
      fuzz_case("with_params: catdir alpha negative", quote(with_params(harmonium(ef_categorical(3), ef_dirichlet(3)), list(alpha = c(-1, 1, 1)), c(1, 2)))),
      fuzz_case("with_params: catdir unseen level", quote(with_params(harmonium(ef_categorical(c("a", "b", "c")), ef_dirichlet(3)),
        list(alpha = c(1, 1, 1)), factor(c("a", "z"))))),
      fuzz_case("lvm_mstep: stats of another model", bquote(lvm_mstep(mixture(ef_poisson(1), 3), lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1])))),
      fuzz_case("lvm_mstep: stats zero weight", bquote(lvm_mstep(mixture(ef_poisson(1), 2), lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1], weights = rep(0, 20))))),
      fuzz_case("lvm_mstep: stats tampered NaN", bquote({
        s <- lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1])
        s$stats[1] <- NaN
        lvm_mstep(mixture(ef_poisson(1), 2), s)
      })),
      fuzz_case("lvm_stats: adding different models", bquote(lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1]) + 1)),
      fuzz_case("lvm_stats: multiply", bquote(lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1]) * lvm_estep(mixture(ef_poisson(1), 2), .(mp), XC[, 1]))),
      fuzz_case("lvm_estep: hmm", bquote(lvm_estep(hmm(ef_normal(1), 2), .(hp), X[, 1]))),
      fuzz_case("lvm_estep: lds", quote(lvm_estep(lds(1, 1), list(), X[, 1]))),
      fuzz_case("lvm_estep: gradient-only model", quote(lvm_estep(mixture(ef_von_mises(1), 2),
        list(weights = c(0.5, 0.5), components = list(list(mean = 0, kappa = 1), list(mean = 2, kappa = 1))), X[, 1]))),
      fuzz_case("select_k: function returning junk", quote(select_k(function(k) 1, X, 1:2))),
      fuzz_case("select_k: function erroring", quote(select_k(function(k) stop("boom"), X, 1:2))),
      fuzz_case("select_k: k > n", quote(select_k(ef_normal(3), X[1:3, ], 5:6))),
      fuzz_case("select_k: every fit fails, a table of NA", quote(select_k(ef_normal(3), X[, 1:2], 1:2)), expect = "ok"),
      fuzz_case("select_k: factors without function of two", quote(select_k(ef_normal(3), X, 1:2, factors = 1))),
      fuzz_case("select_k: bad dots", quote(select_k(ef_normal(3), X, 1:2, control = "fast"))),
      fuzz_case("select_k: unknown dots", quote(select_k(ef_normal(3), X, 1:2, banana = 1))),
      fuzz_case("select_k: huge k", quote(select_k(ef_normal(3), X, 1e6))),
      fuzz_case("select_k: mfa grid ok", quote(select_k(function(k, factors) mfa(3, factors, k), X, 1, factors = 1,
        control = lvm_control(maxit = 3L))), expect = "ok")
    )
  )
}

# --- methods on fits ---------------------------------------------------------------

fuzz_cases_methods <- function(values) {
  nd_bad <- list(
    wrong_cols = quote(X[, 1:2]), zero_rows = quote(X[0, ]), na = quote(replace(X, 2, NA)),
    chr = quote(matrix("a", 2, 3)), list = quote(list(1, 2)), factor = quote(factor(1:3)), inf = quote(replace(X, 2, Inf)),
    zero_cols = quote(X[, 0])
  )
  out <- list()
  add <- function(...) out <<- c(out, ...)
  # Independent-data fits: predict, posterior, log_density, simulate,
  # logLik, summary, coef, update, plot, print.
  for (key in c("mix", "pois", "fa", "hmog", "mfa", "blgm", "mixdf", "catdir")) {
    nd <- switch(key, pois = quote(XC), mixdf = quote(DF), catdir = quote(DF$g), quote(X))
    add(
      list(
        fuzz_case(sprintf("predict(%s): ok", key), fuzz_with_fit(key, bquote(predict(.f, .(nd)))),
          expect = if (key == "catdir") NULL else "ok"),
        fuzz_case(sprintf("posterior(%s): ok", key), fuzz_with_fit(key, bquote(posterior(.f, .(nd)))), expect = "ok"),
        fuzz_case(sprintf("log_density(%s): ok", key), fuzz_with_fit(key, quote(log_density(.f))), expect = "ok"),
        fuzz_case(sprintf("logLik(%s)", key), fuzz_with_fit(key, quote(logLik(.f))), expect = "ok"),
        fuzz_case(sprintf("summary(%s)", key), fuzz_with_fit(key, quote(utils::capture.output(print(summary(.f))))), expect = "ok"),
        fuzz_case(sprintf("coef(%s)", key), fuzz_with_fit(key, quote(coef(.f))), expect = "ok"),
        fuzz_case(sprintf("print(%s)", key), fuzz_with_fit(key, quote(utils::capture.output(print(.f)))), expect = "ok"),
        fuzz_case(sprintf("nobs/AIC/BIC(%s)", key), fuzz_with_fit(key, quote(c(nobs(.f), AIC(.f), BIC(.f)))), expect = "ok"),
        fuzz_case(sprintf("plot(%s)", key), fuzz_with_fit(key, quote({
          grDevices::pdf(NULL)
          on.exit(grDevices::dev.off())
          plot(.f)
        })))
      ),
      if (key != "catdir") fuzz_substitute_fit(key, sprintf("predict(%s)", key), quote(predict(.f, newdata = NULL)), "newdata",
        c(values[setdiff(names(values), "NULL")], nd_bad)),
      fuzz_substitute_fit(key, sprintf("posterior(%s)", key), quote(posterior(.f, newdata = NULL)), "newdata", nd_bad),
      fuzz_substitute_fit(key, sprintf("log_density(%s)", key), quote(log_density(.f, newdata = NULL)), "newdata", nd_bad),
      if (key != "catdir") fuzz_substitute_fit(key, sprintf("predict(%s)", key), bquote(predict(.f, .(nd), type = "class")), "type", values),
      fuzz_substitute_fit(key, sprintf("simulate(%s)", key), quote(simulate(.f, nsim = 5, seed = 1)), "nsim", values),
      fuzz_substitute_fit(key, sprintf("simulate(%s)", key), quote(simulate(.f, nsim = 5, seed = 1)), "seed", values),
      fuzz_pick(list(
        fuzz_case(sprintf("plot(%s): type bad", key), fuzz_with_fit(key, quote({
          grDevices::pdf(NULL)
          on.exit(grDevices::dev.off())
          plot(.f, type = "banana")
        }))),
        fuzz_case(sprintf("plot(%s): type NA", key), fuzz_with_fit(key, quote({
          grDevices::pdf(NULL)
          on.exit(grDevices::dev.off())
          plot(.f, type = NA)
        }))),
        fuzz_case(sprintf("update(%s): control", key), fuzz_with_fit(key, quote(update(.f, control = lvm_control(maxit = 2L))))),
        fuzz_case(sprintf("update(%s): bad control", key), fuzz_with_fit(key, quote(update(.f, control = "x")))),
        fuzz_case(sprintf("update(%s): data wrong cols", key), fuzz_with_fit(key, quote(update(.f, data = X[, 1])))),
        fuzz_case(sprintf("simulate(%s): ok", key), fuzz_with_fit(key, quote(simulate(.f, nsim = 3, seed = 1))), expect = "ok"),
        fuzz_case(sprintf("simulate(%s): huge nsim", key), fuzz_with_fit(key, quote(simulate(.f, nsim = 1e12)))),
        fuzz_case(sprintf("predict(%s): type posterior", key), fuzz_with_fit(key, bquote(predict(.f, .(nd), type = "posterior"))))
      ), key, n = min(2, fuzz_level$per_slot))
    )
  }
  # Unseen factor levels and categorical mistakes in newdata.
  add(list(
    fuzz_case("predict(mixdf): unseen level", fuzz_with_fit("mixdf", quote(predict(.f, data.frame(x = 1:2, g = factor(c("a", "z"))))))),
    fuzz_case("predict(mixdf): missing level ok", fuzz_with_fit("mixdf", quote(predict(.f, data.frame(x = 1:2, g = factor(c("a", "a"))))))),
    fuzz_case("predict(mixdf): character level ok", fuzz_with_fit("mixdf", quote(predict(.f, data.frame(x = 1:2, g = c("a", "b")))))),
    fuzz_case("predict(mixdf): NA level", fuzz_with_fit("mixdf", quote(predict(.f, data.frame(x = 1:2, g = factor(c("a", NA))))))),
    fuzz_case("predict(mixdf): swapped columns", fuzz_with_fit("mixdf", quote(predict(.f, DF[, 2:1])))),
    fuzz_case("predict(mixdf): numeric for factor", fuzz_with_fit("mixdf", quote(predict(.f, data.frame(x = 1:2, g = c(1, 5)))))),
    fuzz_case("predict(mixdf): extra column", fuzz_with_fit("mixdf", quote(predict(.f, cbind(DF, z = 1))))),
    fuzz_case("predict(pois): negative counts", fuzz_with_fit("pois", quote(predict(.f, -XC)))),
    fuzz_case("predict(pois): fractional counts", fuzz_with_fit("pois", quote(predict(.f, XC + 0.5)))),
    fuzz_case("posterior(hmog): type latent", fuzz_with_fit("hmog", quote(posterior(.f, type = "latent"))), expect = "ok"),
    fuzz_case("posterior(hmog): type bad", fuzz_with_fit("hmog", quote(posterior(.f, type = "banana")))),
    fuzz_case("posterior(hmog): type NA", fuzz_with_fit("hmog", quote(posterior(.f, type = NA)))),
    fuzz_case("plot(hmog): dims out of range", fuzz_with_fit("hmog", quote({
      grDevices::pdf(NULL)
      on.exit(grDevices::dev.off())
      plot(.f, dims = c(1, 5))
    }))),
    fuzz_case("plot(hmog): dims NA", fuzz_with_fit("hmog", quote({
      grDevices::pdf(NULL)
      on.exit(grDevices::dev.off())
      plot(.f, dims = NA)
    }))),
    fuzz_case("summary(fa): rotation bad", fuzz_with_fit("fa", quote(summary(.f, rotation = "banana")))),
    fuzz_case("print(summary(fa)): varimax", fuzz_with_fit("fa", quote(utils::capture.output(print(summary(.f, rotation = "varimax"))))),
      expect = "ok"),
    fuzz_case("as.data.frame(select)", fuzz_with_fit("sel", quote(as.data.frame(.f))), expect = "ok"),
    fuzz_case("print(select)", fuzz_with_fit("sel", quote(utils::capture.output(print(.f)))), expect = "ok"),
    fuzz_case("plot(select)", fuzz_with_fit("sel", quote({
      grDevices::pdf(NULL)
      on.exit(grDevices::dev.off())
      plot(.f)
    })), expect = "ok"),
    fuzz_case("plot(select): bad type", fuzz_with_fit("sel", quote({
      grDevices::pdf(NULL)
      on.exit(grDevices::dev.off())
      plot(.f, type = 1)
    }))),
    fuzz_case("logLik: not a fit", quote(harmonium:::logLik.lvm_fit(list()))),
    fuzz_case("posterior: not a fit", quote(posterior(1))),
    fuzz_case("log_density: not a fit", quote(log_density("a"))),
    fuzz_case("posterior: NULL", quote(posterior(NULL))),
    fuzz_case("log_density: a model", quote(log_density(mixture(ef_normal(1), 2))))
  ))
  # rotate_loadings.
  add(
    fuzz_substitute_fit("fa", "rotate_loadings", quote(rotate_loadings(.f, "varimax", TRUE)), "rotation", values),
    fuzz_substitute_fit("fa", "rotate_loadings", quote(rotate_loadings(.f, "varimax", TRUE)), "standardize", values),
    fuzz_slots("rotate_loadings", quote(rotate_loadings(NULL)), "fit", values),
    list(
      fuzz_case("rotate_loadings: fa ok", fuzz_with_fit("fa", quote(rotate_loadings(.f, "promax"))), expect = "ok"),
      fuzz_case("rotate_loadings: a mixture fit", fuzz_with_fit("mix", quote(rotate_loadings(.f)))),
      fuzz_case("rotate_loadings: an mfa fit", fuzz_with_fit("mfa", quote(rotate_loadings(.f)))),
      fuzz_case("rotate_loadings: a model", quote(rotate_loadings(factor_analysis(3, 1))))
    )
  )
  # Inference: vcov, confint, anova (issue 10).
  add(
    fuzz_substitute_fit("mix", "vcov", quote(vcov(.f, method = "observed")), "method", values),
    fuzz_substitute_fit("pois", "vcov", quote(vcov(.f, method = "bootstrap", B = 3, seed = 1)), "B", values),
    fuzz_substitute_fit("pois", "vcov", quote(vcov(.f, method = "bootstrap", B = 3, seed = 1)), "seed", values),
    fuzz_substitute_fit("pois", "confint", quote(confint(.f, parm = NULL, level = 0.95)), "parm", values),
    fuzz_substitute_fit("pois", "confint", quote(confint(.f, parm = NULL, level = 0.95)), "level", values),
    fuzz_substitute_fit("pois", "confint", quote(confint(.f, method = "wald")), "method", values),
    fuzz_substitute_fit("pois", "confint", quote(confint(.f, vcov = NULL)), "vcov", values),
    # anova() dispatches on its first argument: the method itself for a bad one.
    lapply(fuzz_substitute("anova", quote(harmonium:::anova.lvm_fit(object = NULL, .f)), "object",
      fuzz_pick(values, "anova object")), function(cs) {
      cs$expr <- fuzz_with_fit("mix", cs$expr)
      cs$arg <- "object"
      cs
    }),
    list(
      fuzz_case("vcov(mix)", fuzz_with_fit("mix", quote(vcov(.f)))),
      fuzz_case("vcov(pois)", fuzz_with_fit("pois", quote(vcov(.f)))),
      fuzz_case("vcov(mixdf)", fuzz_with_fit("mixdf", quote(vcov(.f)))),
      fuzz_case("vcov(fa)", fuzz_with_fit("fa", quote(vcov(.f)))),
      fuzz_case("vcov(hmog): unsupported", fuzz_with_fit("hmog", quote(vcov(.f)))),
      fuzz_case("vcov(mfa): unsupported", fuzz_with_fit("mfa", quote(vcov(.f)))),
      fuzz_case("vcov(blgm): unsupported", fuzz_with_fit("blgm", quote(vcov(.f)))),
      fuzz_case("vcov(hmm): unsupported", fuzz_with_fit("hmm", quote(vcov(.f)))),
      fuzz_case("vcov(catdir): unsupported", fuzz_with_fit("catdir", quote(vcov(.f)))),
      fuzz_case("vcov(mixdf): bootstrap", fuzz_with_fit("mixdf", quote(vcov(.f, "bootstrap", B = 2, seed = 1)))),
      fuzz_case("vcov(fa): bootstrap", fuzz_with_fit("fa", quote(vcov(.f, "bootstrap", B = 2, seed = 1)))),
      fuzz_case("vcov(mix): unknown argument", fuzz_with_fit("mix", quote(vcov(.f, foo = 1)))),
      fuzz_case("confint(mix): bootstrap", fuzz_with_fit("mix", quote(confint(.f, method = "bootstrap", B = 2, seed = 1)))),
      fuzz_case("confint(pois): vcov without replicates", fuzz_with_fit("pois", quote(confint(.f, method = "bootstrap", vcov = vcov(.f))))),
      fuzz_case("anova(mix): itself", fuzz_with_fit("mix", quote(anova(.f, .f)))),
      fuzz_case("anova(mix): one fit", fuzz_with_fit("mix", quote(anova(.f)))),
      fuzz_case("anova(mix): not a fit", fuzz_with_fit("mix", quote(anova(.f, 1)))),
      fuzz_case("anova(mix, fa): not nested", fuzz_with_fit("mix", quote(anova(.f, fit_lvm(factor_analysis(3, 1), X,
        control = lvm_control(maxit = 2L)))))),
      fuzz_case("anova(pois, mix): other data", fuzz_with_fit("pois", quote(anova(.f, fit_lvm(mixture(ef_normal(3), 2), X,
        control = lvm_control(maxit = 2L)))))),
      fuzz_case("summary(fa): oblimin", fuzz_with_fit("fa", quote(utils::capture.output(print(summary(.f, rotation = "oblimin")))))),
      fuzz_case("rotate_loadings: quartimin", fuzz_with_fit("fa", quote(rotate_loadings(.f, "quartimin"))))
    )
  )
  # Sequence fits.
  seq_nd <- list(
    wrong_cols = quote(X[, 1:2]), zero_len = quote(numeric(0)), one_point = quote(1), na = quote(c(NA, 1, 2)),
    all_na = quote(c(NA_real_, NA_real_)), chr = quote(c("a", "b")), list_empty = quote(list()),
    list_bad = quote(list(1:3, "a")), factor = quote(factor(1:3)), inf = quote(c(1, Inf, 2)), fn = quote(function(x) x)
  )
  for (key in c("hmm", "lds")) {
    add(
      list(
        fuzz_case(sprintf("filter_states(%s): ok", key), fuzz_with_fit(key, quote(filter_states(.f))), expect = "ok"),
        fuzz_case(sprintf("smooth_states(%s): ok", key), fuzz_with_fit(key, quote(smooth_states(.f))), expect = "ok"),
        fuzz_case(sprintf("forecast(%s): ok", key), fuzz_with_fit(key, quote(forecast(.f, 3))), expect = "ok"),
        fuzz_case(sprintf("posterior(%s): ok", key), fuzz_with_fit(key, quote(posterior(.f))), expect = "ok"),
        fuzz_case(sprintf("predict(%s): ok", key), fuzz_with_fit(key, quote(predict(.f))), expect = "ok"),
        fuzz_case(sprintf("log_density(%s): ok", key), fuzz_with_fit(key, quote(log_density(.f))), expect = "ok"),
        fuzz_case(sprintf("simulate(%s): ok", key), fuzz_with_fit(key, quote(simulate(.f, 2, seed = 1))), expect = "ok"),
        fuzz_case(sprintf("summary(%s)", key), fuzz_with_fit(key, quote(utils::capture.output(print(summary(.f))))), expect = "ok"),
        fuzz_case(sprintf("print(%s)", key), fuzz_with_fit(key, quote(utils::capture.output(print(.f)))), expect = "ok"),
        fuzz_case(sprintf("logLik(%s)", key), fuzz_with_fit(key, quote(logLik(.f))), expect = "ok"),
        fuzz_case(sprintf("coef(%s)", key), fuzz_with_fit(key, quote(coef(.f))), expect = "ok"),
        fuzz_case(sprintf("plot(%s)", key), fuzz_with_fit(key, quote({
          grDevices::pdf(NULL)
          on.exit(grDevices::dev.off())
          plot(.f)
        })), expect = "ok"),
        fuzz_case(sprintf("plot(%s): bad type", key), fuzz_with_fit(key, quote({
          grDevices::pdf(NULL)
          on.exit(grDevices::dev.off())
          plot(.f, type = "banana")
        }))),
        fuzz_case(sprintf("update(%s): control", key), fuzz_with_fit(key, quote(update(.f, control = lvm_control(maxit = 2L))))),
        fuzz_case(sprintf("forecast(%s): newdata", key), fuzz_with_fit(key, quote(forecast(.f, 2, newdata = X[1:5, 1]))), expect = "ok"),
        fuzz_case(sprintf("forecast(%s): newdata bad", key), fuzz_with_fit(key, quote(forecast(.f, 2, newdata = "a")))),
        fuzz_case(sprintf("simulate(%s): huge", key), fuzz_with_fit(key, quote(simulate(.f, 1e12))))
      ),
      fuzz_substitute_fit(key, sprintf("filter_states(%s)", key), quote(filter_states(.f, newdata = NULL)), "newdata", seq_nd),
      fuzz_substitute_fit(key, sprintf("smooth_states(%s)", key), quote(smooth_states(.f, newdata = NULL)), "newdata", seq_nd),
      fuzz_substitute_fit(key, sprintf("log_density(%s)", key), quote(log_density(.f, newdata = NULL)), "newdata", seq_nd),
      fuzz_substitute_fit(key, sprintf("predict(%s)", key), quote(predict(.f, newdata = NULL)), "newdata", seq_nd),
      fuzz_substitute_fit(key, sprintf("forecast(%s)", key), quote(forecast(.f, h = 2)), "h", values),
      fuzz_substitute_fit(key, sprintf("simulate(%s)", key), quote(simulate(.f, nsim = 2, seed = 1)), "nsim", values),
      fuzz_substitute_fit(key, sprintf("simulate(%s)", key), quote(simulate(.f, nsim = 2, seed = 1)), "seed", values),
      fuzz_substitute_fit(key, sprintf("predict(%s)", key), quote(predict(.f, type = NULL)), "type",
        values[setdiff(names(values), "NULL")])
    )
  }
  add(
    fuzz_substitute_fit("hmm", "viterbi(hmm)", quote(viterbi(.f, newdata = NULL)), "newdata", seq_nd),
    fuzz_substitute_fit("hmm", "simulate(hmm)", quote(simulate(.f, 2, seed = 1, lengths = 5)), "lengths", values),
    fuzz_substitute_fit("lds", "simulate(lds)", quote(simulate(.f, 2, seed = 1, length = 5)), "length", values),
    fuzz_substitute_fit("lds", "filter_states(lds)", quote(filter_states(.f, tidy = TRUE, level = 0.9)), "level", values),
    fuzz_substitute_fit("lds", "filter_states(lds)", quote(filter_states(.f, tidy = TRUE, level = 0.9)), "tidy", values),
    fuzz_substitute_fit("lds", "forecast(lds)", quote(forecast(.f, 2, level = 0.9)), "level", values),
    list(
      fuzz_case("viterbi(hmm): ok", fuzz_with_fit("hmm", quote(viterbi(.f))), expect = "ok"),
      fuzz_case("viterbi: lds fit", fuzz_with_fit("lds", quote(viterbi(.f)))),
      fuzz_case("viterbi: mixture fit", fuzz_with_fit("mix", quote(viterbi(.f)))),
      fuzz_case("filter_states: mixture fit", fuzz_with_fit("mix", quote(filter_states(.f)))),
      fuzz_case("smooth_states: NULL", quote(smooth_states(NULL))),
      fuzz_case("forecast: a model", quote(forecast(hmm(ef_normal(1), 2)))),
      fuzz_case("forecast: numeric", quote(forecast(1:10))),
      fuzz_case("plot(hmm): which out of range", fuzz_with_fit("hmm", quote({
        grDevices::pdf(NULL)
        on.exit(grDevices::dev.off())
        plot(.f, which = 10)
      }))),
      fuzz_case("plot(hmm): which NA", fuzz_with_fit("hmm", quote({
        grDevices::pdf(NULL)
        on.exit(grDevices::dev.off())
        plot(.f, which = NA)
      }))),
      fuzz_case("plot(lds): sequence out of range", fuzz_with_fit("lds", quote({
        grDevices::pdf(NULL)
        on.exit(grDevices::dev.off())
        plot(.f, sequence = 10)
      }))),
      fuzz_case("plot(lds): dim out of range", fuzz_with_fit("lds", quote({
        grDevices::pdf(NULL)
        on.exit(grDevices::dev.off())
        plot(.f, dim = 3)
      }))),
      fuzz_case("plot(lds): level bad", fuzz_with_fit("lds", quote({
        grDevices::pdf(NULL)
        on.exit(grDevices::dev.off())
        plot(.f, level = 2)
      }))),
      fuzz_case("simulate(hmm): lengths vector", fuzz_with_fit("hmm", quote(simulate(.f, 2, lengths = c(3, 4)))), expect = "ok"),
      fuzz_case("simulate(hmm): lengths wrong count", fuzz_with_fit("hmm", quote(simulate(.f, 2, lengths = c(3, 4, 5)))))
    )
  )
  out
}

# --- random combinations (level "full") ----------------------------------------

# `n` cases, each a call of one of the templates below with one to three of
# its arguments replaced by random bad values; seeded so a run is repeatable.
fuzz_cases_random <- function(n, seed = 20261203L) {
  templates <- list(
    quote(ef_normal(2, "full")), quote(ef_binomial(5, 2)), quote(ef_categorical(3)),
    quote(mixture(ef_normal(2), 2)), quote(hmog(3, 1, 2, "diagonal", "full")), quote(mfa(3, 1, 2)),
    quote(lgm(ef_normal(3), 1, "full")), quote(boltzmann_lgm(ef_normal(3), 2, "exact")),
    quote(hmm(ef_normal(1), 2, "free")), quote(lds(1, 1, list())),
    quote(lvm_control(1e-8, 100, 1, NULL, NULL, FALSE, 0, "lbfgs", 0.01, 0)),
    quote(fit_lvm(mixture(ef_normal(3), 2), X, NULL, "auto", lvm_control(maxit = 3L), NULL, "fail")),
    quote(fit_lvm(mixture(ef_poisson(3), 2), XC, NULL, "auto", lvm_control(maxit = 3L), NULL, "fail")),
    quote(fit_lvm(hmm(ef_normal(1), 2), X[, 1], NULL, "auto", lvm_control(maxit = 3L), NULL)),
    quote(ef_log_density(ef_normal(1), list(mean = 0, cov = matrix(1)), X[, 1])),
    quote(ef_sample(ef_poisson(1), list(rate = 2), 3)),
    quote(ef_fit(ef_gamma(1), abs(X[, 1]), NULL)),
    quote(with_params(mixture(ef_poisson(1), 2), list(weights = c(0.5, 0.5), components = list(list(rate = 1), list(rate = 4))), XC[, 1])),
    quote(select_k(ef_normal(1), X[, 1], 1:2, NULL, control = lvm_control(maxit = 3L)))
  )
  # Values: the generic bad ones plus structured malformed data.
  vals <- c(fuzz_bad_values(), list(
    zero_rows = quote(X[0, ]), one_row = quote(X[1, , drop = FALSE]), constant = quote(matrix(1, 10, 3)),
    dup_rows = quote(X[rep(1, 10), ]), wrong_cols = quote(X[, 1:2]), df = quote(DF), na_mat = quote(replace(X, 1, NA)),
    neg = quote(-XC), big_int = quote(1e6), nested = quote(list(list(1))), named_list = quote(list(a = 1, b = 2)),
    chr_vec = quote(c("a", "b", "c")), mat = quote(diag(2)), na_chr = quote(NA_character_), raw = quote(as.raw(1))
  ))
  set.seed(seed)
  lapply(seq_len(n), function(i) {
    t <- templates[[sample.int(length(templates), 1L)]]
    nargs <- length(t) - 1L
    slots <- sample.int(nargs, min(nargs, sample.int(3L, 1L))) + 1L
    cl <- t
    lab <- character()
    for (s in slots) {
      v <- sample.int(length(vals), 1L)
      cl[s] <- list(vals[[v]])
      lab <- c(lab, sprintf("%d = %s", s - 1L, names(vals)[v]))
    }
    list(name = sprintf("random %d: %s(%s)", i, deparse(t[[1]]), paste(lab, collapse = ", ")), expr = cl)
  })
}

# --- all ---------------------------------------------------------------------------

fuzz_cases_api <- function(level = c("ci", "full")) {
  level <- match.arg(level)
  fuzz_level$per_slot <- if (level == "ci") 1L else Inf
  on.exit(fuzz_level$per_slot <- Inf)
  values <- fuzz_bad_values()
  cases <- c(
    fuzz_cases_constructors(values),
    fuzz_cases_control(values),
    fuzz_cases_fit(values),
    fuzz_cases_chunks(values),
    fuzz_cases_family_data(),
    fuzz_cases_family_fns(values),
    fuzz_cases_params(values),
    fuzz_cases_methods(values),
    fuzz_cases_tidy(values)
  )
  if (level == "full") cases <- c(cases, fuzz_cases_random(3000L))
  cases
}
