# Fuzz cases for the registered .Call entry points (issue 9), for the
# harness in helper-fuzz.R. Valid arguments are not written by hand: a few
# small workflows run in this process with every native_*() wrapper traced,
# and the arguments each wrapper hands to .Call() are recorded (so they are
# exactly what our R code sends). A case is one recorded call with one
# argument (level "full": two) replaced by a malformed value, embedded in
# the case's expression as a constant, so the child only evaluates
# .Call(harmonium:::C_<entry>, ...). Each case also carries `entry`.

# The C parameter names of each entry point (src/glue/glue.h), in order.
fuzz_native_params <- function() {
  kol <- c("kind", "obs", "lat")
  list(
    init = "ns", threads_max = character(), 
    data_scan = c("x", "spec", "sup", "want_raw", "threads"), data_scale = c("x", "center", "scale", "threads"),
    hmm_infer = c("logp", "init", "trans"), lds_estep = c("y", "len", "w", "par", "threads", "want"),
    hmm_em_run = c(kol, "theta", "chain", "x", "starts", "lengths", "w", "ctrl", "em", "threads"),
    hmm_seq_infer = c(kol, "theta", "chain", "x", "starts", "lengths", "want", "threads"),
    hmm_stationary = "trans", family_info = "spec", family_stat = c("spec", "x"),
    family_log_base = c("spec", "x"), family_log_density = c("spec", "theta", "x"),
    family_log_partition = c("spec", "theta"), family_to_mean = c("spec", "theta"),
    family_to_natural = c("spec", "eta", "ctrl"), family_neg_entropy = c("spec", "eta", "ctrl"),
    family_sample = c("spec", "theta", "n"), family_check = c("spec", "theta"),
    family_check_data = c("spec", "x"), model_info = kol, model_log_partition = c(kol, "theta"),
    model_rho_chi = c(kol, "theta"), model_to_mean = c(kol, "theta"), model_to_natural = c(kol, "eta", "ctrl"),
    model_whiten = c(kol, "eta"), mixture_split = c(kol, "theta"), mixture_join = c(kol, "comps", "prior"),
    model_estep = c(kol, "theta", "x", "w", "given", "want", "threads"), model_sample = c(kol, "theta", "n"),
    model_posterior_fold = c(kol, "theta", "x"), model_gradient = c(kol, "theta", "x", "w", "threads"),
    model_cd_gradient = c(kol, "theta", "x", "k"), em_run = c(kol, "theta", "x", "w", "ctrl", "em", "threads"),
    lgm_moments = c(kol, "x", "w", "threads"), lgm_em_moments = c(kol, "theta", "mom", "ctrl", "em"),
    lgm_moments_gradient = c(kol, "theta", "mom"),
    kmeans_run = c("f", "k", "ctl", "threads"), ward_labels = c("z", "k", "threads"),
    mixture_labels_theta = c(kol, "x", "w", "labels", "smooth", "ctrl", "threads"),
    selftest_list = character(), parallel_min_work = "work", selftest_run = "i",
    bench_gemm_rate = c("shape", "seconds", "threads"),
    data_scan_part = c("x", "spec", "sup", "threads", "part"),
    data_scan_finish = c("sums", "shift", "moments", "n"), col_block_rows = c("n", "d"),
    model_estep_part = c(kol, "theta", "x", "w", "b0", "threads"),
    lgm_moments_part = c(kol, "x", "w", "b0", "threads"), lgm_moments_unpack = c(kol, "tot"),
    tree_fold = c("lo", "size", "val", "nb"), em_mstep = c(kol, "stats", "ctrl"), model_block_rows = kol,
    hmm_em_stats = c(kol, "theta", "chain", "x", "starts", "lengths", "w", "threads"),
    hmm_em_update = c(kol, "hst", "mst", "chain", "mode", "ctrl")
  )
}

# The .Call() inside a wrapper's body: list(entry, argument expressions).
fuzz_find_dotcall <- function(e) {
  if (!is.call(e)) {
    return(NULL)
  }
  if (identical(e[[1]], quote(.Call))) {
    return(list(entry = sub("^C_", "", as.character(e[[2]])), args = as.list(e)[-(1:2)]))
  }
  for (a in as.list(e)[-1]) {
    r <- fuzz_find_dotcall(a)
    if (!is.null(r)) {
      return(r)
    }
  }
  NULL
}

