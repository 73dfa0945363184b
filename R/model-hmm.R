# Hidden Markov chains: exact inference given log
# emission densities. The constructor hmm() and Baum-Welch build on this.

# Forward-backward and Viterbi for one sequence. logp: T x S log emission
# densities (NA rows: log density 0, the state is still propagated); initial:
# length-S probabilities; transition: S x S, row i = P(next state | i).
hmm_infer <- function(logp, initial, transition, call = rlang::caller_env()) {
  if (!is.matrix(logp) || !is.numeric(logp)) {
    abort_hm("{.arg logp} must be a numeric matrix (time points x states).", "argument", call = call)
  }
  S <- ncol(logp)
  if (nrow(logp) < 2L) {
    abort_hm("{.arg logp}: a sequence needs at least 2 time points, not {nrow(logp)}.", "argument", call = call)
  }
  check_prob_vector(initial, len = S, arg = "initial", call = call, simplex = TRUE)
  if (!is.matrix(transition) || !identical(dim(transition), c(S, S)) || anyNA(transition) ||
    any(transition < 0) || any(abs(rowSums(transition) - 1) > 1e-8)) {
    abort_hm("{.arg transition} must be a {S} x {S} matrix of probabilities whose rows sum to 1.",
      "argument", call = call)
  }
  logp[is.na(logp)] <- 0
  storage.mode(logp) <- "double"
  r <- native_hmm_infer(logp, as.double(initial), as.double(t(transition)))
  if (r$status != 0L) {
    abort_hm("Forward-backward failed: {status_message(r$status)}.", "engine", call = call)
  }
  list(
    loglik = r$loglik, filtered = r$filtered, smoothed = r$smoothed,
    pair = matrix(r$pair, S, S, byrow = TRUE), path = r$path + 1L, logjoint = r$logjoint
  )
}

# --- the model ------------------------------------------------------------------------

