.onLoad <- function(libname, pkgname) {
  .Call(C_init, asNamespace(pkgname))
  invisible()
}
