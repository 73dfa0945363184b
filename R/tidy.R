# broom-style tidiers for fits: tidy() (one row per parameter), glance()
# (one row per fit), augment() (the data with per-row posterior columns),
# and as.data.frame() of a fit (its tidy table). The generics come from the
# `generics` package and are re-exported, so harmonium::tidy() works without
# broom and broom::tidy() dispatches to these methods.

#' @importFrom generics tidy
#' @export
generics::tidy

#' @importFrom generics glance
#' @export
generics::glance

#' @importFrom generics augment
#' @export
generics::augment

# --- the parameter table -------------------------------------------------------

# Index labels of a vector (its names, else 1..n).
tidy_index <- function(n, nm) if (is.null(nm)) as.character(seq_len(n)) else nm

# Rows (parameter, term, estimate, .key) of one numeric parameter `v` named
# `par`. A covariance-like symmetric matrix gives its upper triangle (its
# free entries), or only its diagonal when every off-diagonal entry is zero
# (a diagonal or isotropic structure); other matrices give every entry.
# `.key` names the entry as vcov() does: the path of the parameter in
# coef() (`vpath`, e.g. "components[[2]]$cov") with numeric indices.
tidy_leaf <- function(v, par, vpath = par) {
  if (is.matrix(v)) {
    rn <- tidy_index(nrow(v), rownames(v))
    cn <- tidy_index(ncol(v), colnames(v))
    keep <- matrix(TRUE, nrow(v), ncol(v))
    symmetric_name <- grepl("cov$|coupling$", par)
    if (symmetric_name && nrow(v) == ncol(v) && isSymmetric(unname(v))) {
      off <- v[row(v) != col(v)]
      keep <- if (all(off == 0)) row(v) == col(v) else row(v) <= col(v)
      # A Boltzmann coupling has a structurally zero diagonal.
      if (grepl("coupling$", par)) keep <- row(v) < col(v)
    }
    idx <- which(keep, arr.ind = TRUE)
    idx <- idx[order(idx[, 1], idx[, 2]), , drop = FALSE]
    return(data.frame(
      parameter = rep(par, nrow(idx)),
      term = paste0(par, "[", rn[idx[, 1]], ",", cn[idx[, 2]], "]"),
      estimate = as.double(v[idx]),
      .key = sprintf("%s[%d,%d]", vpath, idx[, 1], idx[, 2]),
      stringsAsFactors = FALSE
    ))
  }
  nm <- names(v)
  v <- as.double(v)
  term <- if (length(v) == 1L && is.null(nm)) par else paste0(par, "[", tidy_index(length(v), nm), "]")
  data.frame(parameter = rep(par, length(v)), term = term, estimate = v,
    .key = sprintf("%s[%d]", rep(vpath, length(v)), seq_along(v)), stringsAsFactors = FALSE)
}

tidy_empty <- function() {
  data.frame(parameter = character(), term = character(), estimate = double(), .key = character(),
    stringsAsFactors = FALSE)
}

# Rows of a (nested) parameter list: names join with "." into the parameter
# name; unnamed blocks (of a product family) take `block_names`. `vpath` is
# the path in coef() so far, as vcov() writes it ("components[[1]]$",
# "components[[1]][[2]]$").
tidy_params <- function(p, prefix = "", block_names = NULL, vpath = "") {
  if (!is.list(p)) return(tidy_leaf(p, prefix, sub("\\$$", "", vpath)))
  nm <- names(p)
  unnamed <- is.null(nm)
  if (unnamed) nm <- if (length(block_names) == length(p)) block_names else paste0("block", seq_along(p))
  nm[nm == ""] <- paste0("block", which(nm == ""))
  rows <- lapply(seq_along(p), function(i) {
    child <- if (unnamed) paste0(sub("\\$$", "", vpath), "[[", i, "]]$") else paste0(vpath, nm[i], "$")
    tidy_params(p[[i]], if (nzchar(prefix)) paste0(prefix, ".", nm[i]) else nm[i], vpath = child)
  })
  rows <- rows[vapply(rows, nrow, integer(1)) > 0L]
  if (!length(rows)) return(tidy_empty())
  do.call(rbind, rows)
}

