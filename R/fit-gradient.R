# Gradient-based fitting: the exact log-likelihood and
# its gradient in the harmonium's natural coordinates come from the engine
# (one E-step and one mean map, src/glue/glue_grad.c); R chains the gradient
# through an unconstrained reparameterisation and runs L-BFGS (stats::optim)
# or Adam.

# Elementwise reparameterisation of a family's natural parameters: for each
# coordinate, 0 = free, 1 = theta = -exp(u) (negative), 2 = theta = exp(u) - 1
# (greater than -1), 3 = theta = exp(u) (positive). NULL if the family's
# domain is not a product of intervals (full-covariance Normal).
family_reparam <- function(fam) {
  if (fam$name == "product") {
    codes <- lapply(fam$blocks, family_reparam)
    if (any(vapply(codes, is.null, logical(1)))) return(NULL)
    return(unlist(codes))
  }
  n <- fam$n
  switch(fam$name,
    normal = if (fam$covariance == "full") NULL else c(rep(0L, n), rep(1L, fam$dim - n)),
    categorical = , bernoulli = , binomial = , poisson = , von_mises = , boltzmann = rep(0L, fam$dim),
    com_poisson = rep(c(0L, 1L), n),
    gamma = rep(c(2L, 1L), n),
    dirichlet = rep(3L, n),
    NULL
  )
}

reparam_to_u <- function(theta, codes) {
  u <- theta
  u[codes == 1L] <- log(-theta[codes == 1L])
  u[codes == 2L] <- log(theta[codes == 2L] + 1)
  u[codes == 3L] <- log(theta[codes == 3L])
  u
}

reparam_from_u <- function(u, codes) {
  th <- u
  th[codes == 1L] <- -exp(u[codes == 1L])
  th[codes == 2L] <- exp(u[codes == 2L]) - 1
  th[codes == 3L] <- exp(u[codes == 3L])
  th
}

# d theta / d u, elementwise.
reparam_jac <- function(theta, codes) {
  j <- rep(1, length(theta))
  j[codes == 1L] <- theta[codes == 1L]
  j[codes == 2L] <- theta[codes == 2L] + 1
  j[codes == 3L] <- theta[codes == 3L]
  j
}

# The optimisation problem of a model: u <-> theta, and the gradient in u from
# the harmonium-coordinate gradient g.
gradient_problem <- function(m, call) UseMethod("gradient_problem")

#' @export
gradient_problem.default <- function(m, call) {
  abort_hm(c("{.code method = \"gradient\"} is not available for {m$label}.",
    i = "Use {.code method = \"em\"}."), "unsupported", call = call)
}

# Linear Gaussian and Gaussian-Boltzmann harmoniums are optimised in their
# own natural coordinates [theta_X | W | theta_Z]: the observable's and the
# latent's blocks through their families' elementwise reparameterisations,
# the interaction free. Points where the prior is not valid (its precision
# not positive definite) have log-likelihood -Inf, which the line searches
# step back from.
#' @export
gradient_problem.lgm_model <- function(m, call) {
  co <- family_reparam(m$obs)
  cz <- family_reparam(m$lat)
  if (is.null(co) || is.null(cz)) {
    hint <- if (isFALSE(m$has_em)) {
      "This model has no EM either: use a diagonal or isotropic observable, e.g. {.code ef_normal({m$p}, \"diagonal\")}."
    } else {
      "Use {.code method = \"em\"} (closed form for this model)."
    }
    abort_hm(c("{.code method = \"gradient\"} needs parameters that can be reparameterised elementwise.",
      x = "{m$label} has a full covariance matrix (in its observable or its latent block).",
      i = hint), "unsupported", call = call)
  }
  codes <- c(co, rep(0L, m$p * m$q), cz)
  list(
    to_u = function(theta) reparam_to_u(theta, codes),
    from_u = function(u) reparam_from_u(u, codes),
    grad_u = function(u, theta, g) g * reparam_jac(theta, codes)
  )
}

