# The long fuzz run (issue 9): every registered .Call entry point and every
# exported function with malformed input, at level "full", in child R
# sessions (tests/testthat/helper-fuzz.R). The CI version is
# tests/testthat/test-fuzz.R and test-fuzz-native.R at level "ci".
#
#   Rscript tools/fuzz.R [native|api|all] [timeout-seconds]
#
# Prints counts of outcomes per entry point, lists every defect (crash, hang,
# unclassed error, a valid call rejected) and exits non-zero if there is one.
# Run it against the installed package (R CMD INSTALL . first); with a
# sanitized build (tools/sanitize.sh) a sanitizer report shows as a crash.
args <- commandArgs(trailingOnly = TRUE)
which <- if (length(args) >= 1L) args[[1]] else "all"
timeout <- if (length(args) >= 2L) as.numeric(args[[2]]) else 60
here <- "tests/testthat"
# The workflows that record valid calls use the exported functions, as the
# tests do with the package attached.
suppressPackageStartupMessages(library(harmonium))
for (f in c("helper-fuzz.R", "helper-fuzz-native.R", "helper-fuzz-api.R")) {
  if (file.exists(file.path(here, f))) sys.source(file.path(here, f), envir = globalenv())
}
cases <- list()
if (which %in% c("native", "all")) cases <- c(cases, fuzz_cases_native("full"))
if (which %in% c("api", "all")) cases <- c(cases, fuzz_cases_api("full"))
cat(sprintf("%d cases, timeout %g s each\n", length(cases), timeout))
t0 <- proc.time()[["elapsed"]]
res <- fuzz_run(cases, timeout = timeout, batch = 50L)
elapsed <- proc.time()[["elapsed"]] - t0
res$entry <- sub(":.*", "", res$name)
tab <- table(res$entry, factor(res$outcome,
  levels = c("ok", "harmonium_error", "other_error", "crash", "hang")))
print(tab)
cat("\nTotal:\n")
print(colSums(tab))
def <- fuzz_defects(res)
cat(sprintf("\n%d cases in %.0f s; %d defects\n", nrow(res), elapsed, nrow(def)))
if (nrow(def) > 0L) {
  cat(fuzz_report(def), "\n")
  quit(status = 1L, save = "no")
}