# Labels of the blocks of a product family: the column names each covers.
tidy_block_names <- function(fam) {
  if (is.null(fam) || !is.list(fam) || !identical(fam$name, "product")) return(NULL)
  fb <- fam_blocks(fam)
  cn <- family_colnames(fam)
  vapply(fb$cols, function(cols) paste(cn[cols], collapse = ":"), "")
}

# The rows of a mixture's parameters (weights, components): one `weight` row
# per component, then each component's parameters, tagged by component.
tidy_mixture_rows <- function(p, fam, prefix = "") {
  k <- length(p$weights)
  pre <- function(s) if (nzchar(prefix)) paste0(prefix, ".", s) else s
  blocks <- tidy_block_names(fam)
  rows <- lapply(seq_len(k), function(j) {
    vpre <- if (nzchar(prefix)) paste0(gsub(".", "$", prefix, fixed = TRUE), "$") else ""
    w <- data.frame(parameter = pre("weight"), term = pre("weight"), estimate = as.double(p$weights[j]),
      .key = sprintf("%sweights[%d]", vpre, j), stringsAsFactors = FALSE)
    comp <- tidy_params(p$components[[j]], prefix, blocks, vpath = sprintf("%scomponents[[%d]]$", vpre, j))
    out <- rbind(w, comp)
    cbind(data.frame(component = rep(j, nrow(out))), out)
  })
  do.call(rbind, rows)
}

# Rows without a component (shared parameters).
tidy_shared <- function(rows, group = "component") {
  cbind(stats::setNames(data.frame(rep(NA_integer_, nrow(rows))), group), rows)
}

# The parameter table of a fit, before standard errors: a data frame with a
# group column (component or state; NA for parameters shared by all), then
# parameter, term and estimate.
tidy_table <- function(x) {
  p <- x$params
  m <- x$model
  if (inherits(x, "hmm_fit")) {
    S <- length(p$initial)
    st <- tidy_index(S, names(p$initial))
    blocks <- tidy_block_names(m$emission)
    rows <- lapply(seq_len(S), function(s) {
      tr <- p$transition[s, ]
      out <- rbind(
        data.frame(parameter = "initial", term = "initial", estimate = as.double(p$initial[s]),
          .key = sprintf("initial[%d]", s), stringsAsFactors = FALSE),
        data.frame(parameter = rep("transition", S), term = paste0("transition[", st, "]"), estimate = as.double(tr),
          .key = sprintf("transition[%d,%d]", s, seq_len(S)), stringsAsFactors = FALSE),
        tidy_params(p$emission[[s]], "emission", blocks, vpath = sprintf("emission[[%d]]$", s))
      )
      cbind(data.frame(state = rep(s, nrow(out))), out)
    })
    return(do.call(rbind, rows))
  }
  fam <- if (inherits(m$component, "ef_family")) m$component else NULL
  tidy_nested(p, fam)
}

# Mixtures (weights, components) give rows per component; hierarchical
# models their shared parameters, then their latent model's rows (which may
# itself be hierarchical) under the prefix "latent".
tidy_nested <- function(p, fam = NULL, prefix = "") {
  if (!is.null(p$weights) && !is.null(p$components)) return(tidy_mixture_rows(p, fam, prefix))
  vpre <- if (nzchar(prefix)) paste0(gsub(".", "$", prefix, fixed = TRUE), "$") else ""
  if (is.list(p$latent) && !is.null(names(p$latent))) {
    shared <- tidy_shared(tidy_params(p[setdiff(names(p), "latent")], prefix, vpath = vpre))
    inner <- if (nzchar(prefix)) paste0(prefix, ".latent") else "latent"
    return(rbind(shared, tidy_nested(p$latent, NULL, inner)))
  }
  tidy_shared(tidy_params(p, prefix, vpath = vpre))
}

# A data frame as a tibble when tibble is installed (broom's convention).
as_tidy_frame <- function(df) {
  rownames(df) <- NULL
  if (requireNamespace("tibble", quietly = TRUE)) tibble::as_tibble(df) else df
}

