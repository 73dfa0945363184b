/*
 * hm_engine.h: the public API of the harmonium engine.
 *
 * Pure C99. No R headers: the engine is reached from R through src/glue/,
 * and from the standalone checks in tools/engine-check/. Nothing here
 * allocates memory: every routine that needs scratch space takes a
 * caller-supplied workspace whose length (in doubles) a *_work_len()
 * function reports. Nothing here keeps static state, so every routine is
 * re-entrant and may run inside OpenMP regions unless its comment says
 * otherwise (the samplers, which use the host RNG, are serial only).
 *
 * Layout conventions (theory.md section 0):
 *   - a parameter vector is a flat double array described by a family or
 *     harmonium descriptor;
 *   - rectangular matrices inside parameter vectors are row-major
 *     (rows = observable side, columns = latent side);
 *   - symmetric matrices inside parameter vectors are packed upper
 *     triangles, row by row: (0,0),(0,1),...,(0,n-1),(1,1),...; the flat
 *     index of (i,j), i <= j, is i*n - i*(i+1)/2 + j;
 *   - data matrices handed in by the glue are R's column-major n x d arrays
 *     with leading dimension ldx (>= n); one datum is the d values of a row;
 *   - matrices passed to BLAS/LAPACK (engine/linalg.c only) are
 *     column-major; symmetric matrices there are full (both triangles).
 *   - discrete data are coded from 0: categories 0..K-1, binary 0/1, counts.
 */
#ifndef HM_ENGINE_H
#define HM_ENGINE_H

#include <stddef.h>
#include "hm_status.h"

/* ---------------------------------------------------------------------------
 * Controls and host services
 * ------------------------------------------------------------------------- */

/*
 * Numerical controls shared by the families' numerical inverses and the
 * M-step. They come from R (lvm_control()); nothing in the engine hard-codes
 * a tolerance.
 *   reg    ridge (>= 0) added to the diagonal of every Normal covariance when
 *          mean coordinates are mapped to natural ones (in the units of the
 *          internally standardised data).
 *   tol    relative tolerance of inner Newton solves (e.g. 1e-12).
 *   maxit  iteration cap of inner Newton solves (e.g. 100).
 *   floor  boundary floor (>= 0) of the discrete families' mean -> natural
 *          maps: probabilities (categorical, Bernoulli, binomial success)
 *          are moved into [floor, 1 - floor] and Poisson rates up to at
 *          least floor. The mixture M-step uses a tiny floor (1e-12) so
 *          that EM can approach a boundary maximum (a latent class whose
 *          answer to an item is certain) instead of stopping where a
 *          probability rounds to 0 or 1; 0 keeps the maps exact and a
 *          boundary point a domain error (HM_EDOM).
 */
typedef struct hm_ctrl {
    double reg;
    double tol;
    int maxit;
    double floor;
    /* lower: the least residual variance of a linear Gaussian model's
     *        diagonal or isotropic Normal observable (factor analysis's
     *        uniquenesses, PPCA's noise), in the data's units; 0 for none.
     *        The fit drivers pass factanal's 0.005 on data standardised to
     *        unit variance, so a Heywood case stays at the bound. */
    double lower;
    /* cfloor: a boundary floor for the continuous families whose mean
     *         domain is open where data can sit on its edge (von Mises:
     *         identical angles, |eta| = 1; gamma: identical values,
     *         log E[x] = E[log x]); a mean within cfloor of the edge is
     *         moved cfloor inside it, a finite, huge concentration. 0 (the
     *         default) leaves such a mean outside the domain. Only the
     *         fit's last-resort start uses it (constant data). */
    double cfloor;
} hm_ctrl;

/*
 * The host's random number generator. The glue fills it with R's RNG
 * (unif_rand, norm_rand, exp_rand, rgamma, rpois, rbinom between
 * GetRNGstate/PutRNGstate); the standalone checks fill it with a small
 * generator of their own. Every sampler draws only through this struct, so
 * simulations follow set.seed(). Not thread-safe: samplers run serially.
 */
typedef struct hm_rng {
    void *ctx;
    double (*unif)(void *ctx);                   /* U(0, 1), never 0 or 1 */
    double (*norm)(void *ctx);                   /* N(0, 1) */
    double (*exp)(void *ctx);                    /* Exp(1) */
    double (*gamma)(void *ctx, double shape);    /* Gamma(shape, scale 1) */
    double (*poisson)(void *ctx, double mu);     /* Poisson(mu) */
    double (*binom)(void *ctx, double n, double p); /* Binomial(n, p) */
} hm_rng;

/* ---------------------------------------------------------------------------
 * Exponential families (theory.md sections 1.1 and 2)
 * ------------------------------------------------------------------------- */

/* Family kinds. The integer values are shared with R (R/family.R). */
enum hm_family_kind {
    HM_FAM_NORMAL = 1,
    HM_FAM_CATEGORICAL = 2,
    HM_FAM_BERNOULLI = 3,
    HM_FAM_BINOMIAL = 4,
    HM_FAM_POISSON = 5,
    HM_FAM_VONMISES = 6,
    HM_FAM_COMPOISSON = 7,
    HM_FAM_DIRICHLET = 8,
    HM_FAM_GAMMA = 9,
    HM_FAM_BOLTZMANN = 10,
    HM_FAM_PRODUCT = 11
};

/* Covariance representations of the Normal family (theory.md 2.7). */
enum hm_cov_rep { HM_COV_FULL = 0, HM_COV_DIAG = 1, HM_COV_ISO = 2 };

/*
 * Covariance structures of a mixture of Normals (covstruct.c): the
 * parsimonious models of Celeux and Govaert under mclust's names, for
 * Sigma_k = lambda_k D_k A_k D_k' (volume, shape, orientation; E equal
 * across components, V varying, I identity). HM_CS_FREE (0) is no
 * structure: each component free in its rep. A Normal family carries its
 * structure in the fourth spec integer (hm_family.cstr); only the mixture
 * kind's M-step reads it, and each structure needs the rep of its
 * per-component form (hm_cs_rep: XYI with Y = I isotropic, XYI diagonal,
 * else full). The tied structures EII, EEI, EEE share one precision, so
 * the mixture's interaction acts on the linear statistic x alone.
 */
enum hm_cov_struct {
    HM_CS_FREE = 0,
    HM_CS_EII = 1,
    HM_CS_VII = 2,
    HM_CS_EEI = 3,
    HM_CS_VEI = 4,
    HM_CS_EVI = 5,
    HM_CS_VVI = 6,
    HM_CS_EEE = 7,
    HM_CS_VEE = 8,
    HM_CS_EVE = 9,
    HM_CS_VVE = 10,
    HM_CS_EEV = 11,
    HM_CS_VEV = 12,
    HM_CS_EVV = 13,
    HM_CS_VVV = 14,
    HM_CS_N = 15
};

/* Convergence of the iterative structures' M-step (VEI, VEV, VEE, EVE,
 * VVE): the largest move of a covariance entry relative to the largest
 * variance, and the cap on sweeps. */
#define HM_CS_TOL 1e-13
#define HM_CS_MAXIT 20000

/* Largest Boltzmann machine handled by exact enumeration (2^20 states). */
#define HM_BOLTZMANN_MAX_UNITS 20
/* Largest number of blocks in a product family. */
#define HM_FAM_MAX_SUB 64

/*
 * A family descriptor. Parameters live in flat arrays of length `dim`,
 * a datum in `d` doubles. The table gives each kind's sizes and layouts
 * (n is the size hyper-parameter given by the user):
 *
 *  kind         d   dim                  s(x), natural parameters
 *  normal       n   n + n(n+1)/2 (full)  (x, packed x x^T); theta1 = P mu,
 *                   n + n        (diag)  theta2 packed: diag -P_ii/2,
 *                   n + 1        (iso)   off-diagonal -P_ij; diag rep:
 *                                        (x, x_i^2), -P_ii/2; iso rep:
 *                                        (x, sum x_i^2 / n), -(n/2) p with
 *                                        P = p I.  log mu = -(n/2) log 2 pi
 *  categorical  1   n - 1                one-hot without category 0;
 *                                        theta_i = log(p_i / p_0)
 *  bernoulli    n   n                    x; logit p
 *  binomial     n   n                    x; logit p; log mu = log C(t, x)
 *  poisson      n   n                    x; log rate; log mu = -log x!
 *  vonmises     n   2n                   (cos x_i, sin x_i) interleaved by
 *                                        unit; kappa (cos m, sin m);
 *                                        log mu = -n log 2 pi
 *  compoisson   n   2n                   (x_i, log x_i!) interleaved by unit;
 *                                        (nu log mode, -nu); log mu = 0
 *  dirichlet    n   n                    log x; alpha; log mu = -sum log x
 *  gamma        n   2n                   (log x_i, x_i) interleaved by unit;
 *                                        (shape - 1, -rate); log mu = 0
 *  boltzmann    n   n(n+1)/2             packed x x^T (x_i^2 = x_i on the
 *                                        diagonal); packed couplings theta
 *                                        with energy sum_i<=j theta_ij x_i x_j
 *  product      sum sum                  blocks concatenated left to right
 */
typedef struct hm_family {
    int kind;                  /* enum hm_family_kind */
    int n;                     /* size hyper-parameter (see table) */
    int rep;                   /* enum hm_cov_rep for normal, else 0 */
    int trials;                /* binomial trials, else 0 */
    int cstr;                  /* normal: enum hm_cov_struct (the spec's
                                  fourth integer), else 0 */
    int d;                     /* doubles per datum */
    int dim;                   /* parameter length */
    int n_sub;                 /* product: number of blocks, else 0 */
    const struct hm_family *sub; /* product: the blocks, else NULL */
} hm_family;

