# Linear dynamical systems: the lds() constructor, its
# parameter checks, the Shumway-Stoffer EM (the engine's hm_lds_estep gives
# the additive statistics over sequences; the closed-form M-step on these
# small matrices is here) and the fit drivers called by fit_lvm() and
# with_params().

lds_names <- c("initial_mean", "initial_cov", "transition", "transition_offset", "state_cov",
  "observation", "observation_offset", "observation_cov")
lds_cov_names <- c("initial_cov", "state_cov", "observation_cov")
lds_cov_types <- c("full", "diagonal", "isotropic")

#' Linear dynamical system (Kalman filter model)
#'
#' `lds(dim, state_dim)` is the linear-Gaussian state-space model
#' z_1 ~ N(initial_mean, initial_cov), z_{t+1} = A z_t + b + N(0, Q),
#' y_t = C z_t + d + N(0, R), fitted by exact EM (Shumway and Stoffer 1982)
#' on the Kalman filter and Rauch-Tung-Striebel smoother, over one or many
#' sequences. `initial_mean`/`initial_cov` describe the state at the FIRST
#' time step. Missing observations (`NA`) are handled exactly: a wholly
#' missing time point skips the update, a partially missing one is updated
#' by its observed elements.
#'
#' @param dim Observation dimension p.
#' @param state_dim State dimension q.
#' @param fixed A named list holding parameters at given values during
#'   fitting, by the source names `initial_mean` (q), `initial_cov` (q x q),
#'   `transition` (A, q x q), `transition_offset` (b, q), `state_cov` (Q,
#'   q x q), `observation` (C, p x q), `observation_offset` (d, p) and
#'   `observation_cov` (R, p x p). `transition`, `observation` and the two
#'   offsets may be given with `NA` marking the free elements (the others are
#'   fixed; the M-step then solves the normal equations over the free
#'   elements, weighted by the current noise covariance). The three
#'   covariances may instead be a structure, `"diagonal"` or `"isotropic"`
#'   (`"full"` is the default).
#' @return An `lvm_model` of class `c("lds_model", "lvm_sequence_model", "lvm_model")`.
#' @examples
#' # the local-level model with a fixed initial state
#' m <- lds(1, 1, fixed = list(transition = 1, observation = 1, transition_offset = 0,
#'   observation_offset = 0, initial_mean = 0, initial_cov = 1000))
#' fit <- fit_lvm(m, Nile)
#' fit
#' # the local linear trend (level and slope), one line
#' trend <- lds(1, 2, fixed = list(transition = matrix(c(1, 0, 1, 1), 2),
#'   observation = matrix(c(1, 0), 1), transition_offset = 0, observation_offset = 0,
#'   state_cov = "diagonal"))
#' # two series driven by one state, diagonal observation noise
#' m2 <- lds(2, 1, fixed = list(observation_cov = "diagonal"))
#' head(smooth_states(fit)[[1]]$mean)
#' forecast(fit, h = 3)
#' @export
lds <- function(dim, state_dim, fixed = list()) {
  call <- rlang::current_env()
  p <- check_count(dim, arg = "dim", call = call, max = 10000L)
  q <- check_count(state_dim, arg = "state_dim", call = call, max = 10000L)
  if (!is.list(fixed) || (length(fixed) && (is.null(names(fixed)) || any(!nzchar(names(fixed)))))) {
    abort_hm("{.arg fixed} must be a named list of parameters, e.g. {.code list(transition = 1)}.",
      "argument", call = call)
  }
  bad <- setdiff(names(fixed), lds_names)
  if (length(bad)) {
    abort_hm(c("{.arg fixed} names unknown parameter{?s} {.val {bad}}.",
      i = "The parameters of {.fn lds} are {.val {lds_names}}."), "argument", call = call)
  }
  if (anyDuplicated(names(fixed))) {
    abort_hm("{.arg fixed} names a parameter twice.", "argument", call = call)
  }
  dims <- lds_dims(p, q)
  spec <- list()
  for (nm in lds_names) {
    v <- fixed[[nm]]
    arg <- paste0("fixed$", nm)
    if (nm %in% lds_cov_names) {
      if (is.null(v)) {
        spec[[nm]] <- list(type = "full")
      } else if (is.character(v)) {
        spec[[nm]] <- list(type = check_choice(v, lds_cov_types, arg = arg, call = call))
      } else {
        spec[[nm]] <- list(type = "fixed",
          value = lds_check_cov(v, dims[[nm]][1], arg, call, psd = nm == "initial_cov"))
      }
    } else {
      d <- dims[[nm]]
      if (is.null(v)) {
        val <- array(NA_real_, d)
      } else {
        if (length(d) == 1L && length(v) == 1L) v <- rep(v, d)
        if (!(is.numeric(v) || (is.logical(v) && all(is.na(v)))) || length(v) != prod(d)) {
          abort_hm("{.arg {arg}} must be numeric with {prod(d)} element{?s} ({paste(d, collapse = ' x ')}).",
            "argument", call = call)
        }
        if (any(is.infinite(v))) abort_hm("{.arg {arg}} must be finite ({.code NA} marks free elements).",
          "argument", call = call)
        val <- array(as.double(v), d)
      }
      if (nm == "initial_mean" && anyNA(val) && !all(is.na(val))) {
        abort_hm("{.arg {arg}} is fixed or free as a whole (no {.code NA} elements).", "argument", call = call)
      }
      spec[[nm]] <- list(type = if (all(is.na(val))) "free" else if (anyNA(val)) "partial" else "fixed",
        value = val)
    }
  }
  if (spec$initial_cov$type == "fixed" && spec$initial_mean$type != "fixed" && !is_pd(spec$initial_cov$value)) {
    abort_hm(c("{.arg fixed$initial_cov} is singular, so EM cannot move a free {.field initial_mean}.",
      i = "Fix {.field initial_mean} too, or give {.field initial_cov} a positive definite value."),
      "argument", call = call)
  }
  n_free <- sum(vapply(lds_names, function(nm) lds_n_free(spec[[nm]], dims[[nm]]), 1))
  structure(
    list(kind = "lds", p = p, q = q, d = p, spec = spec, n_free = as.integer(n_free), closed = TRUE,
      has_em = TRUE, label = paste0("lds(dim = ", p, ", state_dim = ", q, ")")),
    class = c("lds_model", "lvm_sequence_model", "lvm_model")
  )
}