#' Hidden Markov models
#'
#' `hmm(emission, states)` is the hidden Markov model whose state is a
#' Markov chain on `states` values and whose observation at each time point
#' is drawn from the emission family with the current state's parameters
#' (Rabiner 1989; fitted by Baum-Welch). The emission is the package's
#' mixture harmonium between
#' the observation and the categorical state, for every family of
#' [ef_family] and every [ef_product()] of them (several columns, e.g. a
#' Gaussian and a categorical variable); the engine computes each state's
#' log density through the mixture, runs forward-backward over all
#' sequences (threaded across sequences), and fits by Baum-Welch, whose
#' emission M-step is the mixture's own M-step at the smoothed state
#' probabilities.
#'
#' The emission can also be a linear Gaussian latent variable model:
#' `hmm(factor_analysis(p, q), states)` is the HMM whose state selects one
#' of `states` factor analysis models (each with its own mean, loadings and
#' uniquenesses), and [ppca()] and [lgm()] (with `posterior = "full"`) work
#' the same way. The emission harmonium is then the mixture of those models
#' (as `mixture(factor_analysis(p, q), states)`, see [mfa()]): each state's
#' density is the model's exact marginal N(mean, loadings loadings' + cov),
#' and the Baum-Welch M-step is the mixture of models' closed-form M-step at
#' the smoothed state probabilities, with each state's latent whitened. A
#' state's `emission` parameters are then the model's source parameters,
#' `list(mean = , loadings = , cov = )` (see [lgm()]), loadings in the
#' model's canonical orientation. The first start is the mixture's own:
#' the model fitted to all observed rows, its factor scores clustered by
#' k-means.
#'
#' Source parameters are `list(initial = , transition = , emission = )`:
#' `initial` (length `states`) is the distribution of the state at the
#' first time point of every sequence, `transition` the `states` x `states`
#' matrix whose row i is the distribution of the next state given state i
#' (rows sum to 1), and `emission` a list of `states` source-parameter
#' lists of the emission family (as a mixture's `components`).
#'
#' Data are sequences: a vector, matrix, data frame or `ts` (one sequence),
#' a list of them, or a data frame grouped with the formula interface
#' `fit_lvm(~ y1 + y2 | id, data, model)`. A missing observation (a row
#' with any `NA`) is skipped by the update step; the state is still
#' predicted through it. Normal columns are standardised internally and
#' results are reported in the data's units. `weights` in [fit_lvm()] are
#' per-sequence case weights.
#'
#' @param emission The emission family (see [ef_family]); [ef_product()] for
#'   several columns; or a linear Gaussian model ([factor_analysis()],
#'   [ppca()], [lgm()]) for an HMM whose states are such models.
#' @param states Number of hidden states, at least 2.
#' @param initial How the initial distribution is fitted: `"free"` (its
#'   maximum-likelihood update, the smoothed first-state probabilities, as
#'   depmixS4 does), `"stationary"` (the stationary distribution of the
#'   transition matrix, recomputed after each transition update; the
#'   likelihood is then that of a stationary chain, and Baum-Welch is an
#'   approximate M-step for it), or `"fixed"` (held at the value given in
#'   `init`, uniform without one).
#' Starts: the first is deterministic (the mixture's k-means++ start on the
#' observed rows, its labels softened toward uniform, with a transition
#' matrix of 0.9 on the diagonal); the others draw their labels and
#' transition rows from `seed` ([lvm_control()]'s `n_init`, `seed`).
#'
#' @return An `lvm_model` of class `c("hmm_model", "lvm_sequence_model",
#'   "lvm_model")`. Its fits have class `c("hmm_fit", "lvm_fit")` and hold
#'   `model`, `params`, `loglik`, `trace`, `iterations`, `converged`, `n` (time
#'   points), `df`, the smoothed state probabilities (`posterior`) and the
#'   sequence layout (`sequences`: lengths, ids, starts).
#' @seealso [fit_lvm()], [filter_states()], [smooth_states()], [viterbi()],
#'   [forecast()].
#' @examples
#' # Poisson HMM of yearly earthquake counts
#' m <- hmm(ef_poisson(), 2)
#' fit <- fit_lvm(m, earthquakes$count)
#' fit
#' summary(fit)
#' head(viterbi(fit))
#' forecast(fit, h = 3)
#'
#' # Gaussian HMM on several sequences at once
#' set.seed(1)
#' seqs <- lapply(1:3, function(i) c(rnorm(40, 0), rnorm(40, 3)))
#' fit2 <- fit_lvm(hmm(ef_normal(), 2), seqs)
#' coef(fit2)$transition
#' head(smooth_states(fit2))
#'
#' # An HMM whose states are factor analysis models (4 variables, 1 factor)
#' set.seed(2)
#' z <- rep(c(1, 2, 1), c(60, 50, 60))
#' f <- rnorm(length(z))
#' mu <- rbind(c(0, 0, 0, 0), c(3, -2, 2, 4))
#' load <- rbind(c(1, 0.8, 0.5, 0.3), c(-0.5, 1, 0.7, 0.2))
#' x <- mu[z, ] + f * load[z, ] + matrix(rnorm(4 * length(z), sd = 0.5), ncol = 4)
#' fit3 <- fit_lvm(hmm(factor_analysis(4, 1), 2), x)
#' coef(fit3)$emission$S1
#' table(viterbi(fit3)$state, z)
#' @export
hmm <- function(emission, states, initial = c("free", "stationary", "fixed")) {
  call <- rlang::current_env()
  if (inherits(emission, "lvm_model")) {
    check_hmm_model_emission(emission, call)
  } else {
    check_family(emission, call = call)
  }
  states <- check_count(states, min = 2L, max = 10000L, call = call)
  initial <- check_choice(initial, c("free", "stationary", "fixed"), call = call)
  new_hmm_model(emission, states, initial)
}

# Emissions that are conjugated models: those whose mixture has an exact EM
# (the linear Gaussian models with a full posterior: factor analysis, PPCA, lgm).
check_hmm_model_emission <- function(emission, call) {
  if (!identical(emission$kind, "lgm")) {
    abort_hm(c("A hidden Markov model's emission cannot be {emission$label}.",
      i = "Use an exponential family (see {.topic ef_family}) or a linear Gaussian model: {.fn factor_analysis}, {.fn ppca} or {.fn lgm} (with {.code posterior = \"full\"})."),
      "unsupported", call = call)
  }
  invisible(emission)
}