/*
 * The operations every family kind provides. All take the descriptor
 * first. `work` is scratch of at least work_len(f) doubles. Statuses:
 * HM_OK, or HM_EDOM for parameters outside the family's domain, HM_ENOTPD
 * for a non positive definite Normal precision or covariance, HM_EMAXITER
 * when a numerical inverse did not converge.
 *
 *   stat(f, x, s)            s(x) for one datum x[d] into s[dim].
 *   log_base(f, x)           log mu(x) for one datum.
 *   log_partition(f, th, psi, work)   psi(theta).
 *   to_mean(f, th, eta, work)         eta = grad psi(theta).
 *   to_natural(f, eta, th, work, ctl) theta = grad phi(eta): closed form
 *                            where one exists, Newton or another cheap
 *                            numerical inverse otherwise (von Mises,
 *                            CoM-Poisson, Dirichlet, Gamma, Boltzmann).
 *   neg_entropy(f, eta, phi, work, ctl) phi(eta) = theta(eta).eta -
 *                            psi(theta(eta)), the pure Legendre dual (no
 *                            E[log mu] term; theory.md 1.1).
 *   sample(f, th, n, rng, x, work)    n exact draws (Gibbs for Boltzmann),
 *                            written row-major into x[n * d]; work has
 *                            hm_fam_sample_work_len(f, n) doubles. Serial.
 *   check_natural(f, th)     HM_OK if theta is a valid natural parameter.
 *   check_data(f, x)         HM_OK if x is in the support.
 *   work_len(f)              doubles of scratch any of the above needs.
 *   closed_natural           1 if to_natural is closed form (tier 4).
 */
typedef struct hm_family_ops {
    const char *name;
    void (*stat)(const hm_family *f, const double *x, double *s);
    double (*log_base)(const hm_family *f, const double *x);
    hm_status (*log_partition)(const hm_family *f, const double *theta, double *psi, double *work);
    hm_status (*to_mean)(const hm_family *f, const double *theta, double *eta, double *work);
    hm_status (*to_natural)(const hm_family *f,
                            const double *eta,
                            double *theta,
                            double *work,
                            const hm_ctrl *ctl);
    hm_status (*neg_entropy)(const hm_family *f,
                             const double *eta,
                             double *phi,
                             double *work,
                             const hm_ctrl *ctl);
    hm_status (*sample)(const hm_family *f,
                        const double *theta,
                        int n,
                        hm_rng *rng,
                        double *x,
                        double *work);
    hm_status (*check_natural)(const hm_family *f, const double *theta);
    hm_status (*check_data)(const hm_family *f, const double *x);
    size_t (*work_len)(const hm_family *f);
    int closed_natural;
} hm_family_ops;

/* Helpers shared by the family modules. */

/* 1 if all len entries of v are finite, else 0. */
int hm_all_finite(const double *v, int len);

/* The boundary floor of ctl (0 when ctl is NULL or its floor is not
 * positive); see hm_ctrl. */
double hm_ctrl_floor(const hm_ctrl *ctl);
double hm_ctrl_cfloor(const hm_ctrl *ctl);

/* The inner-solver tolerance and iteration cap of ctl, with the defaults
 * HM_CTRL_DEFAULT_TOL and HM_CTRL_DEFAULT_MAXIT when ctl is NULL or a field
 * is not positive. */
#define HM_CTRL_DEFAULT_TOL 1e-12
#define HM_CTRL_DEFAULT_MAXIT 200
void hm_ctrl_solver(const hm_ctrl *ctl, double *tol, int *maxit);

/*
 * The numerical mean -> natural map of one unit of a family with two
 * parameters per unit (CoM-Poisson, Gamma): from the unit's mean pair
 * (e1, e2) it writes the natural pair th[2] and the unit's log-partition
 * at it, or returns a status.
 */
typedef hm_status (*hm_unit2_solver)(double e1,
                                     double e2,
                                     double tol,
                                     int maxit,
                                     double *th,
                                     double *psi);

/* to_natural and neg_entropy of such a family, unit by unit (units are
 * independent, so both maps are the unit solver applied per unit; phi is
 * theta.eta - psi summed over units, theory.md 1.1). */
hm_status hm_unit2_to_natural(const hm_family *f,
                              const double *eta,
                              double *theta,
                              const hm_ctrl *ctl,
                              hm_unit2_solver solve);
hm_status hm_unit2_neg_entropy(const hm_family *f,
                               const double *eta,
                               double *phi,
                               const hm_ctrl *ctl,
                               hm_unit2_solver solve);

/* The operation tables of the base kinds (one fam_<name>.c each). */
extern const hm_family_ops hm_fam_normal_ops;
extern const hm_family_ops hm_fam_categorical_ops;
extern const hm_family_ops hm_fam_bernoulli_ops;
extern const hm_family_ops hm_fam_binomial_ops;
extern const hm_family_ops hm_fam_poisson_ops;
extern const hm_family_ops hm_fam_vonmises_ops;
extern const hm_family_ops hm_fam_compoisson_ops;
extern const hm_family_ops hm_fam_dirichlet_ops;
extern const hm_family_ops hm_fam_gamma_ops;
extern const hm_family_ops hm_fam_boltzmann_ops;
extern const hm_family_ops hm_fam_product_ops;

/*
 * Fills a base (non-product) descriptor and computes d and dim. Returns
 * HM_EOVERFLOW if the parameter length would exceed 2^30. HM_EINVAL for an
 * unknown kind or sizes out of range (n < 1; binomial
 * trials < 1; Boltzmann n > HM_BOLTZMANN_MAX_UNITS; for a Normal, `trials`
 * is its covariance structure (enum hm_cov_struct), refused unless 0 or a
 * code whose hm_cs_rep is `rep`). A categorical family
 * with n = 1 (one class, no parameters) is allowed: it is the latent of a
 * one-component mixture.
 */
hm_status hm_family_init(hm_family *f, int kind, int n, int rep, int trials);

/*
 * Builds a descriptor from the integer spec R sends:
 *   base:    (kind, n, rep, trials)   (Normal: trials = the structure)
 *   product: (HM_FAM_PRODUCT, n_blocks, kind_1, n_1, rep_1, trials_1, ...)
 * Blocks are written into sub[0..max_sub-1]. HM_EINVAL on a malformed spec.
 */
hm_status hm_family_from_spec(const int *spec, int len, hm_family *f, hm_family *sub, int max_sub);

/* The operation table of a descriptor's kind (NULL for an unknown kind). */
const hm_family_ops *hm_family_ops_of(const hm_family *f);

/* Dispatching wrappers: same contracts as the table entries above. */
void hm_fam_stat(const hm_family *f, const double *x, double *s);
double hm_fam_log_base(const hm_family *f, const double *x);
hm_status hm_fam_log_partition(const hm_family *f, const double *theta, double *psi, double *work);
hm_status hm_fam_to_mean(const hm_family *f, const double *theta, double *eta, double *work);
hm_status hm_fam_to_natural(const hm_family *f,
                            const double *eta,
                            double *theta,
                            double *work,
                            const hm_ctrl *ctl);
hm_status hm_fam_neg_entropy(const hm_family *f,
                             const double *eta,
                             double *phi,
                             double *work,
                             const hm_ctrl *ctl);
hm_status hm_fam_sample(const hm_family *f,
                        const double *theta,
                        int n,
                        hm_rng *rng,
                        double *x,
                        double *work);
hm_status hm_fam_check_natural(const hm_family *f, const double *theta);
hm_status hm_fam_check_data(const hm_family *f, const double *x);
size_t hm_fam_work_len(const hm_family *f);
int hm_fam_closed_natural(const hm_family *f);

/*
 * Scratch (doubles) for hm_fam_sample(f, ., n, ...): work_len(f) plus
 * n * d, because a product stages each block's draws before scattering them
 * into the row-major output. Every sampler may assume this much.
 */
size_t hm_fam_sample_work_len(const hm_family *f, int n);

/* ---------------------------------------------------------------------------
 * Conjugated harmoniums (theory.md section 1.2 - 1.6)
 * ------------------------------------------------------------------------- */

/*
 * Harmonium kinds: which operation table (hm_kind_ops, engine/kinds.c)
 * applies. The integer values are shared with R (hm_kind in R/).
 */
enum hm_hm_kind {
    HM_HM_MIXTURE = 1,      /* latent Categorical(K); complete mixture of `obs`
                               (engine/mixture.c) */
    HM_HM_LGM = 2,          /* Normal(p) obs, any rep; latent Normal(q), full
                               (engine/lgm.c) */
    HM_HM_BOLTZMANN_LGM = 3, /* Normal(p) obs, any rep; latent Boltzmann(q)
                                (engine/boltzmann_lgm.c) */
    /* Restricted-posterior ("asymmetric", theory.md 1.3) kinds: theta_Z
     * lives in a posterior family Pst that embeds into a richer prior
     * family Prr (hm_harmonium.prr). Exact log p(x) and gradient, no
     * closed-form M-step (hm_hm_to_natural returns HM_EINVAL). */
    HM_HM_LGM_DIAG = 4,        /* "NormalLGM" (theory.md 3.2): Pst Normal(q)
                                  diagonal, Prr Normal(q) full (lgm.c) */
    HM_HM_BOLTZMANN_LGM_MF = 5, /* "DifferentiableBoltzmannLGM" (theory.md
                                  3.3): Pst Bernoulli(q), Prr Boltzmann(q)
                                  (boltzmann_lgm.c) */
    /* Conjugate Bayesian updating (theory.md 3.5; engine/conjugate.c):
     * Categorical(K) obs, Dirichlet(K) latent, fixed likelihood. */
    HM_HM_CATEGORICAL_DIRICHLET = 6,
    /* Composites (theory.md section 4): */
    HM_HM_HMOG = 7,      /* hierarchical: Normal(p) obs coupled by x'W y to a
                            latent that is itself a mixture of K Normal(q)
                            (engine/hmog.c; theory.md 4.1 - 4.3) */
    HM_HM_MIXTURE_OF = 8, /* complete mixture of K copies of a conjugated
                            harmonium (engine/mixture_of.c; theory.md 4.4) */
    HM_HM_HMOG_DIAG = 9  /* HMoG with a restricted posterior: latent biases
                            a mixture of K diagonal Normal(q), prior a
                            mixture of full Normal(q) (engine/hmog_diag.c;
                            theory.md 1.3, 4.3 "DifferentiableHMoG") */
};