lds_dims <- function(p, q) {
  list(initial_mean = q, initial_cov = c(q, q), transition = c(q, q), transition_offset = q,
    state_cov = c(q, q), observation = c(p, q), observation_offset = p, observation_cov = c(p, p))
}

lds_n_free <- function(s, d) {
  switch(s$type, fixed = 0, free = prod(d), partial = sum(is.na(s$value)),
    full = d[1] * (d[1] + 1) / 2, diagonal = d[1], isotropic = 1)
}

lds_check_cov <- function(v, n, arg, call, psd = FALSE) {
  if (!is.numeric(v) || length(v) != n * n || any(!is.finite(v))) {
    abort_hm("{.arg {arg}} must be a finite {n} x {n} covariance matrix (or {.val diagonal}/{.val isotropic}).",
      "argument", call = call)
  }
  v <- matrix(as.double(v), n, n)
  if (max(abs(v - t(v))) > 1e-8 * max(1, max(abs(v)))) {
    abort_hm("{.arg {arg}} must be symmetric.", "argument", call = call)
  }
  v <- (v + t(v)) / 2
  if (psd) {
    # a known initial state (zero variance, MARSS's default) is allowed
    ev <- eigen(v, symmetric = TRUE, only.values = TRUE)$values
    if (min(ev) < -1e-12 * max(1, max(abs(ev)))) {
      abort_hm("{.arg {arg}} must be positive semi-definite.", "argument", call = call)
    }
    return(v)
  }
  if (!is_pd(v)) abort_hm("{.arg {arg}} must be positive definite.", "argument", call = call)
  v
}

