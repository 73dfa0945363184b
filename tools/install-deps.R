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
# depmixS4 (a test oracle) needs Rsolnp, whose current CRAN release does not
# compile against current Rcpp on R 4.2; its previous release does.
if ("depmixS4" %in% need && !requireNamespace("Rsolnp", quietly = TRUE)) {
  try(install.packages("Rsolnp", repos = repos, Ncpus = 2L))
  if (!requireNamespace("Rsolnp", quietly = TRUE)) {
    deps <- c("truncnorm", "Rcpp")
    deps <- deps[!deps %in% rownames(installed.packages())]
    if (length(deps)) install.packages(deps, repos = repos, Ncpus = 2L)
    install.packages(paste0(repos[["CRAN"]], "/src/contrib/Archive/Rsolnp/Rsolnp_1.16.tar.gz"),
      repos = NULL, type = "source")
  }
}
if (length(need)) {
  message("installing: ", paste(need, collapse = ", "))
  install.packages(need, repos = repos, Ncpus = 2L)
}
still <- setdiff(setdiff(pkgs, optional), rownames(installed.packages()))
if (length(still)) stop("could not install: ", paste(still, collapse = ", "))