check_tidy_fit <- function(x, call = rlang::caller_env()) {
  if (!inherits(x, "lvm_fit") || !is.list(x$params)) not_a_fit(x, "x", call = call)
  invisible(x)
}

#' Tidy summaries of a fit (broom's tidy, glance and augment)
#'
#' Methods for the generics of the `generics` package (re-exported here, and
#' the ones `broom` uses), for every fit of [fit_lvm()] and [with_params()]:
#' mixtures of any family and of models ([mfa()]), [lgm()],
#' [factor_analysis()], [ppca()], [boltzmann_lgm()], [harmonium()] and
#' [hmog()], the Categorical-Dirichlet harmonium, [hmm()] and [lds()], fitted
#' by EM or by gradient.
#'
#' `tidy()` gives one row per parameter, by group in the order of [coef()]: a group
#' column (`component` for mixtures and for the latent mixture of [hmog()],
#' `state` for [hmm()]; `NA` for parameters shared by all), `parameter` (the
#' name in [coef()], nested names joined by `.`, e.g. `latent.mean`; for a
#' product family the block's column names come first, e.g. `g.prob`),
#' `term` (the parameter with its index, e.g. `mean[Sepal.Length]`,
#' `cov[Sepal.Length,Sepal.Width]`; `transition[S2]` in the rows of state
#' 1 is the probability of moving from state 1 to state 2) and `estimate`. A
#' symmetric covariance contributes its upper triangle, only its diagonal
#' when it is diagonal; a Boltzmann coupling its strict upper triangle. With `conf.int = TRUE`
#' or `se = TRUE`, and when a [stats::vcov()] method exists for the fit,
#' `std.error` (the square root of the diagonal of `vcov(x)`) is added, and
#' with `conf.int = TRUE` the Wald interval `conf.low`, `conf.high`. The
#' rows of `vcov()` are matched by name: the path of the parameter in
#' [coef()] with numeric indices, as `vcov()` names them (`weights[1]`,
#' `components[[2]]$mean[1]`, `components[[2]]$cov[1,2]`, `loadings[3,1]`);
#' the last entry of a probability vector (a mixture weight, a
#' categorical probability), which `vcov()` leaves out as 1 minus the
#' others, gets the standard error of that difference, and any other row
#' that `vcov()` does not have gets `NA`. Without a `vcov()` method for the
#' fit a warning says so and those columns are left out.
#'
#' `glance()` gives one row: `logLik`, `df`, `AIC`, `BIC` (`-2 l + df log
#' n`, smaller is better), `ICL` (for mixtures and hierarchical models: BIC
#' plus twice the entropy of the hard classification), `nobs`, the latent
#' size (`k` for mixtures, `levels` for the Categorical-Dirichlet harmonium, `factors` for linear Gaussian models, `units`
#' for Boltzmann latents, `states` for [hmm()], `state_dim` for [lds()]),
#' `iterations`, `converged`, `method` and `n_warnings` (the warnings
#' recorded during fitting).
#'
#' `augment()` gives the data (`data`, else `newdata`, else the fitted data)
#' with columns added per row. Mixtures and hierarchical models: `.class`
#' (the most probable component), `.uncertainty` (1 minus the largest
#' posterior probability) and `.prob_<component>`; [hmog()] and mixtures of
#' models add the posterior mean of the continuous latent, `.fs1`, ...
#' Linear Gaussian models: factor scores `.fs1`, ... (posterior means);
#' Boltzmann latents: `.prob_<unit>`, the posterior probability that each
#' unit is on; the Categorical-Dirichlet harmonium: `.alpha_<level>`, the
#' sequential posterior of [posterior()]. [hmm()]: `.sequence`, `.time`,
#' `.state` (the Viterbi path), `.uncertainty` and `.prob_<state>` (the
#' smoothed state probabilities); [lds()]: `.sequence`, `.time`, the
#' smoothed state means `.state1`, ... with standard errors `.se_state1`,
#' ..., and `.fitted_<column>`, the smoothed observation means.
#'
#' @param x A fit.
#' @param conf.int Add `std.error`, `conf.low` and `conf.high` (needs a
#'   `vcov()` method for the fit).
#' @param conf.level Level of the confidence interval.
#' @param se Add `std.error` (needs a `vcov()` method for the fit).
#' @param data The data to augment: by default the fitted data. For
#'   independent-data models, a data frame or matrix with one row per
#'   fitted observation (rows omitted by `na_action = "omit"` get `NA`);
#'   for sequence models, a data frame with one row per time point of the
#'   fitted sequences (in the order they were fitted; for a fit grouped by
#'   `fit_lvm(~ ... | id, data, model)`, the `data` of that call, whose rows
#'   are matched to the sequences by the `id` column). Without `data`, the
#'   fitted sequences are returned stacked, one after another.
#' @param newdata New data: the columns are computed for it (and it is
#'   returned with them) instead of the fitted data.
#' @param ... Unused.
#' @return A tibble when the tibble package is installed, else a data frame.
#'   `as.data.frame()` of a fit gives `tidy()`'s table as a plain data frame.
#' @seealso [autoplot.lvm_fit()] for ggplot2 plots; [select_k()], whose
#'   result also has an `as.data.frame()` method (the model-selection table).
#' @examples
#' fit <- fit_lvm(mixture(ef_normal(2), 2), faithful)
#' tidy(fit)
#' glance(fit)
#' head(augment(fit))
#' as.data.frame(fit)[1:3, ]
#' fa <- fit_lvm(factor_analysis(7, 2), attitude)
#' subset(tidy(fa), parameter == "loadings")
#' head(augment(fa))
#' @name tidy.lvm_fit
NULL