# Whether the emission is a conjugated model (its mixture is the mixture_of kind).
hmm_model_emission <- function(m) inherits(m$emission, "lvm_model")

new_hmm_model <- function(emission, states, initial) {
  mix <- mixture(emission, states)
  S <- states
  is_model <- inherits(emission, "lvm_model")
  obs <- if (is_model) emission$obs else emission
  m <- list(
    kind = "hmm", emission = emission, obs = obs, component = emission, states = S, k = S,
    mix = mix, initial = initial, d = emission$d, dim = mix$dim, closed = isTRUE(mix$closed),
    init_mode = match(initial, c("free", "stationary", "fixed")) - 1L,
    # A structured Normal emission (EEE, ...) counts its covariance terms as
    # the mixture of its states does.
    n_free = (if (!is_model && is_structured_normal(emission)) mix$n_free - (S - 1L) else
      S * as.integer(emission$n_free)) + S * (S - 1L) + (if (initial == "free") S - 1L else 0L),
    label = sprintf("hidden Markov model, %d states, %s emission%s", S, emission$label,
      if (initial == "free") "" else paste0(" (", initial, " initial)"))
  )
  structure(m, class = c("hmm_model", "lvm_sequence_model", "lvm_model"))
}

# The model with the observable family that adopted the data's levels (and
# column names); for a model emission, the family of the model and its mixture.
hmm_set_emission <- function(m, fam) {
  m$obs <- fam
  m$mix$obs <- fam
  if (hmm_model_emission(m)) {
    m$emission$obs <- fam
    m$component <- m$emission
    m$mix$base$obs <- fam
    return(m)
  }
  m$emission <- fam
  m$component <- fam
  m$mix$component <- fam
  m
}

# One state's emission parameters between internal and user units.
hmm_emission_affine <- function(m, sc, p, inverse) {
  if (hmm_model_emission(m)) return(model_affine(m$emission, sc, p, inverse))
  component_affine(m$emission, sc, p, inverse)
}

# --- coordinates ------------------------------------------------------------------------

# Validates source parameters; returns list(theta (internal, scaled), initial,
# transition) where theta holds the emission as the mixture harmonium's natural
# parameters (its class weights are not part of the model: uniform here).
hmm_to_internal <- function(m, params, sc, arg = "params", call = rlang::caller_env()) {
  S <- m$states
  if (!is.list(params) || !all(c("initial", "transition", "emission") %in% names(params))) {
    abort_hm("{.arg {arg}} must be a list with elements {.field initial}, {.field transition} and {.field emission}.",
      "params", call = call)
  }
  ini <- check_prob_vector(unname(params$initial), S, arg = paste0(arg, "$initial"), call = call, simplex = TRUE)
  tr <- params$transition
  if (!is.numeric(tr) || !is.matrix(tr) || !identical(dim(tr), c(S, S)) || anyNA(tr) || any(!is.finite(tr)) ||
    any(tr < 0)) {
    abort_hm("{.arg {arg}$transition} must be a {S} x {S} matrix of probabilities.", "params", call = call)
  }
  rs <- rowSums(tr)
  if (any(abs(rs - 1) > 1e-8)) {
    bad <- which(abs(rs - 1) > 1e-8)
    sums <- format(rs[bad], digits = 6)
    abort_hm(c("Every row of {.arg {arg}$transition} must sum to 1.",
      x = "Row sums that do not: {sums}."), "params", call = call)
  }
  em <- params$emission
  if (!is.list(em) || length(em) != S) {
    abort_hm("{.arg {arg}$emission} must be a list of {S} parameter lists of {m$emission$label}.",
      "params", call = call)
  }
  em <- lapply(em, function(p) hmm_emission_affine(m, sc, p, inverse = FALSE))
  to_nat <- if (hmm_model_emission(m)) model_to_nat else mixture_to_nat
  theta <- tryCatch(
    to_nat(m$mix, list(weights = rep(1 / S, S), components = em), arg = arg, call = call),
    harmonium_error = function(e) {
      abort_hm("{.arg {arg}$emission} holds invalid parameters of {m$emission$label}.", "params",
        call = call, parent = e)
    }
  )
  list(theta = theta, initial = ini, transition = matrix(as.double(tr), S, S))
}