# Source parameters checked and completed: any parameter the model holds
# fixed as a whole may be omitted; the others must be given with the right
# dimensions (covariances symmetric positive definite).
lds_check_params <- function(model, params, arg = "params", call = rlang::caller_env()) {
  if (inherits(params, "lds_fit")) params <- params$params
  if (!is.list(params)) {
    abort_hm("{.arg {arg}} must be a list of {.fn lds} source parameters.", "params", call = call)
  }
  bad <- setdiff(names(params), lds_names)
  if (length(bad)) {
    abort_hm(c("{.arg {arg}} names unknown parameter{?s} {.val {bad}}.", i = "Use {.val {lds_names}}."),
      "params", call = call)
  }
  dims <- lds_dims(model$p, model$q)
  out <- list()
  for (nm in lds_names) {
    s <- model$spec[[nm]]
    v <- params[[nm]]
    a <- paste0(arg, "$", nm)
    if (is.null(v)) {
      if (s$type != "fixed") abort_hm("{.arg {a}} is missing.", "params", call = call)
      v <- s$value
    }
    d <- dims[[nm]]
    if (nm %in% lds_cov_names) {
      out[[nm]] <- tryCatch(lds_check_cov(v, d[1], a, call, psd = nm == "initial_cov"), harmonium_error = function(e) {
        abort_hm(conditionMessage(e), "params", call = call)
      })
    } else {
      if (!is.numeric(v) || length(v) != prod(d) || any(!is.finite(v))) {
        abort_hm("{.arg {a}} must be finite numbers, {paste(d, collapse = ' x ')}.", "params", call = call)
      }
      out[[nm]] <- if (length(d) == 2L) matrix(as.double(v), d[1], d[2]) else as.double(v)
    }
  }
  out
}

# Fixed elements and covariance structures imposed on (start) parameters.
lds_constrain <- function(model, par) {
  for (nm in lds_names) {
    s <- model$spec[[nm]]
    v <- par[[nm]]
    if (s$type %in% c("fixed", "partial")) {
      keep <- !is.na(s$value)
      v[keep] <- s$value[keep]
    } else if (s$type == "diagonal") {
      v <- diag(diag(v), nrow(v))
    } else if (s$type == "isotropic") {
      v <- mean(diag(v)) * diag(nrow(v))
    }
    par[[nm]] <- v
  }
  par
}

# --- data ---------------------------------------------------------------------------

# The stacked sequences as the engine's p x N double matrix.
lds_data <- function(model, seqs, arg = "data", call = rlang::caller_env()) {
  df <- seqs$data
  if (ncol(df) != model$p) {
    abort_hm(c("{.arg {arg}} has {ncol(df)} column{?s} but {model$label} needs {model$p}.",
      i = columns_hint(arg, NULL, group = TRUE)), "data", call = call)
  }
  num <- vapply(df, function(v) is.numeric(v) || (is.logical(v) && all(is.na(v))), TRUE)
  if (!all(num)) {
    abort_hm("{.arg {arg}} must have numeric columns; {.val {names(df)[!num]}} {?is/are} not.", "data",
      call = call)
  }
  x <- as.matrix(df)
  storage.mode(x) <- "double"
  if (any(is.infinite(x))) abort_hm("{.arg {arg}} has infinite values.", "data", call = call)
  if (all(is.na(x))) abort_hm("{.arg {arg}} has no observed value.", "data_na", call = call)
  y <- t(x)
  rownames(y) <- names(df)
  y
}

lds_par <- function(par) lapply(unname(par[lds_names]), as.double)