#' @rdname tidy.lvm_fit
#' @export
tidy.lvm_fit <- function(x, conf.int = FALSE, conf.level = 0.95, se = conf.int, ...) {
  check_tidy_fit(x)
  conf.int <- check_flag(conf.int)
  se <- check_flag(se)
  conf.level <- check_level(conf.level)
  tab <- tidy_table(x)
  if (se || conf.int) {
    why <- NULL
    V <- tryCatch(stats::vcov(x), error = function(e) {
      why <<- conditionMessage(e)
      NULL
    })
    if (is.null(V) || !is.matrix(V) || is.null(rownames(V))) {
      warn_hm(c("No {.fn vcov} for this fit, so {.code std.error} and confidence limits are left out.",
        i = if (!is.null(why)) "{.fn vcov} said: {why}"), "no_vcov")
    } else {
      tab$std.error <- tidy_std_errors(tab, V)
      if (conf.int) {
        z <- stats::qnorm(1 - (1 - conf.level) / 2)
        tab$conf.low <- tab$estimate - z * tab$std.error
        tab$conf.high <- tab$estimate + z * tab$std.error
      }
    }
  }
  tab$.key <- NULL
  as_tidy_frame(tab)
}

# Standard errors of the rows of `tab` from `V`, matched by `.key`. A
# probability vector (mixture weights, categorical probabilities, an hmm's
# initial distribution and transition rows) has one entry fewer in vcov()
# than in the table: its last entry is 1 minus the others, so its variance
# is the sum of the others' covariance block.
tidy_std_errors <- function(tab, V) {
  sdv <- sqrt(pmax(diag(V), 0))
  names(sdv) <- rownames(V)
  se <- unname(sdv[tab$.key])
  simplex <- grepl("(^|\\.)(weight|prob|initial|transition)$", tab$parameter)
  group <- sub("[0-9]+\\]$", "", tab$.key)
  for (i in which(is.na(se) & simplex)) {
    members <- tab$.key[group == group[i] & simplex]
    others <- setdiff(members, tab$.key[i])
    if (length(others) && length(others) == length(members) - 1L && all(others %in% rownames(V))) {
      se[i] <- sqrt(max(sum(V[others, others]), 0))
    }
  }
  se
}

#' @rdname tidy.lvm_fit
#' @param row.names,optional As in [base::as.data.frame()] (unused).
#' @export
as.data.frame.lvm_fit <- function(x, row.names = NULL, optional = FALSE, ...) {
  check_tidy_fit(x)
  out <- as.data.frame(tidy_table(x), stringsAsFactors = FALSE)
  out$.key <- NULL
  rownames(out) <- NULL
  out
}

