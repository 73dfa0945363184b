# Chunked EM (issue 12): a Gaussian mixture (K = 8, full covariance) on
# 1e7 x 8 rows held in Parquet files, fitted by fit_lvm(model,
# lvm_chunks(files)) with each file read and reduced to statistics by one of
# two multisession workers, against fit_lvm() on the same rows as one
# matrix in memory. Both start from the same given parameters and run
# lvm_control(maxit = it, tol = 0) for it = 1 and it = 6, so one EM pass
# costs (time(6) - time(1)) / 5 and the fixed cost (reading the layout, the
# data pass, the fit object) drops out. The chunked fit runs twice: with the
# package's default threads in each worker, and with the cores shared out
# among the workers (threads = cores %/% workers).
#
#   Rscript bench/bench-chunked.R                                  # 1e7 rows
#   HARMONIUM_BENCH_ROWS=1e6 Rscript bench/bench-chunked.R         # quick
#   HARMONIUM_BENCH_QUICK=1 Rscript bench/bench-chunked.R          # 1e6 rows
#
# Further settings:
#   HARMONIUM_BENCH_FILES    Parquet files the rows are cut into (20)
#   HARMONIUM_BENCH_WORKERS  multisession workers (2)
#   HARMONIUM_BENCH_REPS     runs of each timing, the fastest reported (3)
#   (and those of bench-common.R)
#
# Run from the package root with the package installed (it measures the
# installed harmonium; nanoparquet, future, callr and ps are needed). The
# rows are generated and written file by file, so this script never holds
# more than one file of them. Each fit runs in its own callr child process
# while this one samples, every 50 ms, the resident set size (ps) of that
# child and of its future workers; the kernel's own peak (VmHWM in
# /proc/<pid>/status) is read alongside as a check on the sampling. The
# in-memory fit runs in a separate child that reads the files into one
# matrix. Writes bench/results-chunked.md; bench/update-readme.R copies it
# into README.md. At 1e7 rows this takes about 10 minutes on 2 cores.
suppressPackageStartupMessages(library(harmonium))
local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  source(file.path(if (length(f)) dirname(f[1]) else "bench", "bench-common.R"))
}, envir = globalenv())
for (p in c("nanoparquet", "future", "callr", "ps")) {
  if (!requireNamespace(p, quietly = TRUE)) stop(sprintf("bench-chunked.R needs the package %s", p))
}

n_rows <- as.numeric(Sys.getenv("HARMONIUM_BENCH_ROWS", if (bench_quick) "1e6" else "1e7"))
n_files <- as.integer(Sys.getenv("HARMONIUM_BENCH_FILES", "20"))
workers <- as.integer(Sys.getenv("HARMONIUM_BENCH_WORKERS", "2"))
reps <- as.integer(Sys.getenv("HARMONIUM_BENCH_REPS", "3"))
d <- 8L
k <- 8L
its <- c(1L, 6L)
if (n_rows %% n_files != 0) stop("HARMONIUM_BENCH_ROWS must be a multiple of HARMONIUM_BENCH_FILES")
rows_per_file <- as.integer(n_rows / n_files)
chunk_mb <- rows_per_file * d * 8 / 2^20

# --- the data, file by file ---------------------------------------------------------

# The cluster layout of bench-common.R's make_data() (overlapping clusters,
# unequal scales and correlations), fixed once; each file draws its own rows
# from it with its own seed.
set.seed(12)
gen <- list(
  means = matrix(rnorm(k * d, sd = 3.4 / sqrt(d)), k, d),
  mix = matrix(rnorm(d * d, sd = 0.3), d, d) + diag(d),
  scale = runif(d, 0.5, 1.5)
)
gen_file <- function(f) {
  set.seed(1000 + f)
  z <- sample.int(k, rows_per_file, replace = TRUE)
  x <- gen$means[z, ] + (matrix(rnorm(rows_per_file * d), rows_per_file, d) %*% gen$mix) *
    rep(gen$scale, each = rows_per_file)
  colnames(x) <- paste0("x", seq_len(d))
  list(x = x, z = z)
}

dir <- tempfile("hm-bench-chunked-")
dir.create(dir)
files <- file.path(dir, sprintf("part-%03d.parquet", seq_len(n_files)))
t_write <- system.time({
  for (f in seq_len(n_files)) {
    g <- gen_file(f)
    # The given parameters: bench-common.R's start_params() (the M-step of a
    # labelling 80% correct) on the first file.
    if (f == 1L) init <- start_params(g$x, g$z, k, "full")
    nanoparquet::write_parquet(as.data.frame(g$x), files[f])
  }
  g <- NULL
})[["elapsed"]]
init_path <- file.path(dir, "init.rds")
saveRDS(init, init_path)
cat(sprintf("%s rows in %d Parquet files of %d rows (%.1f MB of doubles each, %.1f MB on disk in all), written in %.1f s\n",
  format(n_rows, scientific = FALSE), n_files, rows_per_file, chunk_mb, sum(file.size(files)) / 2^20, t_write))

