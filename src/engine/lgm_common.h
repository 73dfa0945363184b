/*
 * lgm_common.h: internal to the linear-Gaussian kinds, HM_HM_LGM and
 * HM_HM_LGM_DIAG (lgm.c), HM_HM_BOLTZMANN_LGM and HM_HM_BOLTZMANN_LGM_MF
 * (boltzmann_lgm.c), and their self-tests (selftest_lgm.c). What the four
 * kinds share lives in lgm_common.c: the Normal observable likelihood in
 * loading form (hm_lgm_like_factor) and the conjugation, moments, M-step,
 * validity and sampling written once over the latent family, and the
 * observable half of the blocked E-step. No generic file includes this
 * header: the engine reaches the kinds through their hm_kind_ops tables.
 */
#ifndef HM_LGM_COMMON_H
#define HM_LGM_COMMON_H

#include <math.h>
#include <stddef.h>

#include "hm_engine.h"

// --- layout helpers ------------------------------------------------------------

// Flat index of (i, j), i <= j, in a packed upper triangle of order d.
static inline size_t lgm_pidx(int d, int i, int j) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)j;
}

// Element (i, j) of a d x d column-major matrix.
static inline size_t midx(int d, int i, int j) { return (size_t)j * (size_t)d + (size_t)i; }

// Carves len doubles off the front of the workspace cursor.
static inline double *take(double **cur, size_t len) {
    double *p = *cur;
    *cur += len;
    return p;
}

static inline int all_finite(const double *v, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (!isfinite(v[i])) {
            return 0;
        }
    }
    return 1;
}

// 1 if the prior family (and so rho and the prior's moments) is a
// Boltzmann machine: the symmetric Boltzmann kind and its mean-field
// (Bernoulli-posterior) restriction.
static inline int is_boltzmann(const hm_harmonium *h) {
    return h->kind == HM_HM_BOLTZMANN_LGM || h->kind == HM_HM_BOLTZMANN_LGM_MF;
}

// Offset of theta_Z (or eta_Z) in a parameter vector.
static inline size_t lat_offset(const hm_harmonium *h) {
    return (size_t)h->obs->dim + (size_t)h->mx * (size_t)h->mz;
}

// --- the likelihood in loading form ------------------------------------------------

/*
 * The likelihood (theta_X, W) in loading form x | z ~ N(A z + b, Sigma_x),
 * with the factor of P_x kept for the maps that need Sigma_x itself.
 */
typedef struct lgm_like {
    double *fac;   /* full rep: chol(P_x), p x p column-major; else the p precisions */
    double *b;     /* Sigma_x theta_x (p) */
    double *A;     /* Sigma_x W (p x q, row-major) */
    double logdet; /* log |P_x| */
    double chi;    /* psi_X(theta_X) = 1/2 theta_x' b - 1/2 log |P_x| */
} lgm_like;

/*
 * Factors P_x from theta_xx in the observable rep and solves for b and A,
 * carving L's arrays from *cur (lgm_common.c has the details). HM_EDOM for
 * non-finite entries, HM_ENOTPD unless P_x is positive definite.
 */
hm_status hm_lgm_like_factor(const hm_harmonium *h, const double *theta, lgm_like *L, double **cur);

// --- latent coordinates ----------------------------------------------------------------

// The latent mean m (q) and second moment S (q x q column-major) from the
// latent block of mean coordinates in the prior family's coordinates.
void hm_lgm_lat_moments(const hm_harmonium *h, const double *etaz, double *m, double *S);

// The q x q column-major precision of a full Normal(q) from its packed
// second-order natural parameters th2.
void hm_lgm_lat_precision(int q, const double *th2, double *a);

// --- sampling helpers ------------------------------------------------------------------

// The noise factor of x | z (carved from *cur into *sf) and one draw of x
// given z with the noise eps (p) as scratch.
hm_status hm_lgm_noise_factor(const hm_harmonium *h, const lgm_like *L, double **cur, double **sf);
void hm_lgm_draw_x(const hm_harmonium *h,
                   const lgm_like *L,
                   const double *sf,
                   const double *z,
                   hm_rng *rng,
                   double *eps,
                   double *x);

// The 2^q cumulative state probabilities of a Boltzmann machine with
// packed couplings th, and the state at uniform u by inversion.
void hm_lgm_bm_cdf(int q, const double *th, double *cdf);
void hm_lgm_bm_draw(int q, const double *cdf, double u, double *z);

// --- the hooks shared by the four kinds (hm_kind_ops; same contracts as the
// hm_hm_* functions of the same verb) ------------------------------------------------

