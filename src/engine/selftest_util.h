/*
 * selftest_util.h: scaffolding shared by the family self-tests
 * (fam_<name>.c, declared in selftest.h; style.md 3.11).
 *
 * Three things every family test needs and used to carry its own copy of:
 *
 *  - a small deterministic random number generator that fills the engine's
 *    host-RNG struct hm_rng, so the sampling checks need no host and give
 *    the same draws on every platform;
 *  - comparisons with an explicit tolerance (hm_st_tol);
 *  - the checks that hold for every exponential family (theory.md 1.1):
 *    to_mean is the gradient of psi, to_natural inverts to_mean, the
 *    Legendre identity phi(eta) = theta . eta - psi(theta), and sample
 *    moments of the statistics agree with to_mean.
 *
 * Every check returns 0 on success and 1 on failure, after writing a
 * message into the buffer of its hm_st_ctx, so a test reads as a chain of
 * `if (check(...)) return 1;`. Tolerances and steps are always arguments:
 * the helpers hold no tolerances of their own.
 *
 * Test code only: nothing outside the self-tests calls these functions.
 */
#ifndef HM_SELFTEST_UTIL_H
#define HM_SELFTEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hm_engine.h"

/* Largest parameter length dim the checks handle (their scratch vectors
 * live on the stack); a larger family fails the check with a message. */
#define HM_ST_MAX_DIM 128

/* Largest chunk * d of draws hm_st_check_moments holds at once. */
#define HM_ST_MAX_DRAW 2048

#if defined(__GNUC__)
#define HM_ST_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define HM_ST_PRINTF(fmt, first)
#endif

// --- the test generator --------------------------------------------------------

/*
 * The generator's state: a splitmix64 counter and the spare variate of the
 * last Box-Muller pair. It lives in the test's stack frame and is reached
 * only through hm_rng.ctx, so no test keeps static state.
 */
typedef struct hm_st_rng {
    uint64_t s;
    int has_spare;
    double spare;
} hm_st_rng;

/*
 * Seeds *state and points every member of *out at the generator:
 *   unif     splitmix64 mapped to (0, 1): 53 random bits offset by half a
 *            unit, so neither 0 nor 1 occurs;
 *   norm     Box-Muller, returning the two variates of each pair in turn;
 *   exp      -log U;
 *   gamma    Marsaglia-Tsang (2000), with the boost U^(1/a) for a < 1;
 *   poisson  inversion by sequential search, means above 30 split in
 *            halves so that e^-mu never underflows;
 *   binom    inversion, walking the pmf by the ratio recurrence
 *            P(k + 1) / P(k) = (n - k) p / ((k + 1) q).
 * Each draw costs O(1) uniforms except poisson (O(mu)) and binom (O(n p)).
 * The same seed gives the same stream on every platform.
 */
void hm_st_rng_init(hm_st_rng *state, uint64_t seed, hm_rng *out);

// --- tolerances ----------------------------------------------------------------

/* How a tolerance scales (see hm_st_tol). */
enum hm_st_scale {
    HM_ST_SCALE_MAX1 = 0, /* |got - want| <= abs + rel * max(1, |got|, |want|) */
    HM_ST_SCALE_WANT = 1, /* |got - want| <  abs + rel * |want| */
    HM_ST_SCALE_GOT = 2   /* |got - want| <  abs + rel * |got| */
};

/*
 * A tolerance for comparing a computed value `got` with a reference `want`:
 * an absolute part, a relative part and what the relative part scales with
 * (enum hm_st_scale). The MAX1 form is inclusive and the others strict,
 * exactly as the family tests were first written, so that moving a test
 * onto the helpers changed none of its bounds. NaN never passes.
 */
typedef struct hm_st_tol {
    double abs;
    double rel;
    int scale;
} hm_st_tol;

/* |got - want| <= r max(1, |got|, |want|): relative, absolute near 0. */
#define HM_ST_NEAR(r) ((hm_st_tol){0.0, (r), HM_ST_SCALE_MAX1})
/* |got - want| < a. */
#define HM_ST_ABS(a) ((hm_st_tol){(a), 0.0, HM_ST_SCALE_WANT})
/* |got - want| < a + r |want|. */
#define HM_ST_REL(a, r) ((hm_st_tol){(a), (r), HM_ST_SCALE_WANT})
/* |got - want| < a + r |got|. */
#define HM_ST_REL_GOT(a, r) ((hm_st_tol){(a), (r), HM_ST_SCALE_GOT})

/* 1 if got is within tol of want (hm_st_tol), else 0. */
int hm_st_within(double got, double want, hm_st_tol tol);

/* 1 if |a - b| <= rtol max(1, |a|, |b|), else 0: hm_st_within with
 * HM_ST_NEAR(rtol), for the many one-off comparisons of the tests. */
int hm_st_near(double a, double b, double rtol);

// --- the test context ----------------------------------------------------------

/*
 * What every check needs besides the family and the parameters it checks:
 * the scratch passed to the family's maps, the control passed to
 * to_natural, a label that prefixes every message (for a test that runs the
 * same checks on several variants of a family, such as the Normal reps),
 * and the message buffer of the self-test.
 *
 *   work   at least work_len(f) doubles for every f the context is used
 *          with; NULL where that is 0.
 *   ctl    passed to to_natural; NULL selects the family's defaults.
 *          neg_entropy always gets NULL (the pure dual at its defaults).
 *   label  a short string such as "rep 1", or NULL for none.
 *   msg, len  the self-test's message buffer and its size in bytes.
 */
typedef struct hm_st_ctx {
    double *work;
    const hm_ctrl *ctl;
    const char *label;
    char *msg;
    size_t len;
} hm_st_ctx;

