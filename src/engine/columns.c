/*
 * columns.c: the data path into the engine. One pass over the columns of
 * the user's data (a double, integer or logical matrix, or the columns of a
 * data frame) finds rows with missing or non-finite values, checks every
 * column against its family's support, converts integer and logical
 * columns (and 1-based category codes) to the engine's doubles, and takes
 * the column means and root mean squared deviations that standardisation
 * needs; a second pass writes the standardised copy. The host makes no
 * temporary copies of the n x d data.
 *
 * Rows are processed in blocks whose size depends only on the data's shape;
 * every block writes its partial results (counts, first offending rows,
 * centred sums) into its own slot of the workspace, and the master merges
 * the slots in block order, so the results are bit-identical for any
 * thread count (style.md 3.9).
 *
 * Moments use shifted sums: for each standardised column a shift K, one of
 * the column's own values near the mean of its first block, is chosen
 * before the threaded pass; every block then sums w = x - K and w^2, and
 * the total gives mean = K + S1 / n and the centred sum of squares
 * M = S2 - S1^2 / n. Because K is within a few standard deviations of the
 * mean (typically a fraction of one), S1^2 / n is a small part of S2 and
 * nothing cancels: the accuracy is that of a global two-pass computation
 * (theory.md's standardisation; Chan, Golub and LeVeque 1983 on shifted
 * data) with one read of the data. A constant column gives w = 0 exactly,
 * so its spread is exactly 0.
 */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "hm_engine.h"
#include "threads.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

// --- block layout ------------------------------------------------------------

// Rows per block: 4096, doubled until the per-block moment slots (blocks x
// columns) stay below 2^18, so the workspace is O(n / 4096 + 2^18) doubles
// plus n bytes of row flags. Depends on the shape only.
int hm_col_block_rows(int n, int d) {
    long long b = 4096;
    const long long dd = d < 1 ? 1 : d;
    while (b < n && ((n + b - 1) / b) * dd > 262144LL) {
        b *= 2;
    }
    return (int)b;
}

static int n_blocks(int n, int b) { return n <= 0 ? 0 : (int)((n + (long long)b - 1) / b); }

// Per-block slot: [n_bad, first rows (HM_COL_FIRST)], then per support group
// [count, first rows (HM_COL_FIRST), radians count, radians max], then per
// column [sum of w, sum of w^2] with w = value - shift.
static size_t slot_len(int d, int n_group) {
    return (size_t)(1 + HM_COL_FIRST) + (size_t)n_group * (size_t)(3 + HM_COL_FIRST) + 2 * (size_t)d;
}

size_t hm_col_scan_work_len(int n, int d, int n_group) {
    if (n < 0 || d < 0 || n_group < 0) {
        return 0;
    }
    const int b = hm_col_block_rows(n, d);
    const size_t flags = ((size_t)n + sizeof(double) - 1) / sizeof(double);
    return (size_t)n_blocks(n, b) * slot_len(d, n_group) + (size_t)d + flags + 1 + 2 * (size_t)d +
           HM_TREE_STACK_LEN(2 * d);
}

void hm_col_scan_finish(int d, const int *moments, const double *sums, const double *shift, double n, double *mean,
                        double *rms, double *sumsq) {
    for (int j = 0; j < d; j++) {
        const double s1 = sums[2 * (size_t)j], s2 = sums[2 * (size_t)j + 1], k = shift[j];
        if (!moments[j]) {
            // Unshifted: S2 is the sum of squares itself.
            sumsq[j] = s2;
            mean[j] = NAN;
            rms[j] = NAN;
            continue;
        }
        sumsq[j] = s2 + 2.0 * k * s1 + n * k * k;
        if (n == 0) {
            mean[j] = NAN;
            rms[j] = NAN;
            continue;
        }
        double m2 = s2 - s1 * (s1 / n);
        if (m2 < 0.0) {
            m2 = 0.0;
        }
        mean[j] = k + s1 / n;
        rms[j] = sqrt(m2 / n);
    }
}