# One E-step; want = c(stats, predicted, filtered, smoothed, cross).
lds_estep <- function(y, seqs, w, par, threads, want = c(1L, 0L, 0L, 0L, 0L)) {
  native_lds_estep(y, as.integer(seqs$lengths), if (is.null(w)) NULL else as.double(w), lds_par(par),
    as.integer(threads), as.integer(want))
}

lds_stop <- function(res, seqs, call) {
  if (res$status == 0L) return(invisible(res))
  where <- if (is.null(seqs$ids) || is.null(res$bad)) "" else paste0(" (sequence ", seqs$ids[res$bad + 1L], ")")
  abort_hm(c("Could not run the Kalman filter.",
    x = "{status_message(res$status)}{where}.",
    i = "Check that {.field observation_cov} and {.field state_cov} are positive definite."),
    paste0("engine_", hm_status_names[res$status + 1L]), call = call)
}

# --- M-step -----------------------------------------------------------------------------

lds_unpack <- function(s, p, q) {
  i <- 4L
  take <- function(len, r = NULL, c = NULL) {
    v <- s[i + seq_len(len)]
    i <<- i + len
    if (is.null(r)) v else matrix(v, r, c)
  }
  qq <- q * q
  list(ll = s[1], W = s[2], ntr = s[3], nobs = s[4],
    z1 = take(q), z1z1 = take(qq, q, q), zp = take(q), zzp = take(qq, q, q), zn = take(q),
    zzn = take(qq, q, q), cross = take(qq, q, q), zo = take(q), zzo = take(qq, q, q), yo = take(p),
    yzo = take(p * q, p, q), yyo = take(p * p, p, p))
}

# Regression block of the M-step: the coefficients B = [A b] (or [C d]) over
# the free elements of `spec` (NA = free), then the noise covariance given
# B. With every element free B = Syx Sxx^-1 (the weighting cancels); with
# some fixed, the exact conditional maximiser solves the vec-form normal
# equations D'(Sxx (x) V^-1) D theta = D' vec(V^-1 Syx) - D'(Sxx (x) V^-1) f
# (Holmes 2012) at the current covariance V (an ECM step, so EM stays
# monotone).
lds_regress <- function(syy, syx, sxx, n, spec, cov_cur, cov_spec) {
  free <- is.na(spec)
  if (all(free)) {
    b <- t(solve(sxx, t(syx)))
  } else if (!any(free)) {
    b <- spec
  } else {
    vi <- solve(cov_cur)
    k <- kronecker(sxx, vi)
    f <- spec
    f[free] <- 0
    idx <- which(free)
    rhs <- as.vector(vi %*% syx) - as.vector(k %*% as.vector(f))
    b <- f
    b[idx] <- solve(k[idx, idx, drop = FALSE], rhs[idx])
  }
  s <- (syy - b %*% t(syx) - syx %*% t(b) + b %*% sxx %*% t(b)) / n
  s <- (s + t(s)) / 2
  cov <- switch(cov_spec$type, fixed = cov_spec$value, full = s, diagonal = diag(diag(s), nrow(s)),
    isotropic = mean(diag(s)) * diag(nrow(s)))
  list(coef = b, cov = cov)
}

