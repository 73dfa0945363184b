/*
 * estep.c: the E-step over data, in blocks of rows (style.md section 2).
 *
 * For a block of B rows the observable sufficient statistics form a B x mx
 * row-major matrix S. One matrix product with T = [Theta | theta_X]
 * (mx x (mz + 1)) gives, per row, the posterior natural parameters
 * theta_Z + Theta' s(x) (theory.md 1.2) and theta_X . s(x); the latent
 * family's log-partition (a log-sum-exp for a mixture) then gives
 * log p(x) (theory.md 1.3) and its mean map the posterior means
 * (responsibilities). A second product S' R with R = [w r | w] accumulates
 * the block's expected statistics: the interaction block and, through the
 * last column, sum w s_X(x) (theory.md 1.5). Both products run in the
 * engine's own kernels (hm_kernel.c).
 *
 * Linear-Gaussian kinds (theory.md 3.2, 3.3) couple the locations only,
 * so the block's data X (B x p, row-major) itself is the coupled
 * statistic: H = X W gives each row's posterior field W'x in one product.
 * For a Normal latent the posterior covariance Sigma_post is the same for
 * every row (factored once per call), the posterior means are
 * M = (H + theta_z) Sigma_post, another product, and
 * psi_Z(posterior) = 1/2 h' mu - 1/2 log |P_post| gives log p(x). The
 * statistics are X' (w M) and M' (w M) + (sum w) Sigma_post, both
 * products. For a Boltzmann latent each row's posterior (theta_Z with W'x
 * on its biases) is enumerated by the family's own log_partition and
 * to_mean (2^q states per row). The restricted-posterior kinds (theory.md
 * 1.3) reuse both paths: a diagonal-Normal posterior is the Normal path
 * with a diagonal Sigma_post and the statistic (z, z_i^2); a Bernoulli
 * posterior is the Boltzmann path with the biases as the whole parameter
 * (closed form, no enumeration per row). Their psi(theta) = psi_Prr(prior)
 * + chi comes from hm_hm_log_partition, once per call.
 *
 * The Categorical-Dirichlet kind (theory.md 3.5) has a posterior fixed by
 * the datum (alpha + e_x), so its blocks reduce the rows to weighted
 * category counts and assemble the statistics from a per-call digamma
 * table (catdir_block).
 *
 * Each block writes its sums into its own slot; slots are added to the total
 * in block order, so the result is bit-identical for any thread count. The
 * block size depends on the shapes only.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_specfun.h"
#include "threads.h"

// Shifted logits below this give responsibilities of exactly zero (exp(-700)
// is 1e-304 relative to the largest class, whose shifted logit is 0).
#define EXP_FLOOR (-700.0)

// Rows per block for a Boltzmann latent: each row costs two enumerations
// of 2^q states, so small blocks keep the threads balanced.
#define BOLTZMANN_BLOCK_ROWS 64

static int is_lgm(const hm_harmonium *h) {
    return h->kind == HM_HM_LGM || h->kind == HM_HM_BOLTZMANN_LGM || h->kind == HM_HM_LGM_DIAG ||
           h->kind == HM_HM_BOLTZMANN_LGM_MF;
}

// The kinds whose per-row posterior goes through the latent family's own
// maps (blgm_block): a Boltzmann latent, or independent binary units.
static int is_binary(const hm_harmonium *h) {
    return h->kind == HM_HM_BOLTZMANN_LGM || h->kind == HM_HM_BOLTZMANN_LGM_MF;
}

int hm_stats_len(const hm_harmonium *h) {
    return hm_hm_dim(h) + 2;
}

// About 256 KiB of statistics per block, between 64 and 1024 rows, a
// multiple of 16.
int hm_estep_block_rows(const hm_harmonium *h) {
    if (h->kind == HM_HM_BOLTZMANN_LGM) {
        return BOLTZMANN_BLOCK_ROWS;
    }
    int m = h->mx > 0 ? h->mx : 1;
    int b = 32768 / m;
    if (b < 64) {
        b = 64;
    }
    if (b > 1024) {
        b = 1024;
    }
    return b - b % 16;
}

// Per-thread scratch of a mixture: S, Q and R, the log base measures, one
// gathered datum, the block's gemm output G, the latent sums, and the
// family's scratch.
static size_t mix_thread_len(const hm_harmonium *h) {
    size_t B = (size_t)hm_estep_block_rows(h);
    size_t mx = (size_t)h->mx, K = (size_t)h->mz + 1;
    return B * mx + 2 * B * K + B + (size_t)h->obs->d + mx * K + K + hm_fam_work_len(h->obs) + 8;
}

// Per-thread scratch of the linear-Gaussian kinds: X (B x p), H, M and
// w M (B x q each), the row energies and weights, one statistic vector,
// the latent product G (q x q), and for a Boltzmann latent one posterior
// natural and mean vector and the family's enumeration scratch.
static size_t lgm_thread_len(const hm_harmonium *h) {
    size_t B = (size_t)hm_estep_block_rows(h);
    size_t p = (size_t)h->mx, q = (size_t)h->mz;
    size_t len = B * p + 3 * B * q + 2 * B + (size_t)h->obs->dim + q * q + 8;
    if (h->obs->rep == HM_COV_FULL) {
        len += B * p + p * p; // X Q, then w X; and X' (w X)
    }
    if (is_binary(h)) {
        len += 2 * (size_t)h->lat->dim + hm_fam_work_len(h->lat);
    }
    return len;
}

static size_t thread_len(const hm_harmonium *h) {
    // Categorical-Dirichlet: the block's K weighted category counts.
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return (size_t)h->mz + 8;
    }
    return is_lgm(h) ? lgm_thread_len(h) : mix_thread_len(h);
}

// Shared scratch in front of the slots: the mixture's T = [Theta |
// theta_X] (mx x K) and K spare; for the linear-Gaussian kinds the Normal
// latent's Sigma_post (q x q) and, for a full observable rep, the
// symmetric matrix Q of theta_xx (p x p).
static size_t head_len(const hm_harmonium *h) {
    // Categorical-Dirichlet: the table of catdir_table (3K + 2).
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return 3 * (size_t)h->mz + 8;
    }
    if (is_lgm(h)) {
        size_t p = (size_t)h->mx, q = (size_t)h->mz;
        return q * q + 8 + (h->obs->rep == HM_COV_FULL ? p * p : 0);
    }
    size_t K = (size_t)h->mz + 1;
    return (size_t)h->mx * K + K;
}

static int round_blocks(int nt) {
    return 4 * nt;
}

static int clamp_threads(int threads) {
    return threads < 1 ? 1 : (threads > 64 ? 64 : threads);
}

size_t hm_estep_work_len(const hm_harmonium *h, int threads) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->estep_work_len(h, threads);
    }
    int nt = clamp_threads(threads);
    size_t rs = (size_t)round_blocks(nt);
    size_t slen = (size_t)hm_stats_len(h);
    return head_len(h) + hm_hm_work_len(h) + rs * slen + rs + (size_t)nt * thread_len(h);
}

size_t hm_blocks_work_len(int slen, size_t tlen, int threads) {
    int nt = clamp_threads(threads);
    size_t rs = (size_t)round_blocks(nt);
    return rs * (size_t)slen + rs + (size_t)nt * tlen;
}

hm_status hm_run_blocks(int n,
                        int B,
                        int threads,
                        int slen,
                        size_t tlen,
                        hm_block_fn fn,
                        const void *ctx,
                        double *stats,
                        double *work) {
    const int nb = (n + B - 1) / B;
    const int ntw = clamp_threads(threads);
    const int nt = hm_threads(nb, ntw);
    const int rs = round_blocks(ntw);
    double *slots = work;
    double *sst = slots + (size_t)rs * (size_t)slen;
    double *tws = sst + rs;
    if (stats) {
        memset(stats, 0, (size_t)slen * sizeof(double));
    }
    for (int b0 = 0; b0 < nb; b0 += rs) {
        const int nbr = (nb - b0 < rs) ? nb - b0 : rs;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) default(none) \
    shared(ctx, fn, slots, sst, tws) firstprivate(b0, nbr, B, n, slen, tlen)
        for (int b = 0; b < nbr; b++) {
            int tid = omp_get_thread_num();
            int r0 = (b0 + b) * B;
            int nr = (n - r0 < B) ? n - r0 : B;
            hm_status bst = fn(ctx, r0, nr, slots + (size_t)b * (size_t)slen, tws + (size_t)tid * tlen);
            sst[b] = (double)bst;
        }
        // Reduce in block order: the sum is independent of the thread count.
        for (int b = 0; b < nbr; b++) {
            if (sst[b] != (double)HM_OK) {
                return (hm_status)(int)sst[b];
            }
            if (stats) {
                const double *sl = slots + (size_t)b * (size_t)slen;
                for (int i = 0; i < slen; i++) {
                    stats[i] += sl[i];
                }
            }
        }
    }
    return HM_OK;
}

// --- one block of a mixture ------------------------------------------------

typedef struct block_ctx {
    const hm_harmonium *h;
    const double *T;     /* mixture: mx x K: [Theta | theta_X]; categorical_
                            dirichlet: the table of catdir_table */
    const double *thz;   /* theta_Z */
    double psi;          /* psi(theta) = psi_Z(prior) + chi */
    const hm_data *data;
    const double *given; /* column-major n x K posterior, or NULL */
    double *logp;
    double *post;
    const double *theta; /* linear-Gaussian: the parameters (theta_X first) */
    const double *W;     /* linear-Gaussian: p x q interaction, row-major */
    const double *sig;   /* lgm: Sigma_post, q x q */
    double half_logdet;  /* lgm: 1/2 log |P_post| */
    const double *Q;     /* full observable rep: x'Q x = theta_xx . S(x), p x p */
} block_ctx;