int hm_lgm_dim(const hm_harmonium *h);
int hm_lgm_post_len(const hm_harmonium *h);
int hm_lgm_z_len(const hm_harmonium *h);
int hm_lgm_rho_len(const hm_harmonium *h);

/*
 * Adds embed(theta_Z) to prior[prr.dim] (theory.md 1.3): lgm_diag puts the
 * location on the location and the q diagonal second-order parameters on
 * the diagonal of the packed full block; boltzmann_lgm_mf puts the q
 * biases on the diagonal of the packed couplings. The symmetric kinds add
 * theta_Z elementwise (the identity embedding). O(q).
 */
void hm_lgm_embed_latent(const hm_harmonium *h, const double *theta_z, double *prior);

/* Checks the families for h->kind and sets mx = p, mz = q and h->prr. */
hm_status hm_lgm_init(hm_harmonium *h);
size_t hm_lgm_work_len(const hm_harmonium *h);
size_t hm_lgm_sample_work_len(const hm_harmonium *h, int n);
hm_status hm_lgm_rho_chi(const hm_harmonium *h,
                         const double *theta,
                         double *rho,
                         double *chi,
                         double *work);
hm_status hm_lgm_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work);
hm_status hm_lgm_to_natural(const hm_harmonium *h,
                            const double *eta,
                            double *theta,
                            double *work,
                            const hm_ctrl *ctl,
                            int *bad);
hm_status hm_lgm_check_natural(const hm_harmonium *h, const double *theta, double *work);
hm_status hm_lgm_sample(const hm_harmonium *h,
                        const double *theta,
                        int n,
                        hm_rng *rng,
                        double *x,
                        double *z,
                        double *work);

// --- the blocked E-step ------------------------------------------------------------------

// What every block of a linear-Gaussian E-step reads (lgm_block in lgm.c,
// blgm_block in boltzmann_lgm.c).
typedef struct lgm_block_ctx {
    const hm_harmonium *h;
    const double *thz;   /* theta_Z */
    double psi;          /* psi(theta) = psi_Prr(prior) + chi */
    const hm_data *data;
    double *logp;
    double *post;
    const double *theta; /* the parameters (theta_X first) */
    const double *W;     /* p x q interaction, row-major */
    const double *sig;   /* Normal latent: Sigma_post, q x q */
    double half_logdet;  /* Normal latent: 1/2 log |P_post| */
    const double *Q;     /* full observable rep: x'Q x = theta_xx . S(x), p x p */
} lgm_block_ctx;

/*
 * Gathers rows [r0, r0 + nr) into X (nr x p, row-major), the per-row
 * observable part of log p(x), e_i = theta_X . s_X(x_i) + log mu_X(x_i),
 * and the case weights wv, and writes sum_i w_i s_X(x_i) into acc
 * (dim_X). s is one statistic vector of scratch (the elementwise reps),
 * XQ and G the full rep's product scratch. Rows are added in order.
 */
void hm_lgm_gather(const lgm_block_ctx *c,
                   int r0,
                   int nr,
                   double *X,
                   double *s,
                   double *e,
                   double *wv,
                   double *acc,
                   double *XQ,
                   double *G);

/*
 * Per-thread scratch every linear-Gaussian block needs: X (B x p), H, M
 * and w M (B x q each), the row energies and weights, one statistic
 * vector, the latent product G (q x q), and for a full observable rep X Q
 * (then w X) and X' (w X). A kind adds its own after these.
 */
size_t hm_lgm_thread_len(const hm_harmonium *h);

// Scratch of hm_lgm_estep with tlen doubles per thread.
size_t hm_lgm_estep_work_len(const hm_harmonium *h, size_t tlen, int threads);

/*
 * The E-step driver of the four kinds: the shared head (the Normal
 * latent's Sigma_post, q x q, then 2 q x q that post_cov may use for the
 * precision's inverse Cholesky factor and its transpose, and the full
 * rep's Q, p x p), the validity check and psi once per call, then
 * post_cov (NULL for a binary latent) for Sigma_post and 1/2 log |P_post|
 * (sig holds 3 q x q), and the blocks of fn with tlen
 * doubles of thread scratch. HM_EINVAL for `given`.
 */
typedef hm_status (*hm_lgm_post_cov_fn)(const hm_harmonium *h,
                                        const double *theta,
                                        double *sig,
                                        double *half_logdet);
hm_status hm_lgm_estep(const hm_harmonium *h,
                       const double *theta,
                       const hm_data *data,
                       const double *given,
                       double *stats,
                       double *logp,
                       double *post,
                       int threads,
                       double *work,
                       hm_lgm_post_cov_fn post_cov,
                       hm_block_fn fn,
                       size_t tlen);

#endif
