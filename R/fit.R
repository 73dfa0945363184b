# Fitting: fit_lvm(), lvm_control(), with_params(), and the EM driver. R
# validates and encodes the data, standardises Normal columns, chooses the
# starts, and runs the engine's EM loop (src/glue/glue_em.c) in bursts; the
# engine does every E-step and M-step.

#' Control settings for fitting
#'
#' @param tol Convergence tolerance on the relative change of the total
#'   log-likelihood, `|l_new - l_old| / (1 + |l_new|)`. `tol = 0` runs
#'   exactly `maxit` iterations per start, without a non-convergence
#'   warning. For linear Gaussian
#'   models (factor analysis, PPCA, [lgm()]), whose EM converges slowly, the
#'   change is Aitken's estimate of the gain still to come,
#'   `d a / (1 - a)` for a last change `d` shrinking at the rate `a`
#'   (Bohning et al. 1994), so that a fit stops near the maximum and not
#'   merely where progress is slow.
#' @param maxit Maximum number of EM iterations per start. Left at its
#'   default, linear Gaussian models (factor analysis, PPCA, [lgm()]) allow
#'   10000: their EM converges linearly at rates up to 0.998 on textbook data
#'   (3235 iterations for two factors of `attitude`), at a cost of
#'   O(n p q) per iteration.
#' @param n_init Number of starts, or `NULL` (the default) for a default per
#'   model kind, chosen by measurement (`bench/bench-starts.R` in the
#'   package sources) so that the known maxima of textbook data sets are
#'   reached: 10 for mixtures with a Normal component and for latent class
#'   analysis (mixtures of categorical, Bernoulli and binomial columns), 5
#'   for other mixtures and 1 for every other model or when `init` is
#'   given to [fit_lvm()]. The first start is
#'   deterministic: for a Normal component mclust's start, agglomerative
#'   hierarchical clustering (Ward's criterion on the SVD-scaled
#'   standardised data, on a fixed-seed subsample of 2000 rows when there are
#'   more, the other rows joining the nearest cluster); otherwise k-means++
#'   with an internal fixed seed. The others are random from `seed`:
#'   k-means++, alternately on the standardised and on the whitened data,
#'   and for latent class analysis random probability tables (a flat
#'   Dirichlet per class and column, as poLCA's starts). The start with the
#'   highest log-likelihood is kept, a start that ended degenerate (a
#'   collapsed component, a singular covariance, a component with fewer than
#'   d + 1 effective observations) only if every start did; a start that
#'   fails numerically is reported, not fatal. A k-means++ start whose
#'   partition is the same as an earlier start's (up to the order of the
#'   labels) is not run again (status `"duplicate"` in the fit's `starts`),
#'   and a start that cannot catch up may be abandoned (see `abandon`).
#' @param seed Seed of the random starts (`NULL`: a fixed default). Results
#'   depend only on `seed` and the data, never on `threads`, and the
#'   caller's random number stream is left untouched.
#' @param threads Number of OpenMP threads (`NULL`: the option
#'   `harmonium.threads`, else every processor, at most 2 when
#'   `_R_CHECK_LIMIT_CORES_` is set; always capped by `OMP_THREAD_LIMIT`).
#' @param trace Show progress at once: a [cli::cli_progress_bar()] over the
#'   starts and EM iterations, with the start number, the iteration, the
#'   log-likelihood and its change. With `FALSE` the bar appears only when a
#'   fit takes longer than 2 seconds (cli's option
#'   `cli.progress_show_after`) and is cleared at the end. Progress never
#'   changes the fit.
#' @param reg Non-negative ridge added to the diagonal of every Normal
#'   covariance at each M-step, in the units of the internally standardised
#'   data (so `reg = 1e-6` is a millionth of each variable's variance). With
#'   `reg = 0` (the default) a Normal model whose every start fails on
#'   singular data (a constant column, collinear columns, fewer rows than
#'   columns) is refitted once with `reg = 1e-6` (as sklearn's `reg_covar`),
#'   with a warning of class `harmonium_warning_singular`; see the section
#'   "Degenerate data" of [fit_lvm()].
#' @param lower Lower bound of the uniquenesses of factor analysis and of
#'   the noise variance of PPCA (Normal observables with a diagonal or
#'   isotropic covariance and a Normal latent), in units of each column's
#'   variance: `0.005` as [stats::factanal()]'s `lower`, so that a Heywood
#'   case stays at the bound (and is reported, class
#'   `harmonium_warning_heywood`) instead of running to 0. `0` for no bound.
#'   Mixtures of factor analysers and fits by `method = "gradient"` are not
#'   bounded.
#' @param abandon Whether EM may abandon a start that cannot catch up (the
#'   default `TRUE`; `FALSE` runs every start to convergence). Once a start
#'   has ended healthy, a later start is abandoned after at least 10
#'   iterations when its gains `d_i = l_i - l_(i-1)` have shrunk at every
#'   one of the last 5 iterations (rates `a_i = d_i / d_(i-1)` in (0, 1))
#'   and Aitken's extrapolation of its log-likelihood,
#'   `l_k + d_k a / (1 - a)` at the largest of those 5 rates (the limit of a
#'   linearly converging sequence, Bohning et al. 1994), is still below the
#'   best healthy start's log-likelihood by more than a margin of
#'   `10 + 0.01 n` (n the total weight, the number of rows without
#'   weights). A start whose EM speeds up again (as when it leaves a saddle)
#'   is not abandoned then. Abandoned starts have status `"abandoned"` in
#'   the fit's `starts`, with a note.
#' @param optimizer For `method = "gradient"`: `"lbfgs"` ([stats::optim()]'s
#'   L-BFGS-B on the exact log-likelihood and gradient) or `"adam"`.
#' @param lr Adam's learning rate (on the unconstrained parameters).
#' @param cd_k For `method = "gradient"` on Gaussian-Boltzmann harmoniums:
#'   0 (the default) uses the exact gradient; a positive k uses the
#'   contrastive-divergence estimate CD-k (k steps of block Gibbs sampling
#'   from each observation) with Adam, the
#'   log-likelihood being evaluated exactly every 10 steps for the trace.
#' @return An object of class `lvm_control`.
#' @examples
#' lvm_control(tol = 1e-10, n_init = 5, seed = 1)
#' @export
lvm_control <- function(tol = 1e-8, maxit = 1000, n_init = NULL, seed = NULL, threads = NULL,
                        trace = FALSE, reg = 0, optimizer = c("lbfgs", "adam"), lr = 0.01, cd_k = 0,
                        lower = 0.005, abandon = TRUE) {
  structure(
    list(
      tol = check_number(tol, min = 0),
      maxit = check_count(maxit, min = 1L),
      n_init = if (is.null(n_init)) NULL else check_count(n_init, min = 1L, max = 10000L),
      seed = check_seed(seed),
      threads = if (is.null(threads)) NULL else check_count(threads, min = 1L, max = 1024L),
      trace = check_flag(trace),
      reg = check_number(reg, min = 0),
      optimizer = check_choice(optimizer, c("lbfgs", "adam")),
      lr = check_number(lr, min = 0),
      cd_k = check_count(cd_k, min = 0L, max = 100000L),
      lower = check_number(lower, min = 0, max = 1),
      abandon = check_flag(abandon)
    ),
    class = "lvm_control",
    # A maxit left at its default gives way to the model's own (fit_maxit()).
    maxit_default = missing(maxit)
  )
}