# Level names on the probabilities of categorical blocks (a product's blocks
# adopt the data's levels after the product's own conversions were built).
hmm_name_levels <- function(fam, p) {
  if (fam$name != "product") return(p)
  for (b in seq_along(fam$blocks)) {
    blk <- fam$blocks[[b]]
    if (blk$name == "categorical" && length(p[[b]]$prob) == length(blk$levels)) names(p[[b]]$prob) <- blk$levels
  }
  p
}

hmm_chain <- function(initial, transition) c(as.double(initial), as.double(t(transition)))

hmm_unchain <- function(m, chain) {
  S <- m$states
  list(initial = chain[seq_len(S)], transition = matrix(chain[-seq_len(S)], S, S, byrow = TRUE))
}

# Internal (scaled) coordinates -> source parameters in the data's units.
hmm_to_src <- function(m, theta, chain, sc) {
  S <- m$states
  ch <- hmm_unchain(m, chain)
  # Round-off can put a probability a few ulps outside [0, 1].
  ch$initial <- pmin(pmax(ch$initial, 0), 1)
  ch$initial <- ch$initial / sum(ch$initial)
  ch$transition <- pmin(pmax(ch$transition, 0), 1)
  ch$transition <- ch$transition / rowSums(ch$transition)
  if (hmm_model_emission(m)) {
    comps <- model_to_src(m$mix, theta)$components
    comps <- lapply(comps, function(p) model_name_params(m$emission, model_affine(m$emission, sc, p, inverse = TRUE)))
  } else {
    comps <- mixture_to_src(m$mix, theta)$components
    comps <- lapply(comps, function(p) {
      hmm_name_levels(m$emission, name_component(m$emission, component_affine(m$emission, sc, p, inverse = TRUE)))
    })
  }
  names(comps) <- paste0("S", seq_len(S))
  nm <- paste0("S", seq_len(S))
  list(
    initial = stats::setNames(ch$initial, nm),
    transition = matrix(ch$transition, S, S, dimnames = list(from = nm, to = nm)),
    emission = comps
  )
}

#' @export
model_to_nat.hmm_model <- function(m, params, arg = "params", call = rlang::caller_env()) {
  r <- hmm_to_internal(m, params, identity_scaler(m$d), arg, call)
  c(r$theta, hmm_chain(r$initial, r$transition))
}

#' @export
model_to_src.hmm_model <- function(m, theta) {
  n <- m$dim
  hmm_to_src(m, theta[seq_len(n)], theta[-seq_len(n)], identity_scaler(m$d))
}

#' @export
to_mean.hmm_model <- function(family, params) {
  abort_hm("{.fn to_mean} is not defined for a hidden Markov model (its statistics are per sequence).",
    "unsupported")
}

# --- data ------------------------------------------------------------------------------

# Encodes normalised sequences for the model: list(model (levels adopted), x
# (stacked rows, NA rows missing), ok (complete rows)).
hmm_prepare <- function(m, seqs, call) {
  df <- seqs$data
  fam <- family_adopt_levels(m$obs, df)
  fam$colnames <- names(df)
  m <- hmm_set_emission(m, fam)
  x <- sequence_encode(fam, df, "data", call)
  storage.mode(x) <- "double"
  list(model = m, x = x, ok = stats::complete.cases(x))
}

seq_layout <- function(seqs) list(lengths = as.integer(seqs$lengths), ids = seqs$ids, start = as.integer(seqs$start))