# Small workflows reaching every wrapper R calls.
fuzz_native_workflows <- function() {
  list(
    quote({
      # A covariance structure (its code is the Normal spec's fourth
      # integer): the tied E-step and M-step of EEE.
      set.seed(19)
      x <- cbind(rnorm(40), rnorm(40) + rep(c(0, 3), 20))
      f <- fit_lvm(mixture(ef_normal(2, "EEE"), 2), x, control = lvm_control(maxit = 10))
      log_density(f, x[1:5, ])
    }),
    quote({
      set.seed(11)
      x <- cbind(a = rnorm(40), b = rnorm(40) + rep(c(0, 3), 20))
      f <- fit_lvm(mixture(ef_normal(2), 2), x, control = lvm_control(maxit = 50))
      posterior(f)
      log_density(f, x[1:5, ])
      simulate(f, 5)
      with_params(mixture(ef_normal(2, "diagonal"), 2), f$params, data = x)
    }),
    quote({
      set.seed(12)
      y <- matrix(rpois(60, 3), 30, 2)
      fit_lvm(mixture(ef_poisson(2), 2), y, control = lvm_control(maxit = 50))
      fit_lvm(mixture(ef_categorical(c("a", "b", "c")), 2),
        data.frame(g = factor(sample(c("a", "b", "c"), 30, TRUE))), control = lvm_control(maxit = 50))
    }),
    quote({
      set.seed(13)
      z <- rnorm(50)
      x <- cbind(z + rnorm(50, sd = 0.5), z + rnorm(50, sd = 0.5), -z + rnorm(50, sd = 0.5))
      m <- factor_analysis(3, 1)
      f <- fit_lvm(m, x, control = lvm_control(maxit = 50))
      s <- lvm_estep(m, f$params, x)
      lvm_mstep(m, s)
      fit_lvm(mixture(factor_analysis(3, 1), 2), x, control = lvm_control(maxit = 20))
      fit_lvm(hmog(3, 1, 2), x, control = lvm_control(maxit = 20))
      fit_lvm(lgm(ef_normal(3, "diagonal"), 1, posterior = "diagonal"), x, control = lvm_control(maxit = 20))
    }),
    quote({
      set.seed(14)
      f <- ef_normal(2)
      x <- cbind(rnorm(20), rnorm(20))
      p <- ef_fit(f, x)
      ef_log_density(f, p, x)
      ef_sample(f, p, 4)
      to_mean(f, p)
    }),
    quote({
      set.seed(15)
      seqs <- list(rnorm(30) + rep(c(0, 3), each = 15), rnorm(20))
      f <- fit_lvm(hmm(ef_normal(), 2), seqs, control = lvm_control(maxit = 30))
      viterbi(f)
      filter_states(f)
      smooth_states(f)
      fit_lvm(hmm(ef_poisson(), 2, initial = "stationary"), rpois(40, 3), control = lvm_control(maxit = 20))
      lp <- matrix(log(runif(20)), 10, 2)
      harmonium:::hmm_infer(lp, c(0.5, 0.5), matrix(c(0.9, 0.1, 0.2, 0.8), 2, byrow = TRUE))
    }),
    quote({
      set.seed(16)
      fit_lvm(lds(1, 1), cumsum(rnorm(40)), control = lvm_control(maxit = 10))
    }),
    quote({
      set.seed(17)
      x <- cbind(rnorm(30), rnorm(30))
      fit_lvm(boltzmann_lgm(ef_normal(2, "diagonal"), 2), x, method = "gradient",
        control = lvm_control(maxit = 5, cd_k = 1))
      fit_lvm(boltzmann_lgm(ef_normal(2, "diagonal"), 2), x, method = "gradient", control = lvm_control(maxit = 5))
    }),
    quote({
      # Chunked EM (R/chunked-fit.R) in this process: the data pass, the
      # E-step and moments over parts, the fold and the M-step.
      set.seed(20)
      x <- cbind(rnorm(60), rnorm(60) + rep(c(0, 3), 30), rnorm(60))
      ch <- lvm_chunks(list(x[1:25, ], x[26:60, ]))
      fit_lvm(mixture(ef_normal(3), 2), ch, control = lvm_control(maxit = 5, n_init = 1))
      fit_lvm(factor_analysis(3, 1), ch, control = lvm_control(maxit = 5))
      fit_lvm(hmm(ef_normal(3), 2), ch, control = lvm_control(maxit = 3, n_init = 1))
    }),
    quote({
      set.seed(18)
      m <- harmonium(ef_categorical(c("a", "b", "c")), ef_dirichlet(3))
      f <- fit_lvm(m, data.frame(y = factor(sample(c("a", "b", "c"), 30, TRUE))), control = lvm_control(maxit = 20))
      posterior(f)
    })
  )
}

