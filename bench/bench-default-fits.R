# Whole default fits, starts included, against mclust, and the fixed cost of
# a fit:
# * fit_lvm(mixture(ef_normal(8), 4), X) against
#   Mclust(X, G = 4, modelNames = "VVV") on 100000 x 8: time and
#   log-likelihood;
# * the fixed cost: fit_lvm(..., init = params, control = lvm_control(maxit =
#   1, tol = 0)) on 100000 x 8, as the total and minus one iteration (the
#   marginal cost of an iteration, (t(maxit = 20) - t(maxit = 1)) / 19);
# * select_k(ef_normal(8), X, k = 1:9, covariance = "full") against
#   Mclust(X, G = 1:9, modelNames = "VVV") on 100000 x 8, and
#   select_k(..., covariance = "all") against Mclust(X, G = 1:9) (mclust's
#   14 structures, 126 fits a side) on HARMONIUM_BENCH_SELECT_N rows (3000:
#   on 10000 rows this row alone took over 30 minutes on the shared 2-core
#   machine): time, the chosen model, and cell by cell whether harmonium's
#   log-likelihood is at least mclust's.
# The results file is rewritten after each section, so a long run leaves
# the finished tables.
#
#   Rscript bench/bench-default-fits.R
#   HARMONIUM_BENCH_QUICK=1 Rscript bench/bench-default-fits.R   # no select_k rows
#
# Run from the package root with the package installed. Writes
# bench/results-default-fits.md. Mostly mclust's and select_k()'s time: about
# 25 minutes on the shared 2-core machine (load average 7).
suppressPackageStartupMessages({
  library(harmonium)
  library(mclust)
})
local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  source(file.path(if (length(f)) dirname(f[1]) else "bench", "bench-common.R"))
}, envir = globalenv())

reps <- as.integer(Sys.getenv("HARMONIUM_BENCH_REPS", "3"))
select_n <- as.integer(Sys.getenv("HARMONIUM_BENCH_SELECT_N", "3000"))
header <- bench_header()

n <- 100000L
d <- 8L
k <- 4L
dat <- make_data(n, d, k, seed = 2026)
x <- dat$x

# mclust's maximised log-likelihood of each cell of its BIC table
# (BIC = 2 loglik - df log n), NA where it failed.
mclust_loglik <- function(bic, n, d) {
  out <- bic
  for (mn in colnames(bic)) {
    for (g in rownames(bic)) {
      out[g, mn] <- (bic[g, mn] + mclust::nMclustParams(mn, d, as.integer(g)) * log(n)) / 2
    }
  }
  out
}

# --- one default fit ------------------------------------------------------------

cat("default fit, K = 4 ...\n")
hm <- bench_time(function() suppressWarnings(fit_lvm(mixture(ef_normal(d), k), x)), reps)
mc <- bench_time(function() Mclust(x, G = k, modelNames = "VVV", verbose = FALSE), reps)
fit_rows <- data.frame(
  call = c("`fit_lvm(mixture(ef_normal(8), 4), X)` / `Mclust(X, G = 4, modelNames = \"VVV\")`"),
  rows = n,
  `harmonium, s` = hm$seconds, `mclust, s` = mc$seconds, `mclust / harmonium` = mc$seconds / hm$seconds,
  `harmonium loglik` = hm$value$loglik, `mclust loglik` = mc$value$loglik,
  `harmonium - mclust` = hm$value$loglik - mc$value$loglik,
  `runs (h/m)` = sprintf("%d/%d", hm$runs, mc$runs),
  check.names = FALSE
)
print(fit_rows, digits = 6, row.names = FALSE)

# --- the fixed cost -------------------------------------------------------------

cat("fixed cost ...\n")
p <- start_params(x, dat$z, k, "full")
m <- mixture(ef_normal(d), k)
fixed_reps <- max(reps, 7L)
# Alternating maxit = 1 and maxit = 20 in one process, medians.
t1 <- t20 <- numeric(fixed_reps)
for (r in seq_len(fixed_reps)) {
  t1[r] <- system.time(suppressWarnings(fit_lvm(m, x, init = p, control = lvm_control(maxit = 1, tol = 0))))[["elapsed"]]
  t20[r] <- system.time(suppressWarnings(fit_lvm(m, x, init = p, control = lvm_control(maxit = 20, tol = 0))))[["elapsed"]]
}
iter <- (stats::median(t20) - stats::median(t1)) / 19
fixed <- data.frame(
  call = "`fit_lvm(mixture(ef_normal(8), 4), X, init = params, control = lvm_control(maxit = 1, tol = 0))`",
  rows = n, `total, ms` = 1000 * stats::median(t1), `one iteration, ms` = 1000 * iter,
  `total - one iteration, ms` = 1000 * (stats::median(t1) - iter), runs = fixed_reps, check.names = FALSE
)
print(fixed, digits = 4, row.names = FALSE)