# The iteration cap of a fit: lvm_control()'s maxit, or, when that was left
# at its default, the model's `default_maxit` when it has one.
fit_maxit <- function(control, model) {
  if (isTRUE(attr(control, "maxit_default")) && !is.null(model$default_maxit)) {
    control$maxit <- as.integer(model$default_maxit)
  }
  control
}

#' @export
print.lvm_control <- function(x, ...) {
  cat("<lvm_control>\n")
  str <- vapply(x, function(v) if (is.null(v)) "NULL" else format(v), "")
  cat(paste0("  ", format(names(str)), " ", str), sep = "\n")
  invisible(x)
}

# The default number of starts of a model (lvm_control(n_init = NULL)),
# measured by bench/bench-starts.R: Normal mixtures (VVV on iris, diabetes,
# faithful, banknote, crabs, thyroid, k = 2..4) need up to 10 starts to reach
# the best of 100 (banknote k = 2, faithful k = 3, diabetes and thyroid
# k = 4); latent class analysis (cheating, carcinoma, gss82, election,
# 2 and 3 classes) reaches poLCA's maxima within 2, so 10 leaves a wide
# margin. Other mixtures (von Mises on fisherB3 and wind, Poisson on
# discoveries and earthquakes, k = 2, 3) reach the best of 100 with one
# start: 5. Models that are not mixtures keep one start.
default_n_init <- function(model) {
  if (!identical(model$kind, "mixture") || is.null(model$component)) return(1L)
  switch(start_kind(model$component), normal = 10L, discrete = 10L, 5L)
}

resolve_n_init <- function(control, model, init = NULL) {
  if (is.null(control$n_init)) {
    # A given start is run alone unless more are asked for.
    control$n_init <- if (is.null(init)) default_n_init(model) else 1L
    attr(control, "n_init_default") <- TRUE
  }
  control
}

# The one thread-count resolution of style.md 3.9 (the engine further caps
# it by omp_get_thread_limit() and by the amount of work).
resolve_threads <- function(req = NULL) {
  if (is.null(req)) req <- getOption("harmonium.threads")
  if (is.null(req)) req <- native_threads_max()
  req <- as.integer(req)[1]
  if (is.na(req) || req < 1L) req <- 1L
  if (nzchar(Sys.getenv("_R_CHECK_LIMIT_CORES_"))) req <- min(req, 2L)
  lim <- suppressWarnings(as.integer(Sys.getenv("OMP_THREAD_LIMIT", "")))
  if (!is.na(lim) && lim >= 1L) req <- min(req, lim)
  req
}

# Evaluates expr with the RNG seeded, restoring the caller's stream after.
with_seed <- function(seed, expr) {
  env <- globalenv()
  old <- if (exists(".Random.seed", envir = env, inherits = FALSE)) get(".Random.seed", envir = env) else NULL
  on.exit({
    if (is.null(old)) {
      if (exists(".Random.seed", envir = env, inherits = FALSE)) rm(".Random.seed", envir = env)
    } else {
      assign(".Random.seed", old, envir = env)
    }
  })
  set.seed(seed)
  expr
}

# --- the data ------------------------------------------------------------------

# Resolves the two calling forms: fit_lvm(model, data, ...) and
# fit_lvm(~ a + b, data, model, ...). Returns the model, the data frame of
# the selected columns and the remaining `init`.
resolve_call_forms <- function(model, data, init, call) {
  formula <- NULL
  group <- NULL
  if (inherits(model, "formula")) {
    formula <- model
    if (!inherits(init, "lvm_model")) {
      abort_hm(c("With a formula, the model comes third: {.code fit_lvm(~ a + b, data, model)}.",
        x = "No {.cls lvm_model} was given."), "argument", call = call)
    }
    model <- init
    init <- NULL
  } else if (inherits(data, "formula") && inherits(model, "lvm_model")) {
    formula <- data
    data <- init
    init <- NULL
  }
  check_model(model, arg = "model", call = call)
  if (!is.null(formula)) {
    if (!is.data.frame(data)) {
      abort_hm("{.arg data} must be a data frame when a formula selects its columns.", "data", call = call)
    }
    rhs <- formula[[length(formula)]]
    if (is.call(rhs) && identical(rhs[[1]], as.name("|"))) {
      if (!is_sequence_model(model)) {
        abort_hm(c("A grouping term ({.code | id}) is for sequence models.",
          i = "Mixtures treat rows as independent; drop the grouping term."), "argument", call = call)
      }
      gvar <- all.vars(rhs[[3]])
      if (length(gvar) != 1L || !gvar %in% names(data)) {
        abort_hm("{.arg formula}'s grouping term must name one column of {.arg data}.", "data", call = call)
      }
      group <- data[[gvar]]
      rhs <- rhs[[2]]
    }
    vars <- all.vars(rhs)
    if ("." %in% vars) vars <- setdiff(names(data), if (is.null(group)) character(0) else gvar)
    miss <- setdiff(vars, names(data))
    if (length(miss)) {
      abort_hm("{.arg formula} names column{?s} {.val {miss}} not in {.arg data}.", "data", call = call)
    }
    data <- data[, vars, drop = FALSE]
  }
  list(model = model, data = data, init = init, group = group)
}

# Encodes the data for the model's observable family; with na_action =
# "omit" rows with missing values are dropped and recorded. One pass of the
# data in C (data_pass(), R/data-path.R): a numeric matrix is never turned
# into a data frame. With `scale`, also the scaler of the Normal blocks and
# the standardised copy (list elements scaler, xs, sumsq; check_scaler()
# then takes sumsq).
prepare_data <- function(model, data, weights, na_action, call, arg = "data", threads = 1L, scale = FALSE) {
  if (is.null(data)) abort_hm("{.arg {arg}} is missing.", "data", call = call)
  src <- data_source(data, arg, call)
  fam <- model$obs
  fitted_cols <- fam$colnames
  if (arg == "newdata" && src$d != fam$d && !is.null(fitted_cols) && all(fitted_cols %in% src$names)) {
    # New data holding the fitted columns among others: those, by name.
    src <- data_select(src, match(fitted_cols, src$names))
  }
  if (src$d != fam$d) {
    abort_hm(c("{.arg {arg}} has {src$d} column{?s} but {model$label} needs {fam$d}.",
      i = columns_hint(arg, fitted_cols)), "data", call = call)
  }
  if (src$n == 0L) abort_hm("{.arg {arg}} has no rows.", "data", call = call)
  if (!is.null(weights)) weights <- check_weights(weights, src$n, call = call)
  omitted <- integer(0)
  if (na_action == "omit") {
    keep <- data_complete(src)
    omitted <- which(!keep)
    if (length(omitted)) {
      src <- data_rows(src, keep)
      if (!is.null(weights)) weights <- weights[keep]
    }
    if (src$n == 0L) abort_hm("{.arg {arg}} has no complete rows.", "data_na", call = call)
  }
  fam <- family_adopt_levels(fam, src)
  model$obs <- fam
  if (!is.null(model$component)) model$component <- fam
  pass <- data_pass(fam, src, arg, call, threads)
  out <- list(model = model, x = pass$x, weights = weights, omitted = omitted)
  if (scale) {
    sc <- make_scaler(fam, pass$x, pass)
    out$scaler <- sc
    if (sc$log_jac == 0 && all(sc$center == 0)) {
      out$xs <- pass$x
      out$sumsq <- pass$sumsq
    } else if (!all(is.finite(sc$center) & is.finite(sc$scale) & sc$scale > 0)) {
      # A mean or spread that overflowed: no standardised copy;
      # check_scaler() names the columns.
      out$xs <- pass$x
      out$sumsq <- numeric(length(sc$center))
    } else {
      st <- native_data_scale(pass$x, sc$center, sc$scale, as.integer(threads))
      out$xs <- st$x
      out$sumsq <- st$sumsq
    }
  }
  out
}