// Value i of column c as the engine's double: integer and logical NA
// (INT_MIN, R's NA_INTEGER) is NaN; the offset is subtracted from the rest.
static inline double col_value(const hm_col_src *c, int i) {
    if (c->dbl != NULL) {
        return c->dbl[i] - c->offset;
    }
    const int v = c->itg[i];
    return v == INT_MIN ? NAN : (double)v - c->offset;
}

static inline int outside(const hm_col_support *s, double v) {
    if (s->whole && v != floor(v)) {
        return 1;
    }
    if (s->lo_open ? !(v > s->lo) : !(v >= s->lo)) {
        return 1;
    }
    if (s->hi_open ? !(v < s->hi) : !(v <= s->hi)) {
        return 1;
    }
    return 0;
}

// Rows of flags[0..nb) with `bit` set: counted into cnt, the first
// HM_COL_FIRST (1-based, offset by row0) stored in rows; the bit is cleared.
static void harvest(unsigned char *flags, int nb, unsigned char bit, int row0, double *cnt, double *rows) {
    int c = 0;
    for (int i = 0; i < nb; i++) {
        if (flags[i] & bit) {
            if (c < HM_COL_FIRST) {
                rows[c] = (double)row0 + i + 1;
            }
            c++;
            flags[i] = (unsigned char)(flags[i] & ~bit);
        }
    }
    *cnt = c;
}

// Sums over rows [r0, r0 + nb) of column c of w = value - shift, with four
// accumulators (so that the adds do not wait on one another; the order is
// fixed, so results do not depend on threads): s = sum w, s2 = sum w^2 and
// z = sum (w - w), which is 0 exactly when every value is finite (NaN
// otherwise).
static void seg_sums(const hm_col_src *c, double shift, int r0, int nb, double *s, double *s2, double *z) {
    double a[4] = {0, 0, 0, 0}, q[4] = {0, 0, 0, 0}, t[4] = {0, 0, 0, 0};
    const int n4 = nb - nb % 4;
    if (c->dbl != NULL) {
        const double *x = c->dbl + r0;
        const double off = c->offset;
        for (int i = 0; i < n4; i += 4) {
            for (int k = 0; k < 4; k++) {
                const double w = (x[i + k] - off) - shift;
                a[k] += w;
                q[k] += w * w;
                t[k] += w - w;
            }
        }
        for (int i = n4; i < nb; i++) {
            const double w = (x[i] - off) - shift;
            a[0] += w;
            q[0] += w * w;
            t[0] += w - w;
        }
    } else {
        for (int i = 0; i < n4; i += 4) {
            for (int k = 0; k < 4; k++) {
                const double w = col_value(c, r0 + i + k) - shift;
                a[k] += w;
                q[k] += w * w;
                t[k] += w - w;
            }
        }
        for (int i = n4; i < nb; i++) {
            const double w = col_value(c, r0 + i) - shift;
            a[0] += w;
            q[0] += w * w;
            t[0] += w - w;
        }
    }
    *s = (a[0] + a[1]) + (a[2] + a[3]);
    *s2 = (q[0] + q[1]) + (q[2] + q[3]);
    *z = (t[0] + t[1]) + (t[2] + t[3]);
}

// The shift of a standardised column: among the finite values of its first
// block (at most b rows), the one nearest their mean (the first such);
// 0 when there is none. A function of the global first block alone: a
// chunked pass is given the whole data's shifts (hm_col_scan_opts), which
// a pass over that block returns (hm_col_scan_result's shift).
static double column_shift(const hm_col_src *c, int nb) {
    double s = 0.0;
    int cnt = 0;
    for (int i = 0; i < nb; i++) {
        const double v = col_value(c, i);
        if (isfinite(v)) {
            s += v;
            cnt++;
        }
    }
    if (cnt == 0) {
        return 0.0;
    }
    const double m = s / cnt;
    if (!isfinite(m)) {
        // The sum overflowed: the first finite value.
        for (int i = 0; i < nb; i++) {
            const double v = col_value(c, i);
            if (isfinite(v)) {
                return v;
            }
        }
    }
    double best = 0.0, gap = INFINITY;
    for (int i = 0; i < nb; i++) {
        const double v = col_value(c, i);
        if (isfinite(v) && fabs(v - m) < gap) {
            gap = fabs(v - m);
            best = v;
        }
    }
    return best;
}

