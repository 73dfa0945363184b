/*
 * selftest_conjugate.c: the C unit tests of the Categorical-Dirichlet
 * harmonium (conjugate.c), hm_catdir_selftest, registered in selftest.c.
 * The fixed likelihood comes from conjugate.h; everything the tests
 * compare with is computed here (quadrature, sampling, closed forms).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conjugate.h"
#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

// --- self-test -------------------------------------------------------------------

// The shared test generator and comparisons (selftest_util.h): the
// Dirichlet sampler draws uniforms and gammas from it, so the test needs no
// host RNG, and its state lives in the caller's frame.

#define CHECK(cond, ...) HM_ST_CHECK_BUF(msg, len, cond, __VA_ARGS__)

enum {
    CD_K = 4,
    CD_DIM = (CD_K - 1) + (CD_K - 1) * CD_K + CD_K,
    CD_WORK = 16384,
    CD_ROWS = 3000,
    CD_DRAWS = 20000,
    CD_BATCH = 1000,
    CD_QUAD = 20000
};

// Descriptors for Categorical(k) / Dirichlet(k) and theta at prior alpha.
static int cd_setup(int k, hm_family *obs, hm_family *lat, hm_harmonium *h) {
    return hm_family_init(obs, HM_FAM_CATEGORICAL, k, 0, 0) == HM_OK &&
           hm_family_init(lat, HM_FAM_DIRICHLET, k, 0, 0) == HM_OK &&
           hm_hm_init(h, HM_HM_CATEGORICAL_DIRICHLET, obs, lat) == HM_OK;
}

static void cd_theta(const hm_harmonium *h, const double *alpha, double *theta) {
    hm_catdir_likelihood(h, theta);
    double *thz = theta + catdir_lat_offset(h);
    for (int j = 0; j < h->mz; j++) {
        thz[j] = alpha[j] + (j == 0 ? 1.0 : 0.0);
    }
}

/*
 * K = 2 by quadrature: with t = z_1 ~ Beta(alpha_1, alpha_0) and z_0 =
 * 1 - t, the mean coordinates are E[t] (observable), E[t log(1 - t)] and
 * E[t log t] (the one cross row, i = 1), and E[log(1 - t)], E[log t].
 * Composite Simpson on (0, 1) with CD_QUAD intervals; alpha > 2 makes
 * every integrand vanish at both ends with a bounded first derivative, so
 * the rule's error is far below the 1e-8 tolerance.
 */
static int cd_check_beta(char *msg, size_t len) {
    hm_family obs, lat;
    hm_harmonium h;
    CHECK(cd_setup(2, &obs, &lat, &h), "K = 2 descriptor init");
    const double a[2] = {3.1, 2.385};
    double theta[1 + 2 + 2], eta[5], work[256];
    CHECK(hm_hm_work_len(&h) <= 256, "K = 2 work_len");
    cd_theta(&h, a, theta);
    CHECK(hm_hm_to_mean(&h, theta, eta, work) == HM_OK, "K = 2 to_mean failed");
    const double lnorm = hm_lgamma(a[0] + a[1]) - hm_lgamma(a[0]) - hm_lgamma(a[1]);
    double q[5] = {0.0, 0.0, 0.0, 0.0, 0.0};
    const double step = 1.0 / CD_QUAD;
    for (int s = 1; s < CD_QUAD; s++) {
        const double t = s * step, l1 = log(t), l0 = log1p(-t);
        const double dens = exp(lnorm + (a[1] - 1.0) * l1 + (a[0] - 1.0) * l0);
        const double wgt = (s % 2 == 1 ? 4.0 : 2.0) * step / 3.0 * dens;
        q[0] += wgt * t;
        q[1] += wgt * t * l0;
        q[2] += wgt * t * l1;
        q[3] += wgt * l0;
        q[4] += wgt * l1;
    }
    for (int i = 0; i < 5; i++) {
        CHECK(fabs(eta[i] - q[i]) < 1e-8, "K = 2 mean coordinate %d: %.12g, quadrature %.12g", i,
              eta[i], q[i]);
    }
    return 0;
}