# Stacked rows of newdata (any sequence form) for a fitted model, scaled as the fit.
hmm_newdata <- function(fit, newdata, call) {
  if (is.null(newdata)) {
    if (is.null(fit$x) || nrow(fit$x) == 0L) {
      abort_hm("This fit holds no data; supply {.arg newdata}.", "argument", call = call)
    }
    return(list(xs = scale_data(fit$scaler, fit$x), seqs = fit$sequences, ok = stats::complete.cases(fit$x),
      own = TRUE))
  }
  seqs <- as_sequences(newdata, NULL, "newdata", call)
  m <- fit$model
  x <- sequence_encode(m$obs, seqs$data, "newdata", call)
  storage.mode(x) <- "double"
  list(xs = scale_data(fit$scaler, x), seqs = seq_layout(seqs), ok = stats::complete.cases(x), own = FALSE)
}

# Engine inference at internal parameters. want = c(filtered, smoothed, viterbi).
hmm_run_infer <- function(m, theta, chain, xs, seqs, want, threads, call = rlang::caller_env()) {
  res <- native_hmm_seq_infer(m$mix, theta, chain, xs, seqs$start, seqs$lengths, want, threads)
  if (res$status != 0L) {
    abort_hm(c("Could not run forward-backward at these parameters.", x = "{status_message(res$status)}.",
      i = "Some observation has probability zero under every state, or a parameter is invalid."),
      paste0("engine_", hm_status_names[res$status + 1L]), call = call)
  }
  res
}

# Per-sequence log-likelihoods in the data's units (the standardisation's Jacobian
# once per observed row).
hmm_seq_loglik <- function(res, ok, seqs, sc) {
  nobs <- vapply(seq_along(seqs$lengths), function(s) sum(ok[seqs$start[s] + seq_len(seqs$lengths[s])]), 1)
  stats::setNames(res$seq_loglik - nobs * sc$log_jac, seqs$ids)
}

# --- fitting ---------------------------------------------------------------------------

hmm_sticky <- function(S, stay = 0.9) {
  a <- matrix((1 - stay) / (S - 1), S, S)
  diag(a) <- stay
  a
}

hmm_stationary <- function(transition) {
  res <- native_hmm_stationary(as.double(t(transition)))
  if (res$status != 0L) return(rep(1 / nrow(transition), nrow(transition)))
  res$value
}

# Starting values of start i: the user's init (first start), else the mixture's
# own start on the observed rows (its deterministic k-means++ for i = 1, random
# from `seed` after) with a sticky transition (random rows for i > 1).
hmm_start <- function(m, xs, x, ok, row_w, init, i, control, ctrl, threads, sc, call) {
  S <- m$states
  if (i == 1L && !is.null(init)) {
    if (inherits(init, "hmm_fit")) {
      init <- init$params
    } else if (inherits(init, "lvm_fit") || !is.list(init)) {
      abort_hm(c("{.arg init} must be a fit of a hidden Markov model or its source parameters.",
        x = "It is {.obj_type_friendly {init}}."), "init", call = call)
    }
    r <- hmm_to_internal(m, init, sc, arg = "init", call = call)
    if (m$initial == "stationary") r$initial <- hmm_stationary(r$transition)
    return(r)
  }
  # The mixture's own start (k-means++ labels on the observed rows; a fixed seed
  # for i = 1), its hard labels softened toward uniform: hard labels that split
  # on a categorical column give that column probabilities of 0 and 1 in each
  # state, a boundary point from which Baum-Welch cannot leave (on depmixS4's
  # speed data it sticks at -505.66, the maximum being -296.11).
  mix <- m$mix
  if (hmm_model_emission(m)) {
    # The mixture of the models' own start (for i = 1 the model fitted to all
    # observed rows, its factor scores clustered by k-means); its weights are
    # not part of the HMM.
    th <- model_start(mix, xs[ok, , drop = FALSE], x[ok, , drop = FALSE], row_w, i, control, ctrl, threads)
    if (is.null(th)) return(NULL)
  } else {
    th <- hmm_family_start(m, xs, x, ok, row_w, i, control, ctrl, threads)
    if (is.null(th)) return(NULL)
  }
  tr <- if (i == 1L) {
    hmm_sticky(S)
  } else {
    with_seed(start_seed(control, i) + 7919L, {
      r <- matrix(stats::rexp(S * S), S, S)
      0.5 * diag(S) + 0.5 * r / rowSums(r)
    })
  }
  ini <- if (m$initial == "stationary") hmm_stationary(tr) else rep(1 / S, S)
  list(theta = th, initial = ini, transition = tr)
}

