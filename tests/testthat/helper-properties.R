# Seeded random problems for the property tests (test-properties.R and
# tools/properties.R). prop_problem(kind, seed) draws a model of the given
# kind with random shapes and random true parameters, and simulates data from
# it with the package's own simulate(); everything depends on `seed` only.
# Each problem carries `recover(fit)`, which returns the estimates matched to
# the truth (labels permuted) with their standard errors, for the kinds where
# the parameters are identified and a standard error is easy to state.

prop_kinds <- c(
  "normal_full", "normal_diagonal", "normal_isotropic", "poisson", "categorical", "bernoulli",
  "binomial", "von_mises", "gamma", "product", "factor_analysis", "ppca", "lgm", "hmog", "mfa",
  "mixture_ppca", "boltzmann_lgm", "categorical_dirichlet", "hmm_normal", "hmm_poisson",
  "hmm_categorical", "lds", "hmm_stationary"
)

# Number of problems per kind: HARMONIUM_PROPERTY_N, else `default`.
prop_n <- function(default) {
  v <- suppressWarnings(as.integer(Sys.getenv("HARMONIUM_PROPERTY_N", "")))
  if (is.na(v) || v < 1L) default else v
}

prop_unif_int <- function(lo, hi) if (lo == hi) lo else sample(lo:hi, 1L)

# Weights bounded away from 0 so that every class is seen.
prop_weights <- function(k) {
  w <- stats::rgamma(k, 3)
  w <- w / sum(w)
  w <- 0.15 / k + (1 - 0.15) * w
  w / sum(w)
}

prop_spd <- function(d, lo = 0.3) {
  a <- matrix(stats::rnorm(d * d), d) / sqrt(d)
  s <- crossprod(a) + lo * diag(d)
  (s + t(s)) / 2
}

# Class means: k points in a cube of side sep * k whose closest pair is
# exactly `sep` apart (so the spread is at most sep * k * sqrt(d): scaling
# unconstrained random points to a minimum distance can blow a near-tie up to
# thousands of standard deviations).
prop_means <- function(k, d, sep) {
  if (k == 1L) return(matrix(stats::rnorm(d), 1L, d))
  repeat {
    mu <- matrix(stats::runif(k * d, -0.5, 0.5) * sep * k, k, d)
    dd <- min(stats::dist(mu))
    if (dd >= sep / 2) break
  }
  mu * sep / dd
}

# All permutations of 1..k (k small).
prop_perms <- function(k) {
  if (k == 1L) return(matrix(1L, 1, 1))
  p <- prop_perms(k - 1L)
  do.call(rbind, lapply(seq_len(k), function(i) cbind(i, ifelse(p >= i, p + 1L, p))))
}

# The permutation of the estimated classes that best matches the true ones
# (by squared distance of a per-class feature matrix, k rows).
prop_match <- function(est, true) {
  pm <- prop_perms(nrow(true))
  cost <- apply(pm, 1L, function(p) sum((est[p, , drop = FALSE] - true)^2))
  pm[which.min(cost), ]
}

prop_recovery <- function(est, true, se) list(est = as.vector(est), true = as.vector(true), se = as.vector(se))

# Stationary distribution of a transition matrix.
prop_stationary <- function(A) {
  e <- eigen(t(A))
  v <- Re(e$vectors[, which.max(Re(e$values))])
  v / sum(v)
}

prop_sticky <- function(S) {
  A <- matrix(stats::runif(S * S, 0.2, 1), S)
  diag(A) <- diag(A) + S * stats::runif(S, 1, 4)
  A / rowSums(A)
}

# --- independent-data kinds -------------------------------------------------------------

