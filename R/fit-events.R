# The events of a fit (degenerate components, Heywood cases, parameters
# floored at a boundary, discarded starts, ...). Every classed warning the
# package raises with warn_hm() while a fit driver runs is also recorded, one
# row per event, in each log that is open; the driver attaches its log to the
# fit as `fit$warnings`, so the events stay with the fit even when the
# warnings are suppressed or the fit is made inside select_k().

hm_event_logs <- new.env(parent = emptyenv())
hm_event_logs$open <- list()
hm_event_logs$count <- 0L

empty_events <- function() {
  data.frame(class = character(0), start = integer(0), message = character(0), stringsAsFactors = FALSE)
}

# Opens a log and returns its token (close it with events_close() on exit).
events_open <- function() {
  hm_event_logs$count <- hm_event_logs$count + 1L
  token <- paste0("log", hm_event_logs$count)
  hm_event_logs$open[[token]] <- empty_events()
  token
}

events_close <- function(token) {
  hm_event_logs$open[[token]] <- NULL
  invisible()
}

events_get <- function(token) {
  ev <- hm_event_logs$open[[token]]
  if (is.null(ev)) empty_events() else ev
}

# Records a warning condition in every open log: one row per element of
# `events` (each event's message, with `start` the start it concerns or NA),
# or one row holding the condition's message.
events_record <- function(cnd, events = NULL, start = NULL) {
  if (!length(hm_event_logs$open)) return(invisible())
  msg <- if (is.null(events)) cli::ansi_strip(conditionMessage(cnd)) else as.character(events)
  msg <- gsub("\\s*\n\\s*", " ", msg)
  st <- if (is.null(start)) rep(NA_integer_, length(msg)) else rep_len(as.integer(start), length(msg))
  rows <- data.frame(class = class(cnd)[1], start = st, message = msg, stringsAsFactors = FALSE)
  for (tk in names(hm_event_logs$open)) {
    hm_event_logs$open[[tk]] <- rbind(hm_event_logs$open[[tk]], rows)
  }
  invisible()
}

# Records events in every open log without signalling a warning: for
# findings that describe a valid maximum rather than a problem (a
# probability or rate at the boundary of its domain is the maximum-likelihood
# estimate of a category or count never observed in a component, as in
# poLCA's fits). print() and summary() still list them.
events_note <- function(class, events) {
  events_record(structure(class = c(class, "condition"), list(message = "", call = NULL)), events = events)
}

# Attaches the log to a fit.
events_attach <- function(fit, token) {
  if (is.list(fit)) fit$warnings <- events_get(token)
  fit
}

# The "Warnings during fitting" block of print() and summary().
print_fit_warnings <- function(ev) {
  if (is.null(ev) || !NROW(ev)) return(invisible())
  cat(sprintf("Warnings during fitting (%d):\n", nrow(ev)))
  what <- sub("^harmonium_warning_", "", ev$class)
  msg <- gsub("\\s+", " ", ev$message)
  cat(paste0("  [", what, "] ", msg), sep = "\n")
  invisible()
}

# The classes of events that make a fit degenerate (select_k() marks such
# fits and prefers a healthy one).
# A concentration that ran off to infinity (a von Mises or gamma component on
# identical values) is a density spike that inflates the likelihood without
# bound, so it makes a fit degenerate; a probability floored at the boundary
# of a discrete family does not (the likelihood of discrete data is bounded,
# and latent class maxima often have such probabilities, as poLCA's do).
degenerate_events <- c("harmonium_warning_collapse", "harmonium_warning_heywood",
  "harmonium_warning_singular", "harmonium_warning_concentration")

# The smallest ratio of a Normal component's covariance eigenvalues (in the
# internally standardised units) below which the covariance counts as
# singular: its log-likelihood is then spurious (mclust reports NA there).
singular_rcond <- sqrt(.Machine$double.eps)

# Why a mixture's EM result at `theta` (internal coordinates) is degenerate
# though EM ended without a numerical failure, or "" when it is healthy: a
# Normal component with a component-specific full covariance on fewer than
# d + 1 effective observations (the sum of its responsibilities), or a
# Normal covariance whose eigenvalues span more than 1 / singular_rcond.
# The effective observations come from `eff` when given (mixture_eff() of
# the E-step's statistics), else from the posterior `post`.
mixture_health <- function(m, theta, post, w, eff = NULL) {
  if (!identical(m$kind, "mixture") || is.null(m$component)) return("")
  if (is.null(eff)) {
    if (!is.matrix(post)) return("")
    eff <- if (is.null(w)) colSums(post) else colSums(post * w)
  }
  fam <- m$component
  fb <- fam_blocks(fam)
  normal <- vapply(fb$blocks, function(b) identical(b$name, "normal"), logical(1))
  if (!any(normal)) return("")
  src <- tryCatch(model_to_src(m, theta), error = function(e) NULL)
  if (is.null(src) || length(src$components) != length(eff)) return("")
  for (j in seq_along(src$components)) {
    pj <- src$components[[j]]
    if (fam$name != "product") pj <- list(pj)
    for (b in which(normal)) {
      blk <- fb$blocks[[b]]
      S <- pj[[b]]$cov
      if (is.null(S)) next
      # Component-specific unrestricted covariances (VVV) need d + 1 points;
      # pooled or constrained structures are judged by their eigenvalues.
      st <- if (is.null(blk$structure)) blk$covariance else blk$structure
      full <- st %in% c("full", "VVV")
      if (full && blk$d > 1L && eff[j] < blk$d + 1) {
        return(sprintf("component %d has %.3g effective observations, fewer than d + 1 = %d", j, eff[j],
          blk$d + 1L))
      }
      ev <- eigen(as.matrix(S), symmetric = TRUE, only.values = TRUE)$values
      if (!all(is.finite(ev)) || max(ev) <= 0 || min(ev) / max(ev) < singular_rcond) {
        return(sprintf("component %d has a singular covariance (eigenvalue ratio %.3g)", j,
          if (all(is.finite(ev)) && max(ev) > 0) min(ev) / max(ev) else NA_real_))
      }
    }
  }
  ""
}

