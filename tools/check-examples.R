# Runs every example of the installed harmonium and reports each warning and
# error by help topic; exits with status 1 when there is any (a help page's
# examples must run without a warning), and reports the exported functions
# whose help page has no examples.
#
#   R_LIBS=<library> Rscript tools/check-examples.R [topic ...]
#
# Each topic runs in a fresh environment (with the package attached), with
# graphics to a null device, in the order of the help index.

args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(harmonium))
db <- tools::Rd_db("harmonium")
names(db) <- sub("\\.Rd$", "", basename(names(db)))
topics <- if (length(args)) intersect(args, names(db)) else sort(names(db))

run_topic <- function(name) {
  ex <- tempfile(fileext = ".R")
  on.exit(unlink(ex))
  tools::Rd2ex(db[[name]], ex, commentDontrun = TRUE, commentDonttest = FALSE)
  if (!file.exists(ex)) return(NULL)
  warns <- character(0)
  err <- NA_character_
  env <- new.env(parent = globalenv())
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  t0 <- proc.time()[[3]]
  out <- utils::capture.output(
    tryCatch(
      withCallingHandlers(
        source(ex, local = env, echo = FALSE),
        warning = function(w) {
          warns <<- c(warns, conditionMessage(w))
          invokeRestart("muffleWarning")
        }
      ),
      error = function(e) err <<- conditionMessage(e)
    )
  )
  data.frame(topic = name, seconds = round(proc.time()[[3]] - t0, 2), warnings = length(warns),
    error = !is.na(err), detail = paste(c(if (!is.na(err)) paste("ERROR:", err), warns), collapse = " | "),
    stringsAsFactors = FALSE)
}

res <- do.call(rbind, lapply(topics, run_topic))
cat(sprintf("%d help topics with examples, %.1f s in all\n", nrow(res), sum(res$seconds)))
bad <- res[res$warnings > 0 | res$error, , drop = FALSE]
for (i in seq_len(nrow(bad))) {
  cat(sprintf("\n* %s: %d warning(s)%s\n  %s\n", bad$topic[i], bad$warnings[i],
    if (bad$error[i]) ", error" else "", gsub("\\s+", " ", bad$detail[i])))
}

# Exported functions whose help page has no example.
exports <- getNamespaceExports("harmonium")
alias_of <- unlist(lapply(names(db), function(n) {
  rd <- db[[n]]
  tags <- vapply(rd, function(x) attr(x, "Rd_tag"), "")
  al <- unlist(lapply(rd[tags == "\\alias"], as.character))
  stats::setNames(rep(n, length(al)), al)
}))
no_ex <- exports[is.na(match(exports, names(alias_of))) | !alias_of[exports] %in% res$topic]
# A generic re-exported from another package (generics' tidy, ...) is
# documented there; its methods' page here must have examples.
reexported <- vapply(no_ex, function(e) {
  !identical(environmentName(environment(getExportedValue("harmonium", e))), "harmonium")
}, logical(1))
method_ok <- vapply(no_ex, function(e) {
  m <- paste0(e, ".lvm_fit")
  m %in% names(alias_of) && alias_of[[m]] %in% res$topic
}, logical(1))
no_ex <- no_ex[!(reexported & method_ok)]
if (length(no_ex)) cat("\nExports without a help page with examples:", paste(sort(no_ex), collapse = ", "), "\n")

if (nrow(bad) || length(no_ex)) {
  cat(sprintf("\n%d topic(s) with warnings or errors, %d export(s) without examples.\n", nrow(bad), length(no_ex)))
  quit(status = 1)
}
cat("No warnings, no errors; every export has examples.\n")