# --- model selection ------------------------------------------------------------

select_row <- function(x, structures, model_names, label) {
  cat(sprintf("select_k, %s, %d rows ...\n", label, nrow(x)))
  # One run each: these are the slow rows.
  th <- system.time(sel <- suppressWarnings(select_k(ef_normal(ncol(x)), x, k = 1:9, covariance = structures)))
  cat(sprintf("  harmonium %.1f s\n", th[["elapsed"]]))
  tm <- system.time(mb <- if (is.null(model_names)) {
    Mclust(x, G = 1:9, verbose = FALSE)
  } else {
    Mclust(x, G = 1:9, modelNames = model_names, verbose = FALSE)
  })
  cat(sprintf("  mclust %.1f s\n", tm[["elapsed"]]))
  ll_m <- mclust_loglik(mb$BIC, nrow(x), ncol(x))
  tab <- sel$table
  # harmonium's structure names are mclust's, except "full" = VVV.
  cov_name <- ifelse(tab$covariance == "full", "VVV", tab$covariance)
  ll_mc <- mapply(function(cv, g) if (cv %in% colnames(ll_m)) ll_m[as.character(g), cv] else NA_real_, cov_name, tab$k)
  ll_h <- ifelse(tab$degenerate, NA_real_, tab$loglik)
  both <- !is.na(ll_mc) & !is.na(ll_h)
  tol <- 1e-6 * abs(ll_mc)
  data.frame(
    call = label, rows = nrow(x), `harmonium, s` = th[["elapsed"]], `mclust, s` = tm[["elapsed"]],
    `mclust / harmonium` = tm[["elapsed"]] / th[["elapsed"]],
    `harmonium choice` = sprintf("%s, %d", if (is.na(sel$best$covariance)) "-" else
      ifelse(sel$best$covariance == "full", "VVV", sel$best$covariance), sel$best$k),
    `mclust choice` = sprintf("%s, %d", mb$modelName, mb$G),
    `cells harmonium >= mclust` = sprintf("%d of %d", sum(ll_h[both] >= ll_mc[both] - tol[both]), sum(both)),
    `largest shortfall` = if (any(both)) max(0, ll_mc[both] - ll_h[both]) else NA_real_,
    check.names = FALSE
  )
}

sel_rows <- NULL

notes_fit <- c("",
  sprintf(paste("Default settings on both sides (harmonium: its default starts and `tol = 1e-8`; mclust: its",
    "hierarchical start on a subset and `tol = 1e-5`), median of up to %d runs; data: %d x %d, %d overlapping",
    "Gaussian clusters (bench-common.R). Targets (issue 11): mclust / harmonium >= 20 and harmonium's",
    "log-likelihood at least mclust's."), reps, n, d, k))
notes_sel <- c("",
  paste("One run each. A cell is a (structure, k) pair fitted by both; harmonium's log-likelihood counts as at",
    "least mclust's within a relative 1e-6 (mclust's from its BIC table); degenerate harmonium fits are left",
    "out. \"largest shortfall\": the largest amount by which mclust's log-likelihood exceeds harmonium's."))
notes_fixed <- c("",
  paste("Median of", fixed_reps, "alternating runs of `maxit = 1` and `maxit = 20`; one iteration is their",
    "difference over 19. Target (issue 11): the fixed cost under 5 ms."))
write_results <- function() {
  bench_write("results-default-fits.md", "Whole default fits and the fixed cost", header, list(
    "### One default fit", "", bench_md_table(fit_rows), notes_fit,
    c("", "### Fixed cost of a fit", "", bench_md_table(fixed), notes_fixed),
    if (!is.null(sel_rows)) c("", "### Model selection over k = 1:9", "", bench_md_table(sel_rows), notes_sel)))
}
write_results()
if (!bench_quick) {
  # The slow rows last, each written as soon as it is done.
  sel_rows <- select_row(x, "full", "VVV",
    "`select_k(ef_normal(8), X, k = 1:9, covariance = \"full\")` / `Mclust(X, G = 1:9, modelNames = \"VVV\")`")
  print(sel_rows, digits = 4, row.names = FALSE)
  write_results()
  xs <- make_data(select_n, d, k, seed = 2027)$x
  sel_rows <- rbind(sel_rows,
    select_row(xs, "all", NULL, "`select_k(ef_normal(8), X, k = 1:9, covariance = \"all\")` / `Mclust(X, G = 1:9)`"))
  print(sel_rows, digits = 4, row.names = FALSE)
  write_results()
}