int hm_catdir_selftest(char *msg, size_t len) {
    hm_family obs, lat, bad_lat;
    hm_harmonium h, hb;
    CHECK(cd_setup(CD_K, &obs, &lat, &h), "descriptor init");
    CHECK(h.mx == CD_K - 1 && h.mz == CD_K && hm_hm_dim(&h) == CD_DIM, "layout");
    CHECK(hm_hm_post_len(&h) == CD_K, "post_len");
    // Families that do not match: K differs, or the latent is not Dirichlet.
    CHECK(hm_family_init(&bad_lat, HM_FAM_DIRICHLET, CD_K + 1, 0, 0) == HM_OK &&
              hm_hm_init(&hb, HM_HM_CATEGORICAL_DIRICHLET, &obs, &bad_lat) == HM_EINVAL,
          "mismatched K accepted");
    CHECK(hm_hm_init(&hb, HM_HM_CATEGORICAL_DIRICHLET, &lat, &lat) == HM_EINVAL,
          "Dirichlet observable accepted");
    double work[CD_WORK];
    CHECK(hm_hm_work_len(&h) <= CD_WORK && hm_estep_work_len(&h, 2) <= CD_WORK &&
              hm_hm_sample_work_len(&h, CD_BATCH) <= CD_WORK && hm_hm_fold_work_len(&h) <= CD_WORK,
          "work lengths");

    const double alpha[CD_K] = {0.73, 2.385, 1.1, 0.41};
    double A = 0.0;
    for (int j = 0; j < CD_K; j++) {
        A += alpha[j];
    }
    double theta[CD_DIM], rho[CD_K], chi, prior[CD_K], psi;
    cd_theta(&h, alpha, theta);
    CHECK(hm_hm_check_natural(&h, theta, work) == HM_OK, "valid theta rejected");
    CHECK(hm_hm_rho_chi(&h, theta, rho, &chi, work) == HM_OK, "rho_chi failed");
    CHECK(rho[0] == -1.0 && rho[1] == 0.0 && rho[2] == 0.0 && rho[3] == 0.0 && chi == 0.0,
          "rho or chi");
    CHECK(hm_hm_prior(&h, theta, prior, work) == HM_OK, "prior failed");
    for (int j = 0; j < CD_K; j++) {
        // alpha_0 went through theta_Z[0] = alpha_0 + 1: one rounding of 1.
        CHECK(hm_st_near(prior[j], alpha[j], 2e-16), "prior %d: %.17g vs %.17g", j, prior[j],
              alpha[j]);
    }
    double psi_dir;
    CHECK(hm_fam_log_partition(&lat, prior, &psi_dir, work) == HM_OK &&
              hm_hm_log_partition(&h, theta, &psi, work) == HM_OK && psi == psi_dir,
          "log-partition is not psi_Dir(alpha)");

    // The conjugation identity psi_X(theta_X + W log z) = rho . log z + chi
    // at random points of the simplex, including one with z_0 = 1e-12.
    {
        hm_st_rng state;
        hm_rng rng;
        hm_st_rng_init(&state, 31415926ull, &rng);
        for (int r = 0; r < 50; r++) {
            double z[CD_K], lz[CD_K], tot = 0.0, lik[CD_K - 1], psix, rhs = chi;
            for (int j = 0; j < CD_K; j++) {
                z[j] = rng.exp(rng.ctx);
                tot += z[j];
            }
            for (int j = 0; j < CD_K; j++) {
                z[j] /= tot;
            }
            if (r == 0) {
                z[0] = 1e-12;
                z[1] = 1.0 - 1e-12 - z[2] - z[3];
            }
            for (int j = 0; j < CD_K; j++) {
                lz[j] = log(z[j]);
                rhs += rho[j] * lz[j];
            }
            const double *W = theta + h.mx;
            for (int i = 0; i < h.mx; i++) {
                lik[i] = theta[i];
                for (int j = 0; j < CD_K; j++) {
                    lik[i] += W[(size_t)i * CD_K + (size_t)j] * lz[j];
                }
            }
            CHECK(hm_fam_log_partition(&obs, lik, &psix, work) == HM_OK, "psi_X failed");
            CHECK(hm_st_near(psix, rhs, 1e-13), "conjugation identity at draw %d: %.17g vs %.17g",
                  r, psix, rhs);
        }
    }

    // The E-step on the K categories weighted by p(x) = alpha_x / A: the
    // posterior of row x is alpha + e_x, log p(x) is the generic
    // theta_X . s_X + psi_Z(posterior) - psi - chi and exp(log p) sums to
    // 1, and the weighted statistics are sum_x p(x) E[s(x, z) | x] =
    // E[s(x, z)], the mean coordinates.
    double eta[CD_DIM];
    CHECK(hm_hm_to_mean(&h, theta, eta, work) == HM_OK, "to_mean failed");
    {
        double x[CD_K], wx[CD_K], stats[CD_DIM + 2], logp[CD_K], post[CD_K * CD_K];
        for (int i = 0; i < CD_K; i++) {
            x[i] = (double)i;
            wx[i] = alpha[i] / A;
        }
        hm_data data = {x, CD_K, CD_K, wx};
        CHECK(hm_estep(&h, theta, &data, NULL, stats, logp, post, 1, work) == HM_OK,
              "E-step failed");
        double ptot = 0.0;
        for (int i = 0; i < CD_K; i++) {
            double ap[CD_K], psip;
            for (int j = 0; j < CD_K; j++) {
                ap[j] = alpha[j] + (i == j ? 1.0 : 0.0);
                CHECK(hm_st_near(post[(size_t)j * CD_K + (size_t)i], ap[j], 1e-15),
                      "posterior after x = %d, entry %d", i, j);
            }
            hm_fam_log_partition(&lat, ap, &psip, work);
            CHECK(hm_st_near(logp[i], psip - psi - chi, 1e-13), "log p(x = %d): %.17g vs %.17g", i,
                  logp[i], psip - psi - chi);
            CHECK(hm_st_near(logp[i], log(alpha[i] / A), 1e-14),
                  "log p(x = %d) is not log(alpha_x / A)", i);
            ptot += exp(logp[i]);
        }
        CHECK(fabs(ptot - 1.0) < 1e-14, "p(x) sums to %.17g", ptot);
        CHECK(hm_st_near(stats[CD_DIM + 1], 1.0, 1e-15), "weight slot");
        for (int i = 0; i < CD_DIM; i++) {
            CHECK(hm_st_near(stats[i] / stats[CD_DIM + 1], eta[i], 1e-13),
                  "E-step statistics %d: %.17g vs to_mean %.17g", i, stats[i], eta[i]);
        }
        // Statuses: a code outside 0..K-1, and given posteriors.
        double xb[CD_K] = {0.0, 1.0, 4.0, 2.0};
        hm_data db = {xb, CD_K, CD_K, NULL};
        CHECK(hm_estep(&h, theta, &db, NULL, stats, NULL, NULL, 1, work) == HM_EDOM,
              "code out of range accepted");
        CHECK(hm_estep(&h, theta, &data, post, stats, NULL, NULL, 1, work) == HM_EINVAL,
              "given posteriors accepted");
    }

    // E-step thread invariance on pseudo-random codes (several blocks).
    {
        double xs[CD_ROWS];
        uint64_t s = 12345u;
        for (int i = 0; i < CD_ROWS; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            xs[i] = (double)((s >> 33) % CD_K);
        }
        hm_data data = {xs, CD_ROWS, CD_ROWS, NULL};
        double st1[CD_DIM + 2], st2[CD_DIM + 2];
        CHECK(hm_estep(&h, theta, &data, NULL, st1, NULL, NULL, 1, work) == HM_OK &&
                  hm_estep(&h, theta, &data, NULL, st2, NULL, NULL, 2, work) == HM_OK,
              "E-step failed");
        CHECK(memcmp(st1, st2, sizeof st1) == 0, "E-step differs between 1 and 2 threads");
    }

    // The fold: after each observation the posterior is alpha plus the
    // running counts (up to the rounding of those additions).
    {
        enum { T = 13 };
        const double seq[T] = {2, 0, 1, 1, 3, 2, 2, 0, 1, 3, 3, 3, 1};
        double out[T * CD_K], cnt[CD_K] = {0.0, 0.0, 0.0, 0.0};
        CHECK(hm_hm_posterior_fold(&h, theta, seq, T, out, work) == HM_OK, "fold failed");
        for (int t = 0; t < T; t++) {
            cnt[(int)seq[t]] += 1.0;
            for (int j = 0; j < CD_K; j++) {
                CHECK(hm_st_near(out[t * CD_K + j], alpha[j] + cnt[j], 1e-15),
                      "fold row %d, entry %d: %.17g vs %.17g", t, j, out[t * CD_K + j],
                      alpha[j] + cnt[j]);
            }
        }
        const double bad_seq[2] = {1.0, 1.5};
        CHECK(hm_hm_posterior_fold(&h, theta, bad_seq, 2, out, work) == HM_EDOM,
              "fold accepted a non-integer code");
    }

    // The M-step recovers the prior: to_natural(to_mean(theta)) = theta.
    {
        double back[CD_DIM];
        int bad = 0;
        hm_ctrl ctl = {0.0, 1e-13, 200, 0.0, 0.0};
        CHECK(hm_hm_to_natural(&h, eta, back, work, &ctl, &bad) == HM_OK && bad == -1,
              "to_natural failed");
        for (int i = 0; i < CD_DIM; i++) {
            CHECK(hm_st_near(back[i], theta[i], 1e-7), "round trip differs at %d: %.17g vs %.17g",
                  i, back[i], theta[i]);
        }
    }

    // Domain statuses: a perturbed likelihood, a non-positive prior.
    {
        double tb[CD_DIM];
        memcpy(tb, theta, sizeof tb);
        tb[0] = 1e-300;
        CHECK(hm_hm_check_natural(&h, tb, work) == HM_EDOM &&
                  hm_hm_rho_chi(&h, tb, rho, &chi, work) == HM_EDOM,
              "theta_X != 0 accepted");
        memcpy(tb, theta, sizeof tb);
        tb[h.mx + CD_K + 2] = 1e-9;
        CHECK(hm_hm_check_natural(&h, tb, work) == HM_EDOM, "perturbed W accepted");
        memcpy(tb, theta, sizeof tb);
        tb[catdir_lat_offset(&h)] = 1.0;
        CHECK(hm_hm_check_natural(&h, tb, work) == HM_EDOM, "alpha_0 = 0 accepted");
        memcpy(tb, theta, sizeof tb);
        tb[catdir_lat_offset(&h) + 2] = -0.5;
        CHECK(hm_hm_check_natural(&h, tb, work) == HM_EDOM, "negative alpha accepted");
    }

    // Sampling: category frequencies against alpha / A (standard errors
    // below 0.0035 at 20000 draws, so 0.02 is a loose but telling bound),
    // and every z on the open simplex. Drawn in batches to bound the
    // sampler's scratch.
    {
        double xs[CD_BATCH], zs[CD_BATCH * CD_K], freq[CD_K] = {0.0, 0.0, 0.0, 0.0};
        hm_st_rng state;
        hm_rng rng;
        hm_st_rng_init(&state, 27182818ull, &rng);
        for (int b = 0; b < CD_DRAWS / CD_BATCH; b++) {
            CHECK(hm_hm_sample(&h, theta, CD_BATCH, &rng, xs, zs, work) == HM_OK, "sample failed");
            for (int r = 0; r < CD_BATCH; r++) {
                CHECK(hm_fam_check_data(&lat, zs + (size_t)r * CD_K) == HM_OK,
                      "draw %d off the simplex", r);
                CHECK(hm_fam_check_data(&obs, xs + r) == HM_OK, "code %d out of range", r);
                freq[(int)xs[r]] += 1.0 / CD_DRAWS;
            }
        }
        for (int j = 0; j < CD_K; j++) {
            CHECK(fabs(freq[j] - alpha[j] / A) < 0.02, "frequency of %d: %.4f vs %.4f", j, freq[j],
                  alpha[j] / A);
        }
    }
    return cd_check_beta(msg, len);
}
