# Copies the tables the bench scripts wrote (bench/results-*.md) into
# README.md, between the markers <!-- bench:NAME --> and <!-- /bench:NAME -->
# (NAME: mixture, default-fits, lca, chunked), dropping each file's title line.
# Results files that do not exist leave their README block as it is.
#
#   Rscript bench/update-readme.R [README.md]
args <- commandArgs(trailingOnly = TRUE)
dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(f[1]) else "bench"
})
readme <- if (length(args)) args[1] else file.path(dirname(dir), "README.md")
lines <- readLines(readme)
for (name in c("mixture", "default-fits", "lca", "chunked")) {
  res <- file.path(dir, sprintf("results-%s.md", name))
  open <- grep(sprintf("^<!-- bench:%s -->$", name), lines)
  close <- grep(sprintf("^<!-- /bench:%s -->$", name), lines)
  if (!file.exists(res) || length(open) != 1L || length(close) != 1L || close < open) {
    message(sprintf("%s: %s", name, if (!file.exists(res)) "no results file, kept" else "markers missing, skipped"))
    next
  }
  body <- readLines(res)
  if (length(body) && grepl("^#", body[1])) body <- body[-1]
  while (length(body) && !nzchar(body[1])) body <- body[-1]
  lines <- c(lines[seq_len(open)], body, lines[close:length(lines)])
  message(sprintf("%s: %d lines from %s", name, length(body), res))
}
writeLines(lines, readme)