# --- standardisation -------------------------------------------------------------
# Normal blocks are centred and scaled internally for accuracy; results are
# reported in the user's units. Other blocks are left alone.

fam_blocks <- function(fam) {
  blocks <- if (fam$name == "product") fam$blocks else list(fam)
  d <- vapply(blocks, `[[`, integer(1), "d")
  list(blocks = blocks, cols = lapply(seq_along(blocks), function(b) sum(d[seq_len(b - 1L)]) + seq_len(d[b])))
}

# The scaler of fam's Normal blocks from the column moments `mo` (list(mean,
# rms), as data_pass() returns them) or, without them, from x.
make_scaler <- function(fam, x, mo = NULL) {
  fb <- fam_blocks(fam)
  d <- ncol(x)
  center <- rep(0, d)
  scale <- rep(1, d)
  for (b in seq_along(fb$blocks)) {
    blk <- fb$blocks[[b]]
    if (is.null(blk$scaling)) next
    cols <- fb$cols[[b]]
    if (!is.null(blk$scale_moments)) {
      if (is.null(mo)) mo <- data_moments(x)
      sc <- blk$scale_moments(mo$mean[cols], mo$rms[cols])
    } else {
      # A family made before the data pass (a saved model): its own scaling.
      sc <- blk$scaling(if (length(cols) == d) x else x[, cols, drop = FALSE])
    }
    center[cols] <- sc$center
    scale[cols] <- sc$scale
  }
  list(center = center, scale = scale, log_jac = sum(log(scale)))
}


# Columns whose mean or spread overflows a double (|x| beyond ~1e150, whose
# square is not finite) cannot be standardised: a classed error before any C
# work. `xs` is the standardised data; `sumsq` its columns' sums of squares
# when the data pass computed them.
check_scaler <- function(sc, xs, call, arg = "data", sumsq = NULL) {
  if (is.null(sumsq)) sumsq <- if (nrow(xs) == 0L) numeric(ncol(xs)) else colSums(xs^2)
  bad <- which(!is.finite(sc$center) | !is.finite(sc$scale) | sc$scale <= 0 | !is.finite(sumsq))
  if (length(bad) || !is.finite(sc$log_jac)) {
    abort_hm(c("{.arg {arg}} has values too large to standardise in column{?s} {bad}.",
      i = "Rescale the data (e.g. divide by a power of 10)."), "data", call = call)
  }
  invisible(sc)
}

identity_scaler <- function(d) list(center = rep(0, d), scale = rep(1, d), log_jac = 0)

scale_data <- function(sc, x, threads = 1L) {
  if (sc$log_jac == 0 && all(sc$center == 0)) return(x)
  if (is.matrix(x) && is.double(x)) return(native_data_scale(x, sc$center, sc$scale, as.integer(threads))$x)
  x <- sweep(x, 2L, sc$center, "-")
  sweep(x, 2L, sc$scale, "/")
}

# Component source parameters between internal and user units.
component_affine <- function(fam, sc, params, inverse) {
  fb <- fam_blocks(fam)
  one <- function(blk, p, cols) {
    if (is.null(blk$affine)) p else blk$affine(p, sc$center[cols], sc$scale[cols], inverse = inverse)
  }
  if (fam$name != "product") return(one(fam, params, fb$cols[[1]]))
  lapply(seq_along(fb$blocks), function(b) one(fb$blocks[[b]], params[[b]], fb$cols[[b]]))
}

mixture_params_affine <- function(model, sc, params, inverse) {
  if (sc$log_jac == 0 && all(sc$center == 0)) return(params)
  params$components <- lapply(params$components, function(p) {
    component_affine(model$component, sc, p, inverse)
  })
  params
}

# --- starts ----------------------------------------------------------------------

# The features of the starts: each block's features (the data for a Normal
# block, indicators for a categorical one, ...) side by side, centred and
# divided by their standard deviations, in one pass in C.
family_features <- function(fam, x) {
  fb <- fam_blocks(fam)
  f <- if (length(fb$blocks) == 1L) {
    as.matrix(fb$blocks[[1L]]$features(x))
  } else {
    do.call(cbind, lapply(seq_along(fb$blocks), function(b) {
      as.matrix(fb$blocks[[b]]$features(x[, fb$cols[[b]], drop = FALSE]))
    }))
  }
  if (!is.double(f)) storage.mode(f) <- "double"
  n <- nrow(f)
  mo <- data_moments(f)
  sds <- if (n > 1L) mo$rms * sqrt(n / (n - 1)) else rep(1, ncol(f))
  sds[!is.finite(sds) | sds <= 0] <- 1
  out <- native_data_scale(f, mo$mean, sds, 1L)$x
  dimnames(out) <- NULL
  out
}

# k-means++ seeding (Arthur and Vassilvitskii 2007, greedy: the best of
# kmeans_trials(k) candidates per centre) followed by Lloyd iterations from
# those centres, in C (src/engine/kmeans.c), threaded with results that do
# not depend on the thread count; returns hard labels 1..k. Draws from R's
# RNG, so callers wrap it in with_seed().
kmeans_max_iter <- 30L
kmeans_trials <- function(k) 2L + as.integer(floor(log(k)))
kmeans_pp_labels <- function(f, k, threads = resolve_threads()) {
  n <- nrow(f)
  if (k == 1L) return(rep(1L, n))
  if (n <= k) return(seq_len(n))
  f <- as.matrix(f)
  if (!is.double(f)) storage.mode(f) <- "double"
  res <- native_kmeans_run(f, k, kmeans_trials(k), kmeans_max_iter, threads)
  stop_status(res, "the k-means start")
  res$labels
}

# --- per-fit caches of the starts ------------------------------------------------
# The features of the data (and their whitened form) are the same for every
# start of one fit: computed once, on first use, in an environment that
# lives for one fit_lvm() call. The same environment remembers the
# partitions the starts began from, so that a start whose partition repeats
# an earlier one (up to the order of the labels) is not run again.

start_cache <- function() new.env(parent = emptyenv())

cached <- function(cache, name, expr) {
  if (is.null(cache)) return(expr)
  if (!exists(name, envir = cache, inherits = FALSE)) assign(name, expr, envir = cache)
  get(name, envir = cache, inherits = FALSE)
}

# A marker that start i's labels repeat start `of`'s partition, or NULL
# (then the partition is remembered). Labels are compared after renaming
# them in order of first appearance.
start_duplicate <- function(cache, labels, i) {
  if (is.null(cache)) return(NULL)
  canon <- match(labels, unique(labels))
  for (p in cache$partitions) {
    if (identical(p$labels, canon)) return(structure(list(of = p$start), class = "hm_start_duplicate"))
  }
  cache$partitions <- c(cache$partitions, list(list(start = i, labels = canon)))
  NULL
}