prop_mixture_params <- function(kind, k, d, sep) {
  w <- prop_weights(k)
  comps <- switch(kind,
    normal_full = , normal_diagonal = , normal_isotropic = {
      mu <- prop_means(k, d, sep)
      lapply(seq_len(k), function(j) {
        cv <- switch(kind,
          normal_full = prop_spd(d),
          normal_diagonal = diag(stats::runif(d, 0.3, 1.5), d),
          normal_isotropic = diag(stats::runif(1, 0.3, 1.5), d))
        list(mean = mu[j, ], cov = cv)
      })
    },
    poisson = lapply(seq_len(k), function(j) list(rate = exp(stats::runif(d, log(0.5), log(30))))),
    bernoulli = lapply(seq_len(k), function(j) list(prob = stats::runif(d, 0.05, 0.95))),
    binomial = lapply(seq_len(k), function(j) list(prob = stats::runif(d, 0.05, 0.95))),
    von_mises = lapply(seq_len(k), function(j) {
      list(mean = stats::runif(d, -3, 3), kappa = exp(stats::runif(d, log(0.5), log(20))))
    }),
    gamma = lapply(seq_len(k), function(j) {
      list(shape = exp(stats::runif(d, log(0.7), log(10))), rate = exp(stats::runif(d, log(0.3), log(3))))
    })
  )
  list(weights = w, components = comps)
}

prop_cat_prob <- function(L) {
  p <- stats::rgamma(L, 1.5)
  p <- 0.1 / L + 0.9 * p / sum(p)
  p / sum(p)
}

prop_fa_params <- function(p, q, noise = c("diagonal", "isotropic", "full"), scale = 1) {
  noise <- match.arg(noise)
  cv <- switch(noise,
    diagonal = diag(stats::runif(p, 0.2, 1), p),
    isotropic = diag(stats::runif(1, 0.2, 1), p),
    full = prop_spd(p, 0.2))
  list(mean = stats::rnorm(p, sd = scale), loadings = matrix(stats::rnorm(p * q), p, q), cov = cv)
}

# Simulated data from a model at params: a matrix (or a data frame, with
# categorical columns) of n rows.
prop_sim <- function(model, params, n) {
  x <- simulate(with_params(model, params), n)
  attr(x, "seed") <- NULL
  x
}

# Means of mixture components as a k x d matrix and their standard errors.
prop_normal_recover <- function(params, n, var_of) {
  function(fit) {
    k <- length(params$weights)
    tm <- do.call(rbind, lapply(params$components, `[[`, "mean"))
    em <- do.call(rbind, lapply(coef(fit)$components, `[[`, "mean"))
    pm <- prop_match(em, tm)
    tv <- do.call(rbind, lapply(params$components, var_of))
    se <- sqrt(tv / (n * params$weights))
    prop_recovery(em[pm, , drop = FALSE], tm, se)
  }
}

prop_rate_recover <- function(params, n, what, var_fun) {
  function(fit) {
    tm <- do.call(rbind, lapply(params$components, function(c) unname(c[[what]])))
    em <- do.call(rbind, lapply(coef(fit)$components, function(c) unname(c[[what]])))
    pm <- prop_match(em, tm)
    se <- sqrt(var_fun(tm) / (n * params$weights))
    prop_recovery(em[pm, , drop = FALSE], tm, se)
  }
}

# Implied covariance L L' + Psi of a linear Gaussian model, entries' standard
# errors under normal sampling: Var(S_ij) = (Sigma_ij^2 + Sigma_ii Sigma_jj) / n.
prop_cov_recover <- function(params, n) {
  function(fit) {
    cp <- coef(fit)
    S <- params$loadings %*% t(params$loadings) + params$cov
    E <- cp$loadings %*% t(cp$loadings) + cp$cov
    se <- sqrt((S^2 + outer(diag(S), diag(S))) / n)
    prop_recovery(cbind(cp$mean, E), cbind(params$mean, S), cbind(sqrt(diag(S) / n), se))
  }
}