lds_mstep <- function(model, st, par) {
  p <- model$p
  q <- model$q
  sp <- model$spec
  s <- lds_unpack(st, p, q)
  # initial state: the weighted mean of the smoothed first states
  mu <- if (sp$initial_mean$type == "fixed") sp$initial_mean$value else s$z1 / s$W
  if (sp$initial_cov$type != "fixed") {
    v <- (s$z1z1 - s$z1 %o% mu - mu %o% s$z1 + s$W * mu %o% mu) / s$W
    v <- (v + t(v)) / 2
    par$initial_cov <- switch(sp$initial_cov$type, full = v, diagonal = diag(diag(v), q),
      isotropic = mean(diag(v)) * diag(q))
  }
  par$initial_mean <- as.vector(mu)
  # transition: [A b] on [z_{t-1}; 1]
  sxx <- rbind(cbind(s$zzp, s$zp), c(s$zp, s$ntr))
  syx <- cbind(s$cross, s$zn)
  tr <- lds_regress(s$zzn, syx, sxx, s$ntr, cbind(sp$transition$value, sp$transition_offset$value),
    par$state_cov, sp$state_cov)
  par$transition <- tr$coef[, seq_len(q), drop = FALSE]
  par$transition_offset <- tr$coef[, q + 1L]
  par$state_cov <- tr$cov
  # observation: [C d] on [z_t; 1] over the observed time points
  sxx <- rbind(cbind(s$zzo, s$zo), c(s$zo, s$nobs))
  syx <- cbind(s$yzo, s$yo)
  ob <- lds_regress(s$yyo, syx, sxx, s$nobs, cbind(sp$observation$value, sp$observation_offset$value),
    par$observation_cov, sp$observation_cov)
  par$observation <- ob$coef[, seq_len(q), drop = FALSE]
  par$observation_offset <- ob$coef[, q + 1L]
  par$observation_cov <- ob$cov
  par
}

is_pd <- function(v) {
  tryCatch({
    chol(v)
    TRUE
  }, error = function(e) FALSE)
}

# EM from par: the trace holds the log-likelihood at the start of each
# iteration and, last, at the returned parameters.
lds_run_em <- function(model, y, seqs, w, par, control, threads, call, estep = NULL) {
  # `estep(par)`: the E-step's result (stats, status); by default over y in
  # memory, a chunked fit passes its pass over the chunks (R/chunked-fit.R).
  if (is.null(estep)) estep <- function(par) lds_estep(y, seqs, w, par, threads)
  trace <- numeric(0)
  status <- "max_iter"
  converged <- FALSE
  progress_start()
  for (it in seq_len(control$maxit)) {
    es <- estep(par)
    if (es$status != 0L) {
      if (it == 1L) lds_stop(es, seqs, call)
      status <- hm_status_names[es$status + 1L]
      par <- prev
      break
    }
    ll <- es$stats[1]
    trace <- c(trace, ll)
    progress_tick(trace)
    if (it > 1L && abs(ll - trace[it - 1L]) / (1 + abs(ll)) < control$tol) {
      converged <- TRUE
      status <- "converged"
      break
    }
    prev <- par
    nxt <- tryCatch(lds_mstep(model, es$stats, par), error = function(e) NULL)
    if (is.null(nxt) || !is_pd(nxt$state_cov) || !is_pd(nxt$observation_cov) ||
      any(!is.finite(unlist(nxt)))) {
      status <- "not_pd"
      break
    }
    par <- nxt
  }
  if (!converged && status == "max_iter") {
    es <- estep(par)
    if (es$status == 0L) trace <- c(trace, es$stats[1]) else par <- prev
  }
  list(par = par, trace = trace, converged = converged, status = status, iterations = it)
}

# --- starts -------------------------------------------------------------------------------

