# Shared by bench/bench-mixture.R, bench/bench-default-fits.R and
# bench/bench-lca.R: the machine header, timers, the python with
# scikit-learn, and markdown output. Sourced, not run.
#
# Environment:
#   HARMONIUM_BENCH_REPS    repetitions per timing (median reported)
#   HARMONIUM_BENCH_QUICK=1 a fast subset of each script's workloads
#   HARMONIUM_BENCH_BUDGET  seconds one peer's timing may take before its
#                           repetitions stop (at least one run is made; 20)
#   HARMONIUM_BENCH_PYTHON  the python to use (default: the first of python3
#                           and /usr/bin/python3 that imports sklearn)
#   HARMONIUM_BENCH_OUT     directory for the results-*.md files (bench/)

bench_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
})
bench_quick <- identical(Sys.getenv("HARMONIUM_BENCH_QUICK"), "1")
bench_budget <- as.numeric(Sys.getenv("HARMONIUM_BENCH_BUDGET", "20"))
bench_out_dir <- Sys.getenv("HARMONIUM_BENCH_OUT", bench_dir)
bench_threads <- harmonium:::resolve_threads(NULL)

# --- timing ---------------------------------------------------------------------

# Runs f() up to `reps` times (stopping early once `budget` seconds have been
# spent, after at least one run) and returns list(seconds = median elapsed
# time of one call, runs = how many, value = the last value).
bench_time <- function(f, reps, budget = bench_budget) {
  t <- numeric()
  spent <- 0
  repeat {
    invisible(gc(verbose = FALSE))
    tm <- system.time(v <- f())[["elapsed"]]
    t <- c(t, tm)
    spent <- spent + tm
    if (length(t) >= reps || spent + tm > budget) break
  }
  list(seconds = stats::median(t), runs = length(t), value = v)
}

# --- python with scikit-learn -------------------------------------------------

bench_python <- local({
  cand <- Sys.getenv("HARMONIUM_BENCH_PYTHON")
  cand <- if (nzchar(cand)) cand else unique(c(Sys.which("python3"), "/usr/bin/python3"))
  ok <- vapply(cand, function(p) {
    nzchar(p) && file.exists(p) &&
      suppressWarnings(system2(p, c("-c", shQuote("import sklearn")), stdout = FALSE, stderr = FALSE)) == 0
  }, logical(1))
  if (any(ok)) cand[ok][1] else ""
})

bench_py_versions <- function() {
  if (!nzchar(bench_python)) return("scikit-learn not installed")
  code <- paste("import sklearn, numpy, sys",
    "print('scikit-learn %s, numpy %s, Python %s' % (sklearn.__version__, numpy.__version__, sys.version.split()[0]))",
    sep = "; ")
  paste(system2(bench_python, c("-c", shQuote(code)), stdout = TRUE), collapse = " ")
}

# --- the machine ----------------------------------------------------------------

bench_cpu <- function() {
  ci <- tryCatch(readLines("/proc/cpuinfo"), error = function(e) character())
  field <- function(name) {
    v <- grep(paste0("^", name, "\\s*:"), ci, value = TRUE)
    if (length(v)) trimws(sub("^[^:]*:", "", v[1])) else NA_character_
  }
  flags <- strsplit(field("flags"), " ")[[1]]
  simd <- intersect(c("avx2", "fma", "avx512f"), flags)
  sprintf("%s (family %s, model %s, %s MHz; %s)", field("model name"), field("cpu family"), field("model"),
    round(as.numeric(field("cpu MHz"))), paste(simd, collapse = ", "))
}

bench_cflags <- function() {
  r <- file.path(R.home("bin"), "R")
  paste(suppressWarnings(system2(r, c("CMD", "config", "CFLAGS"), stdout = TRUE, stderr = FALSE)), collapse = " ")
}