# --- one fit session in a child process, sampled --------------------------------------

# The child writes the process ids to watch into pid_file (its own first,
# then its workers'), runs the fits and returns their timings.
chunked_child <- function(files, init_path, its, reps, workers, threads, pid_file) {
  suppressPackageStartupMessages(library(harmonium))
  init <- readRDS(init_path)
  future::plan(future::multisession, workers = workers)
  # One future per worker, each held busy long enough that the next one
  # goes to another worker: their process ids and threads.
  fs <- lapply(seq_len(workers), function(i) {
    future::future({
      Sys.sleep(1)
      c(pid = Sys.getpid(), threads = harmonium:::resolve_threads(threads))
    }, packages = "harmonium", seed = NULL)
  })
  info <- do.call(rbind, lapply(fs, future::value))
  if (anyDuplicated(info[, "pid"])) stop("two futures ran on the same worker")
  writeLines(as.character(c(Sys.getpid(), info[, "pid"])), paste0(pid_file, ".tmp"))
  file.rename(paste0(pid_file, ".tmp"), pid_file)
  Sys.sleep(1)
  model <- mixture(ef_normal(length(init$components[[1]]$mean), "full"), length(init$weights))
  src <- lvm_chunks(files)
  # The driver ticks progressr once per chunk as it collects each chunk's
  # result, with the pass's name: the time of a pass's last tick is the
  # end of that pass.
  options(progressr.enable = TRUE)
  ticks <- NULL
  on_tick <- function(p) {
    if (identical(p$type, "update")) ticks <<- rbind(ticks, data.frame(t = proc.time()[["elapsed"]], what = p$message))
  }
  res <- lapply(its, function(it) {
    ctrl <- lvm_control(maxit = it, tol = 0, threads = threads)
    t <- numeric()
    passes <- list()
    for (r in seq_len(reps)) {
      ticks <<- NULL
      t0 <- proc.time()[["elapsed"]]
      fit <- withCallingHandlers(fit_lvm(model, src, init = init, control = ctrl), progression = on_tick)
      t <- c(t, proc.time()[["elapsed"]] - t0)
      # Pass ends: the data pass, then each E-step pass (length(files)
      # ticks each).
      # (NA when the driver's pass names change.)
      data_t <- ticks$t[ticks$what %in% "the data pass"]
      e_ticks <- ticks$t[ticks$what %in% "an E-step"]
      passes[[r]] <- if (!length(data_t) || length(e_ticks) < length(files)) list(first = NA_real_, estep = NA_real_) else {
        e_end <- e_ticks[seq(length(files), length(e_ticks), by = length(files))]
        list(first = max(data_t) - t0, estep = diff(c(max(data_t), e_end)))
      }
    }
    # The fastest run (other jobs on a shared machine only ever add time);
    # of the passes, the fastest run's median pass.
    list(seconds = min(t), loglik = fit$loglik, iterations = fit$iterations,
      first = min(vapply(passes, `[[`, numeric(1), "first")),
      estep = min(vapply(passes, function(p) stats::median(p$estep), numeric(1))))
  })
  future::plan(future::sequential)
  list(fits = res, worker_threads = unname(info[, "threads"]), driver_threads = harmonium:::resolve_threads(threads))
}

memory_child <- function(files, init_path, its, reps, threads, pid_file) {
  suppressPackageStartupMessages(library(harmonium))
  init <- readRDS(init_path)
  writeLines(as.character(Sys.getpid()), paste0(pid_file, ".tmp"))
  file.rename(paste0(pid_file, ".tmp"), pid_file)
  # The files into one preallocated matrix, as a user with enough memory
  # would hold the data.
  n <- sum(vapply(files, function(f) as.numeric(nanoparquet::read_parquet_info(f)$num_rows), numeric(1)))
  x <- NULL
  s <- 0
  for (f in files) {
    df <- nanoparquet::read_parquet(f)
    if (is.null(x)) x <- matrix(0, n, ncol(df), dimnames = list(NULL, names(df)))
    x[s + seq_len(nrow(df)), ] <- as.matrix(df)
    s <- s + nrow(df)
  }
  df <- NULL
  invisible(gc())
  model <- mixture(ef_normal(ncol(x), "full"), length(init$weights))
  res <- lapply(its, function(it) {
    ctrl <- lvm_control(maxit = it, tol = 0, threads = threads)
    t <- numeric()
    for (r in seq_len(reps)) {
      invisible(gc())
      t <- c(t, system.time(fit <- fit_lvm(model, x, init = init, control = ctrl))[["elapsed"]])
    }
    list(seconds = min(t), loglik = fit$loglik, iterations = fit$iterations)
  })
  list(fits = res, driver_threads = harmonium:::resolve_threads(threads))
}