# Runs the workflows with every native_*() wrapper traced and returns, per
# entry point, the distinct argument lists recorded (at most `per_entry`).
fuzz_native_record <- function(per_entry = 4L) {
  ns <- asNamespace("harmonium")
  rec <- new.env()
  wrappers <- grep("^native_", ls(ns), value = TRUE)
  record <- function(dc, env) {
    args <- tryCatch(lapply(dc$args, eval, envir = env), error = function(e) NULL)
    if (is.null(args)) {
      return(invisible())
    }
    have <- rec[[dc$entry]]
    if (length(have) >= per_entry) {
      return(invisible())
    }
    # Distinct by the model (the first three arguments) or the whole call.
    key <- digest_key(args)
    if (!key %in% vapply(have, `[[`, "", "key")) {
      rec[[dc$entry]] <- c(have, list(list(key = key, args = args)))
    }
    invisible()
  }
  digest_key <- function(args) paste(deparse(lapply(args[seq_len(min(3L, length(args)))], utils::head, 12L)), collapse = "")
  traced <- character()
  on.exit(for (w in traced) suppressMessages(untrace(w, where = ns)), add = TRUE)
  for (w in wrappers) {
    dc <- fuzz_find_dotcall(body(get(w, ns)))
    if (is.null(dc)) next
    tracer <- bquote(.(record)(.(dc), environment()))
    suppressMessages(trace(w, tracer = tracer, where = ns, print = FALSE))
    traced <- c(traced, w)
  }
  for (wf in fuzz_native_workflows()) {
    try(suppressWarnings(eval(wf, new.env(parent = globalenv()))), silent = TRUE)
  }
  out <- lapply(as.list(rec), function(r) lapply(r, `[[`, "args"))
  out[order(names(out))]
}

# Valid calls for every entry point: the recorded ones, plus hand-made ones
# for the entry points R does not call (built from recorded arguments).
fuzz_native_valid <- function(per_entry = 4L) {
  v <- fuzz_native_record(per_entry)
  fam <- v$family_log_density[[1]]
  v$family_log_base <- list(list(fam[[1]], fam[[3]]))
  v$family_check_data <- list(list(fam[[1]], fam[[3]]))
  v$family_log_partition <- list(list(fam[[1]], fam[[2]]))
  if (is.null(v[["family_check"]])) v$family_check <- list(list(fam[[1]], fam[[2]]))
  lpa <- v$model_log_partition
  if (is.null(v[["model_rho_chi"]])) v$model_rho_chi <- lpa
  if (is.null(v[["model_to_mean"]])) v$model_to_mean <- lpa
  nat <- v$family_to_natural[[1]]
  v$family_neg_entropy <- list(nat)
  v$init <- list(list(quote(asNamespace("harmonium"))))
  v$selftest_list <- list(list())
  v$selftest_run <- list(list(0L))
  v$bench_gemm_rate <- list(list(c(8L, 16L, 4L), 0.01, 1L))
  if (is.null(v[["threads_max"]])) v$threads_max <- list(list())
  # The starts' entry points (a mixture fit from given parameters reaches
  # none of them), and the engine's serial threshold (0: the suite's value).
  f <- matrix(c(0, 0.1, 0.2, 3, 3.1, 3.2, 0, 0.2, 0.1, 3, 3.2, 3.1), 6, 2)
  if (is.null(v[["kmeans_run"]])) v$kmeans_run <- list(list(f, 2L, c(3, 30), 1L))
  if (is.null(v[["ward_labels"]])) v$ward_labels <- list(list(f, 2L, 1L))
  if (is.null(v[["mixture_labels_theta"]])) {
    mm <- harmonium::mixture(harmonium::ef_normal(2), 2)
    v$mixture_labels_theta <- list(list(mm$hm_kind, mm$obs_spec, mm$lat_spec, f, NULL, c(1L, 1L, 1L, 2L, 2L, 2L),
      0, harmonium:::fam_ctrl(), 1L))
  }
  v$parallel_min_work <- list(list(0))
  # An E-step with weights and given posterior means.
  es <- v$model_estep[[1]]
  n <- nrow(es[[5]])
  pl <- .Call(harmonium:::C_model_info, es[[1]], es[[2]], es[[3]])[2]
  es2 <- es
  es2[[6]] <- rep(1.5, n)
  es2[[7]] <- matrix(1 / pl, n, pl)
  v$model_estep <- c(v$model_estep, list(es2))
  v
}