# Deterministic first start: PCA of the stacked observations (missing values
# at their column means) for C, d and R, the least-squares state scores for
# A, b and Q by a regression of consecutive scores within sequences. Later
# starts perturb it at random.
lds_start <- function(model, y, seqs, i) {
  p <- model$p
  q <- model$q
  x <- t(y)
  mu <- colMeans(x, na.rm = TRUE)
  mu[!is.finite(mu)] <- 0
  for (j in seq_len(p)) x[is.na(x[, j]), j] <- mu[j]
  xc <- sweep(x, 2L, mu)
  s <- crossprod(xc) / max(1, nrow(x) - 1)
  vs <- pmax(diag(s), 1e-8 * max(1, max(diag(s))))
  e <- eigen(s, symmetric = TRUE)
  lam <- pmax(e$values, 0)
  sig2 <- if (p > q) mean(lam[(q + 1):p]) else 0.5 * min(lam[seq_len(min(p, q))])
  cmat <- matrix(0, p, q)
  nq <- min(p, q)
  cmat[, seq_len(nq)] <- e$vectors[, seq_len(nq), drop = FALSE] %*%
    diag(sqrt(pmax(lam[seq_len(nq)] - sig2, 0.1 * lam[seq_len(nq)] + 1e-8 * max(vs))), nq)
  if (q > p) cmat[, (p + 1):q] <- 0.1 * sqrt(mean(vs))
  if (i > 1L) cmat <- cmat + matrix(stats::rnorm(p * q, sd = 0.5 * sqrt(mean(vs))), p, q)
  par <- list(observation = cmat, observation_offset = mu)
  par <- lds_constrain_some(model, par)
  cm <- par$observation
  z <- sweep(x, 2L, par$observation_offset) %*% cm %*% solve(crossprod(cm) + 1e-8 * diag(q))
  res <- sweep(x, 2L, par$observation_offset) - z %*% t(cm)
  rv <- pmax(colMeans(res^2), 0.1 * vs)
  par$observation_cov <- diag(rv, p)
  first <- seqs$start + 1L
  prev_i <- unlist(lapply(seq_along(seqs$lengths), function(k) seqs$start[k] + seq_len(seqs$lengths[k] - 1L)))
  z0 <- z[prev_i, , drop = FALSE]
  z1 <- z[prev_i + 1L, , drop = FALSE]
  xx <- cbind(z0, 1)
  coef <- t(solve(crossprod(xx) + 1e-6 * diag(q + 1), crossprod(xx, z1)))
  a <- coef[, seq_len(q), drop = FALSE]
  rad <- max(Mod(eigen(a, only.values = TRUE)$values))
  if (!is.finite(rad) || rad > 0.99) a <- a * 0.99 / max(rad, 1e-8)
  if (!all(is.finite(a))) a <- 0.9 * diag(q)
  if (i > 1L) a <- 0.9 * qr.Q(qr(matrix(stats::rnorm(q * q), q)))
  par$transition <- a
  par$transition_offset <- coef[, q + 1L]
  par <- lds_constrain_some(model, par)
  zr <- z1 - z0 %*% t(par$transition) - matrix(par$transition_offset, nrow(z0), q, byrow = TRUE)
  zv <- apply(z, 2L, stats::var)
  zv[!is.finite(zv)] <- 1
  qv <- pmax(colMeans(zr^2), 0.05 * zv, 1e-8 * max(vs))
  par$state_cov <- diag(qv, q)
  par$initial_mean <- colMeans(z[first, , drop = FALSE])
  par$initial_cov <- diag(pmax(zv, qv), q)
  if (i > 1L) {
    par$state_cov <- par$state_cov * exp(stats::rnorm(1, sd = 0.5))
    par$observation_cov <- par$observation_cov * exp(stats::rnorm(1, sd = 0.5))
  }
  lds_constrain(model, par[lds_names])
}

# Fixed elements of the parameters present in par (starts are built in stages).
lds_constrain_some <- function(model, par) {
  for (nm in names(par)) {
    s <- model$spec[[nm]]
    if (!is.null(s$value) && s$type %in% c("fixed", "partial")) {
      keep <- !is.na(s$value)
      par[[nm]][keep] <- s$value[keep]
    }
  }
  par
}

# --- drivers ---------------------------------------------------------------------------------

lds_name_params <- function(par, y) {
  cn <- rownames(y)
  if (!is.null(cn)) {
    rownames(par$observation) <- cn
    names(par$observation_offset) <- cn
    dimnames(par$observation_cov) <- list(cn, cn)
  }
  par
}