// A support that every finite value is in (the real line).
static int support_trivial(const hm_col_support *sp) {
    return !sp->whole && !sp->radians && sp->lo == -INFINITY && sp->hi == INFINITY;
}

// One block of rows [r0, r0 + nb) of every column: a fast pass of sums per
// column segment, and flagging loops only for a segment with a non-finite
// value or a support to check.
static void scan_block(int n,
                       int d,
                       const hm_col_src *src,
                       const double *shift,
                       int n_group,
                       const hm_col_support *sup,
                       double *raw,
                       int r0,
                       int nb,
                       unsigned char *flags,
                       double *slot) {
    double *bad = slot;
    double *grp = slot + 1 + HM_COL_FIRST;
    double *mom = grp + (size_t)n_group * (size_t)(3 + HM_COL_FIRST);
    memset(flags, 0, (size_t)nb);
    for (int g = 0; g < n_group; g++) {
        double *gs = grp + (size_t)g * (size_t)(3 + HM_COL_FIRST);
        gs[0] = 0.0;
        gs[1 + HM_COL_FIRST] = 0.0;
        gs[2 + HM_COL_FIRST] = 0.0;
    }
    int open_group = -1;
    for (int j = 0; j < d; j++) {
        const hm_col_src *c = src + j;
        const int g = c->group;
        if (open_group >= 0 && g != open_group) {
            double *gs = grp + (size_t)open_group * (size_t)(3 + HM_COL_FIRST);
            double cnt = 0.0;
            harvest(flags, nb, 2u, r0, &cnt, gs + 1);
            gs[0] += cnt;
            open_group = -1;
        }
        double s, s2, z;
        seg_sums(c, shift[j], r0, nb, &s, &s2, &z);
        if (z != 0.0) {
            // Some value is missing or infinite: flag its rows.
            for (int i = 0; i < nb; i++) {
                if (!isfinite(col_value(c, r0 + i))) {
                    flags[i] |= 1u;
                }
            }
        }
        if (g >= 0) {
            const hm_col_support *sp = sup + g;
            double *gs = grp + (size_t)g * (size_t)(3 + HM_COL_FIRST);
            if (sp->radians) {
                double rad_n = 0.0, rad_max = gs[2 + HM_COL_FIRST];
                for (int i = 0; i < nb; i++) {
                    const double a = fabs(col_value(c, r0 + i));
                    if (isfinite(a) && a > 2.0 * M_PI) {
                        rad_n += 1.0;
                        rad_max = a > rad_max ? a : rad_max;
                    }
                }
                gs[1 + HM_COL_FIRST] += rad_n;
                gs[2 + HM_COL_FIRST] = rad_max;
            } else if (!support_trivial(sp)) {
                for (int i = 0; i < nb; i++) {
                    const double v = col_value(c, r0 + i);
                    if (isfinite(v) && outside(sp, v)) {
                        flags[i] |= 2u;
                    }
                }
            }
            open_group = g;
        }
        if (raw != NULL) {
            double *out = raw + (size_t)j * (size_t)n + (size_t)r0;
            if (c->dbl != NULL && c->offset == 0.0) {
                memcpy(out, c->dbl + r0, (size_t)nb * sizeof(double));
            } else {
                for (int i = 0; i < nb; i++) {
                    out[i] = col_value(c, r0 + i);
                }
            }
        }
        mom[2 * (size_t)j] = s;
        mom[2 * (size_t)j + 1] = s2;
    }
    if (open_group >= 0) {
        double *gs = grp + (size_t)open_group * (size_t)(3 + HM_COL_FIRST);
        double cnt = 0.0;
        harvest(flags, nb, 2u, r0, &cnt, gs + 1);
        gs[0] += cnt;
    }
    harvest(flags, nb, 1u, r0, bad, bad + 1);
}

// Appends a block's first rows to the running list (first `have` filled).
static void merge_rows(double *have_n, double *rows, double blk_n, const double *blk_rows) {
    int have = *have_n > HM_COL_FIRST ? HM_COL_FIRST : (int)*have_n;
    const int take = blk_n > HM_COL_FIRST ? HM_COL_FIRST : (int)blk_n;
    for (int i = 0; i < take && have < HM_COL_FIRST; i++) {
        rows[have++] = blk_rows[i];
    }
    *have_n += blk_n;
}

