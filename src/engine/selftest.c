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
    hm_ctrl ctl = {0.0, 1e-12, 100};
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
    double big[65536];
    if (wl > 65536) {
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