/*
 * A harmonium descriptor. Parameters are [theta_X | Theta | theta_Z]:
 * theta_X has obs->dim entries, Theta is mx x mz row-major (mx = the
 * observable sub-statistic coupled, mz = the latent one), theta_Z has
 * lat->dim entries. Per kind (theory.md 3.1 - 3.3):
 *
 *  kind          mx        mz     theta_X          Theta      theta_Z
 *  mixture       obs->dim  K - 1  obs natural      column k-1 = theta^(k) -
 *                                 (= theta^(0))    theta^(0)  log(w_k/w_0) - rho_k
 *  lgm           p         q      Normal(p) in     W, p x q   Normal(q) full:
 *                                 obs->rep         (x'W z)    (location q, packed
 *                                                             second order)
 *  boltzmann_lgm p         q      Normal(p) in     W, p x q   Boltzmann(q) packed
 *                                 obs->rep                    couplings (diagonal
 *                                                             = unit biases)
 *  lgm_diag      p         q      Normal(p) in     W, p x q   Normal(q) diagonal:
 *                                 obs->rep                    (location q, -P_ii/2
 *                                                             for i < q), 2q
 *  b._lgm_mf     p         q      Normal(p) in     W, p x q   Bernoulli(q): the q
 *                                 obs->rep                    unit biases (logits)
 *  categorical_  K - 1     K      0 (fixed)        row i-1 =  alpha + e_0, i.e.
 *  dirichlet                                       e_i - e_0  alpha - rho with
 *                                                  (fixed)    alpha the prior
 *
 * The linear-Gaussian kinds couple only locations (r_X(x) = x, r_Z(z) =
 * z): the likelihood at z is (theta_x + W z, theta_xx) and the posterior
 * at x is theta_Z with W'x added to its location (Normal) or to its
 * diagonal biases (Boltzmann). Mean coordinates have the same layout:
 *  mixture       (E[s_X], w_k E[s_X | k] for k >= 1, w_1..w_{K-1});
 *  lgm, b._lgm   (E[x], E[x x'] packed in obs->rep (full: upper triangle;
 *                diagonal: the diagonal; isotropic: mean of the diagonal),
 *                E[x z'] p x q row-major, then the latent mean
 *                coordinates: Normal (E[z], packed E[z z']), Boltzmann
 *                packed E[z z'] with E[z_i] on its diagonal);
 *  lgm_diag,     the same observable and cross blocks, then the latent
 *  b._lgm_mf     block in the POSTERIOR family's mean coordinates: the
 *                prior's moments projected (theory.md 1.3), (E[z],
 *                E[z_i^2]) for the diagonal Normal, E[z] for Bernoulli;
 *  categorical_  (alpha_i / A for i >= 1, E[s_X(x) log z'] (K-1) x K
 *  dirichlet     row-major, E[log z]) under z ~ Dir(alpha), x | z ~ Cat(z);
 *                A = sum alpha (engine/conjugate.c).
 *
 * `prr` is the prior family, the one rho, chi's partner psi and the prior
 * theta_Z + rho (or embed(theta_Z) + rho) live in. hm_hm_init sets it to a
 * copy of *lat for every symmetric kind and to the richer family for the
 * restricted-posterior kinds: Normal(q, full) for lgm_diag, Boltzmann(q)
 * for boltzmann_lgm_mf. The embedding Pst -> Prr places the diagonal
 * precision on the diagonal of the packed full block (lgm_diag) or the
 * unit biases on the diagonal of the coupling matrix (boltzmann_lgm_mf),
 * so that psi_Prr(embed(theta)) = psi_Pst(theta).
 */
typedef struct hm_harmonium {
    int kind;
    const hm_family *obs;
    const hm_family *lat;
    int mx;
    int mz;
    hm_family prr;
    /* Composites only (0 and NULL otherwise): the number of components,
     * the model the composite is built from (HMoG: the latent mixture of
     * Normals; mixture_of: the base model) and an auxiliary descriptor
     * (HMoG: the linear-Gaussian harmonium of obs and Normal(q)). */
    int k;
    const struct hm_harmonium *sub;
    const struct hm_harmonium *aux;
} hm_harmonium;

/*
 * The model-kind interface (theory.md section 4): the operations a
 * conjugated harmonium kind supplies, with the contracts of the hm_hm_*
 * function of the same verb below. Every kind has a table (engine/kinds.c
 * is the registry) and the generic files (harmonium.c, estep.c, em.c)
 * reach kinds only through it. A composite kind calls its parts only
 * through the hm_hm_* dispatchers, so any kind with these operations can
 * stand where its part stands (a mixture of any model, a model as the
 * latent of a hierarchy). `estep` runs a whole pass with hm_estep's
 * contract and `estep_work_len` its scratch.
 *
 * Optional operations (NULL gives the default named):
 *   prior, log_partition   the conjugated identities embed(theta_Z) + rho
 *                          and psi_Prr(prior) + chi from rho_chi;
 *   embed_latent           used by those defaults: adds embed(theta_Z) to
 *                          prior[prr.dim] (theory.md 1.3); NULL adds
 *                          theta_Z elementwise (Pst = Prr);
 *   whiten                 the identity (an identified latent);
 *   init                   hm_hm_init's kind-specific part (checks the
 *                          families, sets mx, mz and prr, which hm_hm_init
 *                          has set to *lat); NULL: the kind is not built
 *                          by hm_hm_init (composites, HM_EINVAL);
 *   block_rows             hm_estep_block_rows' default from the shapes;
 *   fold_increment         -rho + E_Z Theta' r_X(x) for one datum x into
 *                          inc[lat->dim] (s: obs->dim scratch), the step of
 *                          hm_hm_posterior_fold; NULL: no sequential
 *                          updating (HM_EINVAL), as for a posterior family
 *                          that cannot hold the prior;
 *   cd_gradient_work_len,  contrastive divergence, the contracts of
 *   cd_gradient            hm_hm_cd_gradient*; NULL: 0 and HM_EINVAL.
 */
struct hm_data;

typedef struct hm_kind_ops {
    const char *name;
    int (*dim)(const struct hm_harmonium *h);
    int (*post_len)(const struct hm_harmonium *h);
    int (*z_len)(const struct hm_harmonium *h);
    int (*rho_len)(const struct hm_harmonium *h);
    size_t (*work_len)(const struct hm_harmonium *h);
    size_t (*sample_work_len)(const struct hm_harmonium *h, int n);
    hm_status (*rho_chi)(const struct hm_harmonium *h,
                         const double *theta,
                         double *rho,
                         double *chi,
                         double *work);
    hm_status (*prior)(const struct hm_harmonium *h, const double *theta, double *prior, double *work);
    hm_status (*log_partition)(const struct hm_harmonium *h,
                               const double *theta,
                               double *psi,
                               double *work);
    hm_status (*to_mean)(const struct hm_harmonium *h, const double *theta, double *eta, double *work);
    hm_status (*to_natural)(const struct hm_harmonium *h,
                            const double *eta,
                            double *theta,
                            double *work,
                            const hm_ctrl *ctl,
                            int *bad);
    hm_status (*check_natural)(const struct hm_harmonium *h, const double *theta, double *work);
    hm_status (*whiten)(const struct hm_harmonium *h,
                        const double *eta_in,
                        double *eta_out,
                        double *work);
    hm_status (*sample)(const struct hm_harmonium *h,
                        const double *theta,
                        int n,
                        hm_rng *rng,
                        double *x,
                        double *z,
                        double *work);
    size_t (*estep_work_len)(const struct hm_harmonium *h, int threads);
    hm_status (*estep)(const struct hm_harmonium *h,
                       const double *theta,
                       const struct hm_data *data,
                       const double *given,
                       double *stats,
                       double *logp,
                       double *post,
                       int threads,
                       double *work);
    hm_status (*init)(struct hm_harmonium *h);
    void (*embed_latent)(const struct hm_harmonium *h, const double *theta_z, double *prior);
    int (*block_rows)(const struct hm_harmonium *h);
    void (*fold_increment)(const struct hm_harmonium *h,
                           const double *theta,
                           const double *x,
                           const double *rho,
                           double *s,
                           double *inc);
    size_t (*cd_gradient_work_len)(const struct hm_harmonium *h);
    hm_status (*cd_gradient)(const struct hm_harmonium *h,
                             const double *theta,
                             const struct hm_data *data,
                             int k,
                             hm_rng *rng,
                             double *grad,
                             double *work);
} hm_kind_ops;

/* The operation table of a kind (engine/kinds.c), NULL for an unknown
 * kind. */
const hm_kind_ops *hm_kind_lookup(int kind);

/*
 * Composite descriptors. HMoG: obs a base Normal(p), `latent` an
 * HM_HM_MIXTURE over Normal(q, full) with K classes, `lgm` the HM_HM_LGM
 * of obs and that Normal(q) (its rho, chi and M-step are the hierarchy's,
 * theory.md 4.2). Parameters [theta_X | W (p x q) | theta_L] with theta_L
 * the mixture's own parameters; mean coordinates [E s_X | E x y' | the
 * mixture's mean coordinates]. mixture_of: K >= 1 copies of `base`,
 * parameters laid out as a mixture's with the base parameters as the
 * observable block: [theta^(0) | offsets theta^(k) - theta^(0), dim_B x
 * (K-1) row-major | class parameters (K-1)]. HM_EINVAL on a mismatch.
 * The descriptors keep the pointers: the parts must outlive h.
 */
hm_status hm_hm_init_hmog(hm_harmonium *h,
                          const hm_family *obs,
                          const hm_harmonium *latent,
                          const hm_harmonium *lgm);
hm_status hm_hm_init_mixture_of(hm_harmonium *h, int k, const hm_harmonium *base);

/*
 * Sums over blocks of rows are reduced by a fixed binary tree over the
 * blocks' GLOBAL indices (style.md 2): node (lo, size) with size a power of
 * two and lo a multiple of it is the sum of its two halves, left + right;
 * the total over blocks [0, nb) is n_1 + (n_2 + (... + n_m)) over the
 * maximal nodes of [0, nb), largest first. The same bits therefore come
 * from one pass over all rows and from passes over any partition of them
 * into block-aligned ranges whose maximal nodes the host combines by the
 * same rule (R/chunked-fit.R), whatever the thread count.
 *
 * An hm_tree asks a pass for those nodes instead of (as well as) the total:
 * b0 is the global index of the pass's first block (its first row must be a
 * block boundary); on return count (at most HM_TREE_CAP) nodes, in order,
 * with lo[i] and size[i] (global block indices) and their sums in
 * val[i * slen .. (i + 1) * slen). The host provides cap >= HM_TREE_CAP.
 */
#define HM_TREE_CAP 128
typedef struct hm_tree {
    double b0;
    int cap;
    int count;
    double *lo;
    double *size;
    double *val;
} hm_tree;