hm_status hm_col_scan(int n,
                      int d,
                      const hm_col_src *src,
                      int n_group,
                      const hm_col_support *sup,
                      double *raw,
                      hm_col_scan_result *res,
                      double *work,
                      int threads,
                      const hm_col_scan_opts *opt) {
    if (n < 0 || d < 0 || n_group < 0 || (d > 0 && src == NULL) || (n_group > 0 && sup == NULL) ||
        res == NULL || work == NULL) {
        return HM_EINVAL;
    }
    if (opt && (opt->block_rows < hm_col_block_rows(n, d) || !(opt->b0 >= 0.0) || (d > 0 && opt->shift == NULL))) {
        return HM_EINVAL;
    }
    // Each support group's columns must be contiguous and the groups in
    // increasing order (a product's blocks, left to right), so that a
    // group's offending rows are harvested once per block.
    int last = -1;
    for (int j = 0; j < d; j++) {
        const int g = src[j].group;
        if ((src[j].dbl == NULL) == (src[j].itg == NULL) || g < -1 || g >= n_group) {
            return HM_EINVAL;
        }
        if (g >= 0) {
            if (g < last || (g == last && src[j - 1].group != g)) {
                return HM_EINVAL;
            }
            last = g;
        }
    }
    const int b = opt ? opt->block_rows : hm_col_block_rows(n, d);
    const int nbk = n_blocks(n, b);
    const size_t sl = slot_len(d, n_group);
    double *shift = work + (size_t)nbk * sl;
    const size_t nflag = ((size_t)n + sizeof(double) - 1) / sizeof(double);
    double *sums = shift + d + nflag + 1;
    double *stack_work = sums + 2 * (size_t)d;
    unsigned char *flags = (unsigned char *)(shift + d);
    for (int j = 0; j < d; j++) {
        shift[j] = !src[j].moments ? 0.0 : opt ? opt->shift[j] : column_shift(src + j, n < b ? n : b);
    }
    const int nt = hm_threads(nbk, threads);
    if (nt <= 1) {
        for (int k = 0; k < nbk; k++) {
            const int r0 = k * b;
            const int nb = n - r0 < b ? n - r0 : b;
            scan_block(n, d, src, shift, n_group, sup, raw, r0, nb, flags + r0, work + (size_t)k * sl);
        }
    } else {
#pragma omp parallel for num_threads(nt) schedule(static) default(none) \
    shared(src, shift, sup, raw, flags, work) firstprivate(n, d, n_group, b, nbk, sl)
        for (int k = 0; k < nbk; k++) {
            const int r0 = k * b;
            const int nb = n - r0 < b ? n - r0 : b;
            scan_block(n, d, src, shift, n_group, sup, raw, r0, nb, flags + (size_t)r0, work + (size_t)k * sl);
        }
    }
    // Merge in block order.
    res->n_bad = 0.0;
    for (int i = 0; i < HM_COL_FIRST; i++) {
        res->bad_rows[i] = 0.0;
    }
    for (int g = 0; g < n_group; g++) {
        double *gr = res->group + (size_t)g * (size_t)(3 + HM_COL_FIRST);
        for (int i = 0; i < 3 + HM_COL_FIRST; i++) {
            gr[i] = 0.0;
        }
    }
    // Shifted sums [S1_j, S2_j], reduced by the engine's tree over the
    // blocks' global indices (hm_engine.h), so that passes over
    // block-aligned parts of the data give the same bits.
    hm_tree_stack ts;
    hm_tree_stack_init(&ts, 2 * d, stack_work);
    const double g0 = opt ? opt->b0 : 0.0;
    for (int k = 0; k < nbk; k++) {
        const double *slot = work + (size_t)k * sl;
        merge_rows(&res->n_bad, res->bad_rows, slot[0], slot + 1);
        const double *grp = slot + 1 + HM_COL_FIRST;
        for (int g = 0; g < n_group; g++) {
            const double *gs = grp + (size_t)g * (size_t)(3 + HM_COL_FIRST);
            double *gr = res->group + (size_t)g * (size_t)(3 + HM_COL_FIRST);
            merge_rows(&gr[0], gr + 1, gs[0], gs + 1);
            gr[1 + HM_COL_FIRST] += gs[1 + HM_COL_FIRST];
            if (gs[2 + HM_COL_FIRST] > gr[2 + HM_COL_FIRST]) {
                gr[2 + HM_COL_FIRST] = gs[2 + HM_COL_FIRST];
            }
        }
        if (d > 0) {
            const double *mom = grp + (size_t)n_group * (size_t)(3 + HM_COL_FIRST);
            hm_status st = hm_tree_stack_push(&ts, g0 + (double)k, 1.0, mom);
            if (st != HM_OK) {
                return st;
            }
        }
    }
    if (d == 0) {
        return HM_OK;
    }
    if (opt && opt->tree) {
        hm_status st = hm_tree_stack_export(&ts, opt->tree);
        if (st != HM_OK) {
            return st;
        }
    }
    hm_tree_stack_total(&ts, sums);
    int *mflag = (int *)stack_work;
    for (int j = 0; j < d; j++) {
        mflag[j] = src[j].moments;
    }
    hm_col_scan_finish(d, mflag, sums, shift, (double)n, res->mean, res->rms, res->sumsq);
    if (res->shift) {
        memcpy(res->shift, shift, (size_t)d * sizeof(double));
    }
    return HM_OK;
}