# The effective observations of each component of a mixture of a family
# (the weighted sums of the responsibilities) from an E-step's statistics
# vector: its latent block, the last k - 1 of the natural coordinates,
# holds the sums for components 2..k, and the total weight follows the
# log-likelihood. NULL for other models.
mixture_eff <- function(m, stats) {
  if (!identical(m$kind, "mixture") || !inherits(m, "mixture_model") || is.null(stats) ||
    length(stats) != m$dim + 2L || anyNA(stats)) {
    return(NULL)
  }
  k <- m$k
  r <- if (k > 1L) stats[m$dim - (k - 1L) + seq_len(k - 1L)] else numeric(0)
  c(stats[m$dim + 2L] - sum(r), r)
}

fit_is_degenerate <- function(fit) {
  ev <- fit$warnings
  st <- fit$status
  bad_status <- !is.null(st) && !st %in% c("ok", "continue", "converged", "max_iter", "given")
  bad_status || (!is.null(ev) && any(ev$class %in% degenerate_events & is.na(ev$start)))
}

# --- diagnostics after a fit ---------------------------------------------------------

# Bounds at which a parameter is reported as on its boundary: the M-step floors
# probabilities and rates at mixture_floor, and von Mises / gamma estimates
# from (nearly) identical values run to huge concentrations.
boundary_tol <- 1e-9
concentration_cap <- 1e6
# The default lower bound of uniquenesses (in units of each column's
# variance), stats::factanal()'s: a fit at it is a Heywood case.
heywood_bound <- 0.005

# Raises one classed warning per kind of degenerate estimate in a fit made by
# fit_lvm() (each recorded in the fit's event log): "boundary" for
# probabilities or rates floored at 0 (or 1), "concentration" for a von Mises
# or gamma concentration that ran off to infinity, "heywood" for factor
# models with a uniqueness at 0, "collapse" for a Normal component whose
# covariance is held only by the ridge.
diagnose_fit <- function(fit, xs, w) {
  m <- fit$model
  reg <- if (is.null(fit$control)) 0 else fit$control$reg
  if (identical(m$kind, "mixture")) {
    diagnose_components(fit$params$components, m$component, fit$scaler, reg, "component")
  } else if (identical(m$kind, "lgm")) {
    diagnose_lgm(fit)
  }
  invisible()
}

# An HMM's emissions as a mixture's components, and its states that are
# never visited (an expected occupancy below boundary_tol per observation).
diagnose_hmm <- function(fit) {
  m <- fit$model
  if (!is.null(m$mix$component) && is.list(fit$params$emission)) {
    reg <- if (is.null(fit$control)) 0 else fit$control$reg
    diagnose_components(unname(fit$params$emission), m$mix$component, fit$scaler, reg, "state")
  }
  post <- fit$posterior
  if (is.matrix(post) && nrow(post) > 0L) {
    occ <- colSums(post, na.rm = TRUE)
    empty <- which(occ < boundary_tol * nrow(post))
    if (length(empty)) {
      ev <- paste0("state ", empty, ": expected occupancy ", format(occ[empty], digits = 3), " of ",
        nrow(post), " observations")
      warn_hm(c("{length(empty)} state{?s} {?is/are} never visited:", stats::setNames(ev, rep("*", length(ev))),
        i = "Its emission parameters are not determined by the data; consider fewer states."),
        "empty_state", events = ev)
    }
  }
  invisible()
}