/*
 * The data pass (columns.c): the user's columns into the engine, and their
 * standardisation. One column of the user's data: either dbl
 * (n doubles) or itg (n integers or logicals, INT_MIN = R's NA = missing)
 * is non-NULL. The engine's value of row i is x[i] - offset (offset 1 turns
 * 1-based category codes into the engine's 0-based ones). `group` is the
 * support group the column is checked against (0..n_group-1; -1: only
 * finiteness); a group's columns are contiguous and groups appear in
 * increasing order. `moments` asks for the column's mean and rms.
 */
typedef struct hm_col_src {
    const double *dbl;
    const int *itg;
    double offset;
    int group;
    int moments;
} hm_col_src;

/*
 * A support: finite values v with lo <= v <= hi (lo < v, v < hi when open),
 * whole numbers when `whole`. With `radians` there is no bound; values
 * with |v| > 2 pi are counted instead (R warns that they look like degrees).
 */
typedef struct hm_col_support {
    double lo, hi;
    int whole, lo_open, hi_open, radians;
} hm_col_support;

/* How many offending rows are reported by number. */
#define HM_COL_FIRST 10

/*
 * Results of hm_col_scan. Row numbers are 1-based and stored as doubles
 * (exact below 2^53); unused entries are 0.
 *   n_bad, bad_rows   rows with a missing or non-finite value: their count
 *                     and the first HM_COL_FIRST;
 *   group[n_group * (3 + HM_COL_FIRST)]  per support group: the count of
 *                     rows with a finite value outside the support, the
 *                     first HM_COL_FIRST of them, the count of values
 *                     beyond 2 pi in absolute value and their largest
 *                     absolute value (radians groups);
 *   mean[d], rms[d]   column means and root mean squared deviations
 *                     (divisor n) of the `moments` columns, NaN for others
 *                     and when n = 0;
 *   sumsq[d]          every column's sum of squared values (blocks added
 *                     in block order), whose finiteness says whether the
 *                     column could be used unscaled;
 *   shift[d]          (NULL: not wanted) the shifts the moments used.
 */
typedef struct hm_col_scan_result {
    double n_bad;
    double bad_rows[HM_COL_FIRST];
    double *group;
    double *mean;
    double *rms;
    double *sumsq;
    double *shift;
} hm_col_scan_result;

/* Rows per block of the data pass: a function of n and d only. */
int hm_col_block_rows(int n, int d);

/* Workspace (doubles) of hm_col_scan: O(n / block) slots, d shifts and n bytes. */
size_t hm_col_scan_work_len(int n, int d, int n_group);

/*
 * A pass over a block-aligned part of larger data (the chunked driver,
 * R/chunked-fit.R): its first row is global block b0 of block_rows rows
 * (hm_col_block_rows of the whole data's n; at least that of this pass's
 * n), shift the d shifts of the whole data (its first block's first finite
 * values), and tree receives the nodes (hm_tree) of the moment sums, slen
 * 2 d: [S1_j, S2_j] per column, S1 the sum of (x - shift) and S2 of its
 * square (of x itself for a column without moments). mean, rms and sumsq
 * are then this part's alone; hm_col_scan_finish makes the whole data's
 * from the folded sums. NULL: the pass is over all the data.
 */
typedef struct hm_col_scan_opts {
    double b0;
    int block_rows;
    const double *shift;
    hm_tree *tree;
} hm_col_scan_opts;

/*
 * One threaded pass over n rows of the d columns src: finiteness, support
 * (sup[n_group]), moments, and, when raw is non-NULL, the engine's values
 * written column-major into raw[n * d]. Moments are shifted sums about a
 * value of the column near its first block's mean (columns.c), as accurate
 * as two passes, reduced by the engine's tree over blocks (hm_tree). Cost O(n d), reading each value once from memory (a
 * segment with a missing value or a support to check once more from
 * cache). Bit-identical for any thread count. HM_EINVAL on a malformed
 * column list.
 */
hm_status hm_col_scan(int n,
                      int d,
                      const hm_col_src *src,
                      int n_group,
                      const hm_col_support *sup,
                      double *raw,
                      hm_col_scan_result *res,
                      double *work,
                      int threads,
                      const hm_col_scan_opts *opt);


/*
 * Means, rms and sums of squares (as hm_col_scan_result) from the folded
 * moment sums (2 d, as the tree's) of n rows: moments[j] says whether
 * column j was shifted by shift[j].
 */
void hm_col_scan_finish(int d, const int *moments, const double *sums, const double *shift, double n, double *mean,
                        double *rms, double *sumsq);

/*
 * The engine's tree (hm_engine.h, hm_tree) as a stack the passes push
 * their blocks' sums into, in block order: init with HM_TREE_STACK_LEN(slen)
 * doubles of work; push leaf or node (lo, size) with sums v; total; export
 * into an hm_tree.
 */
#define HM_TREE_STACK_LEN(slen) ((size_t)64 * ((size_t)(slen) + 2))
typedef struct hm_tree_stack {
    int depth;
    int slen;
    double *lo;
    double *size;
    double *val;
} hm_tree_stack;
void hm_tree_stack_init(hm_tree_stack *t, int slen, double *work);
hm_status hm_tree_stack_push(hm_tree_stack *t, double lo, double size, const double *v);
void hm_tree_stack_total(const hm_tree_stack *t, double *out);
hm_status hm_tree_stack_export(const hm_tree_stack *t, hm_tree *tree);

/* Workspace (doubles) of hm_col_scale_pass. */
size_t hm_col_scale_work_len(int n, int d);

/*
 * out = (x - center) / scale column by column (column-major n x d, out not
 * aliasing x), threaded over row blocks, and sumsq[j] = the sum of squares
 * of column j of out (blocks added in block order: bit-identical for any
 * thread count), whose finiteness tells whether the column could be
 * standardised. Cost O(n d).
 */
hm_status hm_col_scale_pass(int n,
                            int d,
                            const double *x,
                            const double *center,
                            const double *scale,
                            double *out,
                            double *sumsq,
                            double *work,
                            int threads);

/*
 * HMoG with a diagonal posterior (theory.md 4.3 "DifferentiableHMoG"):
 * obs a base Normal(p); `posterior` an HM_HM_MIXTURE over Normal(q,
 * diagonal) with K classes, the family of theta_U and of every posterior
 * p(y, k | x); `sym` the symmetric HM_HM_HMOG of obs with a K-component
 * mixture of Normal(q, full), whose parameters at [theta_X | W |
 * embed(theta_U)] give the prior, rho, chi, psi, the mean coordinates
 * (projected back onto the diagonal blocks) and the sampler. Parameters
 * [theta_X | W (p x q) | theta_U] with theta_U in the diagonal mixture's
 * layout; mean coordinates the same layout. Per-row posterior output
 * [K class probabilities | E[y | x] (q)]; latent draws [y | class].
 * Exact log p(x) and gradient; no M-step (hm_hm_to_natural: HM_EINVAL).
 * Cost of hm_estep O(n (dim_X + p q + K q)) plus one O(K q^3 + p q^2)
 * evaluation of the prior. HM_EINVAL on a mismatch; the parts must
 * outlive h.
 */
hm_status hm_hm_init_hmog_diag(hm_harmonium *h,
                               const hm_family *obs,
                               const hm_harmonium *posterior,
                               const hm_harmonium *sym);

/* Doubles per row of hm_hm_sample's latent output z. */
int hm_hm_z_len(const hm_harmonium *h);

/* Length of rho from hm_hm_rho_chi: the prior's parameters (prr.dim; a
 * composite's latent block). */
int hm_hm_rho_len(const hm_harmonium *h);

/*
 * Fills a descriptor. HM_EINVAL if the families do not fit the kind
 * (mixture: a Categorical latent; lgm: a base Normal observable and a
 * full-covariance Normal latent; boltzmann_lgm: a base Normal observable
 * and a Boltzmann latent, at most HM_BOLTZMANN_MAX_UNITS units;
 * lgm_diag: a base Normal observable and a diagonal-covariance Normal
 * latent; boltzmann_lgm_mf: a base Normal observable and a Bernoulli
 * latent of at most HM_BOLTZMANN_MAX_UNITS units), HM_EOVERFLOW if the
 * parameter length would exceed 2^30; categorical_dirichlet: a
 * Categorical(K) observable and a Dirichlet(K) latent, K >= 2). Also
 * fills h->prr.
 */
hm_status hm_hm_init(hm_harmonium *h, int kind, const hm_family *obs, const hm_family *lat);

/* Parameter length: obs->dim + mx * mz + lat->dim. */
int hm_hm_dim(const hm_harmonium *h);

/*
 * Length of the per-row posterior output: K (all class probabilities) for a
 * mixture; q posterior means E[z | x] for the linear-Gaussian kinds (unit
 * means P(z_i = 1 | x) for a Boltzmann latent); K posterior Dirichlet
 * parameters alpha + e_x for categorical_dirichlet.
 */
int hm_hm_post_len(const hm_harmonium *h);

/*
 * Scratch (doubles) for the single-point routines below. Linear-Gaussian
 * kinds: O(p^2 + p q + q^2) plus the families' own scratch (2^q doubles
 * for a Boltzmann latent).
 */
size_t hm_hm_work_len(const hm_harmonium *h);

/* Scratch (doubles) for hm_hm_sample with n draws. */
size_t hm_hm_sample_work_len(const hm_harmonium *h, int n);

/*
 * Conjugation parameters (theory.md 1.3): rho[prr.dim] and chi such that
 * psi_X(theta_X + E_X Theta r_Z(z)) = rho . s_Prr(z) + chi for every z
 * (rho is in the prior family's coordinates; prr = *lat except for the
 * restricted-posterior kinds, whose rho is that of lgm / boltzmann_lgm).
 * Mixture: rho_k = psi_X(theta^(k)) - psi_X(theta_X), chi = psi_X(theta_X).
 * Linear-Gaussian kinds (theory.md 3.2, 3.3), with Sigma_x = P_x^-1,
 * b = Sigma_x theta_x and M = W'Sigma_x W: chi = psi_X(theta_X); Normal
 * latent: rho = (W'b, packed block +M_ii/2 on the diagonal, +M_ij off it);
 * Boltzmann latent: rho_ii = (W'b)_i + M_ii/2, rho_ij = M_ij. Statuses:
 * HM_EDOM (non-finite), HM_ENOTPD (P_x not positive definite). Cost O(p^3 +
 * p^2 q + p q^2) for a full observable rep, O(p q^2) otherwise.
 */
hm_status hm_hm_rho_chi(const hm_harmonium *h,
                        const double *theta,
                        double *rho,
                        double *chi,
                        double *work);

