.onLoad <- function(libname, pkgname) {
  .Call(C_init, asNamespace(pkgname))
  register_autoplot_methods()
  invisible()
}