# --- glance --------------------------------------------------------------------

# The entropy term of ICL: -sum over rows of log max_k p(k | x).
icl_penalty <- function(post) {
  if (!length(post)) return(NA_real_)
  zmap <- post[cbind(seq_len(nrow(post)), max.col(post, ties.method = "first"))]
  -2 * sum(log(pmax(zmap, .Machine$double.xmin)))
}

# The latent size columns of glance().
glance_size <- function(x) {
  m <- x$model
  if (inherits(x, "hmm_fit")) return(list(states = as.integer(m$states)))
  if (inherits(x, "lds_fit")) return(list(state_dim = as.integer(m$q)))
  if (inherits(x, "categorical_dirichlet_fit")) return(list(levels = as.integer(m$n_levels)))
  if (inherits(x, "composite_fit")) return(list(k = as.integer(m$k), factors = as.integer(m$q)))
  if (inherits(x, "lgm_fit")) {
    if (isTRUE(m$gaussian_latent)) return(list(factors = as.integer(m$q)))
    return(list(units = as.integer(m$q)))
  }
  if (!is.null(m$k)) return(list(k = as.integer(m$k)))
  list()
}

#' @rdname tidy.lvm_fit
#' @export
glance.lvm_fit <- function(x, ...) {
  check_tidy_fit(x)
  ll <- as.double(x$loglik)
  df <- as.integer(x$df)
  n <- as.integer(stats::nobs(x))
  bic <- -2 * ll + df * log(n)
  out <- list(logLik = ll, df = df, AIC = -2 * ll + 2 * df, BIC = bic)
  if (inherits(x, c("mixture_fit", "composite_fit"))) {
    post <- if (inherits(x, "composite_fit")) posterior(x, type = "cluster") else x$posterior
    out$ICL <- bic + icl_penalty(post)
  }
  out$nobs <- n
  out <- c(out, glance_size(x))
  out$iterations <- as.integer(if (is.null(x$iterations)) NA else x$iterations)
  out$converged <- as.logical(if (is.null(x$converged)) NA else x$converged)
  out$method <- if (is.null(x$method)) NA_character_ else as.character(x$method)
  out$n_warnings <- if (is.data.frame(x$warnings)) nrow(x$warnings) else 0L
  as_tidy_frame(as.data.frame(out, stringsAsFactors = FALSE))
}

# --- augment -------------------------------------------------------------------

# Data to which augment() columns are added, with `n` rows: `data` (rows
# omitted by na_action = "omit" put back as NA) or the fitted data.
augment_base <- function(x, data, n, call) {
  if (is.null(data)) {
    xx <- x$x
    if (is.null(xx)) return(list(frame = data.frame(row.names = seq_len(n)), rows = seq_len(n)))
    fam <- x$model$obs
    dec <- if (inherits(fam, "ef_family")) family_decode(fam, xx) else xx
    return(list(frame = as.data.frame(dec, stringsAsFactors = FALSE), rows = seq_len(n)))
  }
  if (is.null(dim(data)) && is.atomic(data)) data <- data.frame(x = data)
  if (!is.data.frame(data) && !is.matrix(data)) {
    abort_hm("{.arg data} must be a data frame or matrix, not {.obj_type_friendly {data}}.", "argument", call = call)
  }
  data <- as.data.frame(data, stringsAsFactors = FALSE)
  om <- if (is.null(x$omitted)) integer(0) else x$omitted
  if (nrow(data) == n) return(list(frame = data, rows = seq_len(n)))
  if (length(om) && nrow(data) == n + length(om)) {
    return(list(frame = data, rows = setdiff(seq_len(nrow(data)), om)))
  }
  abort_hm(c("{.arg data} must have one row per fitted observation ({n}), not {nrow(data)}.",
    i = "For other data use {.arg newdata}."), "argument", call = call)
}