# `comps`: the source parameters of each component (or state) of family `fam`;
# `unit` names them in the messages.
diagnose_components <- function(comps, fam, sc, reg, unit) {
  fb <- fam_blocks(fam)
  cn <- family_colnames(fam)
  bnd <- character(0)
  conc <- character(0)
  coll <- character(0)
  for (j in seq_along(comps)) {
    pj <- comps[[j]]
    if (fam$name != "product") pj <- list(pj)
    for (b in seq_along(fb$blocks)) {
      blk <- fb$blocks[[b]]
      p <- pj[[b]]
      cols <- cn[fb$cols[[b]]]
      lab <- function(v) if (length(cols) > 1L || !identical(cols, "x")) paste0(" of ", paste(v, collapse = ", ")) else ""
      if (blk$name %in% c("categorical", "bernoulli", "binomial") && !is.null(p$prob)) {
        pr <- p$prob
        if (blk$name == "categorical") {
          lo <- pr <= boundary_tol
          if (any(lo)) {
            bnd <- c(bnd, paste0(unit, " ", j, ": level", if (sum(lo) > 1L) "s", " ",
              paste0("'", names(pr)[lo], "'", collapse = ", "), lab(cols),
              " never observed; probability floored at ", format(mixture_floor)))
          }
        } else {
          lo <- pr <= boundary_tol
          hi <- pr >= 1 - boundary_tol
          if (any(lo | hi)) {
            bnd <- c(bnd, paste0(unit, " ", j, ": probability at ", ifelse(lo, "0", "1")[lo | hi],
              lab(cols[lo | hi]), " (all values ", ifelse(lo, "0", "at the maximum")[lo | hi], ")"))
          }
        }
      }
      if (blk$name == "poisson" && !is.null(p$rate)) {
        lo <- p$rate <= boundary_tol
        if (any(lo)) {
          bnd <- c(bnd, paste0(unit, " ", j, ": rate at 0", lab(cols[lo]), " (all counts 0); floored at ",
            format(mixture_floor)))
        }
      }
      if (blk$name == "von_mises" && !is.null(p$kappa)) {
        hi <- !(p$kappa < concentration_cap)
        if (any(hi)) {
          conc <- c(conc, paste0(unit, " ", j, ": von Mises concentration ", format(p$kappa[hi], digits = 3),
            lab(cols[hi]), " (its angles are identical)"))
        }
      }
      if (blk$name == "gamma" && !is.null(p$shape)) {
        hi <- !(p$shape < concentration_cap)
        if (any(hi)) {
          conc <- c(conc, paste0(unit, " ", j, ": gamma shape ", format(p$shape[hi], digits = 3),
            lab(cols[hi]), " (its values are identical)"))
        }
      }
      if (blk$name == "normal" && !is.null(p$cov) && reg > 0) {
        s <- sc$scale[fb$cols[[b]]]
        ev <- eigen(p$cov / outer(s, s), symmetric = TRUE, only.values = TRUE)$values
        if (min(ev) <= 10 * reg) {
          coll <- c(coll, paste0(unit, " ", j, ": covariance held positive definite only by the ridge of ",
            format(reg), " (smallest eigenvalue ", format(min(ev), digits = 3), " in standardised units)"))
        }
      }
    }
  }
  if (length(bnd)) {
    # Bounded likelihoods (discrete data) have such maxima legitimately: a
    # note in the fit's log, not a warning.
    events_note("harmonium_warning_boundary", bnd)
  }
  if (length(conc)) {
    warn_hm(c("{length(conc)} concentration{?s} ran off to infinity:", stats::setNames(conc, rep("*", length(conc))),
      i = "A component sits on (nearly) identical values; its density there is a spike."),
      "concentration", events = conc)
  }
  if (length(coll)) {
    warn_hm(c("{length(coll)} {unit}{?s} collapsed onto a point or a subspace:",
      stats::setNames(coll, rep("*", length(coll)))), "collapse", events = coll)
  }
  invisible()
}

diagnose_lgm <- function(fit) {
  m <- fit$model
  p <- fit$params
  q <- m$q
  d <- m$p
  if (is.null(p$cov) || is.null(p$loadings) || !is.matrix(p$cov) || !isTRUE(m$gaussian_latent) ||
    !identical(m$obs$name, "normal") || m$obs$rep < 1L) {
    return(invisible())
  }
  if (m$obs$rep == 1L && (d - q)^2 < d + q) {
    ledermann <- floor((2 * d + 1 - sqrt(8 * d + 1)) / 2)
    warn_hm(c("{q} factor{?s} for {d} column{?s} exceed{?s/} the identifiable number ({ledermann}, the Ledermann bound).",
      i = "The loadings and uniquenesses are not identified; use fewer factors."), "unidentified")
  }
  lower <- lgm_lower(fit$control)
  # A uniqueness at the bound, or below factanal's default bound when the
  # bound is lower, is a Heywood case.
  thr <- max(lower, heywood_bound) * (1 + 1e-6)
  s <- fit$scaler$scale
  u <- diag(p$cov) / s^2
  cn <- rownames(p$cov)
  if (is.null(cn)) cn <- paste0("x", seq_len(d))
  low <- which(!(u > thr))
  if (length(low)) {
    ev <- paste0("column ", cn[low], ": uniqueness ", format(u[low], digits = 3))
    warn_hm(c("Heywood case: {length(low)} uniqueness{?es} at or below {max(lower, heywood_bound)} (in units of the column's variance):",
      stats::setNames(ev, rep("*", length(ev))),
      i = "The bound is {.fn lvm_control}'s {.arg lower} = {lower} ({.fn stats::factanal}'s default is 0.005).",
      i = "Such a column is (nearly) an exact linear function of the factors; consider dropping it or using fewer factors."),
      "heywood", events = ev)
  }
  invisible()
}
