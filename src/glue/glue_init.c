/*
 * glue_init.c: load-time sanity checks, run once from .onLoad.
 */
#include "glue.h"

SEXP ffi_init(SEXP ns) {
    if (TYPEOF(ns) != ENVSXP) {
        internal_error(__func__, "`ns` must be the package namespace");
    }
    if (sizeof(double) != 8 || NA_INTEGER != INT_MIN) {
        Rf_error("harmonium: unsupported platform (double must be 8 bytes)"); // # nocov
    }
    return R_NilValue;
}

// Processors OpenMP can use; R caps its default thread count with it.
SEXP ffi_threads_max(void) {
    return Rf_ScalarInteger(hm_threads_max());
}
