# Fuzz harness (issue 9). A case is a call to evaluate in a child R session
# with the package attached and a few fixtures (see fuzz_setup); the child
# runs the cases one by one, so a crash (segfault, abort, sanitizer report)
# or a hang is seen as such instead of taking the test run with it. After a
# crash or a hang the child is replaced and the run goes on.
#
# A case is list(name = "<fn>: <what>", expr = <call>), optionally with
# `expect = "ok"` for inputs that must be accepted. fuzz_run() returns one row
# per case with its outcome:
#   ok               the call returned
#   harmonium_error  a classed harmonium_error (its class and message kept)
#   other_error      any other R error: a defect (an internal error leaked)
#   crash            the child died
#   hang             the call exceeded `timeout` seconds

# Fixtures every case may use; kept small so a case is cheap.
fuzz_setup <- function() {
  suppressPackageStartupMessages(library(harmonium))
  set.seed(1)
  assign("X", cbind(a = rnorm(40), b = rnorm(40), c = rnorm(40)), envir = globalenv())
  assign("XC", matrix(rpois(60, 3), 20, 3), envir = globalenv())
  assign("DF", data.frame(x = rnorm(30), g = factor(sample(letters[1:3], 30, TRUE))), envir = globalenv())
  invisible(NULL)
}

# Evaluated in the child: one case, caught. Warnings are muffled (recorded
# by class) so they do not abort the call.
fuzz_eval_case <- function(expr) {
  warn <- character()
  res <- tryCatch(
    withCallingHandlers(
      {
        eval(expr, globalenv())
        list(outcome = "ok", class = "", message = "")
      },
      warning = function(w) {
        warn <<- c(warn, class(w)[1])
        invokeRestart("muffleWarning")
      }
    ),
    harmonium_error = function(e) {
      list(outcome = "harmonium_error", class = class(e)[1], message = conditionMessage(e))
    },
    error = function(e) {
      list(outcome = "other_error", class = class(e)[1], message = conditionMessage(e))
    }
  )
  res$warnings <- paste(unique(warn), collapse = ",")
  res
}

# Evaluated in the child: several cases in one round trip, each timed.
fuzz_eval_batch <- function(exprs) {
  lapply(exprs, function(e) {
    t0 <- proc.time()[["elapsed"]]
    r <- fuzz_eval_case(e)
    r$seconds <- proc.time()[["elapsed"]] - t0
    r
  })
}

fuzz_new_session <- function(env = character()) {
  rs <- callr::r_session$new(
    options = callr::r_session_options(env = env),
    wait = TRUE
  )
  rs$run(fuzz_setup)
  rs$run(function(f, g) {
    assign("fuzz_eval_case", f, envir = globalenv())
    assign("fuzz_eval_batch", g, envir = globalenv())
  }, list(fuzz_eval_case, fuzz_eval_batch))
  rs
}

# One round trip: the child's result, or list(outcome = "hang" / "crash").
fuzz_call_child <- function(rs, fun, arg, timeout) {
  rs$call(fun, list(arg))
  state <- rs$poll_process(as.integer(timeout * 1000))
  if (state == "timeout") {
    return(list(outcome = "hang", class = "", message = sprintf("over %g s", timeout), warnings = ""))
  }
  msg <- tryCatch(rs$read(), error = function(e) list(code = 500L, error = e))
  if (is.null(msg) || !identical(msg$code, 200L) || !is.null(msg$error)) {
    stderr <- tryCatch(paste(rs$read_error_lines(), collapse = "\n"), error = function(e) "")
    return(list(outcome = "crash", class = "", message = substr(stderr, 1, 2000), warnings = ""))
  }
  list(outcome = "done", result = msg$result)
}

fuzz_row <- function(cs, res) {
  data.frame(
    name = cs$name, outcome = res$outcome, class = res$class, message = res$message,
    warnings = res$warnings, seconds = res$seconds,
    expect = if (is.null(cs$expect)) "reject_or_ok" else cs$expect,
    stringsAsFactors = FALSE
  )
}