# The kind of start a mixture component gets: "normal" (a Normal block,
# alone or in a product), "discrete" (every block categorical, Bernoulli or
# binomial: latent class analysis) or "other".
start_kind <- function(fam) {
  names <- vapply(fam_blocks(fam)$blocks, `[[`, "", "name")
  if (any(names == "normal")) return("normal")
  if (all(names %in% c("categorical", "bernoulli", "binomial"))) return("discrete")
  "other"
}

# Rotates the (standardised) features onto their principal axes and divides
# each by the square root of its singular value (`whiten = FALSE`, mclust's
# "SVD" transformation for its hierarchical start) or by the singular value
# itself (`whiten = TRUE`: unit covariance). Axes of zero spread are dropped.
# `from` gives the rows whose SVD defines the transformation.
svd_features <- function(f, whiten = FALSE, from = NULL) {
  sub <- if (is.null(from)) f else f[from, , drop = FALSE]
  mu <- colMeans(sub)
  fc <- native_data_scale(f, mu, rep(1, ncol(f)), 1L)$x
  s <- svd(if (is.null(from)) fc else fc[from, , drop = FALSE], nu = 0L)
  keep <- s$d > 1e-8 * max(s$d, 0)
  if (!any(keep)) return(matrix(0, nrow(f), 1L))
  v <- s$v[, keep, drop = FALSE]
  dv <- s$d[keep]
  fc %*% (v * rep(1 / (if (whiten) dv else sqrt(dv)), each = nrow(v)))
}

# The deterministic start of Normal mixtures, after mclust's: agglomerative
# hierarchical clustering of the SVD-scaled features (Ward's criterion, in C,
# which
# is model-based agglomeration for spherical components of equal volume) on
# at most `max_n` rows (a subsample, drawn with the RNG, when there are more),
# the tree cut at k clusters; every other row joins the nearest cluster
# centre. Returns hard labels 1..k.
hc_max_rows <- 2000L
hc_labels <- function(f, k, max_n = hc_max_rows, threads = resolve_threads()) {
  n <- nrow(f)
  if (k == 1L) return(rep(1L, n))
  idx <- if (n > max_n) sort(sample.int(n, max_n)) else seq_len(n)
  z <- svd_features(f, from = if (length(idx) == n) NULL else idx)
  # Ward's clustering in C (src/engine/ward.c: the partition of
  # cutree(hclust(dist(z), "ward.D2"), k) by the nearest-neighbour chain).
  zi <- if (length(idx) == n) z else z[idx, , drop = FALSE]
  res <- native_ward_labels(zi, min(k, nrow(zi)), threads)
  lab <- if (res$status == 0L) {
    res$labels
  } else {
    as.integer(stats::cutree(stats::hclust(stats::dist(zi), method = "ward.D2"), k = k))
  }
  if (length(idx) == n) return(lab)
  cen <- rowsum(z[idx, , drop = FALSE], lab) / as.vector(table(lab))
  dd <- -2 * z %*% t(cen) + matrix(rowSums(cen^2), n, nrow(cen), byrow = TRUE)
  out <- max.col(-dd, ties.method = "first")
  out[idx] <- lab
  out
}

# A random start of latent class analysis, as poLCA's: class weights equal,
# every class's probability table drawn at random (a flat Dirichlet, which for
# two categories is a uniform probability). Returns the source parameters.
dirichlet_params <- function(fam, k) {
  blocks <- fam_blocks(fam)$blocks
  draw <- function(b) {
    if (b$name == "categorical") {
      # Unnamed: positions are the levels in the encoded order.
      g <- stats::rgamma(length(b$levels), 1)
      g <- pmax(g / sum(g), 1e-6)
      list(prob = g / sum(g))
    } else {
      list(prob = pmin(pmax(stats::runif(b$d), 1e-6), 1 - 1e-6))
    }
  }
  comps <- lapply(seq_len(k), function(j) {
    if (fam$name == "product") lapply(blocks, draw) else draw(blocks[[1]])
  })
  list(weights = rep(1 / k, k), components = comps)
}

# One-hot posterior from labels, optionally smoothed toward uniform so every
# component sees every row with a little weight (a fallback when a hard start
# leaves a component degenerate).
labels_to_post <- function(labels, k, smooth = 0) {
  n <- length(labels)
  p <- matrix(0, n, k)
  p[cbind(seq_len(n), labels)] <- 1
  if (smooth > 0) p <- (1 - smooth) * p + smooth / k
  p
}

# M-step from given posteriors: theta in internal coordinates, or NULL.
theta_from_post <- function(m, xs, w, post, ctrl, threads) {
  es <- native_model_estep(m, numeric(m$dim), xs, w, given = post, logp = FALSE, post = FALSE,
    threads = threads)
  if (es$status != 0L) return(NULL)
  s <- es$stats
  wt <- s[m$dim + 2L]
  res <- native_model_to_natural(m, s[seq_len(m$dim)] / wt, ctrl)
  if (res$status != 0L) return(NULL)
  res$value
}

# M-step from hard labels 1..k, each row's posterior its one-hot vector moved
# toward uniform by `smooth`. For a mixture of a family the posterior is
# built in C scratch (no n x k matrix in R); other kinds go through
# theta_from_post().
theta_from_hard <- function(m, xs, w, labels, smooth, ctrl, threads) {
  if (identical(m$kind, "mixture") && inherits(m, "mixture_model") && identical(m$post_len, m$k)) {
    res <- native_mixture_labels_theta(m, xs, w, as.integer(labels), smooth, ctrl, threads)
    return(if (res$status != 0L) NULL else res$value)
  }
  theta_from_post(m, xs, w, labels_to_post(labels, m$k, smooth), ctrl, threads)
}

theta_from_labels <- function(m, xs, w, labels, ctrl, threads) {
  for (smooth in c(0, 0.05, 0.3)) {
    th <- theta_from_hard(m, xs, w, labels, smooth, ctrl, threads)
    if (!is.null(th)) return(th)
  }
  # Last resort, for data on the edge of a family's mean domain (identical
  # von Mises angles or gamma values: every component's mean is there): the
  # continuous boundary floor, a finite and huge concentration that the fit
  # then reports. Not used before: a start with a one-point component would
  # otherwise win with a spurious spike.
  if (length(ctrl) == 5L) {
    th <- theta_from_hard(m, xs, w, labels, 0.3, c(ctrl, mixture_floor), threads)
    if (!is.null(th)) return(th)
  }
  NULL
}

default_seed <- 20240429L

# Seed of start i: the internal fixed seed for the deterministic first start,
# control$seed (or the fixed seed) plus i for the random ones.
start_seed <- function(control, i) {
  if (i == 1L) default_seed else (if (is.null(control$seed)) default_seed else control$seed) + i
}

# The starting natural parameters (internal coordinates) of start `i`: the
# user's init for the first start when given, else the model's own starts.
# `cache` (start_cache()) is shared by the starts of one fit.
start_theta <- function(m, xs, x, w, init, i, control, ctrl, threads, sc, call, cache = NULL) {
  if (i == 1L && !is.null(init)) {
    return(model_init(m, xs, w, init, ctrl, threads, sc, call))
  }
  model_start(m, xs, x, w, i, control, ctrl, threads, cache = cache)
}

# --- EM ----------------------------------------------------------------------------

