# Classed conditions. Every error the package raises on purpose has class
# c("harmonium_error_<what>", "harmonium_error", "rlang_error", ...), names
# the argument at fault and says how to fix it.

abort_hm <- function(message, what, call = rlang::caller_env(), ..., .envir = parent.frame()) {
  cli::cli_abort(message,
    class = c(paste0("harmonium_error_", what), "harmonium_error"),
    call = call, ..., .envir = .envir
  )
}

# While a fit driver runs, the warning is also recorded in the fit's event log
# (R/fit-events.R): one row per element of `events` (with the `start` each
# concerns) when given, else one row with the whole message.
warn_hm <- function(message, what, ..., events = NULL, start = NULL, .envir = parent.frame()) {
  cnd <- tryCatch(
    cli::cli_warn(message,
      class = c(paste0("harmonium_warning_", what), "harmonium_warning"),
      ..., .envir = .envir
    ),
    warning = function(w) w
  )
  events_record(cnd, events, start)
  warning(cnd)
}

# Engine status codes (src/engine/hm_status.h).
hm_status_names <- c(
  "ok", "continue", "domain", "not_pd", "no_memory", "max_iter",
  "no_progress", "overflow", "invalid", "interrupted"
)

status_message <- function(status) {
  switch(hm_status_names[status + 1L],
    domain = "a parameter or datum is outside the family's domain",
    not_pd = "a covariance or precision matrix is not positive definite",
    no_memory = "the engine ran out of workspace",
    max_iter = "a numerical inverse did not converge",
    no_progress = "a component received no weight",
    overflow = "a size exceeds what the engine can index",
    invalid = "the engine was handed a malformed descriptor",
    interrupted = "the computation was interrupted",
    "unknown failure"
  )
}

# Raises the classed condition for a failed engine call; `what` says what was
# being computed, for the message.
stop_status <- function(res, what, call = rlang::caller_env()) {
  st <- res$status
  if (is.null(st) || st == 0L) {
    return(invisible(res))
  }
  abort_hm(c("Could not compute {what}.", x = "{status_message(st)}."),
    paste0("engine_", hm_status_names[st + 1L]),
    call = call
  )
}