static hm_status mix_block(const block_ctx *c, int r0, int nr, double *slot, double *tw) {
    const hm_harmonium *h = c->h;
    const hm_family *obs = h->obs;
    const int mx = h->mx, mz = h->mz, K = mz + 1, d = obs->d, dim = hm_hm_dim(h);
    const int B = hm_estep_block_rows(h);
    const hm_data *data = c->data;
    double *S = tw;
    double *Q = S + (size_t)B * (size_t)mx;
    double *R = Q + (size_t)B * (size_t)K;
    double *lb = R + (size_t)B * (size_t)K;
    double *xi = lb + B;
    double *G = xi + d;
    double *ez = G + (size_t)mx * (size_t)K;
    const size_t n = (size_t)data->n, ldx = (size_t)data->ldx;

    for (int i = 0; i < nr; i++) {
        size_t row = (size_t)(r0 + i);
        for (int j = 0; j < d; j++) {
            xi[j] = data->x[(size_t)j * ldx + row];
        }
        hm_fam_stat(obs, xi, S + (size_t)i * (size_t)mx);
        lb[i] = hm_fam_log_base(obs, xi);
    }
    for (int k = 0; k < K; k++) {
        ez[k] = 0.0;
    }
    double ll = 0.0, wt = 0.0;
    if (c->given == NULL) {
        hm_k_gemm_nn(nr, mx, K, S, mx, c->T, K, Q, K);
        // Responsibilities: softmax over [0, q] with the row maximum shifted
        // out; class 0 sits in the last column of R. One vectorised exp for
        // the whole block (libm's exp would cost as much as the product).
        for (int i = 0; i < nr; i++) {
            double *q = Q + (size_t)i * (size_t)K, *r = R + (size_t)i * (size_t)K;
            double m = 0.0;
            for (int k = 0; k < mz; k++) {
                q[k] += c->thz[k];
                if (q[k] > m) {
                    m = q[k];
                }
            }
            // A shifted logit below EXP_FLOOR is sent to -Inf, so that its
            // exp is exactly 0 rather than subnormal: its responsibility is
            // below 1e-304 of the row's total either way, but subnormal
            // operands cost x86 processors a microcode assist per multiply
            // in the products that follow, which for well-separated
            // clusters made the E-step tens of times slower.
            for (int k = 0; k < mz; k++) {
                r[k] = q[k] - m < EXP_FLOOR ? -INFINITY : q[k] - m;
            }
            r[mz] = -m < EXP_FLOOR ? -INFINITY : -m;
            // log sum_k exp(a_k) = m + log sum_k exp(a_k - m) (theory.md 8).
            lb[i] += q[mz] + m;
        }
        hm_vexp(R, nr * K);
        for (int i = 0; i < nr; i++) {
            size_t row = (size_t)(r0 + i);
            double *r = R + (size_t)i * (size_t)K;
            double tot = 0.0;
            for (int k = 0; k < K; k++) {
                tot += r[k];
            }
            double lp = lb[i] + log(tot) - c->psi;
            double wi = data->w ? data->w[row] : 1.0;
            double inv = 1.0 / tot;
            if (c->logp) {
                c->logp[row] = lp;
            }
            if (c->post) {
                c->post[row] = r[mz] * inv;
                for (int k = 0; k < mz; k++) {
                    c->post[(size_t)(k + 1) * n + row] = r[k] * inv;
                }
            }
            for (int k = 0; k < mz; k++) {
                r[k] *= inv * wi;
                ez[k] += r[k];
            }
            r[mz] = wi;
            ll += wi * lp;
            wt += wi;
        }
    } else {
        for (int i = 0; i < nr; i++) {
            size_t row = (size_t)(r0 + i);
            double *r = R + (size_t)i * (size_t)K;
            double wi = data->w ? data->w[row] : 1.0;
            for (int k = 0; k < mz; k++) {
                r[k] = wi * c->given[(size_t)(k + 1) * n + row];
                ez[k] += r[k];
            }
            r[mz] = wi;
            wt += wi;
        }
    }
    memset(G, 0, (size_t)mx * (size_t)K * sizeof(double));
    hm_k_gemm_tn_acc(nr, mx, K, S, mx, R, K, G, K);
    double *etax = slot, *etaw = slot + mx, *etaz = slot + mx + (size_t)mx * (size_t)mz;
    for (int j = 0; j < mx; j++) {
        etax[j] = G[(size_t)j * (size_t)K + (size_t)mz];
        for (int k = 0; k < mz; k++) {
            etaw[(size_t)j * (size_t)mz + (size_t)k] = G[(size_t)j * (size_t)K + (size_t)k];
        }
    }
    for (int k = 0; k < mz; k++) {
        etaz[k] = ez[k];
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

// --- one block of a linear-Gaussian harmonium ---------------------------------

// Flat index of (i, j), i <= j, in a packed upper triangle of order d.
static size_t pidx(int d, int i, int j) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)j;
}