# Runs EM from theta (internal coordinates) and returns the final state. The
# glue runs at most `burst` iterations per call; while a progress bar may
# show (R/progress.R), R reports between bursts. Bursts continue exactly
# where the last one stopped, so the result does not depend on them.
# `report = FALSE` for an EM run inside a start (not a start of its own).
#
# Models with `stop_rule = "aitken"` (factor analysis, PPCA, the LGM) stop
# on Aitken's estimate of the distance to the limit instead of the last
# change (em_aitken_ok()); the engine's relative-change test is then run
# with the tolerance that estimate implies.
#
# `abandon_below` (a log-likelihood in the engine's internal units, -Inf for
# none): the engine stops the start once Aitken's limit of its trace falls
# below it (lvm_control()'s `abandon`); the result's `abandoned` says so.
# `at_theta` says whether the trace's last value and `stats` (the last
# E-step's statistics) are those of the returned parameters (on
# convergence, abandonment or a failed M-step; not at the iteration cap).
run_em <- function(m, theta, xs, w, ctrl, control, threads, report = TRUE, abandon_below = -Inf, mom = NULL) {
  # Factor analysis, PPCA and the LGM iterate on the data's moments, gathered
  # in one pass (lgm_em_moments(); a chunked fit passes them); every other
  # model passes over the rows.
  if (is.null(mom) && isTRUE(m$em_moments)) mom <- lgm_data_moments(m, xs, w, threads)
  trace <- numeric(0)
  ll_old <- NA_real_
  if (report) progress_start()
  bursts <- report && progress_active()
  aitken <- identical(m$stop_rule, "aitken")
  tol <- control$tol
  burst <- NULL
  elapsed <- 0
  status <- 1L
  bad <- -1L
  converged <- FALSE
  res <- NULL
  repeat {
    left <- control$maxit - length(trace)
    n_it <- if (bursts) progress_burst(burst, elapsed, left) else left
    burst <- n_it
    t0 <- proc.time()[[3]]
    nt <- length(trace)
    res <- if (is.null(mom)) {
      # The engine's abandoning rule reads the last em_abandon_hist values.
      hist <- c(rep(NA_real_, em_abandon_hist), trace)[nt + seq_len(em_abandon_hist)]
      native_em_run(m, theta, xs, w, ctrl, c(tol, n_it, ll_old, nt, abandon_below, hist), threads)
    } else {
      native_lgm_em_moments(m, theta, mom, ctrl, c(tol, n_it, ll_old))
    }
    elapsed <- proc.time()[[3]] - t0
    trace <- c(trace, res$trace)
    theta <- res$theta
    status <- res$status
    bad <- res$bad
    converged <- res$converged
    if (converged && aitken) {
      ok <- em_aitken_ok(trace, control$tol)
      if (!isTRUE(ok) && length(trace) < control$maxit) {
        # Not yet: the engine stopped at the parameters of the last entry of
        # the trace; redo that iteration under the tighter test, from the
        # entry before (exactly as if that test had been used throughout).
        converged <- FALSE
        tol <- ok
        trace <- trace[-length(trace)]
        ll_old <- if (length(trace)) trace[length(trace)] else NA_real_
        next
      }
      converged <- TRUE
    }
    if (report) progress_tick(trace)
    if (converged || status != 1L || isTRUE(res$abandoned) || length(trace) >= control$maxit) break
    ll_old <- trace[length(trace)]
  }
  list(theta = theta, trace = trace, status = status, bad = bad, converged = converged,
    abandoned = isTRUE(res$abandoned), at_theta = isTRUE(res$at_theta), stats = res$stats)
}

# The margin below the best healthy start's log-likelihood under which a
# start's Aitken limit abandons it (lvm_control()'s `abandon`): 10 plus 0.01
# per unit of total weight (per observation), wide enough that a start still
# in a slow phase of EM is not abandoned for an optimum only slightly below.
abandon_margin <- function(total_weight) 10 + 0.01 * total_weight

# The log-likelihoods before a burst that the engine's abandoning rule reads
# (HM_EM_ABANDON_RATES + 1 in src/engine/hm_engine.h).
em_abandon_hist <- 6L

# Aitken's stopping rule (Bohning et al. 1994; McNicholas et al. 2010). EM
# converges linearly: successive gains shrink by a rate a = d_k / d_(k-1),
# so the log-likelihood still to gain is about d_k a / (1 - a), a / (1 - a)
# times the last change (3 to 8 times for factor analysis of mtcars, where
# a is 0.76 to 0.89). The fit has converged when that estimate, relative to
# 1 + |l|, is below `tol`. Returns TRUE, or the tolerance of the engine's
# relative-change test that the current rate implies (a smaller one). A
# rate outside (0, 1), or gains at round-off, leave the plain test as is.
em_aitken_ok <- function(trace, tol) {
  k <- length(trace)
  if (k < 3L) return(TRUE)
  d1 <- trace[k - 1L] - trace[k - 2L]
  d2 <- trace[k] - trace[k - 1L]
  scale <- 1 + abs(trace[k])
  if (!is.finite(d1) || !is.finite(d2) || d1 <= 0 || d2 <= 0 || abs(d2) < 1e-13 * scale) return(TRUE)
  a <- d2 / d1
  if (a >= 1) return(TRUE)
  if (d2 * a / (1 - a) < tol * scale) return(TRUE)
  max(tol * (1 - a) / a * (1 - 1e-6), 1e-15)
}

# E-step at theta: per-row log p(x) (user units), posterior, total.
fit_estep <- function(m, theta, xs, w, sc, threads, call = rlang::caller_env()) {
  es <- native_model_estep(m, theta, xs, w, logp = TRUE, post = TRUE, threads = threads)
  stop_status(es, "the E-step", call = call)
  logp <- es$logp - sc$log_jac
  colnames(es$post) <- model_post_names(m)
  # The total from the engine's statistics (summed by its tree over blocks,
  # as a chunked fit sums them), less the standardisation's Jacobian.
  k <- m$dim
  list(logp = logp, post = es$post, loglik = es$stats[k + 1L] - es$stats[k + 2L] * sc$log_jac)
}