# `frame` with the columns of `cols` (n rows) placed at rows `rows` (NA at
# the others).
augment_bind <- function(frame, cols, rows) {
  for (nm in names(cols)) {
    v <- cols[[nm]]
    full <- rep(v[NA_integer_][1], nrow(frame))
    full[rows] <- v
    frame[[nm]] <- full
  }
  as_tidy_frame(frame)
}

# Columns .class, .uncertainty, .prob_<component> from a posterior matrix.
augment_class_cols <- function(post) {
  lab <- colnames(post)
  if (is.null(lab)) lab <- as.character(seq_len(ncol(post)))
  cols <- list(
    .class = max.col(post, ties.method = "first"),
    .uncertainty = 1 - apply(post, 1L, max)
  )
  for (j in seq_len(ncol(post))) cols[[paste0(".prob_", lab[j])]] <- post[, j]
  cols
}

augment_score_cols <- function(sc, prefix = ".fs") {
  sc <- as.matrix(sc)
  stats::setNames(lapply(seq_len(ncol(sc)), function(j) as.double(sc[, j])), paste0(prefix, seq_len(ncol(sc))))
}

augment_check_args <- function(data, newdata, call) {
  if (!is.null(data) && !is.null(newdata)) {
    abort_hm("Give at most one of {.arg data} and {.arg newdata}.", "argument", call = call)
  }
}

#' @rdname tidy.lvm_fit
#' @export
augment.lvm_fit <- function(x, data = NULL, newdata = NULL, ...) {
  check_tidy_fit(x)
  call <- rlang::current_env()
  augment_check_args(data, newdata, call)
  if (inherits(x, "categorical_dirichlet_fit")) {
    post <- posterior(x, newdata)
    cols <- stats::setNames(lapply(seq_len(ncol(post)), function(j) post[, j]), paste0(".alpha_", colnames(post)))
  } else if (inherits(x, "composite_fit")) {
    cols <- c(augment_class_cols(posterior(x, newdata, type = "cluster")),
      augment_score_cols(posterior(x, newdata, type = "latent")))
  } else if (inherits(x, "lgm_fit")) {
    post <- posterior(x, newdata)
    cols <- if (isTRUE(x$model$gaussian_latent)) augment_score_cols(post) else
      stats::setNames(lapply(seq_len(ncol(post)), function(j) as.double(post[, j])),
        paste0(".prob_", if (is.null(colnames(post))) paste0("z", seq_len(ncol(post))) else colnames(post)))
  } else {
    post <- posterior(x, newdata)
    cols <- augment_class_cols(post)
  }
  n <- length(cols[[1]])
  if (!is.null(newdata)) {
    frame <- if (is.null(dim(newdata))) data.frame(x = newdata) else as.data.frame(newdata, stringsAsFactors = FALSE)
    return(augment_bind(frame, cols, seq_len(n)))
  }
  base <- augment_base(x, data, n, call)
  augment_bind(base$frame, cols, base$rows)
}

# The grouping column of a sequence fit made with `fit_lvm(~ ... | id, data,
# model)`, from the formula written in its call; NULL otherwise.
seq_group_var <- function(x) {
  cl <- x$call
  if (!is.call(cl)) return(NULL)
  for (a in as.list(cl)[-1]) {
    if (is.call(a) && identical(a[[1]], as.name("~"))) {
      rhs <- a[[length(a)]]
      if (is.call(rhs) && identical(rhs[[1]], as.name("|")) && is.name(rhs[[3]])) return(as.character(rhs[[3]]))
    }
  }
  NULL
}