# One random problem. `n`: rows (or total time points for sequences); `sep`:
# separation of the classes in standard deviations (Gaussian mixtures).
prop_problem <- function(kind, seed, n = c(150L, 600L), sep = NULL) {
  n_arg <- n
  set.seed(seed)
  n <- if (length(n) == 2L) prop_unif_int(as.integer(n[1]), as.integer(n[2])) else as.integer(n)
  if (is.null(sep)) sep <- stats::runif(1, 1, 6)
  k <- prop_unif_int(1L, 3L)
  out <- switch(kind,
    normal_full = , normal_diagonal = , normal_isotropic = {
      d <- prop_unif_int(1L, 4L)
      cov_type <- sub("normal_", "", kind)
      model <- mixture(ef_normal(d, covariance = cov_type), k)
      params <- prop_mixture_params(kind, k, d, sep)
      list(model = model, params = params,
        recover = prop_normal_recover(params, n, function(c) diag(c$cov)))
    },
    poisson = {
      d <- prop_unif_int(1L, 3L)
      params <- prop_mixture_params(kind, k, d, sep)
      if (sep >= 6) {
        # Well separated: in each column the classes' rates are 3, 15, 75
        # in a random order.
        r <- vapply(seq_len(d), function(j) 3 * 5^(sample.int(k) - 1), numeric(k))
        params$components <- lapply(seq_len(k), function(j) list(rate = unname(matrix(r, k)[j, ])))
      }
      list(model = mixture(ef_poisson(d), k), params = params,
        recover = prop_rate_recover(params, n, "rate", identity))
    },
    bernoulli = {
      d <- prop_unif_int(2L, 6L)
      params <- prop_mixture_params(kind, k, d, sep)
      if (sep >= 6) {
        # Well separated: probabilities 0.12 or 0.88 on patterns at Hamming
        # distance >= d / 3 from each other, with d >= 2k + 2 (Bernoulli
        # mixtures with few columns are barely identified).
        d <- prop_unif_int(2L * k + 2L, 2L * k + 4L)
        repeat {
          bits <- matrix(stats::rbinom(k * d, 1L, 0.5), k, d)
          if (k == 1L || min(stats::dist(bits, "manhattan")) >= d / 3) break
        }
        params$components <- lapply(seq_len(k), function(j) list(prob = 0.12 + 0.76 * bits[j, ]))
      }
      list(model = mixture(ef_bernoulli(d), k), params = params,
        recover = prop_rate_recover(params, n, "prob", function(p) p * (1 - p)))
    },
    binomial = {
      d <- prop_unif_int(1L, 3L)
      trials <- prop_unif_int(3L, 12L)
      params <- prop_mixture_params(kind, k, d, sep)
      if (sep >= 6) {
        # Well separated: 20 trials, probabilities 0.1, 0.5, 0.9 in a random
        # order in each column.
        trials <- 20L
        r <- vapply(seq_len(d), function(j) c(0.1, 0.5, 0.9)[sample.int(k)], numeric(k))
        params$components <- lapply(seq_len(k), function(j) list(prob = unname(matrix(r, k)[j, ])))
      }
      list(model = mixture(ef_binomial(trials, d), k), params = params,
        recover = prop_rate_recover(params, n, "prob", function(p) p * (1 - p) / trials))
    },
    von_mises = {
      d <- prop_unif_int(1L, 2L)
      params <- prop_mixture_params(kind, k, d, sep)
      list(model = mixture(ef_von_mises(d), k), params = params, recover = NULL)
    },
    gamma = {
      d <- prop_unif_int(1L, 2L)
      params <- prop_mixture_params(kind, k, d, sep)
      list(model = mixture(ef_gamma(d), k), params = params, recover = NULL)
    },
    categorical = {
      L <- prop_unif_int(3L, 6L)
      k <- min(k, 2L)
      params <- list(weights = prop_weights(k),
        components = lapply(seq_len(k), function(j) list(prob = prop_cat_prob(L))))
      # A mixture of one categorical variable is not identified beyond the
      # marginal: recovery is checked for k = 1 only.
      rec <- if (k == 1L) prop_rate_recover(params, n, "prob", function(p) p * (1 - p)) else NULL
      list(model = mixture(ef_categorical(L), k), params = params, recover = rec)
    },
    product = {
      L <- prop_unif_int(2L, 4L)
      fam <- ef_product(ef_poisson(), ef_categorical(L), ef_normal(2))
      mu <- prop_means(k, 2L, sep)
      params <- list(weights = prop_weights(k), components = lapply(seq_len(k), function(j) {
        list(list(rate = exp(stats::runif(1, log(0.5), log(20)))), list(prob = prop_cat_prob(L)),
          list(mean = mu[j, ], cov = prop_spd(2L)))
      }))
      list(model = mixture(fam, k), params = params, recover = NULL)
    },
    factor_analysis = , ppca = , lgm = {
      p <- prop_unif_int(3L, 6L)
      q <- prop_unif_int(1L, 2L)
      noise <- switch(kind, factor_analysis = "diagonal", ppca = "isotropic", lgm = "full")
      model <- switch(kind, factor_analysis = factor_analysis(p, q), ppca = ppca(p, q),
        lgm = lgm(ef_normal(p), q))
      params <- prop_fa_params(p, q, noise)
      list(model = model, params = params, recover = prop_cov_recover(params, n))
    },
    hmog = {
      p <- prop_unif_int(3L, 5L)
      q <- prop_unif_int(1L, 2L)
      k <- prop_unif_int(2L, 3L)
      fa <- prop_fa_params(p, q, "diagonal")
      mu <- prop_means(k, q, sep)
      fa$latent <- list(weights = prop_weights(k), components = lapply(seq_len(k), function(j) {
        list(mean = mu[j, ], cov = prop_spd(q, 0.5))
      }))
      list(model = hmog(p, q, k), params = fa, recover = NULL)
    },
    mfa = , mixture_ppca = {
      p <- prop_unif_int(3L, 5L)
      q <- 1L
      k <- prop_unif_int(1L, 2L)
      noise <- if (kind == "mfa") "diagonal" else "isotropic"
      comps <- lapply(seq_len(k), function(j) prop_fa_params(p, q, noise, scale = sep))
      model <- if (kind == "mfa") mfa(p, q, k) else mixture(ppca(p, q), k)
      list(model = model, params = list(weights = prop_weights(k), components = comps), recover = NULL)
    },
    boltzmann_lgm = {
      p <- prop_unif_int(2L, 4L)
      q <- prop_unif_int(1L, 3L)
      cp <- matrix(0, q, q)
      if (q > 1L) {
        cp[upper.tri(cp)] <- stats::rnorm(q * (q - 1) / 2, sd = 0.7)
        cp <- cp + t(cp)
      }
      params <- list(offset = stats::rnorm(p), loadings = matrix(stats::rnorm(p * q, sd = sep / 2), p, q),
        cov = diag(stats::runif(p, 0.2, 1), p), prior = list(bias = stats::rnorm(q, sd = 0.7), coupling = cp))
      list(model = boltzmann_lgm(ef_normal(p, "diagonal"), q), params = params, recover = NULL)
    },
    categorical_dirichlet = {
      L <- prop_unif_int(2L, 5L)
      params <- list(alpha = exp(stats::runif(L, log(0.5), log(5))))
      list(model = harmonium(ef_categorical(L), ef_dirichlet(L)), params = params, recover = NULL)
    },
    hmm_normal = , hmm_poisson = , hmm_categorical = , hmm_stationary = {
      S <- prop_unif_int(2L, 3L)
      A <- prop_sticky(S)
      init <- prop_weights(S)
      em <- switch(kind,
        hmm_normal = {
          d <- prop_unif_int(1L, 2L)
          mu <- prop_means(S, d, sep)
          lapply(seq_len(S), function(j) list(mean = mu[j, ], cov = diag(stats::runif(d, 0.3, 1.2), d)))
        },
        hmm_poisson = , hmm_stationary = {
          lam <- sort(exp(stats::runif(S, log(1), log(40))))
          lapply(seq_len(S), function(j) list(rate = lam[j]))
        },
        hmm_categorical = {
          L <- prop_unif_int(3L, 5L)
          lapply(seq_len(S), function(j) list(prob = prop_cat_prob(L)))
        })
      fam <- switch(kind, hmm_normal = ef_normal(length(em[[1]]$mean)), hmm_poisson = , hmm_stationary = ef_poisson(),
        hmm_categorical = ef_categorical(length(em[[1]]$prob)))
      # hmm_stationary: the initial distribution tied to the chain's
      # stationary one (its update is approximate, not an exact M-step).
      model <- hmm(fam, S, initial = if (kind == "hmm_stationary") "stationary" else "free")
      if (kind == "hmm_stationary") init <- prop_stationary(A)
      params <- list(initial = init, transition = A, emission = em)
      rec <- NULL
      if (kind == "hmm_normal") {
        rec <- function(fit) {
          pi <- prop_stationary(A)
          tm <- do.call(rbind, lapply(em, `[[`, "mean"))
          es <- do.call(rbind, lapply(coef(fit)$emission, `[[`, "mean"))
          pm <- prop_match(es, tm)
          tv <- do.call(rbind, lapply(em, function(c) diag(c$cov)))
          # Dependence between neighbours inflates the variance; 2x covers it
          # for the sticky chains drawn here.
          prop_recovery(es[pm, , drop = FALSE], tm, 2 * sqrt(tv / (n * pi)))
        }
      }
      list(model = model, params = params, recover = rec)
    },
    lds = {
      p <- prop_unif_int(1L, 3L)
      q <- prop_unif_int(1L, 2L)
      a <- qr.Q(qr(matrix(stats::rnorm(q * q), q))) * stats::runif(1, 0.3, 0.9)
      params <- list(initial_mean = stats::rnorm(q), initial_cov = diag(q), transition = a,
        transition_offset = stats::rnorm(q, sd = 0.3), state_cov = prop_spd(q, 0.3),
        observation = matrix(stats::rnorm(p * q), p, q), observation_offset = stats::rnorm(p),
        observation_cov = diag(stats::runif(p, 0.2, 1), p))
      list(model = lds(p, q), params = params, recover = NULL)
    },
    stop("unknown kind ", kind)
  )
  out$kind <- kind
  out$seed <- seed
  out$n <- n
  out$call <- sprintf("prop_problem(\"%s\", %d, n = %s%s)", kind, seed, deparse(as.integer(n_arg)),
    if (is.null(sep)) "" else paste0(", sep = ", sep))
  out$data <- prop_simulate(out, n)
  out
}