# Runs `cases` (a list of list(name, expr[, expect])) and returns a data
# frame name, outcome, class, message, warnings, seconds, expect. Cases go
# to the child `batch` at a time (one round trip each, which costs far more
# than a typical case); a batch that crashes or exceeds `timeout` is run
# again case by case in a fresh child, so each crash or hang is still
# pinned on its case.
fuzz_run <- function(cases, timeout = 30, env = character(), batch = 1L) {
  # Code under AddressSanitizer runs several times slower.
  if (identical(Sys.getenv("HARMONIUM_SANITIZER"), "true")) timeout <- 4 * timeout
  rs <- fuzz_new_session(env)
  on.exit(try(rs$kill(), silent = TRUE), add = TRUE)
  renew <- function() {
    try(rs$kill(), silent = TRUE)
    rs <<- fuzz_new_session(env)
  }
  rows <- vector("list", length(cases))
  starts <- seq(1L, length(cases), by = max(1L, as.integer(batch)))
  for (b in seq_along(starts)) {
    idx <- starts[b]:min(length(cases), starts[b] + max(1L, as.integer(batch)) - 1L)
    if (length(idx) > 1L) {
      r <- fuzz_call_child(rs, function(e) fuzz_eval_batch(e), lapply(cases[idx], `[[`, "expr"), timeout)
      if (r$outcome == "done") {
        for (k in seq_along(idx)) rows[[idx[k]]] <- fuzz_row(cases[[idx[k]]], r$result[[k]])
        next
      }
      renew()
    }
    for (i in idx) {
      t0 <- proc.time()[["elapsed"]]
      r <- fuzz_call_child(rs, function(e) fuzz_eval_case(e), cases[[i]]$expr, timeout)
      res <- if (r$outcome == "done") r$result else r
      res$seconds <- proc.time()[["elapsed"]] - t0
      if (res$outcome %in% c("hang", "crash")) renew()
      rows[[i]] <- fuzz_row(cases[[i]], res)
    }
  }
  do.call(rbind, rows)
}

# The defects in a fuzz_run() result: crashes, hangs, unclassed errors, and
# cases marked expect = "ok" that did not return.
fuzz_defects <- function(res) {
  bad <- res$outcome %in% c("crash", "hang", "other_error") |
    (res$expect == "ok" & res$outcome != "ok")
  res[bad, , drop = FALSE]
}

# A readable report of defects, for test failure messages.
fuzz_report <- function(def) {
  if (nrow(def) == 0L) {
    return("no defects")
  }
  paste(sprintf("%s -> %s [%s] %s", def$name, def$outcome, def$class, substr(def$message, 1, 300)),
    collapse = "\n")
}

# Malformed values for one argument slot: the generic ones of issue 9
# (NULL, NA, NaN, Inf, wrong types and lengths, lists where vectors belong,
# huge sizes), as quoted expressions so they are built in the child.
fuzz_bad_values <- function() {
  list(
    `NULL` = quote(NULL),
    `NA` = quote(NA),
    NA_real = quote(NA_real_),
    `NaN` = quote(NaN),
    `Inf` = quote(Inf),
    `-Inf` = quote(-Inf),
    negative = quote(-1L),
    zero = quote(0L),
    huge = quote(.Machine$integer.max),
    huge_double = quote(1e300),
    fraction = quote(2.5),
    string = quote("a"),
    logical = quote(TRUE),
    empty_num = quote(numeric(0)),
    empty_chr = quote(character(0)),
    long_vec = quote(1:5),
    list = quote(list(1, "a")),
    function_ = quote(function(x) x),
    env = quote(new.env()),
    complex = quote(1i),
    factor = quote(factor("a"))
  )
}

# Cases substituting each bad value into argument `arg` of `call` (a quoted
# call with a valid value in that slot).
fuzz_substitute <- function(name, call, arg, values = fuzz_bad_values()) {
  lapply(names(values), function(v) {
    cl <- call
    cl[arg] <- list(values[[v]])
    list(name = sprintf("%s: %s = %s", name, arg, v), expr = cl)
  })
}