/*
 * Prior natural parameters theta_Z + rho into prior[prr.dim] (for the
 * restricted-posterior kinds embed(theta_Z) + rho, in the prior family).
 */
hm_status hm_hm_prior(const hm_harmonium *h, const double *theta, double *prior, double *work);

/* Log-partition psi(theta) = psi_Prr(prior) + chi. */
hm_status hm_hm_log_partition(const hm_harmonium *h,
                              const double *theta,
                              double *psi,
                              double *work);

/*
 * Mean coordinates eta = grad psi(theta) (layout above). Mixture:
 * join_mean_mixture. Linear-Gaussian kinds: the joint moments with
 * z ~ prior and x | z ~ N(A z + b, Sigma_x), A = Sigma_x W; the latent
 * moments come from the latent family's to_mean (enumeration of the 2^q
 * states for a Boltzmann prior, O(q 2^q)). Restricted-posterior kinds:
 * the same joint moments under the (full Normal or Boltzmann) prior, with
 * the latent block projected onto the posterior family's mean coordinates,
 * which is the gradient of psi in these coordinates (theory.md 1.3, 1.5).
 * Statuses as hm_hm_rho_chi.
 */
hm_status hm_hm_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work);

/*
 * Mean -> natural map: the exact M-step (theory.md 1.6). eta are the
 * harmonium's mean coordinates (averaged statistics). On failure *bad is
 * the 0-based index of the offending latent component (mixture) or -1.
 * Statuses: HM_ENOPROG (a component with no weight), HM_ENOTPD (a
 * collapsing covariance), HM_EMAXITER (an inner solve did not converge).
 * Cost per call: K observable to_natural maps.
 *
 * Linear-Gaussian kinds: the closed-form M-step of theory.md 3.2
 * (to_natural_likelihood: the regression of x on z, with ctl->reg added to
 * the diagonal of the residual covariance Sigma_x), the prior by the
 * latent family's to_natural (closed form for a Normal; Newton with
 * ctl->tol, ctl->maxit for a Boltzmann machine; no ridge), then theta_Z =
 * prior - rho. HM_ENOTPD if the latent covariance or the residual Sigma_x
 * is not positive definite, HM_EDOM for non-finite eta or a negative
 * ridge; *bad is -1. Cost O(p^3 + p^2 q + q^3) plus the latent to_natural
 * (O(iterations q^2 2^q) for a Boltzmann prior). to_natural(to_mean(theta))
 * = theta when ctl->reg = 0.
 *
 * Restricted-posterior kinds (lgm_diag, boltzmann_lgm_mf) have no
 * closed-form M-step (theory.md 1.3): HM_EINVAL; fit them by gradient.
 */
hm_status hm_hm_to_natural(const hm_harmonium *h,
                           const double *eta,
                           double *theta,
                           double *work,
                           const hm_ctrl *ctl,
                           int *bad);

/*
 * HM_OK if every component (likelihood at each z) and the prior are valid.
 * Linear-Gaussian kinds: finite entries (else HM_EDOM), P_x positive
 * definite, and for a Normal latent the posterior precision (from
 * theta_zz) and the prior precision P_z - W'Sigma_x W positive definite
 * (else HM_ENOTPD); lgm_diag: the diagonal posterior precision and the
 * full prior precision embed(P_z) - W'Sigma_x W. work: hm_hm_work_len(h)
 * doubles.
 */
hm_status hm_hm_check_natural(const hm_harmonium *h, const double *theta, double *work);

/*
 * Mixture helpers between the harmonium layout and per-component natural
 * parameters comp[K * obs->dim] (row k = component k) and the prior
 * natural parameters prior[K - 1] (log(w_k / w_0)).
 */
hm_status hm_mix_split(const hm_harmonium *h,
                       const double *theta,
                       double *comp,
                       double *prior,
                       double *work);
hm_status hm_mix_join(const hm_harmonium *h,
                      const double *comp,
                      const double *prior,
                      double *theta,
                      double *work);

/*
 * The complete-mixture layout of mean coordinates (theory.md 3.1, 4.4),
 * shared by the mixture of a family and the mixture of models, for K
 * components of d coordinates each: [sum_k w_k e^(k) (d) | w_k e^(k) for
 * k >= 1, d x (K-1) row-major | w_1 .. w_{K-1}].
 * hm_cmix_add_mean adds component k (weight w, means ek) to eta, whose
 * first block the caller zeroes first; hm_cmix_weights reads the K weights
 * (HM_ENOPROG and *bad = k for an empty or non-finite class);
 * hm_cmix_component_mean recovers e^(k) (component 0 by difference).
 */
void hm_cmix_add_mean(int K, int d, int k, double w, const double *ek, double *eta);
hm_status hm_cmix_weights(int K, int d, const double *eta, double *w, int *bad);
void hm_cmix_component_mean(int K, int d, const double *eta, const double *w, int k, double *ek);

/*
 * Covariance structures (covstruct.c, enum hm_cov_struct). hm_cs_name:
 * mclust's name ("" for none); hm_cs_rep: the Normal rep a structure needs
 * (-1 for HM_CS_FREE or an unknown code); hm_cs_tied: 1 for the one-
 * precision structures EII, EEI, EEE; hm_cs_constrains: 1 if the M-step
 * couples the components (not FREE, VII, VVI, VVV).
 *
 * hm_cs_covariances: the constrained M-step of the covariances. w[K] are
 * the class weights n_k / n (positive), W the K scatter matrices W_k =
 * sum_i r_ik (x_i - mu_k)(x_i - mu_k)' / n (column-major d x d each, both
 * triangles; the diagonal structures read only the diagonals, EII and VII
 * only the traces, the tied ones only sum_k W_k); sigma receives the K
 * covariance matrices maximising the expected complete-data
 * log-likelihood under the structure. tol, maxit: the iterative
 * structures' stopping rule (HM_CS_TOL, HM_CS_MAXIT in the mixture);
 * *iters their sweeps (0 for closed forms). work: hm_cs_work_len(d, K)
 * doubles. Statuses: HM_EINVAL (bad code or sizes), HM_ENOPROG (a weight
 * not positive), HM_EDOM (non-finite W), HM_ENOTPD (a singular scatter),
 * HM_EMAXITER (not converged in maxit sweeps: sigma holds the last
 * iterate). Cost: closed forms O(K d^2), with eigen-decompositions O(K
 * d^3); iterative ones O(sweeps K d^3).
 */
const char *hm_cs_name(int cs);
int hm_cs_rep(int cs);
int hm_cs_tied(int cs);
int hm_cs_constrains(int cs);
size_t hm_cs_work_len(int d, int K);
hm_status hm_cs_covariances(int cs,
                            int d,
                            int K,
                            const double *w,
                            const double *W,
                            double *sigma,
                            double tol,
                            int maxit,
                            double *work,
                            int *iters);

/*
 * Whitening of mean coordinates (theory.md 1.6, 3.2 whiten_prior), for the
 * step between the E-step and the M-step. HM_HM_LGM: the observable block
 * is kept; with L = chol(Sigma_z), Sigma_z = E[z z'] - E[z] E[z]', the
 * cross block becomes C L^-T with C = E[x z'] - E[x] E[z]', and the latent
 * block the moments of N(0, I) (E[z] = 0, packed E[z z'] = I). The M-step
 * from the result has the same observable marginal (so the same log p(x))
 * and the prior N(0, I). Other kinds have identified latents: a copy.
 * eta_in and eta_out (hm_hm_dim each) may be the same array. work:
 * hm_hm_work_len(h). Statuses: HM_ENOTPD (Sigma_z not positive definite),
 * HM_EDOM (non-finite). Cost O(q^3 + p q^2).
 */
hm_status hm_hm_whiten(const hm_harmonium *h, const double *eta_in, double *eta_out, double *work);

/*
 * Ancestral sampling: z ~ prior, x ~ p(x | z). x is n x obs->d row-major;
 * z receives the latent draws, n x lat->d row-major: mixture, the 0-based
 * class, one double per row; lgm, the q latent values per row;
 * boltzmann_lgm, the q binary units per row (Gibbs draws from the prior,
 * serially dependent, as hm_fam_sample); lgm_diag, q values drawn from
 * the full Normal prior; boltzmann_lgm_mf, q binary units drawn exactly
 * and independently from the Boltzmann prior by enumeration of its 2^q
 * states (one cumulative table per call, O(q 2^q + n q)). work has
 * hm_hm_sample_work_len(h, n) doubles. Serial only.
 */
hm_status hm_hm_sample(const hm_harmonium *h,
                       const double *theta,
                       int n,
                       hm_rng *rng,
                       double *x,
                       double *z,
                       double *work);

/* ---------------------------------------------------------------------------
 * The E-step over data (engine/estep.c)
 * ------------------------------------------------------------------------- */

/*
 * The statistics vector: [sum_n w_n E[s(x_n, z) | x_n] (hm_hm_dim) |
 * sum_n w_n log p(x_n) | sum_n w_n]. Sums, not averages: the statistics of
 * a data set are the sum of those of any partition of it.
 */
int hm_stats_len(const hm_harmonium *h);


/*
 * A view of a data matrix: column-major n x d with leading dimension ldx,
 * and optional case weights w[n] (NULL: all 1). tree (NULL: the rows are
 * the whole data, blocks from global index 0, and only the total is
 * wanted) asks the E-step for its tree nodes; kinds whose sums do not go
 * through hm_run_blocks (HM_HM_MIXTURE_OF, sequence kinds) return
 * HM_EINVAL for it.
 */
typedef struct hm_data {
    const double *x;
    int n;
    int ldx;
    const double *w;
    hm_tree *tree;
} hm_data;

/*
 * The blocked driver every E-step shares: rows [0, n) in blocks of B, block
 * b written by fn(ctx, r0, nr, slot, tw) into its own slot of slen doubles
 * with tw a thread's tlen doubles of scratch; slots are added into stats
 * (slen, overwritten; NULL: not kept) in block order, so the result is
 * bit-identical for any thread count. work: hm_blocks_work_len doubles.
 */
typedef hm_status (*hm_block_fn)(const void *ctx, int r0, int nr, double *slot, double *tw);