#' Fit a latent variable model
#'
#' Fits a model by exact EM (closed-form M-step for `"analytic"` models, an
#' exact numerical M-step otherwise). Data columns are matched to the
#' model's observable family left to right; factor columns are categorical.
#'
#' @param model An `lvm_model` such as [mixture()], or a one-sided formula
#'   selecting columns of `data` (then the model comes third:
#'   `fit_lvm(~ a + b, data, model)`).
#' @param data A numeric matrix, a data frame or a vector; or chunked data
#'   from [lvm_chunks()], fitted chunk by chunk by the workers of the current
#'   `future::plan()` with the same result as in memory (for a hidden
#'   Markov model or a linear dynamical system each chunk is one whole
#'   sequence; see
#'   `vignette("larger-than-memory", package = "harmonium")`).
#' @param init Starting values: a previous fit, source parameters, or a vector
#'   of hard labels in `1..k` (then one start unless
#'   `lvm_control(n_init = )` asks for more). `NULL` uses the default starts
#'   (see [lvm_control()]'s `n_init`).
#' @param method `"em"`: exact EM (closed-form M-step for `"analytic"`
#'   models, an exact numerical M-step otherwise). `"gradient"`: maximise
#'   the exact log-likelihood with its exact gradient (the difference of the
#'   data's and the model's expected sufficient statistics) by
#'   L-BFGS or Adam (see [lvm_control()]), on unconstrained
#'   reparameterisations of the natural parameters. `"auto"` uses EM
#'   whenever the model has one, which all current models do.
#' @param control Settings from [lvm_control()].
#' @param weights Optional non-negative case weights.
#' @param na_action `"fail"` (an error naming the rows with missing values) or
#'   `"omit"` (drop them).
#' @param ... Not used: an argument here is an error (of class
#'   `harmonium_error_unknown_argument`) that suggests the closest valid
#'   name, among these arguments and those of [lvm_control()].
#' @return A fit of class `c("mixture_fit", "lvm_fit")` holding `model`,
#'   `params` (source parameters in the data's units), `loglik`, `trace`
#'   (log-likelihood per iteration), `iterations`, `converged`, `n`, `df`,
#'   `posterior`, the data, `starts` (one row per start: log-likelihood,
#'   iterations, status and a note on what happened to it) and `warnings`
#'   (a data frame with columns `class`, `start` and `message`, one row per
#'   event of the fit, see below; print() and summary() show them).
#' @section Degenerate data:
#' Degenerate data never give a silent `NaN` or `Inf` in the parameters,
#' the log-likelihood, the trace or the posterior: each case is handled and
#' reported, or is a classed error. Every event is raised as a classed
#' warning (`harmonium_warning_<class>`) and also recorded in
#' `fit$warnings`, which keeps it even when the warning is suppressed.
#' * A component (or HMM state) that collapses onto one point or a tied set,
#'   or whose covariance becomes singular: EM stops at the last valid
#'   iterate (`"collapse"`; `fit$status` names the failure). With several
#'   starts, a start that ended so is discarded while a healthy one exists
#'   (`"discarded_start"`, naming the start), and a start that failed is
#'   skipped (`"failed_start"`); when every start failed, a classed error
#'   `harmonium_error_fit_failed` lists them. With a ridge
#'   (`lvm_control(reg = )`), a Normal component whose covariance is held
#'   only by the ridge is reported as `"collapse"`.
#' * Singular data in a Normal model (a constant column, collinear columns,
#'   fewer rows than columns) that defeat every start: refitted with a
#'   ridge of `1e-6` (`"singular"`).
#' * Probabilities and rates at the boundary (a category never observed in
#'   a component, a Bernoulli or binomial column all 0 or all at its
#'   maximum, a Poisson component of zeros): floored at `1e-12`
#'   (`"boundary"`), so every log-density stays finite. Such a parameter is
#'   the maximum of a bounded likelihood (poLCA's fits have them too), so it
#'   is recorded in `fit$warnings` and shown by print() without raising a
#'   warning.
#' * A von Mises concentration or gamma shape running off to infinity (a
#'   component on identical values): reported (`"concentration"`).
#' * Factor analysis and PPCA: the uniquenesses (in units of each column's
#'   variance) are bounded below at `0.005`, the default `lower` of
#'   [stats::factanal()], and a Heywood case (a uniqueness at that bound)
#'   is reported by column name (`"heywood"`). More factors than the
#'   Ledermann bound identifies are reported as `"unidentified"`.
#' * HMM states never visited (`"empty_state"`); a singular LDS noise
#'   covariance (`"collapse"`).
#'
#' A start that ended with a Normal component on fewer than d + 1 effective
#' observations (for an unrestricted covariance) or with a singular
#' covariance loses to every healthy start; when every start ended so, the
#' fit is reported (`"collapse"`). [select_k()] shows degenerate fits with
#' `NA` BIC and never chooses them.
#' @seealso [lvm_control()], [select_k()], [with_params()].
#' @examples
#' fit <- fit_lvm(mixture(ef_normal(2), 2), faithful)
#' fit
#' BIC(fit)
#' head(predict(fit))
#' fit2 <- fit_lvm(~ eruptions, faithful, mixture(ef_normal(1), 2))
#' coef(fit2)$weights
#' @export
fit_lvm <- function(model, data, init = NULL, method = c("auto", "em", "gradient"),
                    control = lvm_control(), weights = NULL, na_action = c("fail", "omit"), ...) {
  call <- match.call()
  env <- rlang::current_env()
  check_dots(..., fn = "fit_lvm", control = TRUE)
  # Every classed warning raised while fitting is also recorded in the fit
  # (fit$warnings, R/fit-events.R).
  events <- events_open()
  on.exit(events_close(events), add = TRUE)
  # Chunked data (lvm_chunks()) go to the chunked driver below; formulas
  # select columns of data in memory only.
  chunked <- !missing(data) && is_lvm_chunks(data)
  forms <- if (chunked) {
    check_model(model)
    list(model = model, data = data, init = init)
  } else {
    resolve_call_forms(model, data, init, env)
  }
  model <- forms$model
  method <- check_choice(method, c("auto", "em", "gradient"), call = env)
  na_action <- check_choice(na_action, c("fail", "omit"), call = env)
  if (!inherits(control, "lvm_control")) {
    abort_hm("{.arg control} must come from {.fn lvm_control}.", "argument", call = env)
  }
  control <- fit_maxit(control, model)
  control <- resolve_n_init(control, model, forms$init)
  progress <- progress_open(control, what = if (identical(model$kind, "hmm")) "Baum-Welch" else "EM")
  on.exit(progress_close(progress), add = TRUE)
  if (chunked) {
    # The same EM, chunks mapped under the user's future plan (R/chunked-fit.R).
    return(events_attach(fit_chunked(model, data, init, method, control, weights, na_action, call, env), events))
  }
  if (is_sequence_model(model)) {
    seqs <- as_sequences(forms$data, forms$group, "data", env)
    if (na_action == "omit") {
      abort_hm(c("{.arg na_action} does not apply to sequence models.",
        i = "Missing observations are skipped by the update step; the state is still predicted."),
        "argument", call = env)
    }
    return(events_attach(fit_sequence(model, seqs, forms$init, method, control, weights, call, env), events))
  }
  # "auto" prefers an exact EM (closed-form or with an exact numerical
  # M-step) where the model has one, and the exact gradient otherwise.
  has_em <- !isFALSE(model$has_em)
  if (method == "auto") method <- if (has_em) "em" else "gradient"
  if (method == "em" && !has_em) abort_no_em(model, env)
  if (method == "gradient") gradient_problem(model, env)
  threads <- resolve_threads(control$threads)
  prep <- prepare_data(model, forms$data, weights, na_action, env, threads = threads, scale = TRUE)
  model <- prep$model
  x <- prep$x
  w <- prep$weights
  n <- nrow(x)
  if (!is.null(model[["k"]]) && model[["k"]] > n) {
    abort_hm("{.arg model} has {model$k} components but {.arg data} has only {n} row{?s}.",
      "data", call = env)
  }
  sc <- prep$scaler
  xs <- prep$xs
  check_scaler(sc, xs, env, sumsq = prep$sumsq)
  ctrl <- fam_ctrl(reg = control$reg, floor = mixture_floor, lower = fit_lower(model, control))

  # One cache per fit: the starts' features are computed once (the refit
  # with a ridge below reuses them); the partitions are reset per run.
  cache <- start_cache()
  total_w <- if (is.null(w)) n else sum(w)
  # The engine's log-likelihoods are in the internal (standardised) units.
  ll_offset <- total_w * sc$log_jac
  run_starts <- function(ctrl, control) {
    best <- NULL
    cache$partitions <- NULL
    starts <- data.frame(start = seq_len(control$n_init), loglik = NA_real_, iterations = 0L,
      status = "failed", note = "", stringsAsFactors = FALSE)
    for (i in seq_len(control$n_init)) {
      th0 <- start_theta(model, xs, x, w, forms$init, i, control, ctrl, threads, sc, env, cache)
      if (inherits(th0, "hm_start_duplicate")) {
        starts$status[i] <- "duplicate"
        starts$note[i] <- sprintf("the same partition as start %d; not run again", th0$of)
        next
      }
      if (is.null(th0)) {
        starts$note[i] <- "no valid starting parameters (the M-step from its start failed)"
        next
      }
      # Once a healthy start is known, EM abandons a start whose Aitken
      # limit stays below it by more than abandon_margin().
      below <- if (method == "em" && !isFALSE(control$abandon) && !is.null(best) && best$healthy) {
        best$loglik + ll_offset - abandon_margin(total_w)
      } else {
        -Inf
      }
      em <- if (method == "em") {
        run_em(model, th0, xs, w, ctrl, control, threads, abandon_below = below)
      } else {
        run_gradient(model, th0, xs, w, control, threads, env)
      }
      nt <- length(em$trace)
      # Where EM ended at the parameters of its last E-step, that E-step's
      # log-likelihood and statistics judge the start; the posterior is
      # computed only for the start kept (below). Otherwise a full E-step.
      es <- NULL
      eff <- NULL
      if (isTRUE(em$at_theta) && nt > 0L && is.finite(em$trace[nt]) && all(is.finite(em$theta))) {
        ll <- em$trace[nt] - ll_offset
        eff <- mixture_eff(model, em$stats)
      } else {
        es <- tryCatch(fit_estep(model, em$theta, xs, w, sc, threads), harmonium_error = function(e) NULL)
        if (is.null(es) || !is.finite(es$loglik) || !all(is.finite(em$theta))) {
          starts$note[i] <- paste("EM ended where the log-likelihood is not finite",
            if (em$status > 1L) paste0("(", status_message(em$status), ")"))
          next
        }
        ll <- es$loglik
      }
      starts$loglik[i] <- ll
      starts$iterations[i] <- nt
      if (isTRUE(em$abandoned)) {
        starts$status[i] <- "abandoned"
        starts$note[i] <- sprintf(paste("abandoned at iteration %d: Aitken's limit of its log-likelihood is below",
          "start %d's %.6g by more than %.3g"), nt, best$start, best$loglik, abandon_margin(total_w))
        next
      }
      starts$status[i] <- if (em$converged) "converged" else if (em$status == 1L) "max_iter" else
        paste0("stopped: ", hm_status_names[em$status + 1L])
      if (em$status > 1L) starts$note[i] <- collapse_note(em, "component", nt)
      # A start that ended in a collapsed component (EM stopped, or a
      # component on fewer than d + 1 points or with a singular covariance) is
      # kept only when no start ended healthy: a degenerate optimum's higher
      # likelihood is spurious.
      health <- if (em$status <= 1L) mixture_health(model, em$theta, es$post, w, eff = eff) else ""
      if (nzchar(health)) {
        starts$status[i] <- "degenerate"
        starts$note[i] <- health
      }
      healthy <- em$status <= 1L && !nzchar(health)
      if (is.null(best) || (healthy && !best$healthy) ||
        (healthy == best$healthy && ll > best$loglik)) {
        best <- list(em = em, es = es, loglik = ll, start = i, healthy = healthy, health = health)
      }
    }
    list(best = best, starts = starts)
  }
  ms <- run_starts(ctrl, control)
  # Data whose covariance is singular (a constant column, collinear columns,
  # fewer rows than columns) defeat every start of a Normal model without a
  # ridge; as sklearn's reg_covar, a ridge of singular_ridge is then added.
  if (is.null(ms$best) && control$reg == 0 && method == "em" && has_normal_block(model$obs)) {
    control_r <- control
    control_r$reg <- singular_ridge
    ctrl_r <- fam_ctrl(reg = singular_ridge, floor = mixture_floor, lower = fit_lower(model, control))
    ms_r <- run_starts(ctrl_r, control_r)
    if (!is.null(ms_r$best)) {
      warn_hm(c("Every start failed without a ridge: the covariance of the data is singular (a constant column, collinear columns, or fewer rows than columns).",
        i = "Refitted with a ridge of {singular_ridge} on every variance (in units of each column's variance), as with {.code lvm_control(reg = {singular_ridge})}."),
        "singular")
      ms <- ms_r
      ctrl <- ctrl_r
      control <- control_r
    }
  }
  best <- ms$best
  starts <- ms$starts
  report_starts(best, starts, control, "Try {.code lvm_control(reg = 1e-6)}, fewer components, or {.arg init}.",
    env)
  em <- best$em
  if (em$status > 1L) {
    warn_hm(c("EM stopped: {collapse_note(em, \"component\", length(em$trace))}.",
      i = "The fit is the last valid iterate; try {.code lvm_control(reg = 1e-6)} or fewer components."),
      "collapse")
  } else if (nzchar(best$health)) {
    warn_hm(c("Every start ended degenerate; the best one's {best$health}.",
      i = "Its log-likelihood is spurious; try more starts ({.code lvm_control(n_init = )}), fewer components or a constrained covariance."),
      "collapse")
  } else if (!em$converged) {
    warn_not_converged(if (method == "gradient") "The gradient optimiser" else "EM", control)
  }
  trace <- em$trace - (if (is.null(w)) n else sum(w)) * sc$log_jac
  check_monotone(trace)
  theta <- model_canonical(model, em$theta)
  es <- if (!is.null(best$es) && identical(theta, em$theta)) best$es else fit_estep(model, theta, xs, w, sc, threads, env)
  starts$loglik[best$start] <- es$loglik
  fit <- new_fit(model, theta, sc, x, w, es, call)
  fit <- fit_record_em(fit, trace, length(em$trace), isTRUE(em$converged), hm_status_names[em$status + 1L],
    starts, best$start, control, method)
  fit$omitted <- prep$omitted
  diagnose_fit(fit, xs, w)
  events_attach(fit, events)
}

