/*
 * ward.c: agglomerative hierarchical clustering with Ward's criterion, cut
 * at k clusters: the deterministic first start of Normal mixtures (R/fit.R's
 * hc_labels, after mclust's hierarchical start), in place of
 * stats::hclust(stats::dist(z), "ward.D2") followed by stats::cutree().
 *
 * The dissimilarity of two clusters is Ward's, kept as a squared Euclidean
 * distance and updated by the Lance-Williams formula when clusters i and j
 * merge:
 *   D(k, i+j) = ((n_i + n_k) D(k, i) + (n_j + n_k) D(k, j) - n_k D(i, j))
 *               / (n_i + n_j + n_k),
 * which is what hclust's "ward.D2" does with the squares of Euclidean
 * distances. Merges are found by the nearest-neighbour chain (Murtagh
 * 1983): follow nearest neighbours from any cluster until two clusters are
 * each other's nearest, merge them, continue from the rest of the chain.
 * Ward's dissimilarity is reducible, so the chain finds the same merges as
 * the greedy closest-pair algorithm of hclust (up to exact ties) in O(n^2)
 * time; sorting them by height and replaying the first n - k gives the
 * k-cluster partition of cutree(). Labels are numbered in the order of
 * their first row, as cutree() numbers its groups.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hm_engine.h"
#include "threads.h"

static int find_root(int *parent, int i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

size_t hm_ward_work_len(int n) {
    const size_t m = (size_t)(n > 1 ? n : 1);
    // The full n x n dissimilarities (rows scanned contiguously), then per
    // cluster its size and the chain (n ints in n doubles), and per merge a
    // record of three doubles' room, and the list of active clusters (n
    // ints in n doubles).
    return m * m + 6 * m;
}

// The merge heights in increasing order, ties kept in the order found.
typedef struct merge_rec {
    double h;
    int a;
    int b;
    int seq;
} merge_rec;

static int merge_cmp(const void *pa, const void *pb) {
    const merge_rec *a = (const merge_rec *)pa, *b = (const merge_rec *)pb;
    if (a->h < b->h) {
        return -1;
    }
    if (a->h > b->h) {
        return 1;
    }
    return (a->seq > b->seq) - (a->seq < b->seq);
}

hm_status hm_ward_labels(const double *z, int n, int ldz, int d, int k, int threads, int *labels, double *work) {
    if (n < 1 || d < 1 || k < 1 || k > n || ldz < n) {
        return HM_EINVAL;
    }
    if ((double)n * (double)n > 9.0e15) {
        return HM_EOVERFLOW;
    }
    if (k == n || n == 1) {
        for (int i = 0; i < n; i++) {
            labels[i] = i;
        }
        return HM_OK;
    }
    const size_t N = (size_t)n;
    double *D = work;  // D[i * n + j]; +Inf on the diagonal and for merged-away clusters
    double *size = D + N * N;
    int *chain = (int *)(size + N);  // n ints in n doubles
    merge_rec *mr = (merge_rec *)(size + 2 * N);
    int *act = (int *)(size + 5 * N);  // active clusters, in increasing order

    // Squared Euclidean distances; each entry written by one thread.
    const int nt = hm_threads(n / 64 + 1, threads);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16) default(none) shared(D, z) firstprivate(N, ldz, d)
    for (int i = 0; i < (int)N; i++) {
        D[(size_t)i * N + (size_t)i] = HUGE_VAL;
        for (size_t j = (size_t)i + 1; j < N; j++) {
            double s = 0.0;
            for (int c = 0; c < d; c++) {
                const double e = z[(size_t)c * (size_t)ldz + (size_t)i] - z[(size_t)c * (size_t)ldz + j];
                s += e * e;
            }
            D[(size_t)i * N + j] = s;
        }
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < i; j++) {
            D[i * N + j] = D[j * N + i];
        }
        size[i] = 1.0;
        act[i] = (int)i;
    }

    int len = 0, nm = 0, na = n;
    while (nm < n - 1) {
        if (len == 0) {
            chain[len++] = act[0];
        }
        const int a = chain[len - 1];
        const int prev = len >= 2 ? chain[len - 2] : -1;
        // The nearest active cluster to a; the previous chain element wins
        // ties, so the chain never cycles.
        const double *Da = D + (size_t)a * N;
        int b = prev;
        double best = prev >= 0 ? Da[prev] : HUGE_VAL;
        // Scanned in increasing index order: among equals the lowest wins.
        for (int t = 0; t < na; t++) {
            const int c = act[t];
            if (Da[c] < best) {
                best = Da[c];
                b = c;
            }
        }
        if (b < 0) {
            return HM_EDOM;  // no finite dissimilarity left (non-finite data)
        }
        if (b != prev) {
            chain[len++] = b;
            continue;
        }
        // a and prev are reciprocal nearest neighbours: merge them into the
        // lower index; the higher one leaves the active list.
        len -= 2;
        const int lo = a < prev ? a : prev, hi = a < prev ? prev : a;
        const double ni = size[lo], nj = size[hi], dij = best;
        double *Dl = D + (size_t)lo * N, *Dh = D + (size_t)hi * N;
        int th = -1;
        for (int t = 0; t < na; t++) {
            const int c = act[t];
            if (c == hi) {
                th = t;
            }
            if (c == lo || c == hi) {
                continue;
            }
            const double nk = size[c];
            const double v = ((ni + nk) * Dl[c] + (nj + nk) * Dh[c] - nk * dij) / (ni + nj + nk);
            Dl[c] = v;
            D[(size_t)c * N + (size_t)lo] = v;
        }
        memmove(act + th, act + th + 1, (size_t)(na - th - 1) * sizeof(int));
        na--;
        size[lo] = ni + nj;
        size[hi] = 0.0;
        mr[nm].h = dij;
        mr[nm].a = lo;
        mr[nm].b = hi;
        mr[nm].seq = nm;
        nm++;
    }

    // Replay the n - k lowest merges (by height) on single rows.
    qsort(mr, (size_t)nm, sizeof(merge_rec), merge_cmp);
    int *parent = chain;  // reuse: n ints
    for (int i = 0; i < n; i++) {
        parent[i] = i;
    }
    // A merge joins the clusters represented by rows a and b at that time:
    // since every merge keeps the lower index, the rows themselves stand for
    // their clusters, and the union of their sets is the merged cluster.
    for (int m = 0; m < n - k; m++) {
        const int ra = find_root(parent, mr[m].a), rb = find_root(parent, mr[m].b);
        if (ra != rb) {
            parent[ra < rb ? rb : ra] = ra < rb ? ra : rb;
        }
    }
    // Number the groups in the order of their first row.
    int next = 0;
    for (int i = 0; i < n; i++) {
        labels[i] = -1;
    }
    int *code = (int *)D;  // reuse: n ints, -1 = root not yet numbered
    for (int i = 0; i < n; i++) {
        code[i] = -1;
    }
    for (int i = 0; i < n; i++) {
        const int r = find_root(parent, i);
        if (code[r] < 0) {
            code[r] = next++;
        }
        labels[i] = code[r];
    }
    return HM_OK;
}
