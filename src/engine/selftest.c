/*
 * selftest.c: the engine's C unit tests, as a table of {name, function}.
 * testthat runs each entry as its own test (tests/testthat/test-engine-c.R)
 * through ffi_selftest_list / ffi_selftest_run; tools/engine-check builds
 * the same table under sanitizers.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_specfun.h"
#include "selftest.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

// --- harmonium-level checks --------------------------------------------------

// A 3-component mixture of bivariate full-covariance normals: the
// conjugation identity at every class, to_natural(to_mean(theta)) = theta,
// and E-step statistics equal for 1 and 2 threads bit for bit.
static int st_mixture_normal(char *msg, size_t len) {
    hm_family obs, lat;
    hm_harmonium h;
    if (hm_family_init(&obs, HM_FAM_NORMAL, 2, HM_COV_FULL, 0) != HM_OK ||
        hm_family_init(&lat, HM_FAM_CATEGORICAL, 3, 0, 0) != HM_OK ||
        hm_hm_init(&h, HM_HM_MIXTURE, &obs, &lat) != HM_OK) {
        snprintf(msg, len, "descriptor init failed");
        return 1;
    }
    // components: means (0.3, -1.2), (2.1, 0.4), (-1.5, 1.7); precisions
    // [[1.3, 0.2], [0.2, 0.8]] scaled by 1, 2.385, 0.61.
    double comp[3 * 5], prior[2] = {0.35, -0.4};
    const double mu[3][2] = {{0.3, -1.2}, {2.1, 0.4}, {-1.5, 1.7}};
    const double sc[3] = {1.0, 2.385, 0.61};
    for (int k = 0; k < 3; k++) {
        double p00 = 1.3 * sc[k], p01 = 0.2 * sc[k], p11 = 0.8 * sc[k];
        double *c = comp + 5 * k;
        c[0] = p00 * mu[k][0] + p01 * mu[k][1];
        c[1] = p01 * mu[k][0] + p11 * mu[k][1];
        c[2] = -0.5 * p00;
        c[3] = -p01;
        c[4] = -0.5 * p11;
    }
    double theta[5 + 10 + 2], eta[17], back[17], work[4096];
    if (hm_hm_work_len(&h) > 4096 || hm_mix_join(&h, comp, prior, theta, work) != HM_OK) {
        snprintf(msg, len, "join failed");
        return 1;
    }
    double rho[2], chi, psik;
    hm_hm_rho_chi(&h, theta, rho, &chi, work);
    for (int k = 1; k < 3; k++) {
        hm_fam_log_partition(&obs, comp + 5 * k, &psik, work);
        if (fabs(psik - (rho[k - 1] + chi)) > 1e-12) {
            snprintf(msg, len, "conjugation identity fails at class %d", k);
            return 1;
        }
    }
    int bad;
    hm_ctrl ctl = {0.0, 1e-12, 100, 0.0, 0.0};
    if (hm_hm_to_mean(&h, theta, eta, work) != HM_OK ||
        hm_hm_to_natural(&h, eta, back, work, &ctl, &bad) != HM_OK) {
        snprintf(msg, len, "to_mean / to_natural failed");
        return 1;
    }
    for (int i = 0; i < 17; i++) {
        if (fabs(back[i] - theta[i]) > 1e-9 * (1.0 + fabs(theta[i]))) {
            snprintf(msg, len, "round trip differs at %d: %g vs %g", i, back[i], theta[i]);
            return 1;
        }
    }
    // E-step thread invariance on 3000 deterministic pseudo-random rows.
    enum { N = 3000 };
    static const int unused = 0;
    (void)unused;
    double x[2 * N];
    unsigned long long s = 12345u;
    for (int i = 0; i < 2 * N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = 4.0 * ((double)(s >> 11) / 9007199254740992.0) - 2.0;
    }
    hm_data data = {x, N, N, NULL};
    double st1[19], st2[19];
    size_t wl = hm_estep_work_len(&h, 2);
    static double big[131072];
    if (wl > 131072) {
        snprintf(msg, len, "workspace too large for the test");
        return 1;
    }
    if (hm_estep(&h, theta, &data, NULL, st1, NULL, NULL, 1, big) != HM_OK ||
        hm_estep(&h, theta, &data, NULL, st2, NULL, NULL, 2, big) != HM_OK) {
        snprintf(msg, len, "E-step failed");
        return 1;
    }
    if (memcmp(st1, st2, sizeof st1) != 0) {
        snprintf(msg, len, "E-step differs between 1 and 2 threads");
        return 1;
    }
    return 0;
}

// hm_estep's per-row log p(x) and posteriors for a 3-component mixture of
// bivariate full-covariance normals against log sum_k w_k N(x; mu_k, S_k)
// written out with the 2 x 2 inverse and determinant, on rows where the
// reference class 0 dominates and rows where class 1 or 2 wins by tens to
// thousands of nats (a wrong sign in the log-sum-exp shift shows up there);
// and the statistics' log-likelihood slot against the sum of the rows.
static int st_estep_logp(char *msg, size_t len) {
    hm_family obs, lat;
    hm_harmonium h;
    if (hm_family_init(&obs, HM_FAM_NORMAL, 2, HM_COV_FULL, 0) != HM_OK ||
        hm_family_init(&lat, HM_FAM_CATEGORICAL, 3, 0, 0) != HM_OK ||
        hm_hm_init(&h, HM_HM_MIXTURE, &obs, &lat) != HM_OK) {
        snprintf(msg, len, "descriptor init failed");
        return 1;
    }
    enum { K = 3, N = 14, DIM = 5 + 10 + 2 };
    // Class 0 (the reference) has a small weight, so most rows are won by
    // the others.
    const double w[K] = {0.05, 0.35, 0.6};
    const double mu[K][2] = {{0.0, 0.0}, {6.0, -2.0}, {-5.0, 8.0}};
    const double cv[K][3] = {{1.0, 0.3, 0.5}, {2.0, -0.7, 1.5}, {0.4, 0.1, 3.0}}; /* s00, s01, s11 */
    const double rows[N][2] = {
        {0.0, 0.0}, {0.5, -0.3}, {-0.2, 0.4},      /* class 0 */
        {6.0, -2.0}, {5.5, -1.0}, {9.0, -4.0},     /* class 1 */
        {-5.0, 8.0}, {-4.8, 11.0},                 /* class 2 */
        {30.0, -25.0}, {100.0, 100.0}, {-60.0, -3.0},
        {-40.0, 60.0}, {2.0, 3.0}, {1e-3, 7.0}};
    double comp[K * 5], prior[K - 1], inv[K][3], ldet[K];
    for (int k = 0; k < K; k++) {
        double det = cv[k][0] * cv[k][2] - cv[k][1] * cv[k][1];
        inv[k][0] = cv[k][2] / det;
        inv[k][1] = -cv[k][1] / det;
        inv[k][2] = cv[k][0] / det;
        ldet[k] = log(det);
        double *c = comp + 5 * k;
        c[0] = inv[k][0] * mu[k][0] + inv[k][1] * mu[k][1];
        c[1] = inv[k][1] * mu[k][0] + inv[k][2] * mu[k][1];
        c[2] = -0.5 * inv[k][0];
        c[3] = -inv[k][1];
        c[4] = -0.5 * inv[k][2];
    }
    for (int k = 1; k < K; k++) {
        prior[k - 1] = log(w[k] / w[0]);
    }
    double theta[DIM], hwork[4096];
    if (hm_hm_work_len(&h) > 4096 || hm_mix_join(&h, comp, prior, theta, hwork) != HM_OK) {
        snprintf(msg, len, "join failed");
        return 1;
    }
    // The direct computation: l_k = log w_k - log 2 pi - log|S_k| / 2 -
    // (x - mu_k)' S_k^{-1} (x - mu_k) / 2, then the log-sum-exp shifted by
    // the row maximum.
    double ref_lp[N], ref_post[N][K], ref_sum = 0.0;
    int wins_far = 0;
    for (int i = 0; i < N; i++) {
        double l[K], mx = -INFINITY;
        for (int k = 0; k < K; k++) {
            double d0 = rows[i][0] - mu[k][0], d1 = rows[i][1] - mu[k][1];
            double q = inv[k][0] * d0 * d0 + 2.0 * inv[k][1] * d0 * d1 + inv[k][2] * d1 * d1;
            l[k] = log(w[k]) - log(2.0 * M_PI) - 0.5 * ldet[k] - 0.5 * q;
            if (l[k] > mx) {
                mx = l[k];
            }
        }
        double tot = 0.0;
        for (int k = 0; k < K; k++) {
            tot += exp(l[k] - mx);
        }
        ref_lp[i] = mx + log(tot);
        ref_sum += ref_lp[i];
        for (int k = 0; k < K; k++) {
            ref_post[i][k] = exp(l[k] - ref_lp[i]);
        }
        if (l[0] < mx - 20.0) {
            wins_far++;
        }
    }
    if (wins_far < 8) {
        snprintf(msg, len, "test design: only %d rows won by a non-reference class", wins_far);
        return 1;
    }
    // The data, column-major with a leading dimension larger than n.
    enum { LDX = N + 3 };
    double x[2 * LDX];
    for (int i = 0; i < LDX; i++) {
        x[i] = i < N ? rows[i][0] : NAN;
        x[LDX + i] = i < N ? rows[i][1] : NAN;
    }
    hm_data data = {x, N, LDX, NULL};
    static double big[131072];
    for (int nt = 1; nt <= 2; nt++) {
        if (hm_estep_work_len(&h, nt) > 131072) {
            snprintf(msg, len, "workspace too large for the test");
            return 1;
        }
        double stats[DIM + 2], logp[N], post[N * K];
        if (hm_estep(&h, theta, &data, NULL, stats, logp, post, nt, big) != HM_OK) {
            snprintf(msg, len, "E-step failed (%d threads)", nt);
            return 1;
        }
        double sum = 0.0;
        for (int i = 0; i < N; i++) {
            sum += logp[i];
            if (!(fabs(logp[i] - ref_lp[i]) <= 1e-10 * (1.0 + fabs(ref_lp[i])))) {
                snprintf(msg, len, "log p(x) at row %d: %.17g, direct %.17g (%d threads)", i, logp[i],
                         ref_lp[i], nt);
                return 1;
            }
            double ptot = 0.0;
            for (int k = 0; k < K; k++) {
                double p = post[(size_t)k * N + (size_t)i];
                ptot += p;
                if (!(fabs(p - ref_post[i][k]) <= 1e-12)) {
                    snprintf(msg, len, "posterior of class %d at row %d: %.17g, direct %.17g", k, i, p,
                             ref_post[i][k]);
                    return 1;
                }
            }
            if (!(fabs(ptot - 1.0) <= 1e-14)) {
                snprintf(msg, len, "posteriors at row %d sum to %.17g", i, ptot);
                return 1;
            }
        }
        if (!(fabs(stats[DIM] - sum) <= 1e-12 * (1.0 + fabs(sum))) ||
            !(fabs(stats[DIM] - ref_sum) <= 1e-10 * (1.0 + fabs(ref_sum)))) {
            snprintf(msg, len, "log-likelihood slot %.17g, sum of rows %.17g, direct %.17g", stats[DIM], sum,
                     ref_sum);
            return 1;
        }
        if (stats[DIM + 1] != (double)N) {
            snprintf(msg, len, "weight slot %g, expected %d", stats[DIM + 1], N);
            return 1;
        }
        // The latent block of the statistics is the sum of the class 1..K-1
        // responsibilities.
        for (int k = 1; k < K; k++) {
            double rk = 0.0;
            for (int i = 0; i < N; i++) {
                rk += ref_post[i][k];
            }
            if (!(fabs(stats[5 + 10 + k - 1] - rk) <= 1e-12 * N)) {
                snprintf(msg, len, "latent statistic %d: %.17g, direct %.17g", k, stats[5 + 10 + k - 1], rk);
                return 1;
            }
        }
    }
    return 0;
}