# The call of one case.
fuzz_native_call <- function(entry, args) {
  as.call(c(list(quote(.Call), call(":::", quote(harmonium), as.name(paste0("C_", entry)))), unname(args)))
}

# Malformed values specific to an argument, from its valid value v.
fuzz_native_specific <- function(param, v) {
  imax <- .Machine$integer.max
  out <- list()
  if (is.double(v) && length(v) > 0L) {
    bump <- function(val) {
      w <- v
      w[length(w)] <- val
      w
    }
    out$with_nan <- bump(NaN)
    out$with_inf <- bump(Inf)
    out$with_neg_inf <- bump(-Inf)
    out$with_na <- bump(NA_real_)
    out$with_big <- bump(1e308)
    out$with_neg <- bump(-2.5)
    out$as_integer <- if (all(is.finite(v)) && all(abs(v) < 1e9)) structure(as.integer(round(v)), dim = dim(v))
    out$longer <- c(v, 0.5)
    if (length(v) > 1L) out$shorter <- v[-1]
    out$as_list <- as.list(v)
  }
  if (is.matrix(v)) {
    out$zero_rows <- v[0, , drop = FALSE]
    out$extra_col <- cbind(v, 1)
    if (ncol(v) > 1L) out$fewer_cols <- v[, -1, drop = FALSE]
    out$no_dim <- as.vector(v)
    out$transposed <- t(v)
    # (A recorded matrix may have no rows or columns: a chunk's empty part.)
    if (nrow(v) > 0L && ncol(v) > 0L) {
      out$one_row <- v[1, , drop = FALSE]
      out$dup_rows <- v[rep(1L, nrow(v)), , drop = FALSE]
      out$const_col <- {
        w <- v
        w[, 1] <- w[1, 1]
        w
      }
    }
    out$codes_out_of_range <- v + 100
    out$negative <- -abs(v) - 1
    out$fractional <- v + 0.37
  }
  if (param %in% c("spec", "obs", "lat", "kind") && is.integer(v)) {
    for (i in seq_along(v)) {
      for (val in list(0L, -1L, NA_integer_, imax, 99L, v[i] + 1L)) {
        w <- v
        w[i] <- val
        out[[sprintf("pos%d=%s", i, format(val))]] <- w
      }
    }
    out$short <- v[-length(v)]
    out$long <- c(v, 1L)
    out$as_double <- as.double(v)
  }
  if (param %in% c("spec", "obs", "lat")) {
    out <- c(out, list(
      normal_n0 = c(1L, 0L, 0L, 0L), bad_kind = c(99L, 2L, 0L, 0L), kind0 = c(0L, 2L, 0L, 0L),
      bad_rep = c(1L, 2L, 7L, 0L), structure_99 = c(1L, 2L, 0L, 99L), structure_neg = c(1L, 2L, 0L, -1L),
      structure_wrong_rep = c(1L, 2L, 0L, 3L), structure_15 = c(1L, 2L, 2L, 15L), normal_huge = c(1L, 46341L, 0L, 0L), normal_max = c(1L, imax, 0L, 0L),
      normal_diag_max = c(1L, imax, 1L, 0L), cat_max = c(2L, imax, 0L, 0L), cat_one = c(2L, 1L, 0L, 0L),
      poisson_max = c(5L, imax, 0L, 0L), binom_trials0 = c(4L, 2L, 0L, 0L), binom_trials_max = c(4L, 2L, 0L, imax),
      boltzmann21 = c(10L, 21L, 0L, 0L), dirichlet1 = c(8L, 1L, 0L, 0L), gamma_max = c(9L, imax, 0L, 0L),
      product_nested = c(11L, 1L, 11L, 1L, 0L, 0L), product_short = c(11L, 2L, 1L, 2L, 0L, 0L),
      product_zero = c(11L, 0L), product_65 = c(11L, 65L, rep(c(5L, 1L, 0L, 0L), 65)),
      product_overflow = c(11L, 64L, rep(c(1L, 46340L, 0L, 0L), 64)),
      product_na = c(11L, NA_integer_, 1L, 2L, 0L, 0L),
      list_of_specs = list(c(1L, 2L, 0L, 0L), c(1L, 1L, 0L, 0L)),
      list_empty = list(), list_five = rep(list(c(1L, 1L, 0L, 0L)), 5),
      list_bad = list(c(1L, 2L, 0L, 0L), "a")
    ))
  }
  if (param == "kind") {
    out <- c(out, list(
      k0 = 0L, k99 = 99L, hmog_noK = 7L, hmog_K0 = c(7L, 0L), hmog_Kmax = c(7L, imax), hmog_deep = c(7L, 7L, 7L, 7L, 2L),
      diag_K0 = c(9L, 0L), mixof_k0 = c(8L, 0L, 1L), mixof_kmax = c(8L, imax, 1L), mixof_nested = c(8L, 2L, 8L, 2L, 1L),
      long = rep(1L, 10)
    ))
  }
  if (param %in% c("n")) {
    out <- c(out, list(n0 = 0L, n1 = 1L, n_na = NA_integer_, n_neg = -5L, n_max = imax, n_big = 300000000L,
      two = 2:3))
  }
  if (param == "threads") {
    out <- c(out, list(t0 = 0L, t_neg = -3L, t2 = 2L, t1025 = 1025L, t_max = imax, t_na = NA_integer_))
  }
  if (param == "k") out <- c(out, list(k0 = 0L, k_big = 100001L, k_na = NA_integer_))
  if (param == "i") out <- c(out, list(i_neg = -1L, i_big = 100000L))
  if (param == "w") {
    out <- c(out, list(w_neg = rep(-1, 5), w_zero = 0, w_na = NA_real_))
  }
  if (param == "want" && length(v) > 0L) {
    w <- v
    w[1] <- NA
    out <- c(out, list(want_na = w, want_short = v[-1], want_long = c(v, v[1]),
      want_int = as.integer(v), want_dbl = as.double(v), want_none = v & FALSE))
  }
  if (param == "ctrl") {
    out <- c(out, list(ctrl_neg_tol = c(0, -1, 200, 0), ctrl_inf_maxit = c(0, 1e-12, Inf, 0),
      ctrl_huge_maxit = c(0, 1e-12, 1e12, 0), ctrl_neg_floor = c(0, 1e-12, 200, -1), ctrl_nan = c(NaN, 1e-12, 200, 0)))
  }
  if (param == "em") {
    out <- c(out, list(em_neg_tol = replace(v, 1, -1), em_huge_maxit = replace(v, 2, 1e12),
      em_max_maxit = replace(v, c(1, 2), c(1e-3, imax)), em_pos_inf_ll = replace(v, 3, Inf),
      em_na_ll = replace(v, 3, NA), em_zero_maxit = replace(v, 2, 0)))
    if (length(v) >= 4L) out <- c(out, list(em_mode9 = replace(v, 4, 9), em_mode_nan = replace(v, 4, NaN)))
  }
  if (param %in% c("starts", "lengths") && is.integer(v)) {
    out <- c(out, list(seq_na = replace(v, 1, NA), seq_neg = replace(v, 1, -1L), seq_zero = replace(v, 1, 0L),
      seq_max = replace(v, 1, imax), seq_drop = v[-1], seq_empty = integer()))
  }
  if (param == "len" && is.integer(v)) {
    out <- c(out, list(len_na = replace(v, 1, NA), len_zero = replace(v, 1, 0L), len_more = v + 1L,
      len_max = replace(v, 1, imax)))
  }
  if (param == "par" && is.list(v)) {
    out <- c(out, list(par_short = v[-8], par_null = replace(v, 1, list(NULL)), par_int = replace(v, 1, list(1L)),
      par_nan = replace(v, 2, list(v[[2]] * NaN)), par_long_state = replace(v, 1, list(c(v[[1]], 0))),
      par_env = replace(v, 1, list(new.env())), par_empty = replace(v, 1, list(numeric()))))
  }
  if (param == "trans") {
    out <- c(out, list(trans_three = c(0.5, 0.5, 0.5), trans_neg = -v))
  }
  if (param == "ns") out <- c(out, list(ns_base = quote(baseenv()), ns_global = quote(globalenv())))
  Filter(Negate(is.null), out)
}

