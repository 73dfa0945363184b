/*
 * glue_selftest.c: exposes the engine's C unit tests to testthat.
 */
#include "glue.h"
#include "../engine/selftest.h"

SEXP ffi_selftest_list(void) {
    int n = hm_selftest_count();
    SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) {
        SET_STRING_ELT(out, i, Rf_mkChar(hm_selftest_name(i)));
    }
    UNPROTECT(1);
    return out;
}

// "" on success, the failure message otherwise.
SEXP ffi_selftest_run(SEXP i_) {
    int i = glue_int1(i_, "i", __func__);
    char msg[512];
    int rc = hm_selftest_run(i, msg, sizeof msg);
    return Rf_mkString(rc == 0 ? "" : (msg[0] ? msg : "failed"));
}
