# Installs the packages harmonium needs to build, test and run its demo and
# benchmarks: Imports and Suggests from DESCRIPTION, whatever is missing.
repos <- c(CRAN = Sys.getenv("HARMONIUM_CRAN", "https://cloud.r-project.org"))
desc <- read.dcf("DESCRIPTION", fields = c("Imports", "Suggests"))
fields <- unlist(strsplit(paste(desc[!is.na(desc)], collapse = ","), ","))
pkgs <- trimws(sub("\\(.*", "", fields))
pkgs <- setdiff(pkgs[nzchar(pkgs)], c("R", rownames(installed.packages(priority = "base"))))
# knitr and rmarkdown build the vignettes: installed like the rest, but the
# tests can run without them if CRAN cannot deliver them.
optional <- c("knitr", "rmarkdown")
need <- setdiff(pkgs, rownames(installed.packages()))
if (length(need)) {
  message("installing: ", paste(need, collapse = ", "))
  install.packages(need, repos = repos, Ncpus = 2L)
}
still <- setdiff(setdiff(pkgs, optional), rownames(installed.packages()))
if (length(still)) stop("could not install: ", paste(still, collapse = ", "))