/*
 * Full observable rep: theta_xx . S(x) = x'Q x and sum_i w_i x_i x_i' =
 * X'(w X), so the energies and the packed second moments come from two
 * products instead of p(p+1)/2 products per row. XQ (nr x p) holds X Q,
 * then w X; G is p x p.
 */
static void lgm_gather_full(const block_ctx *c,
                            int nr,
                            const double *X,
                            const double *wv,
                            double *e,
                            double *XQ,
                            double *G,
                            double *acc) {
    const int p = c->h->obs->n;
    hm_k_gemm_nn(nr, p, p, X, p, c->Q, p, XQ, p);
    for (int i = 0; i < nr; i++) {
        const double *xi = X + (size_t)i * (size_t)p;
        double *yi = XQ + (size_t)i * (size_t)p;
        double en = 0.0;
        for (int j = 0; j < p; j++) {
            en += (c->theta[j] + yi[j]) * xi[j];
            acc[j] += wv[i] * xi[j];
            yi[j] = wv[i] * xi[j];
        }
        e[i] += en;
    }
    memset(G, 0, (size_t)p * (size_t)p * sizeof(double));
    hm_k_gemm_tn_acc(nr, p, p, X, p, XQ, p, G, p);
    for (int i = 0; i < p; i++) {
        for (int j = i; j < p; j++) {
            acc[(size_t)p + pidx(p, i, j)] = G[(size_t)i * (size_t)p + (size_t)j];
        }
    }
}

