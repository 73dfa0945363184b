/*
 * hm_specfun.h: special functions and elementwise kernels used by the
 * families and the E-step. Pure C99, thread-safe (no static state, no
 * global side effects such as glibc's signgam), no R headers.
 */
#ifndef HM_SPECFUN_H
#define HM_SPECFUN_H

#include <stddef.h>

/* log Gamma(x) for x > 0 (thread-safe; NaN for x <= 0). */
double hm_lgamma(double x);

/* Digamma psi(x) = d/dx log Gamma(x), x > 0. */
double hm_digamma(double x);

/* Trigamma psi'(x), x > 0. */
double hm_trigamma(double x);

/* log of the binomial coefficient C(n, k), 0 <= k <= n. */
double hm_lchoose(double n, double k);

/* log I0(x), the modified Bessel function of order 0, for x >= 0; exact to
 * about 1e-15 relative and free of overflow for any finite x. */
double hm_log_i0(double x);

/* The ratio A(x) = I1(x) / I0(x) for x >= 0 (A(0) = 0). Its derivative is
 * A'(x) = 1 - A(x) / x - A(x)^2 (limit 1/2 at 0). */
double hm_bessel_ratio(double x);

/* softplus log(1 + e^a) without overflow or loss of precision. */
double hm_log1pexp(double a);

/* logistic sigma(a) = 1 / (1 + e^-a) without overflow. */
double hm_sigmoid(double a);

/* log sum_i exp(a_i) with the maximum shifted out; -Inf for n = 0. */
double hm_lse(const double *a, int n);

/* C unit test of this module (selftest.c table). */
int hm_specfun_selftest(char *msg, size_t len);

#endif