# All substitutions of one argument: the generic bad values (quoted, built
# in the child) and the specific ones (constants).
fuzz_native_values <- function(param, v) {
  c(fuzz_bad_values(), fuzz_native_specific(param, v))
}

fuzz_native_case <- function(entry, args, name, expect = NULL) {
  cs <- list(name = sprintf("%s: %s", entry, name), expr = fuzz_native_call(entry, args), entry = entry)
  if (!is.null(expect)) cs$expect <- expect
  cs
}

# Cases for the harness: level "ci" substitutes every bad value into every
# argument of one recorded call per entry point, plus every recorded call
# as a must-succeed case; "full" uses every recorded call (several model
# kinds), every pair of arguments with a few bad values each, and random
# spec integers from a seeded generator.
fuzz_cases_native <- function(level = c("ci", "full"), seed = 20261203L) {
  level <- match.arg(level)
  params <- fuzz_native_params()
  valid <- fuzz_native_valid(if (level == "ci") 2L else 8L)
  cases <- list()
  add <- function(cs) cases[[length(cases) + 1L]] <<- cs
  for (entry in names(params)) {
    calls <- valid[[entry]]
    if (is.null(calls)) {
      stop(sprintf("no valid call recorded for entry point %s", entry))
    }
    pn <- params[[entry]]
    for (ci in seq_along(calls)) {
      args <- calls[[ci]]
      add(fuzz_native_case(entry, args, sprintf("valid call %d", ci), expect = "ok"))
      if (level == "ci" && ci > 1L) next
      for (j in seq_along(pn)) {
        vals <- fuzz_native_values(pn[j], args[[j]])
        for (vn in names(vals)) {
          a <- args
          a[j] <- list(vals[[vn]])
          add(fuzz_native_case(entry, a, sprintf("[%d] %s = %s", ci, pn[j], vn)))
        }
      }
      if (level == "full" && length(pn) > 1L) {
        few <- fuzz_bad_values()[c("NULL", "NA", "empty_num", "huge", "list", "string")]
        for (pr in utils::combn(length(pn), 2L, simplify = FALSE)) {
          for (v1 in names(few)) {
            for (v2 in names(few)) {
              a <- args
              a[pr[1]] <- list(few[[v1]])
              a[pr[2]] <- list(few[[v2]])
              add(fuzz_native_case(entry, a, sprintf("[%d] %s = %s, %s = %s", ci, pn[pr[1]], v1, pn[pr[2]], v2)))
            }
          }
        }
      }
    }
  }
  if (level == "full") {
    cases <- c(cases, fuzz_native_random_specs(valid, params, seed))
  }
  cases
}