/*
 * The host's interrupt check (a host service, as igraph's core has): while
 * fn is set, hm_run_blocks calls it on the calling thread between rounds of
 * blocks, outside any parallel region, and returns HM_EINTR as soon as it
 * returns non-zero, so that a long E-step stops within a round (4 blocks per
 * thread) rather than at its end. fn must not longjmp or call the engine.
 * NULL (the default) turns the check off. This is the engine's one piece of
 * mutable state: the host sets it around one call and clears it after (the
 * glue's EM loop, src/glue/glue_em.c), from the host's single main thread.
 */
typedef int (*hm_interrupt_fn)(void);
void hm_set_interrupt_check(hm_interrupt_fn fn);
/*
 * E-steps whose rows times statistics are below this stay on the calling
 * thread (opening a parallel region costs more than they do); 262144 by
 * default. Results never depend on it. Returns the previous value; a host
 * sets it from its main thread (the test suite sets 0 to exercise threads on
 * small data).
 */
double hm_set_parallel_min_work(double work);
double hm_parallel_min_work(void);
size_t hm_blocks_work_len(int slen, size_t tlen, int threads);
hm_status hm_run_blocks(int n,
                        int B,
                        int threads,
                        int slen,
                        size_t tlen,
                        hm_block_fn fn,
                        const void *ctx,
                        double *stats,
                        double *work,
                        hm_tree *tree);

/*
 * The host's half of the tree (for tests and the chunked driver): folds
 * `count` nodes (lo, size, val as hm_tree holds them) that together cover
 * blocks [0, nb) exactly into the total (slen doubles) by the rule above;
 * nodes may be any disjoint dyadic nodes, each the tree sum of its blocks.
 * HM_EINVAL when they do not tile [0, nb). work: 2 * 64 * slen doubles.
 */
hm_status hm_tree_fold(int count, const double *lo, const double *size, const double *val, int slen, double nb,
                       double *total, double *work);

/*
 * Per-class log densities of a mixture (HM_HM_MIXTURE, any observable family;
 * or HM_HM_MIXTURE_OF, the complete mixture of a conjugated model, whose class
 * k's log density is the base model's marginal log p(x) at theta^(k), by
 * hm_mixof_log_densities in chunks of complete rows through the base E-step):
 * logp[i * K + k] = log p(x_i | class k) for the n rows of data, ROW-MAJOR
 * n x K, in blocks of hm_estep_block_rows threaded by hm_run_blocks (each
 * output entry is computed by one thread in a fixed order: identical for any
 * thread count). A row with a NaN is a missing observation and gets 0 for
 * every class. HM_EINVAL for another kind, the check's status for invalid
 * theta. work: hm_mix_log_densities_work_len doubles. Cost O(n K mx).
 */
size_t hm_mix_log_densities_work_len(const hm_harmonium *h, int threads);
hm_status hm_mix_log_densities(const hm_harmonium *h,
                               const double *theta,
                               const hm_data *data,
                               double *logp,
                               int threads,
                               double *work);
size_t hm_mixof_log_densities_work_len(const hm_harmonium *h, int threads);
hm_status hm_mixof_log_densities(const hm_harmonium *h,
                                 const double *theta,
                                 const hm_data *data,
                                 double *logp,
                                 int threads,
                                 double *work);

/* The classes K of HM_HM_MIXTURE (lat->n) or HM_HM_MIXTURE_OF (k); 0 otherwise. */
int hm_mix_classes(const hm_harmonium *h);

/*
 * Row-block size for a harmonium: depends on the shapes only (64 rows for
 * a Boltzmann latent, whose rows cost two 2^q enumerations each, so that
 * threads stay balanced).
 */
int hm_estep_block_rows(const hm_harmonium *h);

/* Scratch (doubles) hm_estep needs when run with `threads` threads. */
size_t hm_estep_work_len(const hm_harmonium *h, int threads);

/*
 * One pass over the data at parameters theta. Any output may be NULL:
 *   stats[hm_stats_len]   the statistics vector (overwritten);
 *   logp[n]               log p(x_n) per row;
 *   post[n * post_len]    column-major n x post_len posterior means
 *                         (mixture: class probabilities; lgm: E[z | x];
 *                         boltzmann_lgm: P(z_i = 1 | x)).
 * If `given` is non-NULL it is a column-major n x post_len array of
 * posterior means to use instead of computing them (statistics from hard
 * or soft labels, used for initialisation); logp is then not computed.
 * Mixtures only: the linear-Gaussian kinds return HM_EINVAL for it.
 * Rows are processed in blocks of hm_estep_block_rows(h) rows; block
 * results are reduced in block order, so the output is bit-identical for
 * any thread count. Per-row statistics: mixture (s_X(x), s_X(x) r',
 * r) with r the responsibilities of classes 1..K-1; lgm (s_X(x), x mu',
 * mu, packed Sigma_post + mu mu') with mu = E[z | x]; boltzmann_lgm
 * (s_X(x), x mu', eta_Boltzmann(posterior at x)); lgm_diag (s_X(x),
 * x mu', mu, sigma_i^2 + mu_i^2) with the diagonal posterior;
 * boltzmann_lgm_mf (s_X(x), x mu', mu) with mu_i = sigmoid(theta_i +
 * (W'x)_i); the restricted kinds' log p(x) uses psi_Pst per row and
 * psi_Prr(prior) once per call (theory.md 1.3). Cost O(n * mx * (mz +
 * 1)) flops for a mixture; O(n (dim_X + p q + q^2)) for lgm;
 * O(n (dim_X + p q + q 2^q)) for boltzmann_lgm (two enumerations per
 * row); O(n (dim_X + p q + q^2)) for lgm_diag; O(n (dim_X + p q)) plus
 * one O(q 2^q) enumeration of the prior for boltzmann_lgm_mf. Statuses: HM_EDOM or HM_ENOTPD if a parameter is invalid,
 * HM_EINVAL for an unknown kind or `given` with a linear-Gaussian kind.
 */
hm_status hm_estep(const hm_harmonium *h,
                   const double *theta,
                   const hm_data *data,
                   const double *given,
                   double *stats,
                   double *logp,
                   double *post,
                   int threads,
                   double *work);

/* ---------------------------------------------------------------------------
 * Contrastive divergence (theory.md 1.6; engine/boltzmann_lgm.c)
 * ------------------------------------------------------------------------- */

/*
 * Scratch (doubles) for hm_hm_cd_gradient: the single-point scratch
 * hm_hm_work_len(h) (which bounds the loading form and the latent
 * family's mean map), the noise factor of x | z (p x p), a datum and its
 * noise, a latent draw, two latent parameter vectors, one observable
 * statistic and, for HM_HM_BOLTZMANN_LGM, the 2^q cumulative state
 * probabilities of an exact Boltzmann draw: O(p^2 + p q + q^2 + 2^q). 0
 * for a kind without CD.
 */
size_t hm_hm_cd_gradient_work_len(const hm_harmonium *h);

/*
 * The CD-k estimate of the log-likelihood gradient at theta, in the
 * harmonium's natural coordinates and with the sign of the exact gradient
 * (ascent direction, data minus model), summed over rows with the case
 * weights, so it estimates the same vector as E-step statistics minus
 * total weight times hm_hm_to_mean (glue_grad.c). For each row x:
 *   positive phase  E[s(x, z) | x] = (s_X(x), x E[z | x]', eta_lat(q(x))),
 *                   exact (Rao-Blackwellised), as in hm_estep;
 *   chain           z_0 ~ p(z | x), then k full Gibbs sweeps of the joint,
 *                   x_t ~ p(x | z_{t-1}) (Gaussian), z_t ~ p(z | x_t);
 *   negative phase  s(x_k, z_k) = (s_X(x_k), x_k z_k', s_lat(z_k)), the
 *                   sampled final state;
 * grad = sum_n w_n (positive_n - negative_n). Every draw p(z | x) is exact:
 * independent Bernoulli units for boltzmann_lgm_mf; for boltzmann_lgm the
 * posterior is a Boltzmann machine, drawn by enumerating its 2^q states.
 * The chain's expectation converges to the exact gradient as k -> infinity
 * (theory.md 1.6). Kinds: HM_HM_BOLTZMANN_LGM and HM_HM_BOLTZMANN_LGM_MF
 * only (HM_EINVAL otherwise, and for k < 1). Statuses as
 * hm_hm_check_natural. Uses the host RNG: serial only. Cost per row
 * O(k (p^2 + p q)) plus per sweep O(q 2^q) (boltzmann_lgm) or O(q)
 * (boltzmann_lgm_mf); the positive phase of boltzmann_lgm adds one
 * enumeration.
 */
hm_status hm_hm_cd_gradient(const hm_harmonium *h,
                            const double *theta,
                            const hm_data *data,
                            int k,
                            hm_rng *rng,
                            double *grad,
                            double *work);

/* ---------------------------------------------------------------------------
 * The Categorical-Dirichlet kind (engine/conjugate.c; theory.md 3.5) and
 * sequential conjugate updating (engine/harmonium.c)
 * ------------------------------------------------------------------------- */

/*
 * HM_HM_CATEGORICAL_DIRICHLET: x | z ~ Categorical(z), z ~ Dirichlet(alpha).
 * The likelihood is fixed (theta_X = 0, W row i-1 = e_i - e_0), rho =
 * (-1, 0, ..., 0) and chi = 0, so the prior is alpha = theta_Z + rho, the
 * posterior at x is alpha + e_x and log p(x) = log(alpha_x / sum alpha).
 * check_natural: HM_EDOM unless theta_X and W are exactly the fixed values
 * and alpha > 0 (rho_chi, to_mean and sample check the same). to_natural
 * (the M-step) reads only the latent mean block E[log z]: alpha by the
 * Dirichlet family's Newton solve (ctl->tol, ctl->maxit), then the fixed
 * likelihood; statuses of that solve, *bad = -1. Cost O(K^2) per call
 * (the cross block), plus the solve's O(iterations K).
 *
 * hm_estep for this kind: per row, log p(x) = log(alpha_x / A), post =
 * the K posterior Dirichlet parameters alpha + e_x, and statistics
 * (s_X(x), s_X(x) E[log z | x]', E[log z | x]) with E[log z_j | x] =
 * digamma(alpha_j + delta_jx) - digamma(A + 1), A = sum alpha, summed
 * through weighted category counts (O(n + K^2) per block). HM_EDOM for a
 * code outside 0..K-1, HM_EINVAL for `given`.
 */