# The kernel's peak resident set size of a process in bytes (NA when gone).
vm_hwm <- function(pid) {
  st <- tryCatch(readLines(sprintf("/proc/%d/status", pid)), error = function(e) character(), warning = function(e) character())
  v <- grep("^VmHWM:", st, value = TRUE)
  if (length(v)) as.numeric(sub("^VmHWM:\\s*([0-9]+)\\s*kB.*$", "\\1", v)) * 1024 else NA_real_
}

# Runs child(...) in a callr::r_bg() process, sampling the RSS of every
# process id it lists in its pid file until it ends. Returns the child's
# value and, per watched process (the child first), the largest sampled RSS
# and the last VmHWM seen, in bytes.
run_sampled <- function(child, args, interval = 0.05) {
  pid_file <- tempfile("hm-pids-", tmpdir = dir)
  bg <- callr::r_bg(child, c(args, list(pid_file = pid_file)), libpath = .libPaths(), supervise = TRUE,
    stdout = "|", stderr = "2>&1")
  pids <- integer()
  handles <- list()
  peak <- numeric()
  hwm <- numeric()
  out <- character()
  while (bg$is_alive()) {
    if (!length(pids) && file.exists(pid_file)) {
      pids <- as.integer(readLines(pid_file))
      handles <- lapply(pids, function(p) tryCatch(ps::ps_handle(p), error = function(e) NULL))
      peak <- hwm <- rep(NA_real_, length(pids))
    }
    for (j in seq_along(handles)) {
      if (is.null(handles[[j]])) next
      rss <- tryCatch(ps::ps_memory_info(handles[[j]])[["rss"]], error = function(e) NA_real_)
      if (!is.na(rss)) peak[j] <- max(peak[j], rss, na.rm = TRUE)
      h <- vm_hwm(pids[j])
      if (!is.na(h)) hwm[j] <- h
    }
    out <- c(out, bg$read_output_lines())
    Sys.sleep(interval)
  }
  out <- c(out, bg$read_all_output_lines())
  if (length(out)) cat(paste0("  [child] ", out), sep = "\n")
  val <- bg$get_result()
  list(value = val, pids = pids, peak = peak, hwm = hwm)
}

# --- run --------------------------------------------------------------------------

# The chunked fit twice: with the package's default threads in every
# worker, and with the cores shared out among the workers (on 2 cores and
# 2 workers, 1 thread each: no worker's OpenMP threads wait for a core).
worker_threads <- max(1L, parallel::detectCores() %/% workers)
chunked <- list()
for (th in list(NULL, worker_threads)) {
  cat(sprintf("chunked: %d multisession workers, threads = %s ...\n", workers, if (is.null(th)) "default" else th))
  chunked[[length(chunked) + 1L]] <- run_sampled(chunked_child, list(files = files, init_path = init_path, its = its,
    reps = reps, workers = workers, threads = th))
}
# The in-memory fit likewise, with the default threads and with 1.
inmem <- list()
for (th in list(NULL, 1L)) {
  cat(sprintf("in memory, threads = %s ...\n", if (is.null(th)) "default" else th))
  inmem[[length(inmem) + 1L]] <- run_sampled(memory_child, list(files = files, init_path = init_path, its = its,
    reps = reps, threads = th))
}
mem <- inmem[[1]]

for (r in lapply(c(chunked, inmem), function(run) run$value$fits)) {
  got <- vapply(r, `[[`, integer(1), "iterations")
  if (!identical(got, its)) stop(sprintf("the fits ran %s iterations, not %s", toString(got), toString(its)))
}
secs <- function(run) vapply(run$value$fits, `[[`, numeric(1), "seconds")
# One pass (or in-memory iteration) as the difference of the two fits.
per_pass <- function(run) diff(secs(run)) / diff(its)
logliks <- function(run) vapply(run$value$fits, `[[`, numeric(1), "loglik")
same_ll <- vapply(c(chunked, inmem[-1]), function(ch) identical(logliks(ch), logliks(mem)), logical(1))
cat(sprintf("identical(chunked log-likelihoods, in-memory log-likelihoods) (maxit = %s): %s\n",
  paste(its, collapse = ", "), paste(same_ll, collapse = ", ")))
for (ch in c(chunked, inmem[-1])[!same_ll]) print(rbind(chunked = logliks(ch), in_memory = logliks(mem)), digits = 17)