/*
 * Writes a printf-style message into c->msg (after "label: " when the
 * context has a label), truncated to c->len bytes, and returns 1, so that
 * a test fails with `return hm_st_fail(c, ...)`.
 */
int hm_st_fail(const hm_st_ctx *c, const char *fmt, ...) HM_ST_PRINTF(2, 3);

/* Returns from the enclosing test with a message when cond is false. */
#define HM_ST_CHECK(c, cond, ...)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return hm_st_fail((c), __VA_ARGS__);                                                   \
        }                                                                                          \
    } while (0)

/*
 * HM_ST_CHECK for a test that holds only the self-test's message buffer
 * msg[len], not a context (the harmonium-kind tests, whose checks take
 * (msg, len) through their helpers): writes the printf-style message and
 * returns 1 from the enclosing function when cond is false.
 */
#define HM_ST_CHECK_BUF(msg, len, cond, ...)                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            const hm_st_ctx hm_st_buf_ = {NULL, NULL, NULL, (msg), (len)};                         \
            return hm_st_fail(&hm_st_buf_, __VA_ARGS__);                                           \
        }                                                                                          \
    } while (0)

// --- checks that hold for every family -----------------------------------------

/*
 * log p(x) = theta . s(x) + log mu(x) - psi for one datum x[f->d], with psi
 * = psi(theta) computed by the caller (so sums over a support evaluate it
 * once). NaN, which fails every comparison, when f->dim exceeds
 * HM_ST_MAX_DIM. O(dim) plus the family's stat and log_base.
 */
double hm_st_log_density(const hm_family *f, const double *theta, double psi, const double *x);

/* How the central-difference step of hm_st_check_gradient scales with
 * the coordinate theta_i it moves. */
enum hm_st_step {
    HM_ST_STEP_ABS = 0,  /* h_i = h */
    HM_ST_STEP_REL = 1,  /* h_i = h |theta_i| (for parameters bounded by 0) */
    HM_ST_STEP_MAX1 = 2, /* h_i = h max(1, |theta_i|) */
    HM_ST_STEP_PLUS1 = 3 /* h_i = h (1 + |theta_i|) */
};

/*
 * eta = grad psi(theta): each to_mean coordinate eta_i against the central
 * difference (psi(theta + h_i e_i) - psi(theta - h_i e_i)) / (2 h_i), with
 * h_i from h and step (enum hm_st_step) and got = the difference, want =
 * eta_i compared under tol. The truncation error is O(h^2 psi''') and the
 * rounding error O(eps psi / h), so h near 1e-5..1e-6 and tol near 1e-8
 * suit a smooth psi of moderate size. Fails if a map fails (also at the
 * shifted points). O(dim) evaluations of psi.
 */
int hm_st_check_gradient(
    const hm_st_ctx *c, const hm_family *f, const double *theta, double h, int step, hm_st_tol tol);

/*
 * to_natural(to_mean(theta)) = theta: computes eta = to_mean(theta), then
 * back = to_natural(eta) with c->ctl, and compares got = back_i with want
 * = theta_i under tol, coordinate by coordinate. Fails if a map fails.
 */
int hm_st_check_round_trip(const hm_st_ctx *c,
                           const hm_family *f,
                           const double *theta,
                           hm_st_tol tol);

/*
 * The Legendre identity phi(eta) = theta . eta - psi(theta) at eta =
 * to_mean(theta) (theory.md 1.1): got = neg_entropy(eta), want = theta .
 * eta - psi(theta), compared under tol. Fails if a map fails.
 */
int hm_st_check_legendre(const hm_st_ctx *c,
                         const hm_family *f,
                         const double *theta,
                         hm_st_tol tol);

/*
 * Called by hm_st_check_moments after each chunk with the family and the
 * chunk's `rows` draws, row-major in x[rows * f->d], for checks of a
 * family's own (a range, an autocorrelation); arg is the hm_st_moments
 * member of that name. Returns 0 to go on, or writes a message
 * (hm_st_fail) and returns 1 to fail the check.
 */
typedef int (*hm_st_visit)(
    const hm_st_ctx *c, const hm_family *f, void *arg, const double *x, int rows);

/*
 * A sampling check: how many draws, in what chunks, and how close the mean
 * statistic must come to eta = to_mean(theta).
 *
 *   draws   total number of draws (a multiple of chunk).
 *   chunk   draws per call to sample(), with chunk * d <= HM_ST_MAX_DRAW.
 *           Chunks matter for samplers with per-call setup (the Boltzmann
 *           Gibbs chain burns in once per call).
 *   nsd     if > 0, the mean of each statistic must be within nsd standard
 *           deviations of eta_i (inclusive): sd[i] when sd is not NULL
 *           (an exact sd, such as sqrt(p (1 - p)) for an indicator), else
 *           the sample's own. 0.02 sd is about 4.5 standard errors at
 *           50000 draws.
 *   sd      dim standard deviations, or NULL (see nsd).
 *   tol     if nsd is 0: got = the mean, want = eta_i compared under tol.
 *   visit   optional per-chunk hook (hm_st_visit), with its argument arg.
 */
typedef struct hm_st_moments {
    int draws;
    int chunk;
    double nsd;
    const double *sd;
    hm_st_tol tol;
    hm_st_visit visit;
    void *arg;
} hm_st_moments;

/*
 * Draws m->draws values from the family at theta through rng, in chunks of
 * m->chunk, with c->work as the sampler's scratch. Every draw must pass
 * check_data; the mean of each statistic s_i(x) is then compared with eta_i
 * as m says. rng is left where the draws end, so a test may go on drawing
 * from it. O(draws (d + dim)) plus the sampler.
 */
int hm_st_check_moments(const hm_st_ctx *c,
                        const hm_family *f,
                        const double *theta,
                        hm_rng *rng,
                        const hm_st_moments *m);

#endif