/*
 * For a kind's fold_increment (hm_kind_ops): inc = -rho + E_Z Theta' r with
 * r the coupled statistic of one datum (mx entries); E_Z the identity, or
 * with packed_diag the diagonal of the packed latent triangle (a Boltzmann
 * latent). Zero entries of r are skipped. O(nnz(r) mz).
 */
void hm_hm_fold_add(const hm_harmonium *h,
                    const double *theta,
                    const double *r,
                    const double *rho,
                    int packed_diag,
                    double *inc);

/* Scratch (doubles) for hm_hm_posterior_fold. */
size_t hm_hm_fold_work_len(const hm_harmonium *h);

/*
 * Sequential conjugate updating of ONE latent z shared by all
 * observations (theory.md 1.3, 3.5): each posterior becomes the prior of
 * the next observation,
 *     q_0 = theta_Z + rho,   q_t = q_{t-1} - rho + E_Z Theta' r_X(x_t),
 * because the harmonium whose prior is q has theta_Z = q - rho, and its
 * posterior at x is theta_Z + E_Z Theta' r_X(x) (the likelihood, and so
 * rho, never changes). x holds n data, row-major n x obs->d (n codes for a
 * categorical observable); out receives q_1 .. q_n, row-major
 * n x lat->dim, in the latent family's natural coordinates.
 * Kinds: HM_HM_MIXTURE (class log-odds; r_X = s_X), HM_HM_LGM (Normal
 * posterior; W'x added to the location), HM_HM_BOLTZMANN_LGM (W'x added
 * to the unit biases) and HM_HM_CATEGORICAL_DIRICHLET (alpha + running
 * counts). The restricted-posterior kinds return HM_EINVAL: their
 * prior lives in a richer family than theta_Z. Statuses: those of
 * hm_hm_check_natural, HM_EDOM for a datum outside the support, HM_EINVAL
 * for another kind or n < 0. work: hm_hm_fold_work_len(h) doubles. Cost
 * O(n (nnz(r_X) mz + dim_Z)) after one rho (O(n K) here).
 */
hm_status hm_hm_posterior_fold(const hm_harmonium *h,
                               const double *theta,
                               const double *x,
                               int n,
                               double *out,
                               double *work);

/* ---------------------------------------------------------------------------
 * EM (engine/em.c): the caller owns the loop.
 * ------------------------------------------------------------------------- */

/* Scratch (doubles) for hm_em_iterate with `threads` threads. */
size_t hm_em_work_len(const hm_harmonium *h, int threads);

/*
 * The M-step half of hm_em_iterate from summed statistics (the chunked
 * driver adds them over passes): theta_new from stats (hm_stats_len);
 * HM_ENOPROG when their weight is not positive. work:
 * hm_em_mstep_work_len(h).
 */
size_t hm_em_mstep_work_len(const hm_harmonium *h);
hm_status hm_em_mstep(const hm_harmonium *h, const double *stats, const hm_ctrl *ctl, double *theta_new, int *bad,
                      double *work);

/*
 * One EM iteration from theta: the E-step (stats, and *loglik = the
 * weighted log-likelihood AT theta), the averaged statistics whitened by
 * hm_hm_whiten (HM_HM_LGM only: the new prior is N(0, I) and the
 * likelihood is unchanged; identity for other kinds), then the exact
 * M-step into theta_new. On an M-step failure *bad names the component
 * (see hm_hm_to_natural). Cost: one hm_estep plus one hm_hm_to_natural
 * (K observable to_natural maps for a mixture).
 */
hm_status hm_em_iterate(const hm_harmonium *h,
                        const double *theta,
                        const hm_data *data,
                        const hm_ctrl *ctl,
                        int threads,
                        double *stats,
                        double *theta_new,
                        double *loglik,
                        int *bad,
                        double *work);

/*
 * Factor analysis, PPCA and the LGM from the data's moments (a Normal
 * latent, engine/lgm.c): with a Normal observable and a Normal latent the
 * E-step's sums are functions of the total weight, sum w x and sum w x x'
 * (E[z | x] is affine in x), so EM need not pass over the rows after one
 * pass gathers them.
 *
 * hm_lgm_moments: mom[hm_lgm_moments_len(h)] = [sum w | sum w x (p) |
 * sum w x x' (p x p row-major, both triangles)], in blocks of
 * hm_estep_block_rows(h) rows threaded by hm_run_blocks (the same bits for
 * any thread count); HM_EDOM for a non-finite entry, HM_EINVAL for a kind
 * other than the four linear-Gaussian ones (which all have a Normal(p)
 * observable). work: hm_lgm_moments_work_len(h, threads). Cost O(n p^2).
 *
 * hm_lgm_moments_estep: the statistics vector hm_estep gives at theta over
 * the rows the moments came from, equal to rounding (HM_HM_LGM and
 * HM_HM_LGM_DIAG, HM_EINVAL otherwise); work:
 * hm_lgm_moments_estep_work_len(h). Cost O(p^2 q + q^3).
 *
 * hm_em_iterate_moments: hm_em_iterate with that E-step; work:
 * hm_em_moments_work_len(h).
 */
int hm_lgm_moments_len(const hm_harmonium *h);
size_t hm_lgm_moments_work_len(const hm_harmonium *h, int threads);
hm_status hm_lgm_moments(const hm_harmonium *h, const hm_data *data, int threads, double *mom, double *work);
/*
 * The moments' packed form, the sums the blocks add (and data->tree's
 * nodes hold): [sum w | sum w x | upper triangle of sum w x x'], of
 * hm_lgm_moments_packed_len(h) doubles; hm_lgm_moments_unpack turns a
 * (folded) packed total into hm_lgm_moments' layout.
 */
int hm_lgm_moments_packed_len(const hm_harmonium *h);
void hm_lgm_moments_unpack(const hm_harmonium *h, const double *tot, double *mom);
size_t hm_lgm_moments_estep_work_len(const hm_harmonium *h);
hm_status hm_lgm_moments_estep(const hm_harmonium *h,
                               const double *theta,
                               const double *mom,
                               double *stats,
                               double *work);
size_t hm_em_moments_work_len(const hm_harmonium *h);
hm_status hm_em_iterate_moments(const hm_harmonium *h,
                                const double *theta,
                                const double *mom,
                                const hm_ctrl *ctl,
                                double *stats,
                                double *theta_new,
                                double *loglik,
                                int *bad,
                                double *work);

/*
 * Convergence test on the relative change |l_new - l_old| / (1 + |l_new|):
 * HM_OK when below tol, HM_CONTINUE otherwise, HM_EDOM if l_new is not
 * finite.
 */
hm_status hm_em_test(double ll_new, double ll_old, double tol);

/*
 * Aitken's extrapolation of an EM log-likelihood sequence (Bohning et al.
 * 1994), made conservative for abandoning starts. EM converges linearly,
 * successive gains d_i = l_i - l_(i-1) shrinking by rates a_i = d_i /
 * d_(i-1), so the limit is about l + d a / (1 - a). Given the last m + 2
 * values l[0..m+1] (oldest first, m >= 1), writes to *limit the last value
 * plus the last gain times a / (1 - a) at the LARGEST of the last m rates,
 * and returns HM_OK, only when every one of those m rates is in (0, 1)
 * (the gains positive and shrinking throughout: EM that speeds up again,
 * as when it leaves a saddle, is not extrapolated); HM_CONTINUE otherwise
 * (a value not finite, a gain not positive, a rate of 1 or more), *limit
 * then untouched. Cost O(m).
 */
#define HM_EM_ABANDON_RATES 5
hm_status hm_em_aitken_limit(const double *l, int m, double *limit);

/* ---------------------------------------------------------------------------
 * Ward's hierarchical clustering (engine/ward.c): the first start of Normal
 * mixtures
 * ------------------------------------------------------------------------- */

/* Scratch (doubles) hm_ward_labels needs for n rows: n^2 + 6 n. */
size_t hm_ward_work_len(int n);

/*
 * Agglomerative clustering of the n rows of the column-major n x d matrix z
 * (leading dimension ldz >= n) with Ward's criterion on squared Euclidean
 * distances (the Lance-Williams update of hclust's "ward.D2"), by the
 * nearest-neighbour chain, cut at k (1 <= k <= n) clusters: labels[n]
 * (0-based) numbered in the order of each cluster's first row, as
 * stats::cutree() numbers its groups. The same partition as
 * cutree(hclust(dist(z), "ward.D2"), k) up to exact ties of heights. The
 * distances are computed by `threads` threads (each entry by one: the
 * same for any count); the chain is serial. HM_EINVAL for bad sizes,
 * HM_EDOM if no finite dissimilarity is left (non-finite data).
 * work: hm_ward_work_len(n) doubles. Cost O(n^2 (d + 1)) time.
 */
hm_status hm_ward_labels(const double *z, int n, int ldz, int d, int k, int threads, int *labels, double *work);

/* ---------------------------------------------------------------------------
 * k-means (engine/kmeans.c): the starts of the mixture drivers
 * ------------------------------------------------------------------------- */

/* Scratch (doubles) hm_kmeans needs for n x d data, k centres, `trials`
 * candidates per centre and `threads` threads: O(n + trials d + k d +
 * threads block k), block <= 4096. */
size_t hm_kmeans_work_len(int n, int d, int k, int trials, int threads);

/*
 * Greedy k-means++ seeding and Lloyd iterations on the column-major n x d
 * matrix x (leading dimension ldx >= n; finite values). The first centre
 * is a uniformly drawn row, each further one the best (least total squared
 * distance to the nearest centre) of `trials` (>= 1) rows drawn with
 * probability proportional to that squared distance; then at most `maxit`
 * assignment passes (at least one), each row joining its nearest centre
 * (the lowest index on a tie) and each centre moving to the mean of its
 * rows (a centre without rows stays), stopping when no row moves.
 * Outputs: labels[n] (0-based), centers (k x d row-major, the centres of
 * the last assignment), *iter (assignment passes). Draws only through
 * rng (called on this thread, never inside a parallel region). Rows are
 * processed in blocks of a fixed size whose sums are reduced in block
 * order: bit-identical for any thread count. HM_EINVAL for bad sizes,
 * HM_EOVERFLOW when n d or k d exceed INT_MAX. work: hm_kmeans_work_len
 * doubles. Cost O(n d k (trials + passes)).
 */
hm_status hm_kmeans(const double *x,
                    int n,
                    int ldx,
                    int d,
                    int k,
                    int trials,
                    int maxit,
                    hm_rng *rng,
                    int threads,
                    int *labels,
                    double *centers,
                    int *iter,
                    double *work);

