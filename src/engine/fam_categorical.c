/*
 * fam_categorical.c: the Categorical(K) family (theory.md 2.3).
 *
 * A datum is one 0-based category code stored as a double; K = f->n.
 * Category 0 is the reference: s(x) is the one-hot vector of x without its
 * coordinate 0 (x = 0 maps to the zero vector), so dim = K - 1, and
 * theta_i = log(p_i / p_0). log mu = 0. With a = [0, theta]:
 *   psi = lse(a),   eta_i = p_i = softmax(a)_i (i >= 1),
 *   theta(eta)_i = log(eta_i / p_0), p_0 = 1 - sum eta,
 *   phi = sum_{i=0}^{K-1} p_i log p_i   (0 log 0 = 0).
 * Every exponential is taken after shifting out the largest entry of a,
 * so no theta overflows (theory.md 8, "log-sum-exp").
 *
 * Scratch: K doubles holding a = [0, theta].
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

// x log x with the limit 0 at x = 0 (theory.md 8, "0 log 0").
static double xlogx(double x) {
    return x > 0.0 ? x * log(x) : 0.0;
}

// The reference probability p_0 = 1 - sum eta, or -1 when some eta_i is
// negative or not finite (so callers test a single value).
static double ref_prob(int m, const double *eta) {
    double acc = 0.0;
    for (int i = 0; i < m; i++) {
        if (!(eta[i] >= 0.0) || !isfinite(eta[i])) {
            return -1.0;
        }
        acc += eta[i];
    }
    return 1.0 - acc;
}

// --- tier 0 --------------------------------------------------------------------

static void cat_stat(const hm_family *f, const double *x, double *s) {
    // Compared as doubles, so a code outside the support (never converted
    // to int) simply yields the zero vector.
    const int m = f->n - 1;
    for (int i = 0; i < m; i++) {
        s[i] = (x[0] == (double)(i + 1)) ? 1.0 : 0.0;
    }
}

// The counting measure: log mu = 0.
static double cat_log_base(const hm_family *f, const double *x) {
    (void)f;
    (void)x;
    return 0.0;
}

// --- tier 3 --------------------------------------------------------------------

// psi = lse([0, theta]): the log-sum-exp of hm_specfun shifts out the
// maximum, so psi >= max(0, theta) holds in floating point as well.
static hm_status cat_log_partition(const hm_family *f,
                                   const double *theta,
                                   double *psi,
                                   double *work) {
    const int m = f->n - 1;
    if (!hm_all_finite(theta, m)) {
        return HM_EDOM;
    }
    work[0] = 0.0;
    memcpy(work + 1, theta, (size_t)m * sizeof(double));
    *psi = hm_lse(work, m + 1);
    return HM_OK;
}

// Softmax of [0, theta] with the maximum shifted out: every exponential is
// at most 1 and the normaliser at least 1, so nothing overflows and the
// largest probability is exact to rounding (theory.md 8).
static hm_status cat_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    const int m = f->n - 1;
    (void)work;
    if (!hm_all_finite(theta, m)) {
        return HM_EDOM;
    }
    double mx = 0.0;
    for (int i = 0; i < m; i++) {
        mx = theta[i] > mx ? theta[i] : mx;
    }
    double z = exp(-mx);
    for (int i = 0; i < m; i++) {
        z += exp(theta[i] - mx);
    }
    for (int i = 0; i < m; i++) {
        eta[i] = exp(theta[i] - mx) / z;
    }
    return HM_OK;
}

// --- tier 4 --------------------------------------------------------------------

// theta_i = log eta_i - log p_0, defined only strictly inside the simplex:
// HM_EDOM if some probability is <= 0 or the sum reaches 1. With a boundary
// floor (hm_ctrl) every probability, the reference one included, is first
// raised to at least the floor; the shift is at most K floor, far below any
// statistical precision, and the result is then renormalised implicitly by
// taking logs relative to p_0.
static hm_status cat_to_natural(const hm_family *f,
                                const double *eta,
                                double *theta,
                                double *work,
                                const hm_ctrl *ctl) {
    const int m = f->n - 1;
    (void)work;
    const double fl = hm_ctrl_floor(ctl);
    double p0 = ref_prob(m, eta);
    if (fl > 0.0) {
        // Means a rounding error below zero are accepted with a floor (a
        // mixture component's statistics come from differences of sums).
        p0 = 1.0;
        for (int i = 0; i < m; i++) {
            if (!(eta[i] >= -fl) || !isfinite(eta[i])) {
                return HM_EDOM;
            }
            p0 -= eta[i];
        }
        if (p0 >= -fl && p0 < fl) {
            p0 = fl;
        }
    }
    if (!(p0 > 0.0)) {
        return HM_EDOM;
    }
    for (int i = 0; i < m; i++) {
        if (!(eta[i] > 0.0) && !(fl > 0.0)) {
            return HM_EDOM;
        }
    }
    const double lp0 = log(p0);
    for (int i = 0; i < m; i++) {
        theta[i] = log(eta[i] < fl ? fl : eta[i]) - lp0;
    }
    return HM_OK;
}

// phi = sum p log p over all K categories; finite on the closed simplex
// (boundary points included), HM_EDOM outside it.
static hm_status cat_neg_entropy(const hm_family *f,
                                 const double *eta,
                                 double *phi,
                                 double *work,
                                 const hm_ctrl *ctl) {
    const int m = f->n - 1;
    (void)work;
    (void)ctl;
    const double p0 = ref_prob(m, eta);
    if (!(p0 >= 0.0)) {
        return HM_EDOM;
    }
    double acc = xlogx(p0);
    for (int i = 0; i < m; i++) {
        acc += xlogx(eta[i]);
    }
    *phi = acc;
    return HM_OK;
}

// --- tier 2 --------------------------------------------------------------------

/*
 * Inverse CDF: one uniform per draw, compared against the running sum of
 * p_0, p_1, ... (theory.md 2.3, the Haskell sampler). The probabilities are
 * computed once into the scratch (p_0 first). If rounding leaves the total
 * a hair below u, the last category with positive probability is taken.
 */