/*
 * Gathers the block's rows into X (nr x p, row-major), the per-row
 * observable part of log p(x), e_i = theta_X . s_X(x_i) + log mu_X(x_i),
 * and the case weights wv, and writes sum_i w_i s_X(x_i) into acc
 * (dim_X). s is one statistic vector of scratch (the elementwise reps),
 * XQ and G the full rep's product scratch. Rows are added in order.
 */
static void lgm_gather(const block_ctx *c,
                       int r0,
                       int nr,
                       double *X,
                       double *s,
                       double *e,
                       double *wv,
                       double *acc,
                       double *XQ,
                       double *G) {
    const hm_family *obs = c->h->obs;
    const int p = obs->d, dx = obs->dim;
    const hm_data *data = c->data;
    const size_t ldx = (size_t)data->ldx;
    memset(acc, 0, (size_t)dx * sizeof(double));
    if (c->Q != NULL) {
        for (int i = 0; i < nr; i++) {
            const size_t row = (size_t)(r0 + i);
            double *xi = X + (size_t)i * (size_t)p;
            for (int j = 0; j < p; j++) {
                xi[j] = data->x[(size_t)j * ldx + row];
            }
            wv[i] = data->w ? data->w[row] : 1.0;
            e[i] = hm_fam_log_base(obs, xi);
        }
        lgm_gather_full(c, nr, X, wv, e, XQ, G, acc);
        return;
    }
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        double *xi = X + (size_t)i * (size_t)p;
        for (int j = 0; j < p; j++) {
            xi[j] = data->x[(size_t)j * ldx + row];
        }
        hm_fam_stat(obs, xi, s);
        const double wi = data->w ? data->w[row] : 1.0;
        double en = hm_fam_log_base(obs, xi);
        for (int j = 0; j < dx; j++) {
            en += c->theta[j] * s[j];
            acc[j] += wi * s[j];
        }
        e[i] = en;
        wv[i] = wi;
    }
}