/* ---------------------------------------------------------------------------
 * Threads (engine/threads.c): the only OpenMP thread-count logic.
 * ------------------------------------------------------------------------- */

/*
 * Threads to use for n_work independent work items given the request req
 * (>= 1, resolved in R): min(req, omp_get_thread_limit(), n_work), and 1
 * when OpenMP is unavailable.
 */
int hm_threads(int n_work, int req);

/* Processors available to OpenMP (omp_get_num_procs), 1 without OpenMP. */
int hm_threads_max(void);

/* Hidden Markov chains (hmm.c): forward-backward and Viterbi on T x S log densities. */
size_t hm_hmm_work_len(int S, int T);
hm_status hm_hmm_forward_backward(int S, int T, const double *logp, const double *init, const double *trans,
                                  double *loglik, double *filt, double *smooth, double *pair, double *work);
size_t hm_hmm_viterbi_work_len(int S, int T);
hm_status hm_hmm_viterbi(int S, int T, const double *logp, const double *init, const double *trans,
                         int *path, double *logjoint, double *work, int *bp);

/*
 * Sequences stacked row-wise (hmm.c): sequence s covers rows start[s] ..
 * start[s] + len[s] - 1 of the n stacked rows; w[s] its case weight (NULL:
 * all 1). The layout the sequence models' drivers take.
 */
typedef struct hm_seqs {
    int nseq;
    int n;
    const int *start;
    const int *len;
    const double *w;
} hm_seqs;

/* How Baum-Welch treats the initial distribution. */
enum hm_hmm_init_mode {
    HM_HMM_INIT_FREE = 0,       /* the smoothed first-state marginal (exact M-step) */
    HM_HMM_INIT_STATIONARY = 1, /* the stationary distribution of the updated transition */
    HM_HMM_INIT_FIXED = 2       /* held at its given value */
};

/* Length of hm_hmm_estep's statistics: [pair counts S x S row-major | first-state
 * marginal S | loglik | total weight], each weighted by the sequence weights. */
int hm_hmm_stats_len(int S);

/*
 * Forward-backward over every sequence of sq (theory.md 5.3, 5.4, 5.8) with
 * threads over sequences. logp: n x S ROW-MAJOR log emission densities (0 for
 * a missing observation: the state is predicted, not updated), init[S], trans
 * S x S row-major (a_ij = P(j | i)). Outputs: stats (hm_hmm_stats_len(S),
 * overwritten), seq_ll[nseq] per-sequence log-likelihoods, filt and smooth
 * n x S COLUMN-MAJOR marginals (each of the last three may be NULL). Blocks
 * of whole sequences (about 4096 rows, set by the shape) run on the threads
 * of hm_run_blocks and are reduced in sequence order: bit-identical for any
 * thread count. The expected transition counts of a sequence are one
 * product A .* (Alpha' R) over its time steps (hm_k_gemm_tn_acc). HM_EDOM when a sequence has
 * probability zero or a log density is NaN. work: hm_hmm_estep_work_len
 * doubles. Cost O(n S^2).
 */
size_t hm_hmm_estep_work_len(int S, const hm_seqs *sq, int threads);
hm_status hm_hmm_estep(int S,
                       const hm_seqs *sq,
                       const double *logp,
                       const double *init,
                       const double *trans,
                       int threads,
                       double *stats,
                       double *seq_ll,
                       double *filt,
                       double *smooth,
                       double *work);

/* The stationary distribution pi of the S x S row-major transition (pi A = pi,
 * sum 1) by Gaussian elimination; HM_EDOM if it is not unique. work: S * S
 * doubles. Cost O(S^3). */
hm_status hm_hmm_stationary(int S, const double *trans, double *pi, double *work);

/*
 * One Baum-Welch iteration of a hidden Markov model whose emission is the
 * mixture kind h (HM_HM_MIXTURE with S = K classes, any observable family):
 * the E-step is hm_mix_log_densities on the n stacked rows of data (NaN rows
 * missing) followed by hm_hmm_estep; the emission M-step is the mixture's own
 * E-step with the smoothed marginals as its given responsibilities, over the
 * observed rows `obs` (complete rows only, w = the rows' sequence weights;
 * obs_row[r] the stacked index of its row r, or obs = data and obs_row = NULL
 * when nothing is missing), then the mixture's to_natural. The transition is
 * the row-normalised expected counts and the initial distribution follows
 * init_mode (hm_hmm_init_mode). *loglik is the log-likelihood at the INPUT
 * parameters. Statuses: the mixture's (HM_ENOPROG with *bad = the state when a
 * state's occupancy vanishes, a family's M-step failure with *bad = the state),
 * HM_EDOM from the chain. work: hm_hmm_em_work_len(h, sq, obs_row ? obs->n :
 * 0, threads) doubles. Cost O(n S (S + dim)).
 */
size_t hm_hmm_em_work_len(const hm_harmonium *h, const hm_seqs *sq, int n_obs, int threads);
hm_status hm_hmm_em_iterate(const hm_harmonium *h,
                            const double *theta,
                            const double *init,
                            const double *trans,
                            int init_mode,
                            const hm_data *data,
                            const hm_seqs *sq,
                            const hm_data *obs,
                            const int *obs_row,
                            const hm_ctrl *ctl,
                            int threads,
                            double *theta_new,
                            double *init_new,
                            double *trans_new,
                            double *loglik,
                            int *bad,
                            double *work);

/*
 * hm_hmm_em_iterate's halves, for a driver that sums the E-step over chunks
 * of whole sequences: hm_hmm_em_stats writes the chain's statistics hst
 * (hm_hmm_stats_len(S)) and the emission statistics mst (hm_stats_len(h))
 * at (theta, init, trans) (work: hm_hmm_em_work_len); hm_hmm_em_update maps
 * summed hst and mst to the next parameters (work:
 * hm_hmm_em_update_work_len(h)). hm_hmm_em_iterate is the two in turn.
 */
hm_status hm_hmm_em_stats(const hm_harmonium *h,
                          const double *theta,
                          const double *init,
                          const double *trans,
                          const hm_data *data,
                          const hm_seqs *sq,
                          const hm_data *obs,
                          const int *obs_row,
                          int threads,
                          double *hst,
                          double *mst,
                          double *work);
size_t hm_hmm_em_update_work_len(const hm_harmonium *h);
hm_status hm_hmm_em_update(const hm_harmonium *h,
                           const double *hst,
                           const double *mst,
                           const double *init,
                           const double *trans,
                           int init_mode,
                           const hm_ctrl *ctl,
                           double *theta_new,
                           double *init_new,
                           double *trans_new,
                           int *bad,
                           double *work);

/* ---- Linear dynamical system (lds.c, theory.md 5.7) ----
 * State z_t (q), observation y_t (p): z_1 ~ N(mu1, p1); z_{t+1} = a z_t + b + N(0, qcov);
 * y_t = c z_t + d + N(0, r). Matrices column-major, covariances full symmetric. */
typedef struct hm_lds_params {
    int p, q;
    const double *mu1, *p1, *a, *b, *qcov, *c, *d, *r;
} hm_lds_params;

/* Optional per-time-point outputs of hm_lds_estep, each NULL or sized for
 * all N time points of the stacked sequences (column t of sequence i at
 * column start_i + t): means q x N, covariances q*q x N (column-major q x q
 * per time point). xp/pp predicted (p(z_t | y_1..y_{t-1})), xf/pf filtered,
 * xs/ps smoothed, pc the smoothed lag-one cross covariance Cov(z_t, z_{t-1} | y)
 * (zero at the first time point of each sequence). */
typedef struct hm_lds_moments {
    double *xp, *pp, *xf, *pf, *xs, *ps, *pc;
} hm_lds_moments;

/* Length of the EM statistics vector of hm_lds_estep. Layout (all sums over
 * sequences i with case weight w_i; matrices column-major):
 *   [0] sum w_i loglik_i   [1] sum w_i   [2] sum w_i (T_i - 1)
 *   [3] sum w_i (number of time points with at least one observed element)
 *   z1 (q) E[z_1]; z1z1 (q x q) E[z_1 z_1'];
 *   zp (q), zzp (q x q): sums over t = 1..T-1 of E[z_t], E[z_t z_t'];
 *   zn (q), zzn (q x q): sums over t = 2..T of E[z_t], E[z_t z_t'];
 *   cross (q x q): sum over t = 2..T of E[z_t z_{t-1}'];
 *   zo (q), zzo (q x q), yo (p), yzo (p x q), yyo (p x p): sums over the
 *     observed t of E[z_t], E[z_t z_t'], E[y_t], E[y_t z_t'], E[y_t y_t'],
 *     the missing elements of a partially observed y_t replaced by their
 *     conditional law given z_t and the observed elements (Shumway-Stoffer),
 *     so that the closed-form M-step of C, d and R is exact.
 * Every expectation is under p(z | y) at the given parameters. */
size_t hm_lds_stats_len(int p, int q);

/* Doubles of workspace hm_lds_estep needs for `threads` threads and
 * sequences of at most t_max time points: threads * (t_max (q + q^2) +
 * O(p^2 + q^2)) plus a fixed number of statistics slots. */
size_t hm_lds_estep_work_size(int p, int q, size_t t_max, int threads);

/* Kalman filter and RTS smoother over n_seq sequences stacked column-wise in
 * y (p x N, N = sum len, NaN = a missing element; an all-NaN column skips the
 * update, a partially missing one is updated by its observed elements only).
 * Writes each sequence's log-likelihood into loglik[n_seq], the EM statistics
 * (hm_lds_stats_len doubles, layout above; w NULL means unit weights) into
 * stats if not NULL, and the moments requested in out (may be NULL).
 * Sequences run in parallel on up to `threads` threads; statistics are
 * reduced in sequence order, so results do not depend on the thread count.
 * Returns HM_ENOTPD if an innovation covariance or a predicted state
 * covariance is not positive definite (with *bad the 0-based sequence),
 * HM_EINVAL for an empty sequence. Cost O(N (p^3 + p^2 q + q^3)) for fully
 * observed data (the p^3 is the innovation Cholesky). */
hm_status hm_lds_estep(const hm_lds_params *m,
                       int n_seq,
                       const int *len,
                       const double *y,
                       const double *w,
                       int threads,
                       double *loglik,
                       double *stats,
                       const hm_lds_moments *out,
                       int *bad,
                       double *work);

#endif