hmm_family_start <- function(m, xs, x, ok, row_w, i, control, ctrl, threads) {
  S <- m$states
  mix <- m$mix
  f <- family_features(mix$component, x[ok, , drop = FALSE])
  labels <- with_seed(start_seed(control, i), kmeans_pp_labels(f, S, threads))
  th <- NULL
  for (smooth in c(0.25, 0.5)) {
    th <- theta_from_hard(mix, xs[ok, , drop = FALSE], row_w, labels, smooth, ctrl, threads)
    if (!is.null(th)) break
  }
  th
}

# Baum-Welch from a start, run by the engine in bursts (progress reported in
# between, R/progress.R), as run_em() does for independent data.
run_hmm_em <- function(m, st, xs, seqs, w, ctrl, control, threads) {
  theta <- st$theta
  chain <- hmm_chain(st$initial, st$transition)
  trace <- numeric(0)
  ll_old <- NA_real_
  progress_start()
  bursts <- progress_active()
  burst <- NULL
  elapsed <- 0
  repeat {
    left <- control$maxit - length(trace)
    n_it <- if (bursts) progress_burst(burst, elapsed, left) else left
    burst <- n_it
    t0 <- proc.time()[[3]]
    res <- native_hmm_em_run(m$mix, theta, chain, xs, seqs$start, seqs$lengths, w, ctrl,
      c(control$tol, n_it, ll_old, m$init_mode), threads)
    elapsed <- proc.time()[[3]] - t0
    trace <- c(trace, res$trace)
    theta <- res$theta
    chain <- res$chain
    progress_tick(trace)
    if (res$converged || res$status != 1L || length(trace) >= control$maxit) break
    ll_old <- trace[length(trace)]
  }
  list(theta = theta, chain = chain, trace = trace, status = res$status, bad = res$bad,
    converged = isTRUE(res$converged))
}

#' @export
fit_sequence.hmm_model <- function(model, seqs, init, method, control, weights, call, env) {
  if (method == "gradient") {
    abort_hm(c("Hidden Markov models are fitted by Baum-Welch (exact EM).",
      i = "Use {.code method = \"em\"} or {.code \"auto\"}."), "unsupported", call = env)
  }
  prep <- hmm_prepare(model, seqs, env)
  m <- prep$model
  x <- prep$x
  ok <- prep$ok
  S <- m$states
  if (sum(ok) < S) {
    abort_hm("{.arg data} has {sum(ok)} complete observation{?s}, fewer than the {S} states.", "data",
      call = env)
  }
  w <- sequence_weights(weights, seqs, env)
  lay <- seq_layout(seqs)
  row_w <- if (is.null(w)) NULL else rep(w, lay$lengths)[ok]
  threads <- resolve_threads(control$threads)
  sc <- make_scaler(m$obs, x[ok, , drop = FALSE])
  xs <- scale_data(sc, x)
  check_scaler(sc, xs[ok, , drop = FALSE], env)
  ctrl <- fam_ctrl(reg = control$reg, floor = mixture_floor)
  wobs <- if (is.null(w)) sum(ok) else sum(row_w)

  best <- NULL
  starts <- data.frame(start = seq_len(control$n_init), loglik = NA_real_, iterations = 0L,
    status = "failed", note = "", stringsAsFactors = FALSE)
  for (i in seq_len(control$n_init)) {
    st <- hmm_start(m, xs, x, ok, row_w, init, i, control, ctrl, threads, sc, env)
    if (is.null(st)) {
      starts$note[i] <- "no valid starting parameters (the M-step from its start failed)"
      next
    }
    em <- run_hmm_em(m, st, xs, lay, w, ctrl, control, threads)
    inf <- tryCatch(hmm_run_infer(m, em$theta, em$chain, xs, lay, c(TRUE, TRUE, FALSE), threads),
      harmonium_error = function(e) NULL)
    if (is.null(inf)) next
    sll <- hmm_seq_loglik(inf, ok, lay, sc)
    ll <- if (is.null(w)) sum(sll) else sum(w * sll)
    if (!is.finite(ll)) next
    starts$loglik[i] <- ll
    starts$iterations[i] <- length(em$trace)
    starts$status[i] <- if (em$converged) "converged" else if (em$status == 1L) "max_iter" else
      paste0("stopped: ", hm_status_names[em$status + 1L])
    if (em$status > 1L) starts$note[i] <- collapse_note(em, "state", length(em$trace))
    healthy <- em$status <= 1L
    if (is.null(best) || (healthy && !best$healthy) || (healthy == best$healthy && ll > best$ll)) {
      best <- list(em = em, inf = inf, sll = sll, ll = ll, start = i, healthy = healthy)
    }
  }
  report_starts(best, starts, control, "Try {.code lvm_control(reg = 1e-6)}, fewer states, or {.arg init}.", env)
  em <- best$em
  if (em$status > 1L) {
    comp <- if (em$bad >= 0L) paste("state", em$bad + 1L) else "the model"
    warn_hm(c("Baum-Welch stopped at iteration {length(em$trace)}: {comp} collapsed ({status_message(em$status)}).",
      i = "The fit is the last valid iterate; try {.code lvm_control(reg = 1e-6)} or fewer states."),
      "collapse")
  } else if (!em$converged) {
    warn_not_converged("Baum-Welch", control)
  }
  trace <- em$trace - wobs * sc$log_jac
  # With a stationary initial distribution the update is not an exact M-step.
  if (m$initial != "stationary") check_monotone(trace)
  fit <- new_hmm_fit(m, em$theta, em$chain, sc, x, lay, w, best$inf, best$sll, call)
  fit <- fit_record_em(fit, trace, length(em$trace), isTRUE(em$converged), hm_status_names[em$status + 1L],
    starts, best$start, control, "em")
  diagnose_hmm(fit)
  fit
}