/*
 * Normal latent: posterior natural parameters (theta_z + W'x, theta_zz),
 * so with h = theta_z + W'x the posterior mean is Sigma_post h and
 * psi_Z(posterior) = 1/2 h' mu - 1/2 log |P_post| (theory.md 2.7, 3.2).
 * The latent second moment E[z z' | x] = Sigma_post + mu mu' is summed as
 * M' (w M) plus (sum w) Sigma_post.
 */
static hm_status lgm_block(const block_ctx *c, int r0, int nr, double *slot, double *tw) {
    const hm_harmonium *h = c->h;
    const int p = h->mx, q = h->mz, dx = h->obs->dim, dim = hm_hm_dim(h);
    const int B = hm_estep_block_rows(h);
    const size_t n = (size_t)c->data->n;
    double *X = tw;
    double *H = X + (size_t)B * (size_t)p;
    double *M = H + (size_t)B * (size_t)q;
    double *Mw = M + (size_t)B * (size_t)q;
    double *e = Mw + (size_t)B * (size_t)q;
    double *wv = e + B;
    double *s = wv + B;
    double *G = s + dx;
    double *XQ = G + (size_t)q * (size_t)q;
    double *GX = XQ + (size_t)B * (size_t)p;
    double *etax = slot, *etaw = slot + dx, *etaz = etaw + (size_t)p * (size_t)q;

    lgm_gather(c, r0, nr, X, s, e, wv, etax, XQ, GX);
    hm_k_gemm_nn(nr, p, q, X, p, c->W, q, H, q);
    for (int i = 0; i < nr; i++) {
        for (int k = 0; k < q; k++) {
            H[(size_t)i * (size_t)q + (size_t)k] += c->thz[k];
        }
    }
    hm_k_gemm_nn(nr, q, q, H, q, c->sig, q, M, q);
    memset(etaz, 0, (size_t)q * sizeof(double));
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        const double *hi = H + (size_t)i * (size_t)q, *mi = M + (size_t)i * (size_t)q;
        double *mw = Mw + (size_t)i * (size_t)q;
        double quad = 0.0;
        for (int k = 0; k < q; k++) {
            quad += hi[k] * mi[k];
        }
        const double lp = e[i] + 0.5 * quad - c->half_logdet - c->psi;
        if (c->logp) {
            c->logp[row] = lp;
        }
        for (int k = 0; k < q; k++) {
            if (c->post) {
                c->post[(size_t)k * n + row] = mi[k];
            }
            mw[k] = wv[i] * mi[k];
            etaz[k] += mw[k];
        }
        ll += wv[i] * lp;
        wt += wv[i];
    }
    memset(etaw, 0, (size_t)p * (size_t)q * sizeof(double));
    hm_k_gemm_tn_acc(nr, p, q, X, p, Mw, q, etaw, q);
    memset(G, 0, (size_t)q * (size_t)q * sizeof(double));
    hm_k_gemm_tn_acc(nr, q, q, M, q, Mw, q, G, q);
    // A diagonal posterior's statistic is (z, z_i^2): only the diagonal
    // of E[z z' | x] = Sigma_post + mu mu' is kept.
    const int diag = h->kind == HM_HM_LGM_DIAG;
    for (int i = 0; i < q; i++) {
        for (int j = i; j < (diag ? i + 1 : q); j++) {
            const double v = G[(size_t)i * (size_t)q + (size_t)j] +
                             wt * c->sig[(size_t)i * (size_t)q + (size_t)j];
            etaz[(size_t)q + (diag ? (size_t)i : pidx(q, i, j))] = v;
        }
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

/*
 * Boltzmann latent: the posterior at x is theta_Z with (W'x)_i added to
 * each bias theta_ii (theory.md 3.3); its log-partition and packed mean
 * E[z z' | x] come from the family's enumeration, and the unit means
 * E[z_i | x] are that mean's diagonal.
 */
static hm_status blgm_block(const block_ctx *c, int r0, int nr, double *slot, double *tw) {
    const hm_harmonium *h = c->h;
    const hm_family *lat = h->lat;
    const int p = h->mx, q = h->mz, dx = h->obs->dim, dz = lat->dim, dim = hm_hm_dim(h);
    const int B = hm_estep_block_rows(h);
    const size_t n = (size_t)c->data->n;
    double *X = tw;
    double *H = X + (size_t)B * (size_t)p;
    double *M = H + (size_t)B * (size_t)q;
    double *Mw = M + (size_t)B * (size_t)q;
    double *e = Mw + (size_t)B * (size_t)q;
    double *wv = e + B;
    double *s = wv + B;
    double *G = s + dx;
    double *tp = G + (size_t)q * (size_t)q;
    double *ep = tp + dz;
    double *fw = ep + dz;
    const int full = h->obs->rep == HM_COV_FULL;
    double *XQ = fw + hm_fam_work_len(lat);
    double *GX = XQ + (full ? (size_t)B * (size_t)p : 0);
    double *etax = slot, *etaw = slot + dx, *etaz = etaw + (size_t)p * (size_t)q;
    // Unit k's bias: the diagonal of a Boltzmann machine's packed
    // couplings, or the k-th Bernoulli logit (the mean-field kind).
    const int bm = h->kind == HM_HM_BOLTZMANN_LGM;

    lgm_gather(c, r0, nr, X, s, e, wv, etax, XQ, GX);
    hm_k_gemm_nn(nr, p, q, X, p, c->W, q, H, q);
    memset(etaz, 0, (size_t)dz * sizeof(double));
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        const double *hi = H + (size_t)i * (size_t)q;
        double *mi = M + (size_t)i * (size_t)q, *mw = Mw + (size_t)i * (size_t)q;
        memcpy(tp, c->thz, (size_t)dz * sizeof(double));
        for (int k = 0; k < q; k++) {
            tp[bm ? pidx(q, k, k) : (size_t)k] += hi[k];
        }
        double psiz;
        hm_status st = hm_fam_log_partition(lat, tp, &psiz, fw);
        if (st == HM_OK) {
            st = hm_fam_to_mean(lat, tp, ep, fw);
        }
        if (st != HM_OK) {
            return st;
        }
        const double lp = e[i] + psiz - c->psi;
        if (c->logp) {
            c->logp[row] = lp;
        }
        for (int k = 0; k < q; k++) {
            mi[k] = ep[bm ? pidx(q, k, k) : (size_t)k];
            if (c->post) {
                c->post[(size_t)k * n + row] = mi[k];
            }
            mw[k] = wv[i] * mi[k];
        }
        for (int r = 0; r < dz; r++) {
            etaz[r] += wv[i] * ep[r];
        }
        ll += wv[i] * lp;
        wt += wv[i];
    }
    memset(etaw, 0, (size_t)p * (size_t)q * sizeof(double));
    hm_k_gemm_tn_acc(nr, p, q, X, p, Mw, q, etaw, q);
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

// --- one block of the Categorical-Dirichlet harmonium -------------------------

/*
 * The per-call table in the head (theory.md 3.5): alpha = theta_Z + rho,
 * digamma(alpha), digamma(alpha + 1), then digamma(A + 1) and log A with
 * A = sum alpha. digamma(alpha_j + 1) is evaluated, not formed as
 * digamma(alpha_j) + 1/alpha_j, which cancels for small alpha_j. work is
 * the single-point scratch (hm_hm_prior).
 */
static hm_status catdir_table(const hm_harmonium *h, const double *theta, double *tab, double *work) {
    const int K = h->mz;
    hm_status st = hm_hm_prior(h, theta, tab, work);
    if (st != HM_OK) {
        return st;
    }
    double A = 0.0;
    for (int j = 0; j < K; j++) {
        A += tab[j];
        tab[K + j] = hm_digamma(tab[j]);
        tab[2 * K + j] = hm_digamma(tab[j] + 1.0);
    }
    tab[3 * K] = hm_digamma(A + 1.0);
    tab[3 * K + 1] = log(A);
    return HM_OK;
}

/*
 * Each row's posterior is alpha + e_x, so everything a block contributes
 * depends on the data only through the weighted count c_i of each
 * category: the statistics are (c_1..c_{K-1}, c_i m_i' in row i-1 of the
 * cross block, sum_i c_i m_i) with m_i = E[log z | x = i], m_ij =
 * digamma(alpha_j + delta_ij) - digamma(A + 1). Rows cost O(1) (O(K) when
 * the posterior is written), the assembly O(K^2), the size of the cross
 * block itself. log p(x) = psi_Z(alpha + e_x) - psi_Z(alpha) - chi =
 * log(alpha_x / A) (theory.md 1.3, 3.5), in closed form. c->T is the table
 * of catdir_table.
 */
static hm_status catdir_block(const block_ctx *c, int r0, int nr, double *slot, double *tw) {
    const hm_harmonium *h = c->h;
    const int K = h->mz, m = h->mx, dim = hm_hm_dim(h);
    const double *alpha = c->T, *dg = alpha + K, *dg1 = dg + K;
    const double dA1 = dg1[K], lA = dg1[K + 1];
    const hm_data *data = c->data;
    const size_t n = (size_t)data->n;
    double *cnt = tw;
    memset(cnt, 0, (size_t)K * sizeof(double));
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        const double v = data->x[row];
        if (!(v >= 0.0 && v <= (double)(K - 1)) || v != floor(v)) {
            return HM_EDOM;
        }
        const int k = (int)v;
        const double wi = data->w ? data->w[row] : 1.0;
        const double lp = log(alpha[k]) - lA;
        if (c->logp) {
            c->logp[row] = lp;
        }
        if (c->post) {
            for (int j = 0; j < K; j++) {
                c->post[(size_t)j * n + row] = alpha[j] + (j == k ? 1.0 : 0.0);
            }
        }
        cnt[k] += wi;
        ll += wi * lp;
        wt += wi;
    }
    double *etax = slot, *cross = slot + m, *etaz = slot + m + (size_t)m * (size_t)K;
    memset(etaz, 0, (size_t)K * sizeof(double));
    for (int i = 0; i < K; i++) {
        double *row = i > 0 ? cross + (size_t)(i - 1) * (size_t)K : NULL;
        for (int j = 0; j < K; j++) {
            const double e = cnt[i] * ((j == i ? dg1[j] : dg[j]) - dA1);
            etaz[j] += e;
            if (row) {
                row[j] = e;
            }
        }
        if (i > 0) {
            etax[i - 1] = cnt[i];
        }
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

static hm_status run_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const block_ctx *c = (const block_ctx *)ctx;
    switch (c->h->kind) {
    case HM_HM_CATEGORICAL_DIRICHLET:
        return catdir_block(c, r0, nr, slot, tw);
    case HM_HM_LGM:
    case HM_HM_LGM_DIAG:
        return lgm_block(c, r0, nr, slot, tw);
    case HM_HM_BOLTZMANN_LGM:
    case HM_HM_BOLTZMANN_LGM_MF:
        return blgm_block(c, r0, nr, slot, tw);
    default:
        return mix_block(c, r0, nr, slot, tw);
    }
}

// --- the driver --------------------------------------------------------------

hm_status hm_estep(const hm_harmonium *h,
                   const double *theta,
                   const hm_data *data,
                   const double *given,
                   double *stats,
                   double *logp,
                   double *post,
                   int threads,
                   double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->estep(h, theta, data, given, stats, logp, post, threads, work);
    }
    const int catdir = h->kind == HM_HM_CATEGORICAL_DIRICHLET;
    if (h->kind != HM_HM_MIXTURE && !is_lgm(h) && !catdir) {
        return HM_EINVAL;
    }
    // Statistics from given posterior means are a mixture device (hard or
    // soft labels); a Gaussian latent would need posterior covariances too,
    // and a Dirichlet posterior is fixed by the datum.
    if ((is_lgm(h) || catdir) && given != NULL) {
        return HM_EINVAL;
    }
    const int mx = h->mx, mz = h->mz, K = mz + 1, dx = h->obs->dim;
    const int slen = hm_stats_len(h), B = hm_estep_block_rows(h);
    const int n = data->n;

    double *T = work;
    double *hw = T + head_len(h);
    double *slots = hw + hm_hm_work_len(h);
    const size_t tlen = thread_len(h);

    const double *W = theta + dx, *thz = theta + dx + (size_t)mx * (size_t)mz;
    if (h->kind == HM_HM_MIXTURE) {
        for (int j = 0; j < mx; j++) {
            for (int k = 0; k < mz; k++) {
                T[(size_t)j * (size_t)K + (size_t)k] = W[(size_t)j * (size_t)mz + (size_t)k];
            }
            T[(size_t)j * (size_t)K + (size_t)mz] = theta[j];
        }
    }
    block_ctx c;
    c.h = h;
    c.T = T;
    c.thz = thz;
    c.data = data;
    c.given = given;
    c.logp = given ? NULL : logp;
    c.post = given ? NULL : post;
    c.psi = 0.0;
    c.theta = theta;
    c.W = W;
    c.sig = T;
    c.half_logdet = 0.0;
    c.Q = NULL;
    // Full observable rep: Q with Q_ii = theta_ii and Q_ij = Q_ji =
    // theta_ij / 2 (each off-diagonal pair appears once in S(x)).
    if (is_lgm(h) && h->obs->rep == HM_COV_FULL) {
        double *Q = T + (size_t)mz * (size_t)mz + 8;
        const double *th2 = theta + mx;
        for (int i = 0; i < mx; i++) {
            for (int j = i; j < mx; j++) {
                double v = th2[pidx(mx, i, j)];
                v = (i == j) ? v : 0.5 * v;
                Q[(size_t)i * (size_t)mx + (size_t)j] = v;
                Q[(size_t)j * (size_t)mx + (size_t)i] = v;
            }
        }
        c.Q = Q;
    }
    // With given posteriors theta is not used (the statistics come from the
    // data and the labels alone), so it need not be a valid parameter.
    if (given == NULL) {
        hm_status st = hm_hm_check_natural(h, theta, hw);
        if (st != HM_OK) {
            return st;
        }
        st = hm_hm_log_partition(h, theta, &c.psi, hw);
        if (st != HM_OK) {
            return st;
        }
        // The Categorical-Dirichlet prior and digamma tables, once.
        if (catdir) {
            st = catdir_table(h, theta, T, hw);
            if (st != HM_OK) {
                return st;
            }
        }
        // The Normal latent's posterior covariance, once for all rows.
        if (h->kind == HM_HM_LGM || h->kind == HM_HM_LGM_DIAG) {
            st = hm_lgm_post_cov(h, theta, T, &c.half_logdet);
            if (st != HM_OK) {
                return st;
            }
        }
    }
    return hm_run_blocks(n, B, threads, slen, tlen, run_block, &c, stats, slots);
}