// --- standardisation ------------------------------------------------------------

size_t hm_col_scale_work_len(int n, int d) {
    if (n < 0 || d < 0) {
        return 0;
    }
    return (size_t)n_blocks(n, hm_col_block_rows(n, d)) * (size_t)d + 1;
}

static void scale_block(int n,
                        int d,
                        const double *x,
                        const double *center,
                        const double *scale,
                        double *out,
                        int r0,
                        int nb,
                        double *sq) {
    for (int j = 0; j < d; j++) {
        const double *c = x + (size_t)j * (size_t)n + (size_t)r0;
        double *o = out + (size_t)j * (size_t)n + (size_t)r0;
        const double m = center[j], s = scale[j];
        double q[4] = {0, 0, 0, 0};
        const int n4 = nb - nb % 4;
        for (int i = 0; i < n4; i += 4) {
            for (int k = 0; k < 4; k++) {
                const double v = (c[i + k] - m) / s;
                o[i + k] = v;
                q[k] += v * v;
            }
        }
        for (int i = n4; i < nb; i++) {
            const double v = (c[i] - m) / s;
            o[i] = v;
            q[0] += v * v;
        }
        sq[j] = (q[0] + q[1]) + (q[2] + q[3]);
    }
}

hm_status hm_col_scale_pass(int n,
                            int d,
                            const double *x,
                            const double *center,
                            const double *scale,
                            double *out,
                            double *sumsq,
                            double *work,
                            int threads) {
    if (n < 0 || d < 0 || x == NULL || center == NULL || scale == NULL || out == NULL || sumsq == NULL ||
        work == NULL || out == x) {
        return HM_EINVAL;
    }
    const int b = hm_col_block_rows(n, d);
    const int nbk = n_blocks(n, b);
    const int nt = hm_threads(nbk, threads);
    if (nt <= 1) {
        for (int k = 0; k < nbk; k++) {
            const int r0 = k * b;
            const int nb = n - r0 < b ? n - r0 : b;
            scale_block(n, d, x, center, scale, out, r0, nb, work + (size_t)k * (size_t)d);
        }
    } else {
#pragma omp parallel for num_threads(nt) schedule(static) default(none) \
    shared(x, center, scale, out, work) firstprivate(n, d, b, nbk)
        for (int k = 0; k < nbk; k++) {
            const int r0 = k * b;
            const int nb = n - r0 < b ? n - r0 : b;
            scale_block(n, d, x, center, scale, out, r0, nb, work + (size_t)k * (size_t)d);
        }
    }
    for (int j = 0; j < d; j++) {
        double q = 0.0;
        for (int k = 0; k < nbk; k++) {
            q += work[(size_t)k * (size_t)d + (size_t)j];
        }
        sumsq[j] = q;
    }
    return HM_OK;
}