static hm_status cat_sample(const hm_family *f,
                            const double *theta,
                            int n,
                            hm_rng *rng,
                            double *x,
                            double *work) {
    const int K = f->n;
    if (n < 0) {
        return HM_EINVAL;
    }
    hm_status st = cat_to_mean(f, theta, work + 1, NULL);
    if (st != HM_OK) {
        return st;
    }
    double rest = 1.0;
    int last = 0;
    for (int i = 1; i < K; i++) {
        rest -= work[i];
        last = work[i] > 0.0 ? i : last;
    }
    work[0] = rest > 0.0 ? rest : 0.0;
    if (last == 0 && !(work[0] > 0.0)) {
        return HM_EDOM;
    }
    for (int r = 0; r < n; r++) {
        const double u = rng->unif(rng->ctx);
        double cum = 0.0;
        int k = last;
        for (int i = 0; i < K; i++) {
            cum += work[i];
            if (u < cum) {
                k = i;
                break;
            }
        }
        x[r] = (double)k;
    }
    return HM_OK;
}

// --- validity checks and scratch -----------------------------------------------

// Every finite theta is valid: the natural domain is all of R^(K-1).
static hm_status cat_check_natural(const hm_family *f, const double *theta) {
    return hm_all_finite(theta, f->n - 1) ? HM_OK : HM_EDOM;
}

// An integer code in 0..K-1.
static hm_status cat_check_data(const hm_family *f, const double *x) {
    const double v = x[0];
    if (!isfinite(v) || v != floor(v) || v < 0.0 || v > (double)(f->n - 1)) {
        return HM_EDOM;
    }
    return HM_OK;
}

// K doubles: [0, theta] for the log-sum-exp, or the K probabilities of
// the sampler.
static size_t cat_work_len(const hm_family *f) {
    return (size_t)f->n;
}

const hm_family_ops hm_fam_categorical_ops = {
    "categorical",
    cat_stat,
    cat_log_base,
    cat_log_partition,
    cat_to_mean,
    cat_to_natural,
    cat_neg_entropy,
    cat_sample,
    cat_check_natural,
    cat_check_data,
    cat_work_len,
    1,
};

// --- self-test -----------------------------------------------------------------
// K = 4 with high-entropy parameters: normalisation over the support, the
// duality identities, overflow-free maps at huge theta, domain statuses,
// and inverse-CDF sampling frequencies through the shared test generator
// (selftest_util.h).