# The outcome of a multi-start fit's starts, shared by every model's driver: a
# classed error when every start failed (`best` is NULL), with `hint` as its
# advice, and a warning naming how many failed otherwise.
# Each failed start and each start that ended degenerate but was not kept is
# one event (fit$warnings), named by its number and, when the driver
# recorded it in `starts$note`, what happened.
report_starts <- function(best, starts, control, hint, call) {
  note <- if (is.null(starts$note)) rep("", nrow(starts)) else starts$note
  fail <- which(starts$status == "failed")
  what <- ifelse(nzchar(note[fail]), note[fail], "failed numerically")
  if (is.null(best)) {
    ev <- paste0("start ", fail, ": ", what)
    abort_hm(c("Every start failed ({control$n_init}).", stats::setNames(utils::head(ev, 5L), rep("x", min(5L, length(ev)))),
      i = hint), "fit_failed", call = call)
  }
  if (length(fail)) {
    ev <- paste0("start ", fail, ": ", what)
    warn_hm(c("{length(fail)} of {control$n_init} start{?s} failed numerically and {?was/were} skipped:",
      stats::setNames(ev, rep("*", length(ev)))), "failed_start", events = ev, start = fail)
  }
  gone <- setdiff(which(grepl("^(stopped|degenerate)", starts$status)), best$start)
  if (length(gone)) {
    ev <- paste0("start ", gone, ": ", ifelse(nzchar(note[gone]), note[gone], starts$status[gone]),
      "; discarded")
    if (isTRUE(attr(control, "n_init_default"))) {
      # With the default number of starts, random starts that collapse are
      # routine and their loss to a healthy start is not news: recorded in
      # fit$warnings, not signalled.
      events_record(structure(class = c("harmonium_warning_discarded_start", "harmonium_warning", "warning",
        "condition"), list(message = "discarded starts", call = NULL)), ev, gone)
    } else {
      warn_hm(c("{length(gone)} start{?s} ended degenerate and {?was/were} discarded:",
        stats::setNames(ev, rep("*", length(ev)))), "discarded_start", events = ev, start = gone)
    }
  }
  invisible(length(fail))
}

