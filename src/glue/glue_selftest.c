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

// The engine's serial-below threshold (hm_set_parallel_min_work); returns
// the previous value.
SEXP ffi_parallel_min_work(SEXP work) {
    double v = Rf_asReal(work);
    if (ISNAN(v) || v < 0.0) {
        internal_error(__func__, "`work` must be a non-negative number");
    }
    return Rf_ScalarReal(hm_set_parallel_min_work(v));
}
