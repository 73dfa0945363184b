# User-facing validation (style.md 3.4, tier 1). Each check names the
# argument, says what was expected and how to fix it, and raises a classed
# harmonium_error before any C work.

check_count <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env(), min = 1L,
                        max = .Machine$integer.max) {
  if (missing(x)) abort_missing(arg, call)
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x != round(x) || x < min || x > max) {
    range <- if (max < .Machine$integer.max) paste0("between ", min, " and ", max) else paste0("at least ", min)
    got <- if (is.numeric(x) && length(x) == 1L) format(x) else rlang::as_label(x)
    abort_hm("{.arg {arg}} must be a whole number {range}, not {got}.", "argument", call = call)
  }
  as.integer(x)
}

check_number <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env(), min = -Inf,
                         max = Inf, allow_null = FALSE) {
  if (missing(x)) abort_missing(arg, call)
  if (allow_null && is.null(x)) {
    return(NULL)
  }
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x < min || x > max) {
    abort_hm("{.arg {arg}} must be a single number in [{min}, {max}], not {.obj_type_friendly {x}}.",
      "argument", call = call)
  }
  as.double(x)
}

# A required argument the caller was not given, named as the user knows it
# (not as the check that found it).
abort_missing <- function(arg, call) {
  fn <- tryCatch(rlang::call_name(rlang::frame_call(call)), error = function(e) NULL)
  abort_hm(if (is.null(fn)) "{.arg {arg}} is missing, with no default." else
    c("{.arg {arg}} is missing, with no default.", i = "See {.code ?{fn}} for what {.fn {fn}} needs."),
    "argument_missing", call = call)
}

check_flag <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort_hm("{.arg {arg}} must be {.code TRUE} or {.code FALSE}.", "argument", call = call)
  }
  x
}

check_numeric_vector <- function(x, len = NULL, arg = rlang::caller_arg(x), call = rlang::caller_env(),
                                 positive = FALSE, finite = TRUE) {
  if (!is.numeric(x) || (!is.null(len) && length(x) != len)) {
    want <- if (is.null(len)) "a numeric vector" else paste("a numeric vector of length", len)
    abort_hm("{.arg {arg}} must be {want}, not {.obj_type_friendly {x}} of length {length(x)}.",
      "argument", call = call)
  }
  if (anyNA(x) || (finite && any(!is.finite(x)))) {
    abort_hm("{.arg {arg}} must contain only finite values.", "argument", call = call)
  }
  if (positive && any(x <= 0)) {
    abort_hm("{.arg {arg}} must be positive.", "argument", call = call)
  }
  as.double(x)
}

check_prob_vector <- function(x, len = NULL, arg = rlang::caller_arg(x), call = rlang::caller_env(),
                              simplex = FALSE) {
  x <- check_numeric_vector(x, len, arg = arg, call = call)
  if (any(x < 0 | x > 1)) {
    abort_hm("{.arg {arg}} must hold probabilities in [0, 1].", "argument", call = call)
  }
  if (simplex && abs(sum(x) - 1) > 1e-8) {
    abort_hm("{.arg {arg}} must sum to 1 (it sums to {format(sum(x), digits = 6)}).", "argument",
      call = call)
  }
  x
}

check_matrix <- function(x, nrow, ncol, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!is.numeric(x) || length(x) != nrow * ncol) {
    abort_hm("{.arg {arg}} must be a numeric {nrow} x {ncol} matrix.", "argument", call = call)
  }
  x <- matrix(as.double(x), nrow, ncol)
  if (any(!is.finite(x))) {
    abort_hm("{.arg {arg}} must contain only finite values.", "argument", call = call)
  }
  x
}

check_family <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (missing(x)) abort_missing(arg, call)
  if (!inherits(x, "ef_family")) {
    abort_hm("{.arg {arg}} must be an exponential family such as {.code ef_normal(2)}, not {.obj_type_friendly {x}}.",
      "argument", call = call)
  }
  x
}

check_model <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (missing(x)) abort_missing(arg, call)
  if (!inherits(x, "lvm_model")) {
    abort_hm("{.arg {arg}} must be a model such as {.code mixture(ef_normal(2), 3)}, not {.obj_type_friendly {x}}.",
      "argument", call = call)
  }
  x
}

check_params_list <- function(x, names, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!is.list(x) || !all(names %in% names(x))) {
    abort_hm(c("{.arg {arg}} must be a list with element{?s} {.field {names}}.",
      i = "See {.help harmonium::ef_family} for each family's source parameters."),
      "params", call = call)
  }
  x
}

check_choice <- function(x, choices, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (identical(x, choices)) {
    return(choices[[1]])
  }
  if (!is.character(x) || length(x) != 1L || is.na(x) || !(x %in% choices)) {
    abort_hm("{.arg {arg}} must be one of {.or {.val {choices}}}.", "argument", call = call)
  }
  x
}

# A random seed: NULL or one finite number (what set.seed() accepts).
check_seed <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (is.null(x)) {
    return(NULL)
  }
  if (!is.numeric(x) || length(x) != 1L || !is.finite(x) || abs(x) > .Machine$integer.max) {
    abort_hm("{.arg {arg}} must be {.code NULL} or a single whole number, not {.obj_type_friendly {x}}.",
      "argument", call = call)
  }
  x
}