new_lds_fit <- function(model, par, y, seqs, w, es, call) {
  structure(
    list(model = model, params = lds_name_params(par, y), loglik = if (is.null(es)) NA_real_ else
      if (is.null(w)) sum(es$loglik) else sum(w * es$loglik),
    logp = if (is.null(es)) numeric(0) else stats::setNames(es$loglik, seqs$ids),
    trace = numeric(0), iterations = 0L, converged = NA, status = "given",
    n = if (is.null(y)) 0L else ncol(y), n_obs = if (is.null(y)) 0L else sum(!is.na(y)),
    df = model$n_free, y = y, lengths = seqs$lengths, ids = seqs$ids, start = seqs$start,
    weights = w, call = call, method = "em"),
    class = c("lds_fit", "lvm_fit")
  )
}

#' @export
fit_sequence.lds_model <- function(model, seqs, init, method, control, weights, call, env) {
  if (method == "gradient") {
    abort_hm("{.fn lds} is fitted by exact EM; use {.code method = \"em\"} or {.code \"auto\"}.", "unsupported",
      call = env)
  }
  y <- lds_data(model, seqs, "data", env)
  w <- sequence_weights(weights, seqs, env)
  threads <- resolve_threads(control$threads)
  init_par <- if (is.null(init)) NULL else lds_constrain(model, lds_check_params(model, init, "init", env))
  starts <- data.frame(start = seq_len(control$n_init), loglik = NA_real_, iterations = 0L,
    status = "failed", note = "", stringsAsFactors = FALSE)
  best <- NULL
  for (i in seq_len(control$n_init)) {
    par0 <- if (i == 1L && !is.null(init_par)) init_par else
      with_seed(start_seed(control, i), lds_start(model, y, seqs, i))
    em <- tryCatch(lds_run_em(model, y, seqs, w, par0, control, threads, env),
      harmonium_error = function(e) if (control$n_init == 1L) stop(e) else NULL)
    if (is.null(em) || length(em$trace) == 0L) next
    ll <- em$trace[length(em$trace)]
    starts$loglik[i] <- ll
    starts$iterations[i] <- length(em$trace)
    starts$status[i] <- if (em$status == "not_pd") "stopped: not_pd" else em$status
    if (em$status == "not_pd") {
      starts$note[i] <- paste("a noise covariance became singular at iteration", length(em$trace))
    }
    # As for mixtures, a start that ended singular is kept only when every
    # start did.
    healthy <- em$status != "not_pd"
    if (is.null(best) || (healthy && !best$healthy) || (healthy == best$healthy && ll > best$ll)) {
      best <- list(em = em, ll = ll, start = i, healthy = healthy)
    }
  }
  report_starts(best, starts, control, "Try other starting values with {.arg init}, or fix ill-determined parameters.",
    env)
  em <- best$em
  if (em$status == "not_pd") {
    warn_hm(c("EM stopped at iteration {length(em$trace)}: a noise covariance became singular.",
      i = "The fit is the last valid iterate; consider a {.val diagonal} structure or fixing it."), "collapse")
  } else if (!em$converged) {
    warn_not_converged("EM", control)
  }
  check_monotone(em$trace)
  es <- lds_estep(y, seqs, w, em$par, threads, c(0L, 0L, 0L, 0L, 0L))
  lds_stop(es, seqs, env)
  fit <- new_lds_fit(model, em$par, y, seqs, w, es, call)
  fit_record_em(fit, em$trace, em$iterations, em$converged, em$status, starts, best$start, control)
}

#' @export
with_params_sequence.lds_model <- function(model, params, seqs, call, env) {
  par <- lds_check_params(model, params, "params", env)
  if (is.null(seqs)) return(new_lds_fit(model, par, NULL, list(lengths = integer(0), ids = character(0),
    start = integer(0)), NULL, NULL, call))
  y <- lds_data(model, seqs, "data", env)
  es <- lds_estep(y, seqs, NULL, par, resolve_threads(), c(0L, 0L, 0L, 0L, 0L))
  lds_stop(es, seqs, env)
  fit <- new_lds_fit(model, par, y, seqs, NULL, es, call)
  fit$trace <- fit$loglik
  fit
}