# Sequence fits: `data` given by the user, with one row per fitted time
# point, and the row of `data` each stacked time point is. A fit grouped by
# a formula's `| id` stacks its sequences in order of first appearance, so
# when `data` has that column its rows are matched back to the sequences;
# otherwise rows are taken in the stacked order.
augment_seq_base <- function(x, data, index, call) {
  n <- nrow(index)
  if (!is.null(data)) {
    if (!is.data.frame(data) && !is.matrix(data) && !(is.atomic(data) && is.null(dim(data)))) {
      abort_hm("{.arg data} must be a data frame, matrix or vector, not {.obj_type_friendly {data}}.",
        "argument", call = call)
    }
    frame <- if (is.null(dim(data))) data.frame(x = data) else as.data.frame(data, stringsAsFactors = FALSE)
    if (nrow(frame) != n) {
      abort_hm(c("{.arg data} must have one row per fitted time point ({n}), not {nrow(frame)}.",
        i = "For other sequences use {.arg newdata}."), "argument", call = call)
    }
    rows <- seq_len(n)
    gv <- seq_group_var(x)
    if (!is.null(gv) && gv %in% names(frame) && !anyNA(frame[[gv]])) {
      key <- as.character(frame[[gv]])
      ids <- unique(key)
      if (identical(ids, as.character(unique(index$sequence)))) {
        rows <- unlist(split(seq_len(n), factor(key, levels = ids)), use.names = FALSE)
      }
    }
    return(list(frame = frame, rows = rows))
  }
  NULL
}

# The observations of `newdata` sequences stacked (a data frame), or NULL.
seq_stack <- function(newdata) {
  if (is.null(newdata)) return(NULL)
  parts <- if (is.list(newdata) && !is.data.frame(newdata)) newdata else list(newdata)
  parts <- lapply(parts, function(p) if (is.null(dim(p))) data.frame(x = as.vector(p)) else as.data.frame(p))
  do.call(rbind, parts)
}

#' @rdname tidy.lvm_fit
#' @export
augment.hmm_fit <- function(x, data = NULL, newdata = NULL, ...) {
  check_tidy_fit(x)
  call <- rlang::current_env()
  augment_check_args(data, newdata, call)
  sm <- smooth_states(x, newdata)
  vt <- viterbi(x, newdata)
  pc <- grep("^S[0-9]+$", names(sm), value = TRUE)
  post <- as.matrix(sm[pc])
  cols <- list(.sequence = sm$sequence, .time = sm$time, .state = as.integer(vt$state),
    .uncertainty = 1 - apply(post, 1L, max))
  for (s in pc) cols[[paste0(".prob_", s)]] <- sm[[s]]
  base <- augment_seq_base(x, data, sm, call)
  if (!is.null(base)) return(augment_bind(base$frame, cols, base$rows))
  frame <- if (!is.null(newdata)) seq_stack(newdata) else
    as.data.frame(family_decode(x$model$obs, x$x), stringsAsFactors = FALSE)
  if (is.null(frame) || nrow(frame) != nrow(sm)) frame <- data.frame(row.names = seq_len(nrow(sm)))
  augment_bind(frame, cols, seq_len(nrow(sm)))
}

#' @rdname tidy.lvm_fit
#' @export
augment.lds_fit <- function(x, data = NULL, newdata = NULL, ...) {
  check_tidy_fit(x)
  call <- rlang::current_env()
  augment_check_args(data, newdata, call)
  st <- smooth_states(x, newdata, tidy = TRUE)
  states <- unique(st$state)
  first <- st[st$state == states[1], , drop = FALSE]
  cols <- list(.sequence = first$sequence, .time = first$time)
  for (j in seq_along(states)) {
    sj <- st[st$state == states[j], , drop = FALSE]
    cols[[paste0(".", states[j])]] <- sj$mean
    cols[[paste0(".se_", states[j])]] <- sj$se
  }
  fitted_obs <- predict(x, newdata, type = "smoothed")
  on <- colnames(fitted_obs)
  if (is.null(on)) on <- paste0("y", seq_len(ncol(fitted_obs)))
  for (j in seq_len(ncol(fitted_obs))) cols[[paste0(".fitted_", on[j])]] <- as.double(fitted_obs[, j])
  base <- augment_seq_base(x, data, first, call)
  if (!is.null(base)) return(augment_bind(base$frame, cols, base$rows))
  frame <- if (!is.null(newdata)) seq_stack(newdata) else {
    y <- t(x$y)
    colnames(y) <- on
    as.data.frame(y)
  }
  if (is.null(frame) || nrow(frame) != nrow(first)) frame <- data.frame(row.names = seq_len(nrow(first)))
  augment_bind(frame, cols, seq_len(nrow(first)))
}