mb <- function(b) b / 2^20
size <- sub("e[+]0*", "e", format(n_rows, big.mark = "", scientific = n_rows >= 1e6))
f3 <- function(x) sprintf("%.3f", x)
f2 <- function(x) sprintf("%.2f", x)
chunked_col <- function(ch, ref) {
  wk <- seq_along(ch$pids)[-1]
  last <- ch$value$fits[[length(its)]]
  c(
    paste(ch$value$worker_threads, collapse = ", "),
    f3(per_pass(ch)),
    f3(last$estep),
    f2(per_pass(ch) / per_pass(ref)),
    f2(last$first),
    paste(f2(secs(ch)), collapse = " / "),
    sprintf("%.1f (%d rows)", chunk_mb, rows_per_file),
    paste(sprintf("%.0f", mb(ch$peak[wk])), collapse = " / "),
    paste(sprintf("%.0f", mb(ch$hwm[wk])), collapse = " / "),
    sprintf("%.0f", mb(ch$peak[1])),
    as.character(identical(logliks(ch), logliks(mem)))
  )
}
mem_col <- function(run) {
  c(as.character(run$value$driver_threads), f3(per_pass(run)), "-", "1", "-", paste(f2(secs(run)), collapse = " / "),
    sprintf("%.0f (all rows)", mb(n_rows * d * 8)), "-", "-", sprintf("%.0f", mb(run$peak[1])),
    if (identical(run, mem)) "-" else as.character(identical(logliks(run), logliks(mem))))
}
res <- data.frame(
  measure = c(
    "harmonium threads per worker (in memory: of the fit)",
    "one EM pass (in memory: iteration), (time(6) - time(1)) / 5, s",
    "one E-step pass, median of the timed passes, s",
    "pass / in-memory iteration (the in-memory column with the same threads)",
    "first passes (row counts, first chunk, data pass), timed, s",
    sprintf("whole fit, maxit = %d / %d, s", its[1], its[2]),
    "chunk size (rows x 8 columns x 8 bytes), MB",
    "peak RSS per worker (sampled every 50 ms), MB",
    "peak RSS per worker (VmHWM), MB",
    "peak RSS of the driver (in memory: of the fitting process), MB",
    "log-likelihoods identical() to the in-memory fit's"
  ),
  a = chunked_col(chunked[[1]], inmem[[1]]),
  b = chunked_col(chunked[[2]], inmem[[2]]),
  c = mem_col(inmem[[1]]),
  e = mem_col(inmem[[2]]),
  check.names = FALSE
)
names(res) <- c("measure", sprintf("chunked, %d workers, default threads", workers),
  sprintf("chunked, %d workers, threads = %d", workers, worker_threads), "in memory, default threads",
  "in memory, threads = 1")
cat("\n")
cat(bench_md_table(res), sep = "\n")
cat("\n")

header <- bench_header(c(
  sprintf("Parquet reader: %s", if (requireNamespace("arrow", quietly = TRUE)) "arrow" else
    sprintf("nanoparquet %s", utils::packageVersion("nanoparquet"))),
  sprintf("future %s, parallelly %s", utils::packageVersion("future"),
    if (requireNamespace("parallelly", quietly = TRUE)) as.character(utils::packageVersion("parallelly")) else "-")
))
notes <- c(
  "",
  sprintf(paste(
    "%s x %d rows, K = %d Gaussian mixture with full covariances, in %d Parquet files of %d rows written with",
    "nanoparquet; `fit_lvm(mixture(ef_normal(8), 8), lvm_chunks(files), init = params, control =",
    "lvm_control(maxit = it, tol = 0, threads = ))` under `future::plan(multisession, workers = %d)`, against",
    "`fit_lvm()` with the same arguments on the rows as one %s x %d matrix in memory",
    "(%.0f MB). Each fit timed %d time(s), the fastest reported (other jobs on a shared machine only add time),",
    "for it = 1 and 6: one EM pass (in memory, one",
    "iteration) is (time(6) - time(1)) / 5. The chunked fits also time their passes from the driver's",
    "progressr ticks (one per chunk collected, named by pass): the first passes end at the data pass's last",
    "tick, each E-step pass at its last (the median over the 7 E-step passes of the it = 6 fit, the fastest",
    "run's). Peak RSS",
    "per worker: the largest resident set size of each worker process over the whole session (both fits),",
    "sampled with `ps` every 50 ms and, as a check, the kernel's peak (VmHWM, which also counts the",
    "worker's start-up). The log-likelihoods of all fits are identical() to the in-memory fit's (default threads),",
    "as the engine's fixed reduction tree promises (R/chunked-fit.R)."),
    size, d, k, n_files, rows_per_file, workers, size, d, mb(n_rows * d * 8), reps),
  "Timings on a shared machine are noisy: compare rows of one run."
)
bench_write("results-chunked.md", sprintf("Chunked data: %s x 8 rows in Parquet files, K = 8, full covariance", size),
  header, list(bench_md_table(res), notes))
if (!all(same_ll)) stop("the chunked and in-memory log-likelihoods differ")