// --- the host interrupt check --------------------------------------------------

// A block that adds its row count to its slot.
static hm_status st_count_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    (void)ctx;
    (void)r0;
    (void)tw;
    slot[0] = (double)nr;
    return HM_OK;
}

static int st_interrupt_calls = 0;

// Asks to stop at its second call.
static int st_interrupt_second(void) {
    return ++st_interrupt_calls >= 2;
}

static int st_never(void) {
    return 0;
}

/*
 * hm_run_blocks with a host interrupt check: 100 blocks of 7 rows with one
 * thread are 7 rounds of 16; a check that never fires leaves the sum whole, one
 * that fires at its second call stops after two rounds with HM_EINTR (the
 * sums are then not written), and clearing it restores the plain run.
 */
static int st_interrupt(char *msg, size_t len) {
    const int n = 700, B = 7;
    double stats[1], work[512];
    if (hm_blocks_work_len(1, 0, 1) > 512) {
        snprintf(msg, len, "workspace");
        return 1;
    }
    hm_set_interrupt_check(st_never);
    hm_status st = hm_run_blocks(n, B, 1, 1, 0, st_count_block, NULL, stats, work, NULL);
    if (st != HM_OK || stats[0] != (double)n) {
        hm_set_interrupt_check(NULL);
        snprintf(msg, len, "a check that never fires: status %d, %g rows", (int)st, stats[0]);
        return 1;
    }
    st_interrupt_calls = 0;
    hm_set_interrupt_check(st_interrupt_second);
    st = hm_run_blocks(n, B, 1, 1, 0, st_count_block, NULL, stats, work, NULL);
    hm_set_interrupt_check(NULL);
    if (st != HM_EINTR || st_interrupt_calls != 2) {
        snprintf(msg, len, "a check firing at its second call: status %d, %d calls", (int)st, st_interrupt_calls);
        return 1;
    }
    st = hm_run_blocks(n, B, 1, 1, 0, st_count_block, NULL, stats, work, NULL);
    if (st != HM_OK || stats[0] != (double)n) {
        snprintf(msg, len, "after clearing the check: status %d, %g rows", (int)st, stats[0]);
        return 1;
    }
    return 0;
}