# Data of a problem. Sequences: 3 to 5 sequences of unequal lengths summing
# to about n.
prop_simulate <- function(pr, n) {
  if (startsWith(pr$kind, "hmm")) {
    ns <- prop_unif_int(3L, 5L)
    len <- pmax(20L, as.integer(round(n * prop_weights(ns))))
    sim <- simulate(with_params(pr$model, pr$params), lengths = len)
    obs <- setdiff(names(sim), c("sim", "sequence", "time", "state"))
    return(lapply(split(sim[obs], factor(sim$sequence, unique(sim$sequence))), function(df) {
      if (length(obs) == 1L) df[[1]] else as.matrix(df)
    }))
  }
  if (pr$kind == "lds") {
    ns <- prop_unif_int(2L, 4L)
    len <- max(20L, n %/% ns)
    sim <- simulate(with_params(pr$model, pr$params), nsim = ns, length = len)
    return(lapply(sim, function(y) {
      attr(y, "states") <- NULL
      y
    }))
  }
  prop_sim(pr$model, pr$params, n)
}

# Fits a problem's model to its data with the given threads; the package's
# classed warnings report an honest state of the fit (iteration cap, a
# collapsed component, a failed or discarded start, a parameter at its
# boundary, a Heywood case) and are muffled, the fit keeping their kinds as
# `prop_warnings` (a "decrease" among them is what the tests look for).
prop_fit <- function(pr, threads, maxit = 30L, tol = 1e-10, n_init = 1L, data = pr$data) {
  ws <- character(0)
  fit <- withCallingHandlers(
    fit_lvm(pr$model, data, control = lvm_control(threads = threads, maxit = maxit, tol = tol,
      n_init = n_init)),
    harmonium_warning = function(w) {
      ws <<- c(ws, sub("^harmonium_warning_", "", class(w)[1]))
      invokeRestart("muffleWarning")
    }
  )
  fit$prop_warnings <- ws
  fit
}

# Largest relative decrease of a log-likelihood trace (<= 0 when monotone).
prop_max_drop <- function(trace) {
  if (length(trace) < 2L) return(-Inf)
  max(-diff(trace) / (1 + abs(trace[-1])))
}

prop_label <- function(pr) sprintf("%s [n = %d]", pr$call, pr$n)