# "component 2 collapsed at iteration 14 (a covariance ... not positive
# definite)", from a driver's EM result.
collapse_note <- function(em, unit, iterations) {
  who <- if (!is.null(em$bad) && em$bad >= 0L) paste(unit, em$bad + 1L) else "the model"
  st <- em$status
  why <- if (is.character(st)) if (st == "not_pd") status_message(3L) else st else status_message(st)
  paste0(who, " collapsed at iteration ", iterations, " (", why, ")")
}

# The bound on the uniquenesses of a factor model (Normal observables with a
# diagonal or isotropic covariance, standardised to unit variance, and a
# Normal latent): lvm_control()'s `lower` (0.005, the lower bound of
# stats::factanal()); 0 (none) for every other model.
fit_lower <- function(model, control) {
  if (identical(model$kind, "lgm") && identical(model$obs$name, "normal") && model$obs$rep >= 1L) {
    lgm_lower(control)
  } else {
    0
  }
}

lgm_lower <- function(control) if (is.null(control$lower)) heywood_bound else control$lower

# The ridge added when every start failed on singular data (fit_lvm()).
singular_ridge <- 1e-6

has_normal_block <- function(fam) {
  any(vapply(fam_blocks(fam)$blocks, function(b) identical(b$name, "normal"), logical(1)))
}

# `what` ("EM", "Baum-Welch", ...) reached the iteration cap. With
# lvm_control(tol = 0), which asks for exactly `maxit` iterations, that is
# no news: no warning.
warn_not_converged <- function(what, control) {
  if (isTRUE(control$tol == 0)) return(invisible())
  warn_hm("{what} did not converge in {control$maxit} iterations; increase {.arg maxit} in {.fn lvm_control}.",
    "not_converged")
}

abort_no_em <- function(model, call) {
  abort_hm(c("{model$label} has no EM (its M-step has no closed form).",
    i = "Fit it with {.code fit_lvm(method = \"gradient\")} (or {.code \"auto\"})."), "unsupported",
    call = call)
}

# A decrease beyond round-off is a bug. Round-off is relative to the terms
# summed, not to the total: log p(x) = theta . s(x) - psi(theta) cancels
# terms of order (mean / sd)^2, so tight clusters thousands of standard
# deviations apart give relative decreases of a few 1e-10 (test-properties.R).
# The record of a multi-start EM run that every fit driver (mixture/LGM, HMM,
# LDS) attaches to its fit; `method` is left unset when NULL.
fit_record_em <- function(fit, trace, iterations, converged, status, starts, best_start, control,
                          method = NULL) {
  fit$trace <- trace
  fit$iterations <- iterations
  fit$converged <- converged
  fit$status <- status
  fit$starts <- starts
  fit$best_start <- best_start
  fit$control <- control
  if (!is.null(method)) fit$method <- method
  fit
}

check_monotone <- function(trace) {
  if (length(trace) < 2L) return(invisible())
  drop <- -diff(trace) / (1 + abs(trace[-1]))
  if (any(drop > 1e-8)) {
    it <- which.max(drop) + 1L
    warn_hm("The log-likelihood decreased at iteration {it}; please report this as a bug.", "decrease")
  }
  invisible()
}

# Names each component parameter after the data columns it belongs to: a
# vector of one value per column gets names, a square matrix dimnames.
name_component <- function(fam, p) {
  fb <- fam_blocks(fam)
  cn <- family_colnames(fam)
  one <- function(pb, cols) {
    for (nm in names(pb)) {
      v <- pb[[nm]]
      if (is.matrix(v) && nrow(v) == length(cols) && ncol(v) == length(cols)) {
        dimnames(pb[[nm]]) <- list(cn[cols], cn[cols])
      } else if (is.null(dim(v)) && length(v) == length(cols) && is.null(names(v))) {
        names(pb[[nm]]) <- cn[cols]
      }
    }
    pb
  }
  if (fam$name != "product") return(one(p, fb$cols[[1]]))
  lapply(seq_along(fb$blocks), function(b) one(p[[b]], fb$cols[[b]]))
}

new_fit <- function(model, theta, sc, x, w, es, call) {
  params <- model_name_params(model, model_affine(model, sc, model_to_src(model, theta), inverse = TRUE))
  structure(
    list(
      model = model, params = params, theta = theta, scaler = sc,
      loglik = es$loglik, trace = es$loglik, iterations = 0L, converged = NA, n = nrow(x),
      df = model$n_free, weights = w, x = x, posterior = es$post, logp = es$logp, call = call
    ),
    class = unique(c(paste0(model$kind, "_fit"), model$fit_class, "lvm_fit"))
  )
}

#' A fit at given parameters
#'
#' Builds a fit object at the given source parameters without fitting, so
#' that every method (log-likelihood, posterior, prediction, simulation,
#' plots) can be used at known parameters.
#'
#' @param model An `lvm_model`.
#' @param params Source parameters (see [mixture()]).
#' @param data Optional data at which the log-likelihood and posterior are
#'   evaluated.
#' @return An `lvm_fit`; without data its `loglik` is `NA`.
#' @examples
#' m <- mixture(ef_poisson(), 2)
#' p <- list(weights = c(0.4, 0.6), components = list(list(rate = 2), list(rate = 9)))
#' f <- with_params(m, p, data = c(1, 3, 8, 10, 12))
#' logLik(f)
#' posterior(f)
#' @export
with_params <- function(model, params, data = NULL) {
  check_model(model)
  env <- rlang::current_env()
  # The canonical form of the parameters (the same model), so that the
  # posterior's latent coordinates are those of coef().
  if (is_sequence_model(model)) {
    seqs <- if (is.null(data)) NULL else as_sequences(data, NULL, "data", env)
    return(with_params_sequence(model, params, seqs, sys.call(), env))
  }
  theta <- model_canonical(model, model_to_nat(model, params, call = env))
  if (is.null(data)) {
    sc <- identity_scaler(model$d)
    fit <- new_fit(model, theta, sc, matrix(0, 0, model$d), NULL,
      list(loglik = NA_real_, post = matrix(0, 0, model$post_len), logp = numeric(0)), sys.call())
    fit$trace <- numeric(0)
    return(fit)
  }
  prep <- prepare_data(model, data, NULL, "fail", env)
  x <- prep$x
  sc <- identity_scaler(ncol(x))
  es <- fit_estep(prep$model, theta, x, NULL, sc, resolve_threads(), env)
  fit <- new_fit(prep$model, theta, sc, x, NULL, es, sys.call())
  fit$trace <- es$loglik
  fit
}
