/*
 * family.c: family descriptors, dispatch, and the product combinator.
 *
 * A product of independent families (theory.md 1.1, "heterogeneous pair")
 * concatenates data, statistics and parameters block by block; log base
 * measures, log-partitions and negative entropies add; every map acts
 * blockwise.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hm_engine.h"

const char *hm_status_string(hm_status s) {
    switch (s) {
    case HM_OK:
        return "success";
    case HM_CONTINUE:
        return "not converged yet";
    case HM_EDOM:
        return "argument outside the domain";
    case HM_ENOTPD:
        return "matrix not positive definite";
    case HM_ENOMEM:
        return "workspace too small";
    case HM_EMAXITER:
        return "iteration limit reached";
    case HM_ENOPROG:
        return "no progress possible (empty component)";
    case HM_EOVERFLOW:
        return "size too large";
    case HM_EINVAL:
        return "malformed descriptor";
    case HM_EINTR:
        return "interrupted";
    }
    return "unknown status";
}

// --- helpers shared by the family modules ---------------------------------

int hm_all_finite(const double *v, int len) {
    for (int i = 0; i < len; i++) {
        if (!isfinite(v[i])) {
            return 0;
        }
    }
    return 1;
}

double hm_ctrl_floor(const hm_ctrl *ctl) {
    return (ctl != NULL && ctl->floor > 0.0) ? ctl->floor : 0.0;
}

double hm_ctrl_cfloor(const hm_ctrl *ctl) {
    return (ctl != NULL && ctl->cfloor > 0.0) ? ctl->cfloor : 0.0;
}

void hm_ctrl_solver(const hm_ctrl *ctl, double *tol, int *maxit) {
    *tol = (ctl != NULL && ctl->tol > 0.0) ? ctl->tol : HM_CTRL_DEFAULT_TOL;
    *maxit = (ctl != NULL && ctl->maxit > 0) ? ctl->maxit : HM_CTRL_DEFAULT_MAXIT;
}

hm_status hm_unit2_to_natural(const hm_family *f,
                              const double *eta,
                              double *theta,
                              const hm_ctrl *ctl,
                              hm_unit2_solver solve) {
    double tol, psi;
    int maxit;
    hm_ctrl_solver(ctl, &tol, &maxit);
    for (int i = 0; i < f->n; i++) {
        hm_status st = solve(eta[2 * i], eta[2 * i + 1], tol, maxit, theta + 2 * i, &psi);
        if (st != HM_OK) {
            return st;
        }
    }
    return HM_OK;
}

hm_status hm_unit2_neg_entropy(const hm_family *f,
                               const double *eta,
                               double *phi,
                               const hm_ctrl *ctl,
                               hm_unit2_solver solve) {
    double tol, acc = 0.0;
    int maxit;
    hm_ctrl_solver(ctl, &tol, &maxit);
    for (int i = 0; i < f->n; i++) {
        double th[2], psi;
        hm_status st = solve(eta[2 * i], eta[2 * i + 1], tol, maxit, th, &psi);
        if (st != HM_OK) {
            return st;
        }
        acc += th[0] * eta[2 * i] + th[1] * eta[2 * i + 1] - psi;
    }
    *phi = acc;
    return HM_OK;
}

// --- descriptors -----------------------------------------------------------

// Sizes are computed in 64 bits and must leave room for the products the
// harmonium layer forms (dim times the number of latent states).
static int size_ok(long long v) {
    return v >= 0 && v <= (long long)(1 << 30);
}

hm_status hm_family_init(hm_family *f, int kind, int n, int rep, int trials) {
    f->kind = kind;
    f->n = n;
    f->rep = 0;
    f->trials = 0;
    f->cstr = 0;
    f->n_sub = 0;
    f->sub = NULL;
    if (n < 1) {
        return HM_EINVAL;
    }
    switch (kind) {
    case HM_FAM_NORMAL:
        if (rep < HM_COV_FULL || rep > HM_COV_ISO) {
            return HM_EINVAL;
        }
        // The fourth integer is the mixture covariance structure, which
        // must have this rep as its per-component form (hm_cs_rep).
        if (trials < HM_CS_FREE || trials >= HM_CS_N || (trials != HM_CS_FREE && hm_cs_rep(trials) != rep)) {
            return HM_EINVAL;
        }
        f->rep = rep;
        f->cstr = trials;
        f->d = n;
        {
            long long nn = n;
            long long shape = rep == HM_COV_FULL ? nn * (nn + 1) / 2 : (rep == HM_COV_DIAG ? nn : 1);
            long long dim = nn + shape;
            if (!size_ok(dim)) {
                return HM_EOVERFLOW;
            }
            f->dim = (int)dim;
        }
        break;
    case HM_FAM_CATEGORICAL:
        // n = 1 is the degenerate one-class latent of a one-component
        // mixture (dim 0, psi = 0); R offers users only n >= 2.
        f->d = 1;
        f->dim = n - 1;
        break;
    case HM_FAM_BINOMIAL:
        if (trials < 1) {
            return HM_EINVAL;
        }
        f->trials = trials;
        f->d = n;
        f->dim = n;
        break;
    case HM_FAM_BERNOULLI:
    case HM_FAM_POISSON:
    case HM_FAM_DIRICHLET:
        if (kind == HM_FAM_DIRICHLET && n < 2) {
            return HM_EINVAL;
        }
        f->d = n;
        f->dim = n;
        break;
    case HM_FAM_VONMISES:
    case HM_FAM_COMPOISSON:
    case HM_FAM_GAMMA:
        if (!size_ok(2LL * n)) {
            return HM_EOVERFLOW;
        }
        f->d = n;
        f->dim = 2 * n;
        break;
    case HM_FAM_BOLTZMANN:
        if (n > HM_BOLTZMANN_MAX_UNITS) {
            return HM_EINVAL;
        }
        f->d = n;
        f->dim = n * (n + 1) / 2;
        break;
    default:
        return HM_EINVAL;
    }
    return HM_OK;
}


hm_status hm_family_from_spec(const int *spec, int len, hm_family *f, hm_family *sub, int max_sub) {
    if (len < 2) {
        return HM_EINVAL;
    }
    if (spec[0] != HM_FAM_PRODUCT) {
        if (len != 4) {
            return HM_EINVAL;
        }
        return hm_family_init(f, spec[0], spec[1], spec[2], spec[3]);
    }
    int nb = spec[1];
    if (nb < 1 || nb > max_sub || nb > HM_FAM_MAX_SUB || len != 2 + 4 * nb) {
        return HM_EINVAL;
    }
    f->kind = HM_FAM_PRODUCT;
    f->n = nb;
    f->rep = 0;
    f->trials = 0;
    f->cstr = 0;
    f->d = 0;
    f->dim = 0;
    for (int b = 0; b < nb; b++) {
        const int *s = spec + 2 + 4 * b;
        if (s[0] == HM_FAM_PRODUCT) {
            return HM_EINVAL;
        }
        hm_status st = hm_family_init(&sub[b], s[0], s[1], s[2], s[3]);
        if (st != HM_OK) {
            return st;
        }
        f->d += sub[b].d;
        f->dim += sub[b].dim;
    }
    f->n_sub = nb;
    f->sub = sub;
    return HM_OK;
}

const hm_family_ops *hm_family_ops_of(const hm_family *f) {
    switch (f->kind) {
    case HM_FAM_NORMAL:
        return &hm_fam_normal_ops;
    case HM_FAM_CATEGORICAL:
        return &hm_fam_categorical_ops;
    case HM_FAM_BERNOULLI:
        return &hm_fam_bernoulli_ops;
    case HM_FAM_BINOMIAL:
        return &hm_fam_binomial_ops;
    case HM_FAM_POISSON:
        return &hm_fam_poisson_ops;
    case HM_FAM_VONMISES:
        return &hm_fam_vonmises_ops;
    case HM_FAM_COMPOISSON:
        return &hm_fam_compoisson_ops;
    case HM_FAM_DIRICHLET:
        return &hm_fam_dirichlet_ops;
    case HM_FAM_GAMMA:
        return &hm_fam_gamma_ops;
    case HM_FAM_BOLTZMANN:
        return &hm_fam_boltzmann_ops;
    case HM_FAM_PRODUCT:
        return &hm_fam_product_ops;
    default:
        return NULL;
    }
}

// --- dispatch --------------------------------------------------------------

void hm_fam_stat(const hm_family *f, const double *x, double *s) {
    hm_family_ops_of(f)->stat(f, x, s);
}

double hm_fam_log_base(const hm_family *f, const double *x) {
    return hm_family_ops_of(f)->log_base(f, x);
}

hm_status hm_fam_log_partition(const hm_family *f, const double *theta, double *psi, double *work) {
    return hm_family_ops_of(f)->log_partition(f, theta, psi, work);
}

hm_status hm_fam_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    return hm_family_ops_of(f)->to_mean(f, theta, eta, work);
}

hm_status hm_fam_to_natural(const hm_family *f,
                            const double *eta,
                            double *theta,
                            double *work,
                            const hm_ctrl *ctl) {
    return hm_family_ops_of(f)->to_natural(f, eta, theta, work, ctl);
}

hm_status hm_fam_neg_entropy(const hm_family *f,
                             const double *eta,
                             double *phi,
                             double *work,
                             const hm_ctrl *ctl) {
    return hm_family_ops_of(f)->neg_entropy(f, eta, phi, work, ctl);
}

hm_status hm_fam_sample(const hm_family *f,
                        const double *theta,
                        int n,
                        hm_rng *rng,
                        double *x,
                        double *work) {
    return hm_family_ops_of(f)->sample(f, theta, n, rng, x, work);
}

hm_status hm_fam_check_natural(const hm_family *f, const double *theta) {
    return hm_family_ops_of(f)->check_natural(f, theta);
}

hm_status hm_fam_check_data(const hm_family *f, const double *x) {
    return hm_family_ops_of(f)->check_data(f, x);
}

size_t hm_fam_work_len(const hm_family *f) {
    return hm_family_ops_of(f)->work_len(f);
}

size_t hm_fam_sample_work_len(const hm_family *f, int n) {
    return hm_fam_work_len(f) + (size_t)(n > 0 ? n : 0) * (size_t)f->d;
}

int hm_fam_closed_natural(const hm_family *f) {
    if (f->kind == HM_FAM_PRODUCT) {
        for (int b = 0; b < f->n_sub; b++) {
            if (!hm_fam_closed_natural(&f->sub[b])) {
                return 0;
            }
        }
        return 1;
    }
    return hm_family_ops_of(f)->closed_natural;
}

// --- the product combinator ------------------------------------------------
// Each block consumes its own slice of the datum (d) and of every parameter
// or statistic vector (dim); the loops below walk both offsets together.

// The blocks of the common discrete products (latent class analysis: tens
// of categorical or binary items per row) are done in line: one call
// through the operation table per block and row cost more than the
// statistic itself. Each is the block's own stat (cat_stat, ber_stat) and
// log base (0, the counting measure), so the results are the same.
static void prod_stat(const hm_family *f, const double *x, double *s) {
    const double one = 1.0;
    uint64_t one_bits;
    memcpy(&one_bits, &one, sizeof one_bits);
    int ox = 0, op = 0;
    for (int b = 0; b < f->n_sub; b++) {
        const hm_family *g = &f->sub[b];
        if (g->kind == HM_FAM_CATEGORICAL) {
            // Without a branch on the code (codes of random data defeat the
            // predictor): the code as an integer c in 0..m, 0 for anything
            // that is not one of 1..m (a NaN included), then integer
            // comparisons, as cat_stat's comparisons of doubles give.
            const double v = x[ox];
            const int m = g->n - 1;
            double vc = v > 0.0 ? v : 0.0;
            vc = vc < (double)m ? vc : (double)m;
            int c = (int)vc;
            c *= (double)c == v;
            for (int i = 0; i < m; i++) {
                // 1.0 or 0.0 by masking the bits of 1.0 (a select between
                // two doubles compiles to a branch).
                const uint64_t bits = one_bits & (0 - (uint64_t)(c == i + 1));
                memcpy(s + op + i, &bits, sizeof bits);
            }
        } else if (g->kind == HM_FAM_BERNOULLI) {
            for (int i = 0; i < g->n; i++) {
                s[op + i] = x[ox + i];
            }
        } else {
            hm_fam_stat(g, x + ox, s + op);
        }
        ox += g->d;
        op += g->dim;
    }
}

static double prod_log_base(const hm_family *f, const double *x) {
    double acc = 0.0;
    int ox = 0;
    for (int b = 0; b < f->n_sub; b++) {
        const hm_family *g = &f->sub[b];
        if (g->kind != HM_FAM_CATEGORICAL && g->kind != HM_FAM_BERNOULLI) {
            acc += hm_fam_log_base(g, x + ox);
        }
        ox += g->d;
    }
    return acc;
}

static hm_status prod_log_partition(const hm_family *f, const double *theta, double *psi, double *work) {
    double acc = 0.0;
    int op = 0;
    for (int b = 0; b < f->n_sub; b++) {
        double p;
        hm_status st = hm_fam_log_partition(&f->sub[b], theta + op, &p, work);
        if (st != HM_OK) {
            return st;
        }
        acc += p;
        op += f->sub[b].dim;
    }
    *psi = acc;
    return HM_OK;
}

static hm_status prod_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    int op = 0;
    for (int b = 0; b < f->n_sub; b++) {
        hm_status st = hm_fam_to_mean(&f->sub[b], theta + op, eta + op, work);
        if (st != HM_OK) {
            return st;
        }
        op += f->sub[b].dim;
    }
    return HM_OK;
}

static hm_status prod_to_natural(const hm_family *f,
                                 const double *eta,
                                 double *theta,
                                 double *work,
                                 const hm_ctrl *ctl) {
    int op = 0;
    for (int b = 0; b < f->n_sub; b++) {
        hm_status st = hm_fam_to_natural(&f->sub[b], eta + op, theta + op, work, ctl);
        if (st != HM_OK) {
            return st;
        }
        op += f->sub[b].dim;
    }
    return HM_OK;
}

static hm_status prod_neg_entropy(const hm_family *f,
                                  const double *eta,
                                  double *phi,
                                  double *work,
                                  const hm_ctrl *ctl) {
    double acc = 0.0;
    int op = 0;
    for (int b = 0; b < f->n_sub; b++) {
        double p;
        hm_status st = hm_fam_neg_entropy(&f->sub[b], eta + op, &p, work, ctl);
        if (st != HM_OK) {
            return st;
        }
        acc += p;
        op += f->sub[b].dim;
    }
    *phi = acc;
    return HM_OK;
}

// Blocks are sampled one after the other into a scratch area of n * d_b
// doubles at the end of the workspace, then scattered into the row-major
// output, so each block's sampler sees the same layout as when alone.
static hm_status prod_sample(const hm_family *f,
                             const double *theta,
                             int n,
                             hm_rng *rng,
                             double *x,
                             double *work) {
    int ox = 0, op = 0;
    for (int b = 0; b < f->n_sub; b++) {
        const hm_family *g = &f->sub[b];
        double *tmp = work;
        double *gw = work + (size_t)n * (size_t)g->d;
        hm_status st = hm_fam_sample(g, theta + op, n, rng, tmp, gw);
        if (st != HM_OK) {
            return st;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < g->d; j++) {
                x[(size_t)i * (size_t)f->d + (size_t)(ox + j)] = tmp[(size_t)i * (size_t)g->d + (size_t)j];
            }
        }
        ox += g->d;
        op += g->dim;
    }
    return HM_OK;
}

static hm_status prod_check_natural(const hm_family *f, const double *theta) {
    int op = 0;
    for (int b = 0; b < f->n_sub; b++) {
        hm_status st = hm_fam_check_natural(&f->sub[b], theta + op);
        if (st != HM_OK) {
            return st;
        }
        op += f->sub[b].dim;
    }
    return HM_OK;
}

static hm_status prod_check_data(const hm_family *f, const double *x) {
    int ox = 0;
    for (int b = 0; b < f->n_sub; b++) {
        hm_status st = hm_fam_check_data(&f->sub[b], x + ox);
        if (st != HM_OK) {
            return st;
        }
        ox += f->sub[b].d;
    }
    return HM_OK;
}

// The largest block's scratch suffices for every map; sampling additionally
// stages one block's draws (hm_fam_sample_work_len adds n * d for that).
static size_t prod_work_len(const hm_family *f) {
    size_t w = 0;
    for (int b = 0; b < f->n_sub; b++) {
        size_t wb = hm_fam_work_len(&f->sub[b]);
        if (wb > w) {
            w = wb;
        }
    }
    return w;
}

const hm_family_ops hm_fam_product_ops = {
    "product",          prod_stat,          prod_log_base,   prod_log_partition,
    prod_to_mean,       prod_to_natural,    prod_neg_entropy, prod_sample,
    prod_check_natural, prod_check_data,    prod_work_len,   0,
};
