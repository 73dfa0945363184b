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
# Enhances (duckdb, arrow, data.table): back ends of lvm_chunks() that harmonium uses
# when present. duckdb compiles from source for 20-40 minutes on two cores,
# so it is installed only on request: HARMONIUM_DEPS=full.
if (identical(Sys.getenv("HARMONIUM_DEPS"), "full")) {
  enh <- read.dcf("DESCRIPTION", fields = "Enhances")[1, 1]
  enh <- trimws(sub("\\(.*", "", strsplit(enh, ",")[[1]]))
  # arrow's source build needs its C++ library, which CRAN does not ship.
  enh <- setdiff(enh[nzchar(enh)], c("arrow", rownames(installed.packages())))
  if (length(enh)) {
    message("installing: ", paste(enh, collapse = ", "))
    try(install.packages(enh, repos = repos, Ncpus = 2L))
  }
}
still <- setdiff(setdiff(pkgs, optional), rownames(installed.packages()))
if (length(still)) stop("could not install: ", paste(still, collapse = ", "))

# The vignettes are R Markdown: building them (R CMD build, R CMD check) needs
# pandoc, and R CMD check --as-cran needs qpdf. Neither is an R package:
# installed from the system's packages when run as root on Debian/Ubuntu,
# named otherwise. The package installs and its tests run without them.
sys_tools <- c(pandoc = "pandoc", qpdf = "qpdf")
missing_tools <- sys_tools[!nzchar(Sys.which(names(sys_tools)))]
if (length(missing_tools)) {
  is_root <- identical(unname(Sys.info()[["effective_user"]]), "root")
  if (is_root && nzchar(Sys.which("apt-get"))) {
    message("installing system tools: ", paste(missing_tools, collapse = ", "))
    status <- system2("apt-get", c("install", "-y", "--no-install-recommends", missing_tools))
    if (status != 0L) {
      system2("apt-get", "update")
      status <- system2("apt-get", c("install", "-y", "--no-install-recommends", missing_tools))
    }
    if (status != 0L) message("could not install ", paste(missing_tools, collapse = ", "), " (vignettes need pandoc)")
  } else {
    message("to build the vignettes, install: ", paste(missing_tools, collapse = ", "),
      " (e.g. apt-get install ", paste(missing_tools, collapse = " "), ")")
  }
}