// --- the table ---------------------------------------------------------------

typedef struct selftest_entry {
    const char *name;
    int (*fn)(char *msg, size_t len);
} selftest_entry;

static const selftest_entry table[] = {
    {"specfun", hm_specfun_selftest},
    {"kernel", hm_kernel_selftest},
    {"family normal", hm_fam_normal_selftest},
    {"family categorical", hm_fam_categorical_selftest},
    {"family bernoulli", hm_fam_bernoulli_selftest},
    {"family binomial", hm_fam_binomial_selftest},
    {"family poisson", hm_fam_poisson_selftest},
    {"family compoisson", hm_fam_compoisson_selftest},
    {"family vonmises", hm_fam_vonmises_selftest},
    {"family dirichlet", hm_fam_dirichlet_selftest},
    {"family gamma", hm_fam_gamma_selftest},
    {"family boltzmann", hm_fam_boltzmann_selftest},
    {"mixture of normals: conjugation, round trip, thread invariance", st_mixture_normal},
    {"E-step: per-row log p(x), posteriors and the log-likelihood slot against a direct computation",
     st_estep_logp},
    {"linear Gaussian harmoniums: conjugation, moments, M-step, whitening, E-step", hm_lgm_selftest},
    {"restricted-posterior harmoniums and contrastive divergence", hm_lgm_asym_selftest},
    {"categorical-Dirichlet harmonium: conjugation, posteriors, fold, moments, M-step, sampling",
     hm_catdir_selftest},
    {"diagonal-posterior HMoG: log p(x) and posteriors against the symmetric HMoG, gradient, threads",
     hm_hmog_diag_selftest},
    {"linear dynamical system: closed-form update, exact partial missingness, threads, statuses", hm_lds_selftest},
    {"hidden Markov models: multi-sequence forward-backward against the single-sequence recursions, threads, "
     "mixture log densities, stationary distribution",
     hm_hmm_selftest},
    {"covariance structures: closed forms, fixed points of the iterative M-steps, nesting of the objective, statuses",
     hm_covstruct_selftest},
    {"blocked driver: the host interrupt check stops between rounds with HM_EINTR", st_interrupt},
};

int hm_selftest_count(void) {
    return (int)(sizeof table / sizeof table[0]);
}

const char *hm_selftest_name(int i) {
    return (i >= 0 && i < hm_selftest_count()) ? table[i].name : NULL;
}

int hm_selftest_run(int i, char *msg, size_t len) {
    if (i < 0 || i >= hm_selftest_count()) {
        snprintf(msg, len, "no such self-test");
        return 1;
    }
    msg[0] = '\0';
    return table[i].fn(msg, len);
}