#' @export
gradient_problem.mixture_model <- function(m, call) {
  fam <- m$component
  if (is_coupling_structure(fam) && m$k > 1L) {
    # The gradient path optimises free per-component parameters; the
    # structures live in the EM's M-step.
    abort_hm(c("{.code method = \"gradient\"} is not available for the {fam$structure} covariance structure.",
      i = "Use {.code method = \"em\"}."), "unsupported", call = call)
  }
  codes <- family_reparam(fam)
  if (is.null(codes)) {
    abort_hm(c("{.code method = \"gradient\"} needs a family whose parameters can be reparameterised elementwise.",
      x = "{fam$label} has a full covariance matrix.",
      i = "Use {.code method = \"em\"}, or a diagonal or isotropic covariance."), "unsupported", call = call)
  }
  k <- m$k
  dx <- fam$dim
  list(
    to_u = function(theta) {
      sp <- mixture_split(m, theta)
      c(as.vector(apply(sp$components, 1L, reparam_to_u, codes = codes)), sp$prior)
    },
    from_u = function(u) {
      comps <- matrix(u[seq_len(k * dx)], k, dx, byrow = TRUE)
      comps <- t(apply(comps, 1L, reparam_from_u, codes = codes))
      if (dx == 1L) comps <- matrix(comps, k, 1L)
      mixture_join(m, comps, u[k * dx + seq_len(k - 1L)])
    },
    # Chain rule through join_conjugated: with
    # theta_X = c_0, Theta_k = c_k - c_0 and theta_Z = pi - rho(c), the
    # gradient in component coordinates is g_Theta_k - g_Z_k eta(c_k) for
    # k >= 1, g_X - sum_k g_Theta_k + (sum_k g_Z_k) eta(c_0) for k = 0, and
    # g_Z for the prior.
    grad_u = function(u, theta, g) {
      sp <- mixture_split(m, theta)
      gx <- g[seq_len(dx)]
      gw <- matrix(g[dx + seq_len(dx * (k - 1L))], dx, k - 1L, byrow = TRUE)
      gz <- g[dx + dx * (k - 1L) + seq_len(k - 1L)]
      eta <- t(apply(sp$components, 1L, function(cc) {
        r <- native_family_to_mean(fam$spec, cc)
        stop_status(r, "mean parameters")
        r$value
      }))
      if (dx == 1L) eta <- matrix(eta, k, 1L)
      gc <- matrix(0, k, dx)
      gc[1, ] <- gx - rowSums(gw) + sum(gz) * eta[1, ]
      if (k > 1L) for (j in 2:k) gc[j, ] <- gw[, j - 1L] - gz[j - 1L] * eta[j, ]
      jac <- t(apply(sp$components, 1L, reparam_jac, codes = codes))
      if (dx == 1L) jac <- matrix(jac, k, 1L)
      c(as.vector(t(gc * jac)), gz)
    }
  )
}

# Runs the optimiser from theta (internal coordinates); returns the same
# fields as run_em(). The trace is the best log-likelihood found after each
# evaluation of the objective.
run_gradient <- function(m, theta, xs, w, control, threads, call) {
  pr <- gradient_problem(m, call)
  tot <- if (is.null(w)) nrow(xs) else sum(w)
  # A Normal latent's gradient is a function of the data's moments
  # (lgm_data_moments()): one pass, then each evaluation costs O(p^2 q).
  data_mom <- if (isTRUE(m$grad_moments)) lgm_data_moments(m, xs, w, threads)
  gradient_at <- function(th) {
    if (is.null(data_mom)) {
      native_model_gradient(m, th, xs, w, threads)
    } else {
      native_lgm_moments_gradient(m, th, data_mom)
    }
  }
  cache <- new.env(parent = emptyenv())
  evaluate <- function(u) {
    if (identical(u, cache$u)) return(cache)
    th <- tryCatch(pr$from_u(u), harmonium_error = function(e) NULL)
    res <- if (is.null(th)) NULL else gradient_at(th)
    cache$u <- u
    if (is.null(res) || res$status != 0L || !is.finite(res$value)) {
      cache$ll <- -Inf
      cache$grad <- NULL
      cache$invalid <- TRUE
    } else {
      cache$ll <- res$value
      cache$theta <- th
      cache$grad <- pr$grad_u(u, th, res$gradient)
      cache$trace <- c(cache$trace, max(res$value, cache$trace[length(cache$trace)]))
      if (res$value > cache$best_ll) {
        cache$best_ll <- res$value
        cache$best_theta <- th
      }
    }
    cache
  }
  cache$trace <- numeric(0)
  cache$best_ll <- -Inf
  cache$best_theta <- theta
  u0 <- pr$to_u(theta)
  converged <- FALSE
  if (control$cd_k > 0L) {
    return(run_cd(m, pr, theta, u0, xs, w, tot, control, threads, call))
  }
  if (control$optimizer == "lbfgs") {
    # Average log-likelihood, so the tolerances do not scale with n.
    fn <- function(u) {
      e <- evaluate(u)
      if (is.finite(e$ll)) -e$ll / tot else 1e100
    }
    gr <- function(u) {
      e <- evaluate(u)
      if (is.null(e$grad)) rep(0, length(u)) else -e$grad / tot
    }
    opt <- stats::optim(u0, fn, gr, method = "L-BFGS-B",
      control = list(maxit = control$maxit, factr = max(control$tol / .Machine$double.eps, 1), pgtol = 0))
    # L-BFGS-B's line search gives up at points outside the model's domain
    # (a prior precision that is not positive definite evaluates to -Inf);
    # BFGS's backtracking line search does not, so it continues from the
    # best point whenever any evaluation was invalid or L-BFGS-B stopped
    # abnormally.
    if (isTRUE(cache$invalid) || opt$convergence != 0L) {
      ub <- pr$to_u(cache$best_theta)
      opt <- stats::optim(ub, fn, gr, method = "BFGS",
        control = list(maxit = control$maxit, reltol = max(control$tol, .Machine$double.eps)))
    }
    converged <- opt$convergence == 0L
  } else {
    # Adam (Kingma and Ba 2014) with the usual moment decays, ascending the
    # average log-likelihood; stops when the relative change over 10 steps
    # is below tol.
    mom <- vel <- numeric(length(u0))
    u <- u0
    ll_prev <- -Inf
    for (t in seq_len(control$maxit)) {
      e <- evaluate(u)
      if (is.null(e$grad)) break
      g <- e$grad / tot
      mom <- 0.9 * mom + 0.1 * g
      vel <- 0.999 * vel + 0.001 * g^2
      u <- u + control$lr * (mom / (1 - 0.9^t)) / (sqrt(vel / (1 - 0.999^t)) + 1e-8)
      if (t %% 10L == 0L) {
        if (abs(e$ll - ll_prev) / (1 + abs(e$ll)) < control$tol) {
          converged <- TRUE
          break
        }
        ll_prev <- e$ll
      }
    }
  }
  if (!is.finite(cache$best_ll)) {
    return(list(theta = theta, trace = numeric(0), status = 2L, bad = -1L, converged = FALSE))
  }
  list(theta = cache$best_theta, trace = cache$trace, status = if (converged) 0L else 1L, bad = -1L,
    converged = converged)
}