new_hmm_fit <- function(m, theta, chain, sc, x, lay, w, inf, sll, call) {
  S <- m$states
  nm <- paste0("S", seq_len(S))
  post <- inf$smoothed
  filt <- inf$filtered
  if (!is.null(post)) colnames(post) <- nm
  if (!is.null(filt)) colnames(filt) <- nm
  ll <- if (is.null(sll)) NA_real_ else if (is.null(w)) sum(sll) else sum(w * sll)
  structure(
    list(
      model = m, params = hmm_to_src(m, theta, chain, sc), theta = theta, chain = chain, scaler = sc,
      loglik = ll, seq_loglik = sll, trace = ll, iterations = 0L, converged = NA, status = "ok",
      n = if (is.null(x)) 0L else nrow(x), n_obs = if (is.null(x)) 0L else sum(stats::complete.cases(x)),
      df = m$n_free, weights = w, x = x, sequences = lay, posterior = post, filtered = filt,
      call = call
    ),
    class = c("hmm_fit", "lvm_fit")
  )
}

#' @export
with_params_sequence.hmm_model <- function(model, params, seqs, call, env) {
  sc0 <- identity_scaler(model$d)
  if (is.null(seqs)) {
    r <- hmm_to_internal(model, params, sc0, call = env)
    fit <- new_hmm_fit(model, r$theta, hmm_chain(r$initial, r$transition), sc0, NULL, NULL, NULL,
      list(), NULL, call)
    fit$trace <- numeric(0)
    return(fit)
  }
  prep <- hmm_prepare(model, seqs, env)
  m <- prep$model
  r <- hmm_to_internal(m, params, sc0, call = env)
  lay <- seq_layout(seqs)
  chain <- hmm_chain(r$initial, r$transition)
  inf <- hmm_run_infer(m, r$theta, chain, prep$x, lay, c(TRUE, TRUE, FALSE), resolve_threads(), env)
  fit <- new_hmm_fit(m, r$theta, chain, sc0, prep$x, lay, NULL, inf, hmm_seq_loglik(inf, prep$ok, lay, sc0), call)
  fit$params <- hmm_to_src(m, r$theta, chain, sc0)
  fit
}
