# Progress of a fit: one cli progress bar over its starts and EM iterations
# (style.md 3.5: the glue runs EM in bursts and R reports in between; the
# engine never calls back). fit_lvm() opens the bar; each EM driver (run_em(),
# run_hmm_em(), lds_run_em()) calls progress_start() when a start begins and
# progress_tick() between bursts. The bar shows the start number, the
# iteration, the log-likelihood and its change over the last iteration.
#
# It is silent unless lvm_control(trace = TRUE) (shown at once, and left on
# screen at the end) or the fit takes longer than cli's `show_after` delay
# (the option `cli.progress_show_after`, 2 seconds by default; cleared at
# the end). Knitting a document shows it only with trace = TRUE. Progress
# never changes what EM computes: bursts continue exactly where the last
# stopped (tests/testthat/test-progress.R).

hm_progress <- new.env(parent = emptyenv())
hm_progress$stack <- list()

# Opens the bar of a fit with `n_starts` starts; `what` names the algorithm
# ("EM", "Baum-Welch"). Returns a token for progress_close().
progress_open <- function(control, n_starts = control$n_init, what = "EM") {
  trace <- isTRUE(control$trace)
  # The bar's format is evaluated here, so it sees the package's functions.
  p <- new.env(parent = topenv())
  p$what <- what
  p$n <- as.integer(n_starts)
  p$start <- 0L
  p$it <- 0L
  p$ll <- NA_real_
  p$change <- NA_real_
  p$id <- NULL
  p$trace <- trace
  p$t0 <- Sys.time()
  quiet <- !trace && isTRUE(getOption("knitr.in.progress"))
  if (!quiet) {
    op <- if (trace) options(cli.progress_show_after = 0) else NULL
    on.exit(if (!is.null(op)) options(op), add = TRUE)
    p$id <- cli::cli_progress_bar(
      total = NA, clear = !trace, .auto_close = FALSE, .envir = p,
      format = paste0("{cli::pb_spin} {what} start {start}/{n} | iter {it} | ",
        "logLik {format_ll(ll)} | change {format_change(change)}"),
      format_done = "{what}: {n} start(s) done in {cli::pb_elapsed}"
    )
  }
  hm_progress$stack <- c(hm_progress$stack, list(p))
  p
}

progress_close <- function(p) {
  if (is.null(p)) return(invisible())
  if (!is.null(p$id)) {
    if (p$trace && p$it > 0L) progress_show(p, force = TRUE)
    tryCatch(cli::cli_progress_done(id = p$id, .envir = p), error = function(e) NULL)
    p$id <- NULL
  }
  keep <- !vapply(hm_progress$stack, identical, logical(1), p)
  hm_progress$stack <- hm_progress$stack[keep]
  invisible()
}

# The bar of the innermost open fit, or NULL (a driver called outside
# fit_lvm(), e.g. by a test).
progress_current <- function() {
  k <- length(hm_progress$stack)
  if (k) hm_progress$stack[[k]] else NULL
}

# A new start begins (the count wraps when a driver refits all its starts,
# e.g. with a ridge).
progress_start <- function() {
  p <- progress_current()
  if (is.null(p)) return(invisible())
  # With trace on, the last start's final state is shown before the next.
  if (p$trace && p$it > 0L) progress_show(p, force = TRUE)
  p$start <- if (p$start >= p$n) 1L else p$start + 1L
  p$it <- 0L
  p$ll <- NA_real_
  p$change <- NA_real_
  # With trace on, each start is shown at once (cli otherwise draws only when
  # its timer has ticked, which a quick start may never see), and so is its
  # final state.
  progress_show(p, force = p$trace)
}

# The driver's trace so far in this start.
progress_tick <- function(trace) {
  p <- progress_current()
  if (is.null(p) || !length(trace)) return(invisible())
  k <- length(trace)
  p$it <- k
  p$ll <- trace[k]
  p$change <- if (k > 1L) trace[k] - trace[k - 1L] else NA_real_
  progress_show(p)
}

progress_show <- function(p, force = FALSE) {
  if (!is.null(p$id)) cli::cli_progress_update(id = p$id, set = p$it, force = force, .envir = p)
  invisible()
}

# Whether a driver should run short bursts: always when a bar may show, so
# that it updates while EM runs.
progress_active <- function() {
  p <- progress_current()
  !is.null(p) && !is.null(p$id)
}

# The next burst length: `burst` doubled while a burst takes under 0.1 s (so
# a fast fit makes few calls), at most `left`; 10 iterations at first.
progress_burst <- function(burst, elapsed, left) {
  if (is.null(burst)) return(min(10L, left))
  if (elapsed < 0.1) burst <- 2L * burst
  as.integer(min(burst, left, 1e6))
}

format_ll <- function(ll) if (is.na(ll)) "-" else format(ll, digits = 10)

format_change <- function(change) if (is.na(change)) "-" else format(change, digits = 3)