int hm_fam_categorical_selftest(char *msg, size_t msglen) {
    const hm_family_ops *ops = &hm_fam_categorical_ops;
    double w[16];
    const hm_st_ctx c = {w, NULL, NULL, msg, msglen};
    hm_family f;
    HM_ST_CHECK(&c,
                hm_family_init(&f, HM_FAM_CATEGORICAL, 4, 0, 0) == HM_OK && f.dim == 3 && f.d == 1,
                "descriptor init failed");
    const double th[3] = {0.61, -1.2, 2.385};
    double psi, eta[3], back[3], phi;
    HM_ST_CHECK(&c,
                ops->work_len(&f) <= 16 && ops->log_partition(&f, th, &psi, w) == HM_OK &&
                    ops->to_mean(&f, th, eta, w) == HM_OK,
                "a map failed at a valid theta");
    // Normalisation: exp(log p(x)) summed over the K codes is 1; and psi
    // against its definition log(1 + sum e^theta) (safe at these values).
    double tot = 0.0;
    for (int k = 0; k < 4; k++) {
        double xk = (double)k;
        tot += exp(hm_st_log_density(&f, th, psi, &xk));
    }
    const double psi_ref = log(1.0 + exp(0.61) + exp(-1.2) + exp(2.385));
    HM_ST_CHECK(&c, hm_st_near(tot, 1.0, 1e-13) && hm_st_near(psi, psi_ref, 1e-14),
                "normalisation %.15g, psi %.15g vs %.15g", tot, psi, psi_ref);
    // to_natural(to_mean(theta)) = theta, the Legendre identity phi(eta) =
    // theta . eta - psi(theta), and eta = a central difference of psi.
    if (hm_st_check_round_trip(&c, &f, th, HM_ST_NEAR(1e-10)) ||
        hm_st_check_legendre(&c, &f, th, HM_ST_NEAR(1e-12)) ||
        hm_st_check_gradient(&c, &f, th, 1e-5, HM_ST_STEP_ABS, HM_ST_NEAR(1e-8))) {
        return 1;
    }
    // Huge natural parameters: no overflow. Two classes at 800 and 799
    // share the mass in the ratio e : 1, which a naive exp would turn
    // into Inf / Inf.
    const double big[3] = {800.0, -3.0, 799.0};
    double ebig[3];
    HM_ST_CHECK(&c,
                ops->log_partition(&f, big, &psi, w) == HM_OK &&
                    ops->to_mean(&f, big, ebig, w) == HM_OK &&
                    hm_st_near(psi, 800.0 + log1p(exp(-1.0)), 1e-14) &&
                    hm_st_near(ebig[0], 1.0 / (1.0 + exp(-1.0)), 1e-14) && isfinite(ebig[1]),
                "overflow at large theta: psi %.15g", psi);
    // Domain statuses: to_natural needs the open simplex, neg_entropy the
    // closed one (a boundary point has finite phi); codes must be integers
    // in 0..K-1.
    const double e_zero[3] = {0.2, 0.0, 0.3}, e_full[3] = {0.5, 0.25, 0.25};
    const double e_neg[3] = {0.5, -0.1, 0.3}, nan3[3] = {0.1, NAN, 0.2};
    const double codes[6] = {0.0, 3.0, 2.5, -1.0, 4.0, NAN};
    HM_ST_CHECK(&c,
                ops->to_natural(&f, e_zero, back, w, NULL) == HM_EDOM &&
                    ops->to_natural(&f, e_full, back, w, NULL) == HM_EDOM &&
                    ops->neg_entropy(&f, e_neg, &phi, w, NULL) == HM_EDOM &&
                    ops->neg_entropy(&f, e_full, &phi, w, NULL) == HM_OK &&
                    hm_st_near(phi, 0.5 * log(0.5) + 0.5 * log(0.25), 1e-14) &&
                    ops->check_natural(&f, nan3) == HM_EDOM && ops->check_natural(&f, th) == HM_OK,
                "domain statuses wrong");
    for (int k = 0; k < 6; k++) {
        hm_status want = k < 2 ? HM_OK : HM_EDOM;
        HM_ST_CHECK(&c, ops->check_data(&f, codes + k) == want, "check_data wrong for code %g",
                    codes[k]);
    }
    // K = 1, the one-class latent of a one-component mixture (dim 0):
    // psi = 0, phi = 0, every draw is class 0, and only code 0 is data.
    hm_family f1;
    double one = 0.0, x1[4] = {1.0, 1.0, 1.0, 1.0};
    hm_st_rng g1;
    hm_rng rng1;
    hm_st_rng_init(&g1, 5u, &rng1);
    HM_ST_CHECK(&c,
                hm_family_init(&f1, HM_FAM_CATEGORICAL, 1, 0, 0) == HM_OK && f1.dim == 0 &&
                    ops->log_partition(&f1, th, &psi, w) == HM_OK && psi == 0.0 &&
                    ops->to_natural(&f1, th, back, w, NULL) == HM_OK &&
                    ops->neg_entropy(&f1, th, &phi, w, NULL) == HM_OK && phi == 0.0 &&
                    ops->sample(&f1, th, 4, &rng1, x1, w) == HM_OK && x1[0] == 0.0 &&
                    x1[3] == 0.0 && ops->check_data(&f1, &one) == HM_OK &&
                    ops->check_data(&f1, x1 + 1) == HM_OK &&
                    ops->check_data(&f1, codes + 1) == HM_EDOM,
                "the one-class family is wrong");
    // Sampling frequencies within 0.02 standard deviations of each
    // indicator (about 4.5 standard errors at 50000 draws); every sampled
    // code must be in the support.
    double sd[3];
    for (int i = 0; i < 3; i++) {
        sd[i] = sqrt(eta[i] * (1.0 - eta[i]));
    }
    hm_st_rng g;
    hm_rng rng;
    hm_st_rng_init(&g, 987654321u, &rng);
    const hm_st_moments mom = {50000, 500, 0.02, sd, HM_ST_ABS(0.0), NULL, NULL};
    return hm_st_check_moments(&c, &f, th, &rng, &mom);
}