# A non-empty vector of whole numbers in [min, max] (a grid such as 1:9).
check_counts <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env(), min = 1L, max = 10000L) {
  if (!is.numeric(x) || length(x) < 1L || anyNA(x) || any(!is.finite(x)) || any(x != round(x)) ||
    any(x < min) || any(x > max)) {
    abort_hm("{.arg {arg}} must be whole numbers between {min} and {max}.", "argument", call = call)
  }
  as.integer(x)
}

# The number of draws of a sampler producing `width` values per draw, capped
# so that the result can be allocated and indexed (1e9 values, 8 GB).
check_draws <- function(x, width = 1L, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  cap <- max(1, floor(1e9 / max(1, width)))
  check_count(x, arg = arg, call = call, min = 0L, max = min(.Machine$integer.max, cap))
}

# A confidence level in (0, 1).
check_level <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x <= 0 || x >= 1) {
    abort_hm("{.arg {arg}} must be a single number strictly between 0 and 1, not {.obj_type_friendly {x}}.",
      "argument", call = call)
  }
  as.double(x)
}

# --- unknown arguments in `...` ----------------------------------------------

# Rejects every argument in the caller's `...` (a function whose `...` exists
# only for S3 consistency or for a calling form): a classed error
# (harmonium_error_unknown_argument) naming the argument and the function,
# suggesting the closest valid name (utils::adist). `valid` are the names the
# user could have meant (by default the caller's formals); `control = TRUE`
# also looks among lvm_control()'s arguments, and suggests
# `control = lvm_control(<name> = <value>)` for them. Call it as
# `check_dots(...)` at the top of the function.
check_dots <- function(..., fn = NULL, valid = NULL, control = FALSE, call = rlang::caller_env()) {
  if (...length() == 0L) {
    return(invisible())
  }
  parent <- sys.parent()
  if (is.null(valid)) valid <- setdiff(names(formals(sys.function(parent))), "...")
  if (is.null(fn) && is.environment(call)) {
    # An S3 method is named by its generic, as the user called it.
    fn <- get0(".Generic", envir = call, inherits = FALSE)
  }
  if (is.null(fn)) {
    fn <- tryCatch(rlang::call_name(sys.call(parent)), error = function(e) NULL)
    if (is.null(fn)) fn <- "this function"
  }
  exprs <- rlang::enexprs(...)
  nms <- names(exprs)
  if (is.null(nms)) nms <- rep("", length(exprs))
  ctrl_names <- if (control) setdiff(names(formals(lvm_control)), "...") else character(0)
  i <- 1L
  nm <- nms[i]
  value <- paste(deparse(exprs[[i]], width.cutoff = 60L)[1], collapse = "")
  if (!nzchar(nm)) {
    abort_hm(c("{.fn {fn}} got an unnamed extra argument {.code {value}}.",
      i = "Name every argument after the first ones; see {.code ?{fn}}."),
      "unknown_argument", call = call)
  }
  sugg <- suggest_argument(nm, valid, ctrl_names, value)
  hint <- if (is.null(sugg)) {
    character(0)
  } else if (identical(sugg$exact, TRUE)) {
    c(i = "{.arg {nm}} is a setting of {.fn lvm_control}: use {.code {sugg$text}}.")
  } else {
    c(i = "Did you mean {.code {sugg$text}}?")
  }
  abort_hm(c("{.arg {nm}} is not an argument of {.fn {fn}}.", hint), "unknown_argument", call = call)
}

# The suggestion of check_dots(): the closest of `valid` (or of
# lvm_control()'s `ctrl_names`, written as a control = lvm_control() call)
# by edit distance ignoring case, dots and underscores, or by prefix; NULL
# when nothing is close. `exact` says that `nm` is itself a control setting.
suggest_argument <- function(nm, valid, ctrl_names, value) {
  cand <- c(valid, ctrl_names)
  if (!length(cand)) return(NULL)
  is_ctrl <- c(rep(FALSE, length(valid)), rep(TRUE, length(ctrl_names)))
  norm <- function(s) gsub("[._]", "", tolower(s))
  d <- as.vector(utils::adist(norm(nm), norm(cand)))
  pre <- startsWith(norm(cand), norm(nm)) | startsWith(norm(nm), norm(cand))
  d[pre & nchar(norm(nm)) >= 2L] <- pmin(d[pre & nchar(norm(nm)) >= 2L], 1)
  d[cand == nm] <- 0
  best <- which.min(d)
  if (d[best] > max(2, nchar(nm) %/% 3)) return(NULL)
  if (is_ctrl[best]) {
    list(text = paste0("control = lvm_control(", cand[best], " = ", value, ")"), exact = cand[best] == nm)
  } else {
    list(text = paste0(cand[best], " = ", value), exact = FALSE)
  }
}

# The advice when data have the wrong number of columns: new data for a fit
# (`arg` "newdata") need the fitted columns (`cols`, when known); data to fit
# are selected with a formula (`group`: with a grouping term, for sequences).
columns_hint <- function(arg, cols = NULL, group = FALSE) {
  if (identical(arg, "newdata")) {
    if (is.null(cols)) {
      return("Give {.arg newdata} the columns the model was fitted to, in that order.")
    }
    txt <- cli::format_inline("Give {.arg newdata} the column{?s} the model was fitted to: {.val {cols}}.")
    return(gsub("([{}])", "\\1\\1", txt))
  }
  if (group) {
    "Select the columns with a formula, e.g. {.code fit_lvm(~ a + b | id, data, model)}."
  } else {
    "Select the columns with a formula, e.g. {.code fit_lvm(~ a + b, data, model)}."
  }
}
