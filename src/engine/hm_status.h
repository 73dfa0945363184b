/*
 * hm_status.h: status codes returned by every fallible engine function.
 *
 * The engine never raises errors, never prints and never calls R. A fallible
 * function returns one of these codes and writes its results through
 * out-pointers; the glue (src/glue/errors.c) maps them to classed R
 * conditions in one place.
 */
#ifndef HM_STATUS_H
#define HM_STATUS_H

typedef enum hm_status {
    HM_OK = 0,        /* success */
    HM_CONTINUE = 1,  /* an iterative algorithm has not converged yet (normal) */
    HM_EDOM = 2,      /* argument outside the domain (parameter or datum invalid) */
    HM_ENOTPD = 3,    /* a matrix that must be positive definite is not */
    HM_ENOMEM = 4,    /* workspace too small or allocation failed */
    HM_EMAXITER = 5,  /* iteration limit reached without convergence */
    HM_ENOPROG = 6,   /* no progress possible (e.g. an empty mixture component) */
    HM_EOVERFLOW = 7, /* a size exceeds what the engine or BLAS can index */
    HM_EINVAL = 8,    /* malformed descriptor or layout (an internal bug) */
    HM_EINTR = 9      /* stopped by the host's interrupt check (hm_set_interrupt_check) */
} hm_status;

/* A short, static, human-readable description of a status. */
const char *hm_status_string(hm_status s);

#endif