# Adam on the contrastive-divergence estimate of the gradient, for
# Boltzmann latents. The estimate is noisy, so the stopping rule
# looks at the exact log-likelihood, evaluated every 10 steps: it stops when
# the best value has not improved by tol (relative) over 200 steps. The fit
# is the best point seen.
run_cd <- function(m, pr, theta, u0, xs, w, tot, control, threads, call) {
  if (!m$kind %in% c("boltzmann_lgm", "boltzmann_lgm_mf")) {
    abort_hm(c("{.arg cd_k} is for models with binary latent units.",
      x = "{m$label} has none."), "unsupported", call = call)
  }
  if (!is.null(w)) {
    abort_hm("Contrastive divergence does not take case weights.", "unsupported", call = call)
  }
  u <- u0
  mom <- vel <- numeric(length(u))
  trace <- numeric(0)
  best <- list(ll = -Inf, theta = theta)
  stall <- 0L
  converged <- FALSE
  for (t in seq_len(control$maxit)) {
    th <- tryCatch(pr$from_u(u), harmonium_error = function(e) NULL)
    if (is.null(th)) break
    if (t %% 10L == 1L) {
      ex <- native_model_gradient(m, th, xs, w, threads)
      if (ex$status != 0L) break
      if (!is.finite(best$ll) || ex$value > best$ll + control$tol * abs(best$ll)) {
        stall <- 0L
      } else {
        stall <- stall + 10L
      }
      if (ex$value > best$ll) best <- list(ll = ex$value, theta = th)
      trace <- c(trace, best$ll)
      if (stall >= 200L) {
        converged <- TRUE
        break
      }
    }
    cd <- native_model_cd_gradient(m, th, xs, control$cd_k)
    if (cd$status != 0L) break
    g <- pr$grad_u(u, th, cd$gradient) / tot
    mom <- 0.9 * mom + 0.1 * g
    vel <- 0.999 * vel + 0.001 * g^2
    u <- u + control$lr * (mom / (1 - 0.9^t)) / (sqrt(vel / (1 - 0.999^t)) + 1e-8)
  }
  if (!is.finite(best$ll)) {
    return(list(theta = theta, trace = numeric(0), status = 2L, bad = -1L, converged = FALSE))
  }
  list(theta = best$theta, trace = trace, status = if (converged) 0L else 1L, bad = -1L,
    converged = converged)
}