# Random spec integers: the model arguments (kind, obs, lat) or a family
# spec of a recorded call replaced by random integers (mostly small, some
# boundary values), the other arguments kept.
fuzz_native_random_specs <- function(valid, params, seed, per_entry = 60L) {
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
  on.exit(if (!is.null(old)) assign(".Random.seed", old, globalenv()), add = TRUE)
  set.seed(seed)
  draw <- function(len) {
    pool <- c(-1L, 0L, 1L, 2L, 3L, 4L, 5L, 7L, 8L, 9L, 10L, 11L, 20L, 21L, 64L, 65L, 46341L, NA_integer_,
      .Machine$integer.max)
    w <- c(1, 3, 8, 8, 6, 4, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 0.5, 0.5, 0.5)
    sample(pool, len, replace = TRUE, prob = w)
  }
  out <- list()
  for (entry in names(params)) {
    pn <- params[[entry]]
    slots <- which(pn %in% c("kind", "obs", "lat", "spec"))
    if (length(slots) == 0L) next
    for (ci in seq_along(valid[[entry]])) {
      args <- valid[[entry]][[ci]]
      for (r in seq_len(per_entry %/% length(valid[[entry]]))) {
        a <- args
        for (j in slots) {
          if (stats::runif(1) < 0.5 || !is.integer(a[[j]])) next
          len <- if (stats::runif(1) < 0.8) length(a[[j]]) else sample(1:10, 1)
          a[[j]] <- draw(len)
        }
        out[[length(out) + 1L]] <- fuzz_native_case(entry, a, sprintf("[%d] random specs %d", ci, r))
      }
    }
  }
  out
}