# The header lines (markdown list items), also printed.
bench_header <- function(extra = character()) {
  lib <- dirname(system.file(package = "harmonium"))
  si <- utils::sessionInfo()
  git <- suppressWarnings(tryCatch(system2("git", c("-C", shQuote(bench_dir), "rev-parse", "--short", "HEAD"),
    stdout = TRUE, stderr = FALSE), error = function(e) character()))
  lines <- c(
    sprintf("date: %s UTC", format(Sys.time(), "%Y-%m-%d %H:%M", tz = "UTC")),
    sprintf("CPU: %s", bench_cpu()),
    sprintf("cores: %d (parallel::detectCores()), harmonium threads: %d", parallel::detectCores(), bench_threads),
    sprintf("R: %s; BLAS: %s%s", R.version.string, si$BLAS, {
      sys <- Sys.readlink("/usr/lib/x86_64-linux-gnu/libblas.so.3")
      if (nzchar(sys)) sprintf(" (the system's libblas.so.3, which NumPy links: %s)",
        normalizePath("/usr/lib/x86_64-linux-gnu/libblas.so.3")) else ""
    }),
    sprintf("CFLAGS (R CMD config): %s", bench_cflags()),
    sprintf("harmonium %s (%s%s), mclust %s", utils::packageVersion("harmonium"), lib,
      if (length(git) && nzchar(git[1])) paste0("; bench/ at commit ", git[1]) else "",
      if (requireNamespace("mclust", quietly = TRUE)) as.character(utils::packageVersion("mclust")) else "not installed"),
    sprintf("Python: %s (%s)", bench_py_versions(), if (nzchar(bench_python)) bench_python else "-"),
    sprintf("OpenMP environment: %s", {
      ev <- Sys.getenv(c("OMP_WAIT_POLICY", "OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "GOMP_SPINCOUNT"), NA)
      if (all(is.na(ev))) "none set" else paste(names(ev)[!is.na(ev)], ev[!is.na(ev)], sep = "=", collapse = ", ")
    }),
    sprintf("load average at start: %s", tryCatch(paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3],
      collapse = " "), error = function(e) "?")),
    extra
  )
  cat(paste0("# ", lines), sep = "\n")
  cat("\n")
  paste0("* ", lines)
}

# --- Gaussian data and a start ---------------------------------------------------

# Overlapping clusters (so that 20 iterations do not reach an exact fixed
# point, where mclust's me() would stop: the mean spread shrinks as 1 / sqrt(d)
# to keep the distances between means alike across d) with unequal scales and
# correlations.
make_data <- function(n, d, k, seed) {
  set.seed(seed)
  means <- matrix(rnorm(k * d, sd = 3.4 / sqrt(d)), k, d)
  z <- sample.int(k, n, replace = TRUE)
  mix <- matrix(rnorm(d * d, sd = 0.3), d, d) + diag(d)
  x <- means[z, ] + (matrix(rnorm(n * d), n, d) %*% mix) * rep(runif(d, 0.5, 1.5), each = n)
  list(x = x, z = z)
}

# Source parameters: the M-step (plain R) of a labelling 80% correct, so the
# 20 iterations have something to do.
start_params <- function(x, z, k, covariance) {
  set.seed(1)
  flip <- runif(length(z)) < 0.2
  z[flip] <- sample.int(k, sum(flip), replace = TRUE)
  comps <- lapply(seq_len(k), function(j) {
    xj <- x[z == j, , drop = FALSE]
    mu <- colMeans(xj)
    s <- crossprod(sweep(xj, 2, mu)) / nrow(xj)
    if (covariance == "diagonal") s <- diag(diag(s))
    list(mean = mu, cov = s)
  })
  list(weights = tabulate(z, k) / length(z), components = comps)
}

# --- output ---------------------------------------------------------------------

# A data frame as a markdown table, numbers through bench_num().
bench_md_table <- function(df) {
  cells <- lapply(df, function(col) {
    if (is.integer(col)) as.character(col) else if (is.numeric(col)) bench_num(col) else as.character(col)
  })
  right <- vapply(df, is.numeric, logical(1))
  c(paste0("| ", paste(names(df), collapse = " | "), " |"),
    paste0("|", paste(ifelse(right, "---:", "---"), collapse = "|"), "|"),
    paste0("| ", do.call(paste, c(unname(cells), sep = " | ")), " |"))
}

# Three significant digits below 1000, one decimal from 1000 on (so that
# log-likelihoods keep their digits), scientific below 0.001 (not for 0);
# NA as "-".
bench_num <- function(x) {
  out <- formatC(signif(x, 3), format = "fg", digits = 3, big.mark = "")
  big <- !is.na(x) & abs(x) >= 1000
  out[big] <- sprintf("%.1f", x[big])
  sci <- !is.na(x) & x != 0 & abs(x) < 1e-3
  out[sci] <- formatC(x[sci], format = "e", digits = 1)
  out[is.na(x)] <- "-"
  trimws(out)
}

bench_write <- function(file, title, header, sections) {
  path <- file.path(bench_out_dir, file)
  writeLines(c(paste("##", title), "", header, "", unlist(sections)), path)
  cat(sprintf("\nwritten: %s\n", path))
}
