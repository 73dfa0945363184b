/*
 * hm_kernel.c: the engine's matrix kernels for the E-step's two products
 * (style.md section 2; the kinds' E-step blocks, run by estep.c's driver)
 * and its vectorised exp.
 *
 * Every kernel exists at least twice: an AVX2 + FMA version, compiled for
 * that instruction set through the `target` attribute and chosen at run
 * time, and a portable C version used everywhere else (other CPUs, other
 * architectures, compilers without GCC extensions); the transposed
 * products, gemm_tn_acc, the exp, vmul and the softmax also have an
 * AVX-512 version (x86-64-v4: 8 lanes, 32 vector registers, lane masks),
 * chosen once per process by kernel_isa() when the CPU has it and the OS
 * saves the zmm state. R builds packages with plain -O2 and no -march
 * flag, so run-time dispatch is the only way to use wide vectors and fused
 * multiply-adds from a CRAN-style build.
 *
 * The two products expose different parallelism, so they use different
 * register tiles (`acc` below: up to 12 vectors of 4 doubles, which with
 * the operands fills the 16 vector registers):
 *
 *   hm_k_gemm_nn      dot products along k. B is packed transposed, chunk
 *                     by chunk, so that a tile of mr rows x nr columns of
 *                     C reads mr rows of A and nr columns of B with unit
 *                     stride, 4 entries of k per step, and sums its lanes
 *                     once per chunk.
 *   hm_k_gemm_tn_acc  rank-1 updates along m. A tile holds 4 pv rows of C
 *                     (entries of k, as vectors running down a column of
 *                     C) by nj columns, and row i of A and B adds
 *                     A[i][p..p+3] * B[i][j] with B[i][j] broadcast. No
 *                     packing and no reduction.
 *
 * Neither pads n (the number of mixture components), which for n = 5
 * would waste three lanes in eight.
 *
 * Determinism. Each output element is summed in an order fixed by the
 * shapes (m, k, n) alone:
 *
 *   hm_k_gemm_nn      C[i][j] is a dot product over p cut into k-chunks of
 *                     kc entries (kc depends on k and n only); inside a
 *                     chunk lane l = (p - p0) mod 4 sums its products in
 *                     order, the lanes combine as (l0 + l1) + (l2 + l3),
 *                     and the chunk sums are added to C first to last.
 *   hm_k_gemm_tn_acc  C[p][j] is one multiply-add chain over i = 0..m-1
 *                     starting from the old C[p][j]. Blocking over i only
 *                     spills the running sum to C and reloads it exactly,
 *                     so splitting the rows over two calls gives the bits
 *                     of one call.
 *   hm_k_gemm_tn_wide C[q][i] is one multiply-add chain over p in order.
 *   hm_k_gemm_nt      C[p][q] sums over i in eight partial sums s_l (i mod
 *                     8 = l, in order), combined as ((s0 + s4) + (s2 +
 *                     s6)) + ((s1 + s5) + (s3 + s7)).
 *   hm_vexp           every element goes through the same operations
 *                     whether it sits in a full vector or in the tail.
 *
 * Loads are unaligned throughout, so pointer alignment never changes a
 * result (only the speed), and nothing depends on the thread count. The
 * portable code follows the same orders with a separate multiply and add,
 * so the two versions differ only by the rounding of the fused operation.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_kernel.h"

/*
 * The AVX2 path needs GCC-style target attributes, <immintrin.h> and
 * __builtin_cpu_supports (GCC >= 4.9 and clang both qualify). It is left
 * out on Windows: 64-bit Windows only guarantees 16-byte stack alignment
 * and GCC spills 256-bit registers there with aligned moves (GCC bug
 * 54412), which crashes. Defining HM_KERNEL_PORTABLE also leaves it out.
 */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(_WIN32) && !defined(HM_KERNEL_PORTABLE)
#define HM_K_X86 1
#include <immintrin.h>
#define HM_K_AVX2 __attribute__((target("avx2,fma")))
#define HM_K_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#else
#define HM_K_X86 0
#endif

// Forces complete unrolling of the short loops over accumulators so that
// the accumulator arrays live in registers: GCC does not unroll them at
// -O2 otherwise, and an accumulator array left in memory runs at a third
// of the speed. clang needs the count-free form: with a count it unrolls
// partially before inlining has made the trip counts constant.
#define HM_K_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define HM_K_UNROLL HM_K_PRAGMA(unroll)
#elif defined(__GNUC__)
#define HM_K_UNROLL HM_K_PRAGMA(GCC unroll 8)
#else
#define HM_K_UNROLL
#endif

// --- blocking ------------------------------------------------------------------

/*
 * Tile limits: at most TILE_NJ_MAX columns and TILE_H_MAX rows (gemm_nn)
 * or vectors (gemm_tn_acc). gemm_nn packs a k-chunk of B into a stack
 * buffer of NN_BT_CAP doubles (32 KiB; the chunk is read once per row
 * tile, mostly from L1), in column panels of at most NN_NC_MAX columns, so
 * a chunk is at least NN_BT_CAP / NN_NC_MAX = 32 entries long; longer
 * chunks mean fewer lane reductions, and 32 KiB measured best. gemm_tn_acc
 * sizes its row blocks so that the strip of A and the block of B one
 * sweep reuses take about TN_L1_BUDGET doubles, and prefetches the rows of
 * A TN_PREFETCH rows ahead.
 */
enum {
    TILE_NJ_MAX = 6,
    TILE_H_MAX = 5,
    NN_BT_CAP = 4096,
    NN_NC_MAX = 128,
    TN_L1_BUDGET = 3072,
    TN_PREFETCH = 8
};

static int imin(int a, int b) {
    return a < b ? a : b;
}

static int round_up4(int x) {
    return (x + 3) & ~3;
}

/*
 * Chunk length along k for gemm_nn with a column panel of nc columns: the
 * packed chunk (nc x kc) must fit NN_BT_CAP, and chunks are balanced (with
 * nc = 17, k = 560 becomes 188 + 188 + 184, not 240 + 240 + 80). A
 * multiple of 4 that depends on k and nc only, which makes the summation
 * order a function of the shapes.
 */
static int nn_chunk_len(int k, int nc) {
    int kmax = (NN_BT_CAP / nc) & ~3;
    int nch = (round_up4(k) + kmax - 1) / kmax;
    return round_up4((k + nch - 1) / nch);
}

#if HM_K_X86

// --- AVX2 + FMA: tile shapes and shared helpers ------------------------------

/*
 * Splits n columns into groups of at most TILE_NJ_MAX as evenly as
 * possible (17 -> 6 + 6 + 5, 5 -> 5, 7 -> 4 + 3): one register tile per
 * group, and even groups keep every tile near full.
 */
static int n_groups(int n) {
    return (n + TILE_NJ_MAX - 1) / TILE_NJ_MAX;
}

static int group_width(int n, int ng, int g) {
    return n / ng + (g < n % ng ? 1 : 0);
}

/*
 * Height of a register tile (rows of C for gemm_nn, 4-lane vectors for
 * gemm_tn_acc) for n columns in n_groups(n) groups. The 16 vector
 * registers hold the h w accumulators of a tile w columns wide, h operand
 * vectors and one more (h + h w + 1 <= 16), and at least 8 independent
 * chains should hide the FMA latency (two FMA units with 4 cycles of
 * latency on current x86 cores): w = 5, 6 give h = 2; w = 3, 4 give 3;
 * w = 2 gives 5; n = 1 takes 4 (one column can not fill the units). All
 * groups of a sweep share one height, so mixed widths 4 and 5 take 2.
 * Every (height, width) this can produce has a case in the dispatchers.
 */
static int tile_height(int n) {
    const int ng = n_groups(n), wmin = n / ng, wmax = wmin + (n % ng != 0);
    if (wmax >= 5) {
        return 2;
    }
    return wmin >= 3 ? 3 : (wmin == 2 ? 5 : 4);
}

/*
 * Rows per sweep of gemm_tn_acc: each row contributes 4 h doubles of A
 * and n of B, which should stay in L1 while every column group passes
 * over them. Between 16 and 512; the result does not depend on it.
 */
static int tn_sweep_len(int n) {
    int s = TN_L1_BUDGET / (4 * tile_height(n) + n);
    return s < 16 ? 16 : (s > 512 ? 512 : s);
}

/* Lanes l < kr set, the others clear: the mask of a partial last vector. */
HM_K_AVX2_INLINE __m256i lane_mask(int kr) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(kr), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* In-register 4 x 4 transpose: r[l] holds row l, afterwards r[c] holds
 * column c. Eight shuffles; its own inverse. */
HM_K_AVX2_INLINE void transpose4(__m256d *r) {
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/*
 * A vector that is certainly in a register. GCC folds a load used by
 * several FMAs into each of them as a memory operand, issuing it once per
 * use, and the tiles then run out of load slots; an empty asm that claims
 * to modify the value stops the folding and costs nothing. clang folds
 * only single-use loads, and an asm statement would keep it from
 * unrolling the loop around it.
 */
HM_K_AVX2_INLINE __m256d in_register(__m256d v) {
#if !defined(__clang__)
    __asm__("" : "+x"(v));
#endif
    return v;
}

// --- AVX2 + FMA: C = A B ----------------------------------------------------------

/*
 * Lane sums in the fixed order (l0 + l1) + (l2 + l3) from unpacks and adds
 * (cheaper than hadd on current cores, the same bits). hsum4: lane q of
 * the result sums a_q. hsum2: the sums of a and b in a 128-bit vector.
 */
HM_K_AVX2_INLINE __m256d hsum4(__m256d a0, __m256d a1, __m256d a2, __m256d a3) {
    __m256d s01 = _mm256_add_pd(_mm256_unpacklo_pd(a0, a1), _mm256_unpackhi_pd(a0, a1));
    __m256d s23 = _mm256_add_pd(_mm256_unpacklo_pd(a2, a3), _mm256_unpackhi_pd(a2, a3));
    return _mm256_add_pd(_mm256_permute2f128_pd(s01, s23, 0x20),
                         _mm256_permute2f128_pd(s01, s23, 0x31));
}

HM_K_AVX2_INLINE __m128d hsum2(__m256d a, __m256d b) {
    __m256d s = _mm256_add_pd(_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
    return _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
}

/*
 * One tile of gemm_nn: mr rows x nr columns of C over one k-chunk of kc
 * entries. a points at A[i][p0] (row stride lda), bt at the packed chunk
 * of the tile's first column (column stride ldbt, zero padded to a
 * multiple of 4), c at C[i][j]. Lane l of acc[r][q] sums the products of
 * entries p0 + 4 v + l; a step of 4 entries costs mr + nr loads and mr nr
 * FMAs, and a partial last step masks the loads of A (bt is zero there,
 * so the masked lanes add +0). The lanes are then summed into C, replacing
 * it in the first chunk (first != 0) and adding to it after. Inlined with
 * constant mr and nr: every index into acc is a compile-time constant, or
 * the array would live in memory.
 */
HM_K_AVX2_INLINE void nn_tile_avx2(const int mr,
                                   const int nr,
                                   int kc,
                                   const double *a,
                                   size_t lda,
                                   const double *bt,
                                   size_t ldbt,
                                   double *c,
                                   size_t ldc,
                                   int first) {
    __m256d acc[TILE_H_MAX][TILE_NJ_MAX], av[TILE_H_MAX];
    HM_K_UNROLL
    for (int r = 0; r < mr; r++) {
        HM_K_UNROLL
        for (int q = 0; q < nr; q++) {
            acc[r][q] = _mm256_setzero_pd();
        }
    }
    // Full steps, then the partial one, whose masked load never reads past
    // the end of the chunk's row. One loop nest for both: clang keeps acc in
    // registers only through a single nest.
    const int kv = kc >> 2, kr = kc & 3, steps = kv + (kr > 0);
    const __m256i mask = lane_mask(kr);
    for (int v = 0; v < steps; v++) {
        const size_t off = (size_t)v * 4;
        if (v < kv) {
            // Written out: clang leaves a loop here rolled, through memory.
            av[0] = in_register(_mm256_loadu_pd(a + off));
            if (mr > 1) {
                av[1] = in_register(_mm256_loadu_pd(a + lda + off));
            }
            if (mr > 2) {
                av[2] = in_register(_mm256_loadu_pd(a + 2 * lda + off));
            }
            if (mr > 3) {
                av[3] = in_register(_mm256_loadu_pd(a + 3 * lda + off));
            }
            if (mr > 4) {
                av[4] = in_register(_mm256_loadu_pd(a + 4 * lda + off));
            }
        } else {
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                av[r] = _mm256_maskload_pd(a + (size_t)r * lda + off, mask);
            }
        }
        HM_K_UNROLL
        for (int q = 0; q < nr; q++) {
            __m256d bv = in_register(_mm256_loadu_pd(bt + (size_t)q * ldbt + off));
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                acc[r][q] = _mm256_fmadd_pd(av[r], bv, acc[r][q]);
            }
        }
    }
    // Four columns at a time through hsum4, then pairs and a single.
    const int nr4 = nr & ~3;
    HM_K_UNROLL
    for (int r = 0; r < mr; r++) {
        double *cr = c + (size_t)r * ldc;
        HM_K_UNROLL
        for (int q = 0; q < nr4; q += 4) {
            __m256d s = hsum4(acc[r][q], acc[r][q + 1], acc[r][q + 2], acc[r][q + 3]);
            if (!first) {
                s = _mm256_add_pd(_mm256_loadu_pd(cr + q), s);
            }
            _mm256_storeu_pd(cr + q, s);
        }
        HM_K_UNROLL
        for (int q = nr4; q < nr; q += 2) {
            if (q + 1 < nr) {
                __m128d s = hsum2(acc[r][q], acc[r][q + 1]);
                if (!first) {
                    s = _mm_add_pd(_mm_loadu_pd(cr + q), s);
                }
                _mm_storeu_pd(cr + q, s);
            } else {
                double s = _mm_cvtsd_f64(hsum2(acc[r][q], acc[r][q]));
                cr[q] = first ? s : cr[q] + s;
            }
        }
    }
}

// One case of nn_tile_dispatch(): the tile for constant (mr, nr).
#define NN_CASE(MR, NR)                                                                            \
    case (MR) * 8 + (NR):                                                                          \
        nn_tile_avx2(MR, NR, kc, a, lda, bt, ldbt, c, ldc, first);                                 \
        break

/* Every tile shape tile_height() and the row remainders ask for. */
HM_K_AVX2 static void nn_tile_dispatch(int mr,
                                       int nr,
                                       int kc,
                                       const double *a,
                                       size_t lda,
                                       const double *bt,
                                       size_t ldbt,
                                       double *c,
                                       size_t ldc,
                                       int first) {
    switch (mr * 8 + nr) {
        NN_CASE(1, 1);
        NN_CASE(1, 2);
        NN_CASE(1, 3);
        NN_CASE(1, 4);
        NN_CASE(1, 5);
        NN_CASE(1, 6);
        NN_CASE(2, 1);
        NN_CASE(2, 2);
        NN_CASE(2, 3);
        NN_CASE(2, 4);
        NN_CASE(2, 5);
        NN_CASE(2, 6);
        NN_CASE(3, 1);
        NN_CASE(3, 2);
        NN_CASE(3, 3);
        NN_CASE(3, 4);
        NN_CASE(4, 1);
        NN_CASE(4, 2);
        NN_CASE(5, 2);
    default:
        break; // unreachable: the self-test runs every n up to 140
    }
}

#undef NN_CASE

/*
 * Packs entries 0..kb-1 (rows of b, stride ldb) of nc columns transposed
 * into bt[jj * kbp + pp], zero for kb <= pp < kbp (kbp = kb rounded up to
 * 4): 4 x 4 blocks through in-register transposes, the last nc % 4
 * columns one by one. For a block of 64 rows the pack would cost a third
 * of the product if done element by element.
 */
HM_K_AVX2 static void pack_bt(const double *b, size_t ldb, int kb, int nc, double *bt, int kbp) {
    const size_t ld = (size_t)kbp;
    for (int pp = 0; pp < kbp; pp += 4) {
        const int rows = imin(4, kb - pp);
        const double *bp = b + (size_t)pp * ldb;
        int jj = 0;
        for (; jj + 4 <= nc; jj += 4) {
            __m256d r[4];
            HM_K_UNROLL
            for (int l = 0; l < 4; l++) {
                r[l] = l < rows ? _mm256_loadu_pd(bp + (size_t)l * ldb + (size_t)jj)
                                : _mm256_setzero_pd();
            }
            transpose4(r);
            HM_K_UNROLL
            for (int l = 0; l < 4; l++) {
                _mm256_storeu_pd(bt + (size_t)(jj + l) * ld + (size_t)pp, r[l]);
            }
        }
        for (; jj < nc; jj++) {
            for (int l = 0; l < 4; l++) {
                double v = l < rows ? bp[(size_t)l * ldb + (size_t)jj] : 0.0;
                bt[(size_t)jj * ld + (size_t)(pp + l)] = v;
            }
        }
    }
}

/*
 * C = A B. For each column panel and k-chunk, B's chunk is packed
 * transposed, then every tile of C takes its chunk sum: the packed chunk
 * is reused from L1 by all rows, A is read once in total and C once per
 * chunk. The buffer is 64-byte aligned so that the packed columns never
 * straddle cache lines.
 */
HM_K_AVX2 static void gemm_nn_avx2(int m,
                                   int k,
                                   int n,
                                   const double *A,
                                   size_t lda,
                                   const double *B,
                                   size_t ldb,
                                   double *C,
                                   size_t ldc) {
    double bt[NN_BT_CAP] __attribute__((aligned(64)));
    for (int j0 = 0; j0 < n; j0 += NN_NC_MAX) {
        const int nc = imin(NN_NC_MAX, n - j0), kc = nn_chunk_len(k, nc);
        const int ng = n_groups(nc), mh = tile_height(nc);
        for (int p0 = 0; p0 < k; p0 += kc) {
            const int kb = imin(kc, k - p0), kbp = round_up4(kb);
            pack_bt(B + (size_t)p0 * ldb + (size_t)j0, ldb, kb, nc, bt, kbp);
            for (int i = 0; i < m; i += mh) {
                const int mr = imin(mh, m - i);
                const double *ai = A + (size_t)i * lda + (size_t)p0;
                double *ci = C + (size_t)i * ldc + (size_t)j0;
                for (int g = 0, jj = 0; g < ng; g++) {
                    const int nr = group_width(nc, ng, g);
                    nn_tile_dispatch(mr, nr, kb, ai, lda, bt + (size_t)jj * (size_t)kbp,
                                     (size_t)kbp, ci + jj, ldc, p0 == 0);
                    jj += nr;
                }
            }
        }
    }
}

// --- AVX2 + FMA: C += A' B -------------------------------------------------------

/*
 * Loads the column segment C[0..nl-1][0] (stride ldc) into one vector,
 * zero in the lanes past nl; those rows of C are never read.
 */
HM_K_AVX2_INLINE __m256d load_col(const double *c, size_t ldc, int nl) {
    double c1 = nl > 1 ? c[ldc] : 0.0, c2 = nl > 2 ? c[2 * ldc] : 0.0;
    double c3 = nl > 3 ? c[3 * ldc] : 0.0;
    return _mm256_setr_pd(c[0], c1, c2, c3);
}

/* Stores lanes 0..nl-1 of v down a column of C (stride ldc). */
HM_K_AVX2_INLINE void store_col(double *c, size_t ldc, int nl, __m256d v) {
    __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    _mm_storel_pd(c, lo);
    if (nl > 1) {
        _mm_storeh_pd(c + ldc, lo);
    }
    if (nl > 2) {
        _mm_storel_pd(c + 2 * ldc, hi);
    }
    if (nl > 3) {
        _mm_storeh_pd(c + 3 * ldc, hi);
    }
}

/*
 * One tile of gemm_tn_acc: pv vectors down (rows p0 .. p0 + 4 pv - 1 of C,
 * the last vector with nl valid lanes, 1..4) by nj columns. The tile loads
 * its part of C, takes `steps` rows acc[v][q] += x[t][4v..4v+3] * y[t][q]
 * (x = A at column p0, row stride ldx; y = B at column j0, row stride
 * ldy), and stores C back; each row costs pv + nj loads and pv nj FMAs.
 * masked: the last vector of x is loaded under the lane mask (a partial
 * panel at the end of k; the lanes past nl hold zeros and are never
 * stored). Full 4 x 4 corners of C move through in-register transposes,
 * the rest lane by lane. The two prefetches fetch both cache lines a row
 * of x may straddle, TN_PREFETCH rows ahead: rows of A are far apart, so
 * the hardware prefetcher does not follow them on its own. Inlined with
 * constant pv, nj and masked, as nn_tile_avx2().
 */
HM_K_AVX2_INLINE void tn_tile_avx2(const int pv,
                                   const int nj,
                                   const int masked,
                                   int steps,
                                   int nl,
                                   const double *x,
                                   size_t ldx,
                                   const double *y,
                                   size_t ldy,
                                   double *c,
                                   size_t ldc) {
    __m256d acc[TILE_H_MAX][TILE_NJ_MAX], xv[TILE_H_MAX];
    const __m256i mask = lane_mask(nl);
    const int nj4 = nj & ~3;
    HM_K_UNROLL
    for (int v = 0; v < pv; v++) {
        const int vl = v == pv - 1 ? nl : 4;
        const double *cv = c + (size_t)(4 * v) * ldc;
        HM_K_UNROLL
        for (int q = 0; q < nj4; q += 4) {
            if (vl == 4) {
                __m256d r[4];
                HM_K_UNROLL
                for (int l = 0; l < 4; l++) {
                    r[l] = _mm256_loadu_pd(cv + (size_t)l * ldc + (size_t)q);
                }
                transpose4(r);
                HM_K_UNROLL
                for (int l = 0; l < 4; l++) {
                    acc[v][q + l] = r[l];
                }
            } else {
                HM_K_UNROLL
                for (int l = 0; l < 4; l++) {
                    acc[v][q + l] = load_col(cv + q + l, ldc, vl);
                }
            }
        }
        HM_K_UNROLL
        for (int q = nj4; q < nj; q++) {
            acc[v][q] = load_col(cv + q, ldc, vl);
        }
    }
    for (int t = 0; t < steps; t++) {
        const double *xt = x + (size_t)t * ldx, *yt = y + (size_t)t * ldy;
        _mm_prefetch((const char *)(xt + TN_PREFETCH * ldx), _MM_HINT_T0);
        _mm_prefetch((const char *)(xt + TN_PREFETCH * ldx + 4 * pv - 1), _MM_HINT_T0);
        HM_K_UNROLL
        for (int v = 0; v < pv; v++) {
            if (masked && v == pv - 1) {
                // Never reads past the end of the row of x.
                xv[v] = _mm256_maskload_pd(xt + 4 * v, mask);
            } else {
                xv[v] = in_register(_mm256_loadu_pd(xt + 4 * v));
            }
        }
        HM_K_UNROLL
        for (int q = 0; q < nj; q++) {
            __m256d yq = _mm256_broadcast_sd(yt + q);
            HM_K_UNROLL
            for (int v = 0; v < pv; v++) {
                acc[v][q] = _mm256_fmadd_pd(xv[v], yq, acc[v][q]);
            }
        }
    }
    HM_K_UNROLL
    for (int v = 0; v < pv; v++) {
        const int vl = v == pv - 1 ? nl : 4;
        double *cv = c + (size_t)(4 * v) * ldc;
        HM_K_UNROLL
        for (int q = 0; q < nj4; q += 4) {
            if (vl == 4) {
                __m256d r[4];
                HM_K_UNROLL
                for (int l = 0; l < 4; l++) {
                    r[l] = acc[v][q + l];
                }
                transpose4(r);
                HM_K_UNROLL
                for (int l = 0; l < 4; l++) {
                    _mm256_storeu_pd(cv + (size_t)l * ldc + (size_t)q, r[l]);
                }
            } else {
                HM_K_UNROLL
                for (int l = 0; l < 4; l++) {
                    store_col(cv + q + l, ldc, vl, acc[v][q + l]);
                }
            }
        }
        HM_K_UNROLL
        for (int q = nj4; q < nj; q++) {
            store_col(cv + q, ldc, vl, acc[v][q]);
        }
    }
}

// One case of tn_tile_dispatch(): the tile for constant (pv, nj), with
// and without the mask.
#define TN_CASE(PV, NJ)                                                                            \
    case (PV) * 8 + (NJ):                                                                          \
        if (masked) {                                                                              \
            tn_tile_avx2(PV, NJ, 1, steps, nl, x, ldx, y, ldy, c, ldc);                            \
        } else {                                                                                   \
            tn_tile_avx2(PV, NJ, 0, steps, nl, x, ldx, y, ldy, c, ldc);                            \
        }                                                                                          \
        break

/* Every tile shape tile_height() and the k remainders ask for. */
HM_K_AVX2 static void tn_tile_dispatch(int pv,
                                       int nj,
                                       int masked,
                                       int steps,
                                       int nl,
                                       const double *x,
                                       size_t ldx,
                                       const double *y,
                                       size_t ldy,
                                       double *c,
                                       size_t ldc) {
    switch (pv * 8 + nj) {
        TN_CASE(1, 1);
        TN_CASE(1, 2);
        TN_CASE(1, 3);
        TN_CASE(1, 4);
        TN_CASE(1, 5);
        TN_CASE(1, 6);
        TN_CASE(2, 1);
        TN_CASE(2, 2);
        TN_CASE(2, 3);
        TN_CASE(2, 4);
        TN_CASE(2, 5);
        TN_CASE(2, 6);
        TN_CASE(3, 1);
        TN_CASE(3, 2);
        TN_CASE(3, 3);
        TN_CASE(3, 4);
        TN_CASE(4, 1);
        TN_CASE(4, 2);
        TN_CASE(5, 2);
    default:
        break; // unreachable: the self-test runs every n up to 140
    }
}

#undef TN_CASE

/*
 * C += A' B. Rows are taken tn_sweep_len(n) at a time; within a block the
 * panels of C (4 tile_height(n) rows of C, the last one possibly partial
 * and then read under a mask) are visited in turn, and each panel's strip
 * of A is reused from L1 by every column group, the block of B by every
 * panel.
 */
HM_K_AVX2 static void gemm_tn_avx2(int m,
                                   int k,
                                   int n,
                                   const double *A,
                                   size_t lda,
                                   const double *B,
                                   size_t ldb,
                                   double *C,
                                   size_t ldc) {
    const int ph = tile_height(n), ng = n_groups(n), mc = tn_sweep_len(n);
    for (int i0 = 0; i0 < m; i0 += mc) {
        const int mb = imin(mc, m - i0);
        const double *ab = A + (size_t)i0 * lda, *bb = B + (size_t)i0 * ldb;
        for (int p0 = 0; p0 < k; p0 += 4 * ph) {
            const int kb = imin(4 * ph, k - p0), pv = (kb + 3) / 4, nl = kb - 4 * (pv - 1);
            double *cp = C + (size_t)p0 * ldc;
            for (int g = 0, jj = 0; g < ng; g++) {
                const int nj = group_width(n, ng, g);
                tn_tile_dispatch(pv, nj, nl < 4, mb, nl, ab + p0, lda, bb + jj, ldb, cp + jj, ldc);
                jj += nj;
            }
        }
    }
}

// --- AVX2 + FMA: exp ----------------------------------------------------------------

/*
 * exp of four lanes. Range reduction x = j ln 2 + r, |r| <= ln(2) / 2:
 * j = round(x log2 e) with the 1.5 * 2^52 shifter (the FMA rounds x log2 e
 * to an integer in the low mantissa bits), and r = x - j ln2_hi - j ln2_lo
 * (Cody-Waite: ln2_hi has 32 significant bits, so j ln2_hi is exact for
 * |j| < 2^21 and the first subtraction cancels exactly). exp(r) =
 * 1 + r (1 + r q(r)) with q a degree-9 Chebyshev fit of
 * (e^r - 1 - r) / r^2 on |r| <= 0.35 (error 1.4e-17 relative to the
 * result), evaluated by Horner; the last two steps keep the rounding error
 * near half an ulp. 2^j is applied as 2^j1 * 2^j2 with j1 = floor(j / 2):
 * both factors are normal for the clamped x in [-746, 710], so results
 * near DBL_MAX stay finite, x > 709.78 overflows to +Inf and the
 * subnormal range rounds once (gradual underflow). The clamp sends -Inf
 * to 0 and +Inf to +Inf; NaN lanes are restored at the end (max/min
 * return their second operand for NaN).
 */
HM_K_AVX2_INLINE __m256d exp4_avx2(__m256d x) {
    const __m256d shifter = _mm256_set1_pd(6755399441055744.0); // 1.5 * 2^52
    __m256d xc = _mm256_min_pd(_mm256_max_pd(x, _mm256_set1_pd(-746.0)), _mm256_set1_pd(710.0));
    __m256d t = _mm256_fmadd_pd(xc, _mm256_set1_pd(1.4426950408889634074), shifter);
    __m256d jd = _mm256_sub_pd(t, shifter);
    __m256d r = _mm256_fnmadd_pd(jd, _mm256_set1_pd(6.93147180369123816490e-01), xc);
    r = _mm256_fnmadd_pd(jd, _mm256_set1_pd(1.90821492927058770002e-10), r);
    __m256d q = _mm256_set1_pd(2.510135443993923e-08);
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(2.762134843705726e-07));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(2.7557266402504823e-06));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(2.480151862045023e-05));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.00019841269864391087));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.0013888888918952918));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.008333333333329791));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.04166666666662061));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.16666666666666669));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.5000000000000001));
    const __m256d one = _mm256_set1_pd(1.0);
    __m256d p = _mm256_fmadd_pd(_mm256_fmadd_pd(q, r, one), r, one);
    // j from the shifter's mantissa; u = j + 2048 > 0 keeps the shifts
    // logical (AVX2 has no 64-bit arithmetic shift).
    __m256i u = _mm256_add_epi64(
        _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(shifter)),
        _mm256_set1_epi64x(2048));
    __m256i h = _mm256_srli_epi64(u, 1);
    const __m256i one_i = _mm256_set1_epi64x(1);
    __m256i e1 = _mm256_slli_epi64(_mm256_sub_epi64(h, one_i), 52);
    __m256i e2 = _mm256_slli_epi64(_mm256_sub_epi64(_mm256_sub_epi64(u, h), one_i), 52);
    __m256d y = _mm256_mul_pd(_mm256_mul_pd(p, _mm256_castsi256_pd(e1)), _mm256_castsi256_pd(e2));
    return _mm256_blendv_pd(y, x, _mm256_cmp_pd(x, x, _CMP_UNORD_Q));
}

/* In-place exp: full vectors, then the tail through a zero-padded copy so
 * that tail elements go through exactly the same operations. */
HM_K_AVX2 static void vexp_avx2(double *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        // Two independent vectors per trip give the scheduler two Horner
        // chains to interleave.
        __m256d y0 = exp4_avx2(_mm256_loadu_pd(x + i));
        __m256d y1 = exp4_avx2(_mm256_loadu_pd(x + i + 4));
        _mm256_storeu_pd(x + i, y0);
        _mm256_storeu_pd(x + i + 4, y1);
    }
    for (; i + 4 <= n; i += 4) {
        _mm256_storeu_pd(x + i, exp4_avx2(_mm256_loadu_pd(x + i)));
    }
    if (i < n) {
        double t[4] = {0.0, 0.0, 0.0, 0.0};
        const size_t rem = (size_t)(n - i);
        memcpy(t, x + i, rem * sizeof(double));
        _mm256_storeu_pd(t, exp4_avx2(_mm256_loadu_pd(t)));
        memcpy(x + i, t, rem * sizeof(double));
    }
}

/*
 * y = x A for a short vector x (k) and a row-major k x n matrix A: blocks of
 * 16 columns held in four accumulators while the rows of A stream past, so
 * y is written once and never reloaded (the forward and backward recursions
 * of an HMM call this once per time step). Each y[j] sums over i in order.
 */
/* out = a * b elementwise, 16 entries per trip, then one by one. */
HM_K_AVX2 static void vmul_avx2(int n, const double *a, const double *b, double *out) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256d p0 = _mm256_mul_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i));
        __m256d p1 = _mm256_mul_pd(_mm256_loadu_pd(a + i + 4), _mm256_loadu_pd(b + i + 4));
        __m256d p2 = _mm256_mul_pd(_mm256_loadu_pd(a + i + 8), _mm256_loadu_pd(b + i + 8));
        __m256d p3 = _mm256_mul_pd(_mm256_loadu_pd(a + i + 12), _mm256_loadu_pd(b + i + 12));
        _mm256_storeu_pd(out + i, p0);
        _mm256_storeu_pd(out + i + 4, p1);
        _mm256_storeu_pd(out + i + 8, p2);
        _mm256_storeu_pd(out + i + 12, p3);
    }
    for (; i < n; i++) {
        out[i] = a[i] * b[i];
    }
}

HM_K_AVX2 static void vec_mat_avx2(int k, int n, const double *x, const double *A, size_t lda, double *y) {
    // Rows i and i + 1 go to separate accumulators, which are added at the end:
    // eight independent FMA chains hide the FMA latency.
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        __m256d b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int i = 0;
        for (; i + 2 <= k; i += 2) {
            const double *r = A + (size_t)i * lda + (size_t)j, *q = r + lda;
            const __m256d xi = _mm256_broadcast_sd(x + i), xq = _mm256_broadcast_sd(x + i + 1);
            a0 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r), a0);
            a1 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r + 4), a1);
            a2 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r + 8), a2);
            a3 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r + 12), a3);
            b0 = _mm256_fmadd_pd(xq, _mm256_loadu_pd(q), b0);
            b1 = _mm256_fmadd_pd(xq, _mm256_loadu_pd(q + 4), b1);
            b2 = _mm256_fmadd_pd(xq, _mm256_loadu_pd(q + 8), b2);
            b3 = _mm256_fmadd_pd(xq, _mm256_loadu_pd(q + 12), b3);
        }
        if (i < k) {
            const double *r = A + (size_t)i * lda + (size_t)j;
            const __m256d xi = _mm256_broadcast_sd(x + i);
            a0 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r), a0);
            a1 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r + 4), a1);
            a2 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r + 8), a2);
            a3 = _mm256_fmadd_pd(xi, _mm256_loadu_pd(r + 12), a3);
        }
        _mm256_storeu_pd(y + j, _mm256_add_pd(a0, b0));
        _mm256_storeu_pd(y + j + 4, _mm256_add_pd(a1, b1));
        _mm256_storeu_pd(y + j + 8, _mm256_add_pd(a2, b2));
        _mm256_storeu_pd(y + j + 12, _mm256_add_pd(a3, b3));
    }
    for (; j + 4 <= n; j += 4) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 <= k; i += 4) {
            const double *r = A + (size_t)i * lda + (size_t)j;
            a0 = _mm256_fmadd_pd(_mm256_broadcast_sd(x + i), _mm256_loadu_pd(r), a0);
            a1 = _mm256_fmadd_pd(_mm256_broadcast_sd(x + i + 1), _mm256_loadu_pd(r + lda), a1);
            a2 = _mm256_fmadd_pd(_mm256_broadcast_sd(x + i + 2), _mm256_loadu_pd(r + 2 * lda), a2);
            a3 = _mm256_fmadd_pd(_mm256_broadcast_sd(x + i + 3), _mm256_loadu_pd(r + 3 * lda), a3);
        }
        for (; i < k; i++) {
            a0 = _mm256_fmadd_pd(_mm256_broadcast_sd(x + i), _mm256_loadu_pd(A + (size_t)i * lda + (size_t)j), a0);
        }
        _mm256_storeu_pd(y + j, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
    }
    for (; j < n; j++) {
        __m128d a0 = _mm_setzero_pd();
        for (int i = 0; i < k; i++) {
            a0 = _mm_fmadd_sd(_mm_load_sd(x + i), _mm_load_sd(A + (size_t)i * lda + (size_t)j), a0);
        }
        _mm_store_sd(y + j, a0);
    }
}

/* AVX2 and FMA present, and enabled by the OS (libgcc checks XCR0). */
static int have_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// --- AVX2 + FMA: the transposed-layout products ---------------------------------

/*
 * Column-tile shapes of the two transposed-layout products. Both split
 * their nk columns (rows of C for gemm_tn_wide) into groups as
 * n_groups()/group_width() do, at most `wmax` wide, and give a group of
 * width w a tile height h(w) (vectors of C's rows for gemm_tn_wide, rows of
 * C for gemm_nt) that fills the register file: w h accumulators plus the
 * operands. The AVX2 tables have 16 registers, the AVX-512 ones 32.
 */
static int groups_of(int n, int wmax) {
    return (n + wmax - 1) / wmax;
}

static int width_of(int n, int ng, int g) {
    return n / ng + (g < n % ng ? 1 : 0);
}

/* gemm_tn_wide, AVX2: vectors of 4 columns of C per tile for w rows. */
static int wide_height_avx2(int w) {
    static const int h[7] = {0, 6, 5, 3, 3, 2, 2};
    return h[w];
}

/* gemm_nt, AVX2: rows of C per tile for w columns (two vectors per
 * accumulator: the eight partial sums). At most 3 columns. */
static int nt_height_avx2(int w) {
    static const int h[4] = {0, 6, 3, 2};
    return h[w];
}

/* Lane masks of the vectors v = 0..3 of a 4-lane group when `rem` lanes
 * (rem may exceed 4 or be negative) are left from the first. */
HM_K_AVX2_INLINE __m256i rem_mask(int rem) {
    return lane_mask(rem < 0 ? 0 : (rem > 4 ? 4 : rem));
}

/*
 * One tile of gemm_tn_wide: rows q < nq of C (columns q of A) by nv
 * vectors of 4 columns starting at c (the columns of B at b). Every p
 * adds A[p][q] B[p][i] to C[q][i]: nv loads and nq broadcasts for nv nq
 * FMAs. masked: the tile is the last one of the row and holds `rem` valid
 * columns; its loads and stores go under lane masks, so nothing past the
 * end of a row of B or C is touched.
 */
HM_K_AVX2_INLINE void wide_tile_avx2(const int nq,
                                     const int nv,
                                     const int masked,
                                     int kk,
                                     int rem,
                                     const double *a,
                                     size_t lda,
                                     const double *b,
                                     size_t ldb,
                                     double *c,
                                     size_t ldc) {
    __m256d acc[6][6], bv[6];
    __m256i mk[6];
    HM_K_UNROLL
    for (int v = 0; v < nv; v++) {
        mk[v] = rem_mask(rem - 4 * v);
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            acc[q][v] = _mm256_setzero_pd();
        }
    }
    for (int p = 0; p < kk; p++) {
        const double *bp = b + (size_t)p * ldb, *ap = a + (size_t)p * lda;
        HM_K_UNROLL
        for (int v = 0; v < nv; v++) {
            bv[v] = masked ? _mm256_maskload_pd(bp + 4 * v, mk[v])
                           : in_register(_mm256_loadu_pd(bp + 4 * v));
        }
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            const __m256d aq = _mm256_broadcast_sd(ap + q);
            HM_K_UNROLL
            for (int v = 0; v < nv; v++) {
                acc[q][v] = _mm256_fmadd_pd(bv[v], aq, acc[q][v]);
            }
        }
    }
    HM_K_UNROLL
    for (int q = 0; q < nq; q++) {
        double *cq = c + (size_t)q * ldc;
        HM_K_UNROLL
        for (int v = 0; v < nv; v++) {
            if (masked) {
                _mm256_maskstore_pd(cq + 4 * v, mk[v], acc[q][v]);
            } else {
                _mm256_storeu_pd(cq + 4 * v, acc[q][v]);
            }
        }
    }
}

#define WIDE_CASE2(NQ, NV)                                                                         \
    case (NQ) * 16 + (NV):                                                                         \
        if (masked) {                                                                              \
            wide_tile_avx2(NQ, NV, 1, kk, rem, a, lda, b, ldb, c, ldc);                            \
        } else {                                                                                   \
            wide_tile_avx2(NQ, NV, 0, kk, rem, a, lda, b, ldb, c, ldc);                            \
        }                                                                                          \
        break

/* Every tile shape: a group of width w takes the height of its own width
 * or of w + 1 (group widths differ by at most one, and a sweep's tiles all
 * have the height of the widest group). */
HM_K_AVX2 static void wide_tile_dispatch_avx2(int nq,
                                              int nv,
                                              int masked,
                                              int kk,
                                              int rem,
                                              const double *a,
                                              size_t lda,
                                              const double *b,
                                              size_t ldb,
                                              double *c,
                                              size_t ldc) {
    switch (nq * 16 + nv) {
        WIDE_CASE2(1, 5);
        WIDE_CASE2(1, 6);
        WIDE_CASE2(2, 3);
        WIDE_CASE2(2, 5);
        WIDE_CASE2(3, 3);
        WIDE_CASE2(4, 2);
        WIDE_CASE2(4, 3);
        WIDE_CASE2(5, 2);
        WIDE_CASE2(6, 2);
    default:
        break; // unreachable: the self-test runs every width
    }
}

#undef WIDE_CASE2

/*
 * C = A' B, wide. Column tiles of 4 h(w) columns of C outermost, so that
 * the strip of B they read (kk rows) is reused from cache by every group
 * of rows of C; the last tile of a row is masked.
 */
HM_K_AVX2 static void gemm_tn_wide_avx2(int kk,
                                        int nk,
                                        int ni,
                                        const double *A,
                                        size_t lda,
                                        const double *B,
                                        size_t ldb,
                                        double *C,
                                        size_t ldc) {
    const int ng = groups_of(nk, 6);
    int hmin = 8;
    for (int g = 0; g < ng; g++) {
        hmin = imin(hmin, wide_height_avx2(width_of(nk, ng, g)));
    }
    const int tw = 4 * hmin;
    for (int i0 = 0; i0 < ni; i0 += tw) {
        const int rem = ni - i0, masked = rem < tw;
        for (int g = 0, q0 = 0; g < ng; g++) {
            const int nq = width_of(nk, ng, g);
            wide_tile_dispatch_avx2(nq, hmin, masked, kk, rem, A + q0, lda, B + i0, ldb,
                                    C + (size_t)q0 * ldc + (size_t)i0, ldc);
            q0 += nq;
        }
    }
}

/* The fixed combination of eight partial sums, lanes of lo (s0..s3) and hi
 * (s4..s7): ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)). */
HM_K_AVX2_INLINE double hsum8_avx2(__m256d lo, __m256d hi) {
    __m256d t = _mm256_add_pd(lo, hi);
    __m128d u = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    return _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
}

/*
 * One tile of gemm_nt: rows r < mr of C (the rows of A at ar[r]; rows past
 * the end of A repeat the last one and are not stored) by nq columns (the
 * rows of B at b). Each step of 8 entries of i loads two vectors per row of
 * A and of B and takes 2 mr nq FMAs; the last, partial step loads under
 * lane masks (zeros in the padding, which adds +0).
 */
HM_K_AVX2_INLINE void nt_tile_avx2(const int mr,
                                   const int nq,
                                   int ni,
                                   int rows,
                                   const double *a,
                                   size_t lda,
                                   const double *b,
                                   size_t ldb,
                                   double *c,
                                   size_t ldc) {
    __m256d lo[6][3], hi[6][3], al[6], ah[6];
    const double *ar[6];
    HM_K_UNROLL
    for (int r = 0; r < mr; r++) {
        ar[r] = a + (size_t)(r < rows ? r : rows - 1) * lda;
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            lo[r][q] = _mm256_setzero_pd();
            hi[r][q] = _mm256_setzero_pd();
        }
    }
    const int full = ni >> 3, steps = full + ((ni & 7) != 0);
    const __m256i m0 = rem_mask((ni & 7)), m1 = rem_mask((ni & 7) - 4);
    for (int v = 0; v < steps; v++) {
        const size_t off = (size_t)v * 8;
        if (v < full) {
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                al[r] = in_register(_mm256_loadu_pd(ar[r] + off));
                ah[r] = in_register(_mm256_loadu_pd(ar[r] + off + 4));
            }
        } else {
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                al[r] = _mm256_maskload_pd(ar[r] + off, m0);
                ah[r] = _mm256_maskload_pd(ar[r] + off + 4, m1);
            }
        }
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            const double *bq = b + (size_t)q * ldb + off;
            const __m256d bl = v < full ? in_register(_mm256_loadu_pd(bq)) : _mm256_maskload_pd(bq, m0);
            const __m256d bh = v < full ? in_register(_mm256_loadu_pd(bq + 4)) : _mm256_maskload_pd(bq + 4, m1);
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                lo[r][q] = _mm256_fmadd_pd(al[r], bl, lo[r][q]);
                hi[r][q] = _mm256_fmadd_pd(ah[r], bh, hi[r][q]);
            }
        }
    }
    HM_K_UNROLL
    for (int r = 0; r < mr; r++) {
        if (r < rows) {
            HM_K_UNROLL
            for (int q = 0; q < nq; q++) {
                c[(size_t)r * ldc + (size_t)q] = hsum8_avx2(lo[r][q], hi[r][q]);
            }
        }
    }
}

#define NT_CASE2(NQ)                                                                               \
    case NQ:                                                                                       \
        nt_tile_avx2(nt_height_avx2(NQ), NQ, ni, rows, a, lda, b, ldb, c, ldc);                    \
        break

HM_K_AVX2 static void nt_tile_dispatch_avx2(int nq,
                                            int ni,
                                            int rows,
                                            const double *a,
                                            size_t lda,
                                            const double *b,
                                            size_t ldb,
                                            double *c,
                                            size_t ldc) {
    switch (nq) {
        NT_CASE2(1);
        NT_CASE2(2);
        NT_CASE2(3);
    default:
        break; // unreachable: groups are 1 to 3 wide
    }
}

#undef NT_CASE2

/*
 * C = A B'. Row tiles of A outermost: the tile's rows (mr x ni) stay in
 * cache while every column group passes over them, and B (nk x ni) is
 * reused by every row tile.
 */
HM_K_AVX2 static void gemm_nt_avx2(int mp,
                                   int nk,
                                   int ni,
                                   const double *A,
                                   size_t lda,
                                   const double *B,
                                   size_t ldb,
                                   double *C,
                                   size_t ldc) {
    const int ng = groups_of(nk, 3);
    int hmin = 8;
    for (int g = 0; g < ng; g++) {
        hmin = imin(hmin, nt_height_avx2(width_of(nk, ng, g)));
    }
    for (int p0 = 0; p0 < mp; p0 += hmin) {
        const int rows = imin(hmin, mp - p0);
        for (int g = 0, q0 = 0; g < ng; g++) {
            const int nq = width_of(nk, ng, g);
            nt_tile_dispatch_avx2(nq, ni, rows, A + (size_t)p0 * lda, lda, B + (size_t)q0 * ldb, ldb,
                                  C + (size_t)p0 * ldc + (size_t)q0, ldc);
            q0 += nq;
        }
    }
}

// --- AVX-512 ----------------------------------------------------------------------

/*
 * The AVX-512 (x86-64-v4: F, DQ, BW, VL) versions of the transposed-layout
 * products and of the exp: 8 lanes and 32 vector registers, so tiles of up
 * to 25 accumulators, and per-lane masks for every load and store (a
 * partial tile costs nothing extra). They sum in exactly the orders of the
 * AVX2 and portable versions, so the AVX2 and AVX-512 results are the same
 * bits.
 */
#define HM_K_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define HM_K_AVX512_INLINE                                                                         \
    static inline __attribute__((always_inline, target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

/* As in_register() for 512-bit vectors. */
HM_K_AVX512_INLINE __m512d in_register512(__m512d v) {
#if !defined(__clang__)
    __asm__("" : "+v"(v));
#endif
    return v;
}

/* The mask of the first rem lanes of 8 (rem clamped to 0..8). */
HM_K_AVX512_INLINE __mmask8 mask8(int rem) {
    return rem <= 0 ? (__mmask8)0 : (rem >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << rem) - 1u));
}

/* gemm_tn_wide, AVX-512: vectors of 8 columns per tile for w rows of C. */
static int wide_height_512(int w) {
    static const int h[7] = {0, 8, 8, 7, 6, 5, 4};
    return h[w];
}

/* gemm_nt, AVX-512: rows of C per tile for w columns. */
static int nt_height_512(int w) {
    static const int h[7] = {0, 8, 8, 7, 6, 5, 4};
    return h[w];
}

/* One tile of gemm_tn_wide as wide_tile_avx2(), every vector under its own
 * lane mask (all set except in the last tile of a row). */
HM_K_AVX512_INLINE void wide_tile_512(const int nq,
                                      const int nv,
                                      int kk,
                                      int rem,
                                      const double *a,
                                      size_t lda,
                                      const double *b,
                                      size_t ldb,
                                      double *c,
                                      size_t ldc) {
    __m512d acc[6][8], bv[8];
    __mmask8 mk[8];
    HM_K_UNROLL
    for (int v = 0; v < nv; v++) {
        mk[v] = mask8(rem - 8 * v);
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            acc[q][v] = _mm512_setzero_pd();
        }
    }
    for (int p = 0; p < kk; p++) {
        const double *bp = b + (size_t)p * ldb, *ap = a + (size_t)p * lda;
        HM_K_UNROLL
        for (int v = 0; v < nv; v++) {
            bv[v] = in_register512(_mm512_maskz_loadu_pd(mk[v], bp + 8 * v));
        }
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            const __m512d aq = _mm512_set1_pd(ap[q]);
            HM_K_UNROLL
            for (int v = 0; v < nv; v++) {
                acc[q][v] = _mm512_fmadd_pd(bv[v], aq, acc[q][v]);
            }
        }
    }
    HM_K_UNROLL
    for (int q = 0; q < nq; q++) {
        double *cq = c + (size_t)q * ldc;
        HM_K_UNROLL
        for (int v = 0; v < nv; v++) {
            _mm512_mask_storeu_pd(cq + 8 * v, mk[v], acc[q][v]);
        }
    }
}

#define WIDE_CASE512(NQ, NV)                                                                       \
    case (NQ) * 16 + (NV):                                                                         \
        wide_tile_512(NQ, NV, kk, rem, a, lda, b, ldb, c, ldc);                                    \
        break

/* Every tile shape, as wide_tile_dispatch_avx2(). */
HM_K_AVX512 static void wide_tile_dispatch_512(int nq,
                                               int nv,
                                               int kk,
                                               int rem,
                                               const double *a,
                                               size_t lda,
                                               const double *b,
                                               size_t ldb,
                                               double *c,
                                               size_t ldc) {
    switch (nq * 16 + nv) {
        WIDE_CASE512(1, 8);
        WIDE_CASE512(2, 7);
        WIDE_CASE512(2, 8);
        WIDE_CASE512(3, 6);
        WIDE_CASE512(3, 7);
        WIDE_CASE512(4, 5);
        WIDE_CASE512(4, 6);
        WIDE_CASE512(5, 4);
        WIDE_CASE512(5, 5);
        WIDE_CASE512(6, 4);
    default:
        break; // unreachable: the self-test runs every width
    }
}

#undef WIDE_CASE512

HM_K_AVX512 static void gemm_tn_wide_512(int kk,
                                         int nk,
                                         int ni,
                                         const double *A,
                                         size_t lda,
                                         const double *B,
                                         size_t ldb,
                                         double *C,
                                         size_t ldc) {
    const int ng = groups_of(nk, 6);
    int hmin = 8;
    for (int g = 0; g < ng; g++) {
        hmin = imin(hmin, wide_height_512(width_of(nk, ng, g)));
    }
    const int tw = 8 * hmin;
    for (int i0 = 0; i0 < ni; i0 += tw) {
        for (int g = 0, q0 = 0; g < ng; g++) {
            const int nq = width_of(nk, ng, g);
            wide_tile_dispatch_512(nq, hmin, kk, ni - i0, A + q0, lda, B + i0, ldb,
                                   C + (size_t)q0 * ldc + (size_t)i0, ldc);
            q0 += nq;
        }
    }
}

/* The eight lanes of s combined as ((s0 + s4) + (s2 + s6)) + ((s1 + s5) +
 * (s3 + s7)), the order of hsum8_avx2(). */
HM_K_AVX512_INLINE double hsum8_512(__m512d s) {
    __m256d t = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
    __m128d u = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    return _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
}

/*
 * hsum8_512() of eight vectors at once into out[0..7], the same order and
 * so the same bits, in 15 shuffles and 7 adds rather than 48 operations:
 * the 256-bit halves of pairs are added (t_j = lanes s_l + s_{l+4}), then
 * the 128-bit halves of t_j (u_j = ((s0 + s4) + (s2 + s6), (s1 + s5) +
 * (s3 + s7))), then the two lanes of each u_j, which leaves the sums in
 * the lane order 0, 4, 1, 5, 2, 6, 3, 7.
 */
HM_K_AVX512_INLINE void hsum8x8_512(const __m512d *v, double *out) {
    __m512d t[4], u[2];
    HM_K_UNROLL
    for (int j = 0; j < 4; j++) {
        __m512d lo = _mm512_shuffle_f64x2(v[2 * j], v[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0));
        __m512d hi = _mm512_shuffle_f64x2(v[2 * j], v[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2));
        t[j] = _mm512_add_pd(lo, hi);
    }
    HM_K_UNROLL
    for (int j = 0; j < 2; j++) {
        __m512d x = _mm512_shuffle_f64x2(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0));
        __m512d y = _mm512_shuffle_f64x2(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1));
        u[j] = _mm512_add_pd(x, y);
    }
    __m512d f = _mm512_add_pd(_mm512_unpacklo_pd(u[0], u[1]), _mm512_unpackhi_pd(u[0], u[1]));
    double tmp[8];
    _mm512_storeu_pd(tmp, f);
    static const int pos[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    HM_K_UNROLL
    for (int j = 0; j < 8; j++) {
        out[j] = tmp[pos[j]];
    }
}

/* One tile of gemm_nt as nt_tile_avx2(), one vector per partial-sum group. */
HM_K_AVX512_INLINE void nt_tile_512(const int mr,
                                    const int nq,
                                    int ni,
                                    int rows,
                                    const double *a,
                                    size_t lda,
                                    const double *b,
                                    size_t ldb,
                                    double *c,
                                    size_t ldc) {
    __m512d acc[8][6], av[8];
    const double *ar[8];
    HM_K_UNROLL
    for (int r = 0; r < mr; r++) {
        ar[r] = a + (size_t)(r < rows ? r : rows - 1) * lda;
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            acc[r][q] = _mm512_setzero_pd();
        }
    }
    // Full steps with plain loads, then the partial one under a mask; one
    // loop nest for both (see nn_tile_avx2).
    const int full = ni >> 3, steps = full + ((ni & 7) != 0);
    const __mmask8 mt = mask8(ni & 7);
    for (int v = 0; v < steps; v++) {
        const size_t off = (size_t)v * 8;
        if (v < full) {
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                av[r] = in_register512(_mm512_loadu_pd(ar[r] + off));
            }
        } else {
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                av[r] = _mm512_maskz_loadu_pd(mt, ar[r] + off);
            }
        }
        HM_K_UNROLL
        for (int q = 0; q < nq; q++) {
            const double *bq = b + (size_t)q * ldb + off;
            const __m512d bv = v < full ? in_register512(_mm512_loadu_pd(bq)) : _mm512_maskz_loadu_pd(mt, bq);
            HM_K_UNROLL
            for (int r = 0; r < mr; r++) {
                acc[r][q] = _mm512_fmadd_pd(av[r], bv, acc[r][q]);
            }
        }
    }
    // The lane sums of eight accumulators at a time (padded with zeros).
    double sums[32];
    const int cnt = mr * nq;
    HM_K_UNROLL
    for (int g = 0; g < 4; g++) {
        if (8 * g < cnt) {
            __m512d v[8];
            HM_K_UNROLL
            for (int j = 0; j < 8; j++) {
                const int e = 8 * g + j;
                v[j] = e < cnt ? acc[e / nq][e % nq] : _mm512_setzero_pd();
            }
            hsum8x8_512(v, sums + 8 * g);
        }
    }
    HM_K_UNROLL
    for (int r = 0; r < mr; r++) {
        if (r < rows) {
            HM_K_UNROLL
            for (int q = 0; q < nq; q++) {
                c[(size_t)r * ldc + (size_t)q] = sums[r * nq + q];
            }
        }
    }
}

#define NT_CASE512(MR, NQ)                                                                         \
    case (MR) * 8 + (NQ):                                                                          \
        nt_tile_512(MR, NQ, ni, rows, a, lda, b, ldb, c, ldc);                                     \
        break

/* Every tile shape gemm_nt_512() asks for: each width with every height up
 * to nt_height_512(), so that the last row tile computes no padding rows. */
HM_K_AVX512 static void nt_tile_dispatch_512(int mr,
                                             int nq,
                                             int ni,
                                             int rows,
                                             const double *a,
                                             size_t lda,
                                             const double *b,
                                             size_t ldb,
                                             double *c,
                                             size_t ldc) {
    switch (mr * 8 + nq) {
        NT_CASE512(1, 1);
        NT_CASE512(2, 1);
        NT_CASE512(3, 1);
        NT_CASE512(4, 1);
        NT_CASE512(5, 1);
        NT_CASE512(6, 1);
        NT_CASE512(7, 1);
        NT_CASE512(8, 1);
        NT_CASE512(1, 2);
        NT_CASE512(2, 2);
        NT_CASE512(3, 2);
        NT_CASE512(4, 2);
        NT_CASE512(5, 2);
        NT_CASE512(6, 2);
        NT_CASE512(7, 2);
        NT_CASE512(8, 2);
        NT_CASE512(1, 3);
        NT_CASE512(2, 3);
        NT_CASE512(3, 3);
        NT_CASE512(4, 3);
        NT_CASE512(5, 3);
        NT_CASE512(6, 3);
        NT_CASE512(7, 3);
        NT_CASE512(1, 4);
        NT_CASE512(2, 4);
        NT_CASE512(3, 4);
        NT_CASE512(4, 4);
        NT_CASE512(5, 4);
        NT_CASE512(6, 4);
        NT_CASE512(1, 5);
        NT_CASE512(2, 5);
        NT_CASE512(3, 5);
        NT_CASE512(4, 5);
        NT_CASE512(5, 5);
        NT_CASE512(1, 6);
        NT_CASE512(2, 6);
        NT_CASE512(3, 6);
        NT_CASE512(4, 6);
    default:
        break; // unreachable: the self-test runs every width and remainder
    }
}

#undef NT_CASE512

HM_K_AVX512 static void gemm_nt_512(int mp,
                                    int nk,
                                    int ni,
                                    const double *A,
                                    size_t lda,
                                    const double *B,
                                    size_t ldb,
                                    double *C,
                                    size_t ldc) {
    const int ng = groups_of(nk, 6);
    int hmin = 8;
    for (int g = 0; g < ng; g++) {
        hmin = imin(hmin, nt_height_512(width_of(nk, ng, g)));
    }
    for (int p0 = 0; p0 < mp; p0 += hmin) {
        const int rows = imin(hmin, mp - p0);
        for (int g = 0, q0 = 0; g < ng; g++) {
            const int nq = width_of(nk, ng, g);
            nt_tile_dispatch_512(rows, nq, ni, rows, A + (size_t)p0 * lda, lda, B + (size_t)q0 * ldb, ldb,
                                 C + (size_t)p0 * ldc + (size_t)q0, ldc);
            q0 += nq;
        }
    }
}

/* exp of eight lanes: exp4_avx2() lane for lane (the same operations, so
 * the same bits), with a 64-bit arithmetic-free exponent split as there. */
HM_K_AVX512_INLINE __m512d exp8_512(__m512d x) {
    const __m512d shifter = _mm512_set1_pd(6755399441055744.0); // 1.5 * 2^52
    __m512d xc = _mm512_min_pd(_mm512_max_pd(x, _mm512_set1_pd(-746.0)), _mm512_set1_pd(710.0));
    __m512d t = _mm512_fmadd_pd(xc, _mm512_set1_pd(1.4426950408889634074), shifter);
    __m512d jd = _mm512_sub_pd(t, shifter);
    __m512d r = _mm512_fnmadd_pd(jd, _mm512_set1_pd(6.93147180369123816490e-01), xc);
    r = _mm512_fnmadd_pd(jd, _mm512_set1_pd(1.90821492927058770002e-10), r);
    __m512d q = _mm512_set1_pd(2.510135443993923e-08);
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(2.762134843705726e-07));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(2.7557266402504823e-06));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(2.480151862045023e-05));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.00019841269864391087));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.0013888888918952918));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.008333333333329791));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.04166666666662061));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.16666666666666669));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.5000000000000001));
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d p = _mm512_fmadd_pd(_mm512_fmadd_pd(q, r, one), r, one);
    __m512i u = _mm512_add_epi64(_mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_castpd_si512(shifter)),
                                 _mm512_set1_epi64(2048));
    __m512i h = _mm512_srli_epi64(u, 1);
    const __m512i one_i = _mm512_set1_epi64(1);
    __m512i e1 = _mm512_slli_epi64(_mm512_sub_epi64(h, one_i), 52);
    __m512i e2 = _mm512_slli_epi64(_mm512_sub_epi64(_mm512_sub_epi64(u, h), one_i), 52);
    __m512d y = _mm512_mul_pd(_mm512_mul_pd(p, _mm512_castsi512_pd(e1)), _mm512_castsi512_pd(e2));
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), y, x);
}

/* In-place exp, two vectors per trip; the tail under a mask (masked lanes
 * are never read or written, and computed lanes go through the same
 * operations as everywhere else). */
HM_K_AVX512 static void vexp_512(double *x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d y0 = exp8_512(_mm512_loadu_pd(x + i));
        __m512d y1 = exp8_512(_mm512_loadu_pd(x + i + 8));
        _mm512_storeu_pd(x + i, y0);
        _mm512_storeu_pd(x + i + 8, y1);
    }
    for (; i < n; i += 8) {
        const __mmask8 m = mask8(n - i);
        _mm512_mask_storeu_pd(x + i, m, exp8_512(_mm512_maskz_loadu_pd(m, x + i)));
    }
}

/*
 * gemm_tn_acc, AVX-512: C[p][j] += sum_i A[i][p] B[i][j] with vectors of 8
 * rows of C (entries of p) by nj columns; per row of A, pv loads (the last
 * under the mask of the rows left) and nj broadcasts of B for pv nj FMAs.
 * Each element is one chain over i from its old value, the order of the
 * AVX2 and portable code (so the AVX2 bits). The tile's part of C is
 * gathered once per sweep of rows and scattered back, which the long
 * sweeps (tn_sweep_len_512) amortise.
 */
static int tn_height_512(int w) {
    static const int h[7] = {0, 8, 8, 7, 6, 5, 4};
    return h[w];
}

static int tn_sweep_len_512(int n) {
    const int ng = n_groups(n);
    int hmin = 8;
    for (int g = 0; g < ng; g++) {
        hmin = imin(hmin, tn_height_512(group_width(n, ng, g)));
    }
    int s = 8192 / (8 * hmin + n);
    return s < 64 ? 64 : (s > 1024 ? 1024 : s);
}

HM_K_AVX512_INLINE void tn_tile_512(const int pv,
                                    const int nj,
                                    int steps,
                                    int rem,
                                    const double *x,
                                    size_t ldx,
                                    const double *y,
                                    size_t ldy,
                                    double *c,
                                    size_t ldc) {
    __m512d acc[8][6], xv[8];
    __mmask8 mk[8];
    const __m512i idx = _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm512_set1_epi64((long long)ldc));
    HM_K_UNROLL
    for (int v = 0; v < pv; v++) {
        mk[v] = mask8(rem - 8 * v);
        HM_K_UNROLL
        for (int q = 0; q < nj; q++) {
            acc[v][q] = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), mk[v], idx,
                                                 c + (size_t)(8 * v) * ldc + (size_t)q, 8);
        }
    }
    for (int t = 0; t < steps; t++) {
        const double *xt = x + (size_t)t * ldx, *yt = y + (size_t)t * ldy;
        _mm_prefetch((const char *)(xt + TN_PREFETCH * ldx), _MM_HINT_T0);
        _mm_prefetch((const char *)(xt + TN_PREFETCH * ldx + 8 * pv - 1), _MM_HINT_T0);
        HM_K_UNROLL
        for (int v = 0; v < pv; v++) {
            xv[v] = in_register512(_mm512_maskz_loadu_pd(mk[v], xt + 8 * v));
        }
        HM_K_UNROLL
        for (int q = 0; q < nj; q++) {
            const __m512d yq = _mm512_set1_pd(yt[q]);
            HM_K_UNROLL
            for (int v = 0; v < pv; v++) {
                acc[v][q] = _mm512_fmadd_pd(xv[v], yq, acc[v][q]);
            }
        }
    }
    HM_K_UNROLL
    for (int v = 0; v < pv; v++) {
        HM_K_UNROLL
        for (int q = 0; q < nj; q++) {
            _mm512_mask_i64scatter_pd(c + (size_t)(8 * v) * ldc + (size_t)q, mk[v], idx, acc[v][q], 8);
        }
    }
}

#define TN_CASE512(PV, NJ)                                                                         \
    case (PV) * 8 + (NJ):                                                                          \
        tn_tile_512(PV, NJ, steps, rem, x, ldx, y, ldy, c, ldc);                                   \
        break

/* Every tile shape: width w with every height up to tn_height_512(w) (the
 * last panel of rows takes only the vectors it needs). */
HM_K_AVX512 static void tn_tile_dispatch_512(int pv,
                                             int nj,
                                             int steps,
                                             int rem,
                                             const double *x,
                                             size_t ldx,
                                             const double *y,
                                             size_t ldy,
                                             double *c,
                                             size_t ldc) {
    switch (pv * 8 + nj) {
        TN_CASE512(1, 1);
        TN_CASE512(2, 1);
        TN_CASE512(3, 1);
        TN_CASE512(4, 1);
        TN_CASE512(5, 1);
        TN_CASE512(6, 1);
        TN_CASE512(7, 1);
        TN_CASE512(8, 1);
        TN_CASE512(1, 2);
        TN_CASE512(2, 2);
        TN_CASE512(3, 2);
        TN_CASE512(4, 2);
        TN_CASE512(5, 2);
        TN_CASE512(6, 2);
        TN_CASE512(7, 2);
        TN_CASE512(8, 2);
        TN_CASE512(1, 3);
        TN_CASE512(2, 3);
        TN_CASE512(3, 3);
        TN_CASE512(4, 3);
        TN_CASE512(5, 3);
        TN_CASE512(6, 3);
        TN_CASE512(7, 3);
        TN_CASE512(1, 4);
        TN_CASE512(2, 4);
        TN_CASE512(3, 4);
        TN_CASE512(4, 4);
        TN_CASE512(5, 4);
        TN_CASE512(6, 4);
        TN_CASE512(1, 5);
        TN_CASE512(2, 5);
        TN_CASE512(3, 5);
        TN_CASE512(4, 5);
        TN_CASE512(5, 5);
        TN_CASE512(1, 6);
        TN_CASE512(2, 6);
        TN_CASE512(3, 6);
        TN_CASE512(4, 6);
    default:
        break; // unreachable: the self-test runs every n up to 140
    }
}

#undef TN_CASE512

/* C += A' B, AVX-512: the blocking of gemm_tn_avx2() with panels of 8 hmin
 * rows of C, hmin the height of the widest column group. */
HM_K_AVX512 static void gemm_tn_512(int m,
                                    int k,
                                    int n,
                                    const double *A,
                                    size_t lda,
                                    const double *B,
                                    size_t ldb,
                                    double *C,
                                    size_t ldc) {
    const int ng = n_groups(n), mc = tn_sweep_len_512(n);
    int hmin = 8;
    for (int g = 0; g < ng; g++) {
        hmin = imin(hmin, tn_height_512(group_width(n, ng, g)));
    }
    for (int i0 = 0; i0 < m; i0 += mc) {
        const int mb = imin(mc, m - i0);
        const double *ab = A + (size_t)i0 * lda, *bb = B + (size_t)i0 * ldb;
        for (int p0 = 0; p0 < k; p0 += 8 * hmin) {
            double *cp = C + (size_t)p0 * ldc;
            for (int g = 0, jj = 0; g < ng; g++) {
                const int nj = group_width(n, ng, g);
                tn_tile_dispatch_512(imin(hmin, (k - p0 + 7) / 8), nj, mb, k - p0, ab + p0, lda, bb + jj, ldb,
                                     cp + jj, ldc);
                jj += nj;
            }
        }
    }
}

/* out = a * b elementwise, 32 entries per trip, the tail under a mask. */
HM_K_AVX512 static void vmul_512(int n, const double *a, const double *b, double *out) {
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512d p0 = _mm512_mul_pd(_mm512_loadu_pd(a + i), _mm512_loadu_pd(b + i));
        __m512d p1 = _mm512_mul_pd(_mm512_loadu_pd(a + i + 8), _mm512_loadu_pd(b + i + 8));
        __m512d p2 = _mm512_mul_pd(_mm512_loadu_pd(a + i + 16), _mm512_loadu_pd(b + i + 16));
        __m512d p3 = _mm512_mul_pd(_mm512_loadu_pd(a + i + 24), _mm512_loadu_pd(b + i + 24));
        _mm512_storeu_pd(out + i, p0);
        _mm512_storeu_pd(out + i + 8, p1);
        _mm512_storeu_pd(out + i + 16, p2);
        _mm512_storeu_pd(out + i + 24, p3);
    }
    for (; i < n; i += 8) {
        const __mmask8 m = mask8(n - i);
        _mm512_mask_storeu_pd(out + i, m,
                              _mm512_mul_pd(_mm512_maskz_loadu_pd(m, a + i), _mm512_maskz_loadu_pd(m, b + i)));
    }
}

/* hm_k_softmax_cols() eight columns at a time, every step under the lane
 * mask of the columns left: the elementwise operations of the portable
 * code and exp8_512(), so the same bits as the AVX2 path. */
HM_K_AVX512 static void softmax_cols_512(int m,
                                         int ni,
                                         const double *t,
                                         double floor,
                                         double *Q,
                                         size_t ldq,
                                         double *R,
                                         size_t ldr,
                                         double *mx,
                                         double *tot) {
    const __m512d fl = _mm512_set1_pd(floor), ninf = _mm512_set1_pd(-HUGE_VAL);
    const __m512d nzero = _mm512_set1_pd(-0.0);
    for (int i = 0; i < ni; i += 8) {
        const __mmask8 mk = mask8(ni - i);
        __m512d mv = _mm512_setzero_pd();
        for (int k = 0; k < m; k++) {
            double *q = Q + (size_t)k * ldq + (size_t)i;
            const __m512d v = _mm512_add_pd(_mm512_maskz_loadu_pd(mk, q), _mm512_set1_pd(t[k]));
            _mm512_mask_storeu_pd(q, mk, v);
            mv = _mm512_max_pd(v, mv); // v > mv ? v : mv, NaN v skipped
        }
        _mm512_mask_storeu_pd(mx + i, mk, mv);
        __m512d sum = _mm512_setzero_pd();
        for (int k = 0; k <= m; k++) {
            __m512d v = k < m ? _mm512_sub_pd(_mm512_maskz_loadu_pd(mk, Q + (size_t)k * ldq + (size_t)i), mv)
                              : _mm512_sub_pd(nzero, mv);
            v = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(v, fl, _CMP_LT_OQ), v, ninf);
            v = exp8_512(v);
            _mm512_mask_storeu_pd(R + (size_t)k * ldr + (size_t)i, mk, v);
            sum = _mm512_add_pd(sum, v);
        }
        _mm512_mask_storeu_pd(tot + i, mk, sum);
    }
}

/*
 * AVX-512 F, DQ, BW and VL in the CPU and zmm state enabled by the OS: XCR0
 * must have the SSE, AVX, opmask and both ZMM bits (0xe6), read with xgetbv
 * once cpuid reports OSXSAVE. (libgcc's feature bits do not promise the
 * XCR0 test for AVX-512 in every GCC version.)
 */
static int have_avx512(void) {
    if (!have_avx2_fma()) {
        return 0;
    }
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq") ||
        !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl")) {
        return 0;
    }
    unsigned int eax, ebx, ecx, edx;
    __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1u), "c"(0u));
    if (!(ecx & (1u << 27))) {
        return 0; // no OSXSAVE: xgetbv would fault
    }
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
    (void)hi;
    return (lo & 0xe6u) == 0xe6u;
}

#endif /* HM_K_X86 */

// --- portable kernels -----------------------------------------------------------

/*
 * C = A B in the summation order of gemm_nn_avx2(): the same panels and
 * k-chunks, four lane sums per chunk (lane l takes p = p0 + 4 v + l; the
 * padding adds +0 exactly as the masked vector does), combined as
 * (l0 + l1) + (l2 + l3). The chunk of B is packed transposed as in the
 * AVX2 code, so the dot products run over two contiguous arrays and
 * compilers can vectorise the four lanes on other architectures.
 */
static void gemm_nn_portable(int m,
                             int k,
                             int n,
                             const double *A,
                             size_t lda,
                             const double *B,
                             size_t ldb,
                             double *C,
                             size_t ldc) {
    double bt[NN_BT_CAP];
    for (int j0 = 0; j0 < n; j0 += NN_NC_MAX) {
        const int nc = imin(NN_NC_MAX, n - j0), kc = nn_chunk_len(k, nc);
        for (int p0 = 0; p0 < k; p0 += kc) {
            const int kb = imin(kc, k - p0), kbp = round_up4(kb);
            for (int pp = 0; pp < kbp; pp++) {
                const double *bp = B + (size_t)(p0 + pp) * ldb + (size_t)j0;
                for (int jj = 0; jj < nc; jj++) {
                    bt[(size_t)jj * (size_t)kbp + (size_t)pp] = pp < kb ? bp[jj] : 0.0;
                }
            }
            for (int i = 0; i < m; i++) {
                const double *ai = A + (size_t)i * lda + (size_t)p0;
                double *ci = C + (size_t)i * ldc + (size_t)j0;
                for (int jj = 0; jj < nc; jj++) {
                    const double *bj = bt + (size_t)jj * (size_t)kbp;
                    double s[4] = {0.0, 0.0, 0.0, 0.0};
                    int p = 0;
                    for (; p + 4 <= kb; p += 4) {
                        for (int l = 0; l < 4; l++) {
                            s[l] += ai[p + l] * bj[p + l];
                        }
                    }
                    if (p < kb) {
                        // The masked step: A is never read past kb.
                        for (int l = 0; l < 4; l++) {
                            s[l] += (p + l < kb ? ai[p + l] : 0.0) * bj[p + l];
                        }
                    }
                    double sum = (s[0] + s[1]) + (s[2] + s[3]);
                    ci[jj] = p0 == 0 ? sum : ci[jj] + sum;
                }
            }
        }
    }
}

/*
 * C += A' B as rank-1 updates row by row: C[p][j] gets one chain over i
 * starting from its old value, the order of gemm_tn_avx2(). The inner
 * loop over j is unit stride, which compilers vectorise anywhere.
 */
static void gemm_tn_portable(int m,
                             int k,
                             int n,
                             const double *A,
                             size_t lda,
                             const double *B,
                             size_t ldb,
                             double *C,
                             size_t ldc) {
    for (int i = 0; i < m; i++) {
        const double *ai = A + (size_t)i * lda, *bi = B + (size_t)i * ldb;
        for (int p = 0; p < k; p++) {
            const double a = ai[p];
            double *cp = C + (size_t)p * ldc;
            for (int j = 0; j < n; j++) {
                cp[j] += a * bi[j];
            }
        }
    }
}

/*
 * C = A' B, wide, in the order of gemm_tn_wide_avx2(): each C[q][i] is one
 * chain over p. Row by row of C with the loop over i innermost (unit
 * stride, which compilers vectorise anywhere).
 */
static void gemm_tn_wide_portable(int kk,
                                  int nk,
                                  int ni,
                                  const double *A,
                                  size_t lda,
                                  const double *B,
                                  size_t ldb,
                                  double *C,
                                  size_t ldc) {
    for (int q = 0; q < nk; q++) {
        double *cq = C + (size_t)q * ldc;
        for (int i = 0; i < ni; i++) {
            cq[i] = 0.0;
        }
        for (int p = 0; p < kk; p++) {
            const double a = A[(size_t)p * lda + (size_t)q];
            const double *bp = B + (size_t)p * ldb;
            for (int i = 0; i < ni; i++) {
                cq[i] += a * bp[i];
            }
        }
    }
}

/*
 * C = A B' in the order of gemm_nt_avx2(): eight partial sums over i mod 8
 * (the padding of the last group adds +0, as the masked vector loads do),
 * combined as ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)).
 */
static void gemm_nt_portable(int mp,
                             int nk,
                             int ni,
                             const double *A,
                             size_t lda,
                             const double *B,
                             size_t ldb,
                             double *C,
                             size_t ldc) {
    for (int p = 0; p < mp; p++) {
        const double *ap = A + (size_t)p * lda;
        for (int q = 0; q < nk; q++) {
            const double *bq = B + (size_t)q * ldb;
            double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
            int i = 0;
            for (; i + 8 <= ni; i += 8) {
                for (int l = 0; l < 8; l++) {
                    s[l] += ap[i + l] * bq[i + l];
                }
            }
            if (i < ni) {
                for (int l = 0; l < 8; l++) {
                    s[l] += i + l < ni ? ap[i + l] * bq[i + l] : 0.0;
                }
            }
            C[(size_t)p * ldc + (size_t)q] = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
        }
    }
}

/* The bits of a double and back (memcpy is the defined way in C99). */
static uint64_t dbl_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double bits_dbl(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/*
 * exp(x) by the algorithm of exp4_avx2 without fused multiply-adds: the
 * Cody-Waite split keeps j ln2_hi exact and the subtraction exact, so the
 * reduction stays accurate with separate roundings.
 */
static double exp1_portable(double x) {
    if (x != x) {
        return x;
    }
    const double shifter = 6755399441055744.0;
    double xc = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
    double t = xc * 1.4426950408889634074 + shifter;
    double jd = t - shifter;
    double r = (xc - jd * 6.93147180369123816490e-01) - jd * 1.90821492927058770002e-10;
    double q = 2.510135443993923e-08;
    q = q * r + 2.762134843705726e-07;
    q = q * r + 2.7557266402504823e-06;
    q = q * r + 2.480151862045023e-05;
    q = q * r + 0.00019841269864391087;
    q = q * r + 0.0013888888918952918;
    q = q * r + 0.008333333333329791;
    q = q * r + 0.04166666666662061;
    q = q * r + 0.16666666666666669;
    q = q * r + 0.5000000000000001;
    double p = (q * r + 1.0) * r + 1.0;
    uint64_t u = dbl_bits(t) - dbl_bits(shifter) + 2048u;
    uint64_t h = u >> 1;
    double s1 = bits_dbl((h - 1u) << 52), s2 = bits_dbl((u - h - 1u) << 52);
    return p * s1 * s2;
}

static void vexp_portable(double *x, int n) {
    for (int i = 0; i < n; i++) {
        x[i] = exp1_portable(x[i]);
    }
}

/*
 * hm_k_softmax_cols() as passes over the rows with the exp `vx` (the
 * portable one, or the AVX2 one, whose bits the AVX-512 path shares); the
 * other operations are single IEEE operations, the same on every path.
 */
static void softmax_cols_generic(int m,
                                 int ni,
                                 const double *t,
                                 double floor,
                                 double *Q,
                                 size_t ldq,
                                 double *R,
                                 size_t ldr,
                                 double *mx,
                                 double *tot,
                                 void (*vx)(double *, int)) {
    for (int i = 0; i < ni; i++) {
        mx[i] = 0.0;
    }
    for (int k = 0; k < m; k++) {
        double *q = Q + (size_t)k * ldq;
        for (int i = 0; i < ni; i++) {
            const double v = q[i] + t[k];
            q[i] = v;
            mx[i] = v > mx[i] ? v : mx[i];
        }
    }
    for (int k = 0; k <= m; k++) {
        const double *q = Q + (size_t)k * ldq;
        double *r = R + (size_t)k * ldr;
        for (int i = 0; i < ni; i++) {
            const double v = k < m ? q[i] - mx[i] : -mx[i];
            r[i] = v < floor ? -HUGE_VAL : v;
        }
        vx(r, ni);
    }
    for (int i = 0; i < ni; i++) {
        tot[i] = 0.0;
    }
    for (int k = 0; k <= m; k++) {
        const double *r = R + (size_t)k * ldr;
        for (int i = 0; i < ni; i++) {
            tot[i] += r[i];
        }
    }
}

// --- public entry points --------------------------------------------------------

/*
 * The instruction set, decided once: 2 for AVX-512, 1 for AVX2 + FMA, 0 for
 * the portable code. The cpuid and xgetbv queries are slow under a
 * hypervisor, so the answer is cached (every thread computes the same
 * value; the relaxed atomics only make the shared cache well defined).
 */
enum { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

static int kernel_isa(void) {
#if HM_K_X86
    static int cached = -1;
    int isa = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = have_avx512() ? ISA_AVX512 : (have_avx2_fma() ? ISA_AVX2 : ISA_PORTABLE);
        __atomic_store_n(&cached, isa, __ATOMIC_RELAXED);
    }
    return isa;
#else
    return ISA_PORTABLE;
#endif
}

const char *hm_kernel_isa(void) {
    static const char *names[3] = {"portable", "avx2", "avx512"};
    return names[kernel_isa()];
}


// y = x A (see vec_mat_avx2); the portable version sums over i in order
// (its rounding differs from the AVX2 version's split sums).
static void vec_mat_portable(int k, int n, const double *x, const double *A, size_t lda, double *y) {
    for (int j = 0; j < n; j++) {
        y[j] = 0.0;
    }
    for (int i = 0; i < k; i++) {
        const double xi = x[i];
        const double *r = A + (size_t)i * lda;
        for (int j = 0; j < n; j++) {
            y[j] += xi * r[j];
        }
    }
}

void hm_k_vec_mat(int k, int n, const double *x, const double *A, int lda, double *y) {
    if (n <= 0) {
        return;
    }
#if HM_K_X86
    if (kernel_isa() >= ISA_AVX2) {
        vec_mat_avx2(k, n, x, A, (size_t)lda, y);
        return;
    }
#endif
    vec_mat_portable(k, n, x, A, (size_t)lda, y);
}

void hm_k_gemm_nn(int m,
                  int k,
                  int n,
                  const double *A,
                  int lda,
                  const double *B,
                  int ldb,
                  double *C,
                  int ldc) {
    if (m <= 0 || n <= 0) {
        return;
    }
    if (k <= 0) {
        // An empty sum: the chunk loops would never write C.
        for (int i = 0; i < m; i++) {
            memset(C + (size_t)i * (size_t)ldc, 0, (size_t)n * sizeof(double));
        }
        return;
    }
#if HM_K_X86
    if (kernel_isa() >= ISA_AVX2) {
        gemm_nn_avx2(m, k, n, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
        return;
    }
#endif
    gemm_nn_portable(m, k, n, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
}

void hm_k_gemm_tn_acc(int m,
                      int k,
                      int n,
                      const double *A,
                      int lda,
                      const double *B,
                      int ldb,
                      double *C,
                      int ldc) {
    if (m <= 0 || k <= 0 || n <= 0) {
        return;
    }
#if HM_K_X86
    if (kernel_isa() == ISA_AVX512) {
        gemm_tn_512(m, k, n, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
        return;
    }
    if (kernel_isa() >= ISA_AVX2) {
        gemm_tn_avx2(m, k, n, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
        return;
    }
#endif
    gemm_tn_portable(m, k, n, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
}

void hm_vexp(double *x, int n) {
    if (n <= 0) {
        return;
    }
#if HM_K_X86
    const int isa = kernel_isa();
    if (isa == ISA_AVX512) {
        vexp_512(x, n);
        return;
    }
    if (isa == ISA_AVX2) {
        vexp_avx2(x, n);
        return;
    }
#endif
    vexp_portable(x, n);
}

void hm_k_vmul(int n, const double *a, const double *b, double *out) {
#if HM_K_X86
    const int isa = kernel_isa();
    if (isa == ISA_AVX512) {
        vmul_512(n, a, b, out);
        return;
    }
    if (isa == ISA_AVX2) {
        vmul_avx2(n, a, b, out);
        return;
    }
#endif
    for (int i = 0; i < n; i++) {
        out[i] = a[i] * b[i];
    }
}

void hm_k_softmax_cols(int m,
                       int ni,
                       const double *t,
                       double floor,
                       double *Q,
                       int ldq,
                       double *R,
                       int ldr,
                       double *mx,
                       double *tot) {
    if (ni <= 0 || m < 0) {
        return;
    }
#if HM_K_X86
    const int isa = kernel_isa();
    if (isa == ISA_AVX512) {
        softmax_cols_512(m, ni, t, floor, Q, (size_t)ldq, R, (size_t)ldr, mx, tot);
        return;
    }
    if (isa == ISA_AVX2) {
        softmax_cols_generic(m, ni, t, floor, Q, (size_t)ldq, R, (size_t)ldr, mx, tot, vexp_avx2);
        return;
    }
#endif
    softmax_cols_generic(m, ni, t, floor, Q, (size_t)ldq, R, (size_t)ldr, mx, tot, vexp_portable);
}

void hm_k_gemm_tn_wide(int kk,
                       int nk,
                       int ni,
                       const double *A,
                       int lda,
                       const double *B,
                       int ldb,
                       double *C,
                       int ldc) {
    if (nk <= 0 || ni <= 0) {
        return;
    }
#if HM_K_X86
    const int isa = kernel_isa();
    if (isa == ISA_AVX512) {
        gemm_tn_wide_512(kk, nk, ni, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
        return;
    }
    if (isa == ISA_AVX2) {
        gemm_tn_wide_avx2(kk, nk, ni, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
        return;
    }
#endif
    gemm_tn_wide_portable(kk, nk, ni, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
}

void hm_k_gemm_nt(int mp,
                  int nk,
                  int ni,
                  const double *A,
                  int lda,
                  const double *B,
                  int ldb,
                  double *C,
                  int ldc) {
    if (mp <= 0 || nk <= 0) {
        return;
    }
#if HM_K_X86
    const int isa = kernel_isa();
    if (isa == ISA_AVX512) {
        gemm_nt_512(mp, nk, ni, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
        return;
    }
    if (isa == ISA_AVX2) {
        gemm_nt_avx2(mp, nk, ni, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
        return;
    }
#endif
    gemm_nt_portable(mp, nk, ni, A, (size_t)lda, B, (size_t)ldb, C, (size_t)ldc);
}

// --- self-test --------------------------------------------------------------------

/* One implementation of the kernels, with size_t leading dimensions. */
typedef void (*gemm_fn)(int, int, int, const double *, size_t, const double *, size_t, double *,
                        size_t);
typedef struct kernel_variant {
    const char *name;
    gemm_fn nn;
    gemm_fn tn;
    gemm_fn wide;
    gemm_fn nt;
    void (*vexp)(double *, int);
    void (*vmul)(int, const double *, const double *, double *);
    int softmax; /* ISA_* of the softmax path */
} kernel_variant;

static void vmul_portable(int n, const double *a, const double *b, double *out) {
    for (int i = 0; i < n; i++) {
        out[i] = a[i] * b[i];
    }
}

/* The variants this machine can run: portable always, AVX2 and AVX-512
 * when present (the AVX-512 variant has AVX-512 versions of the transposed
 * products, the exp and the product, and shares gemm_nn and gemm_tn_acc
 * with AVX2). */
static int kernel_variants(kernel_variant *v) {
    int nv = 0;
    v[nv].name = "portable";
    v[nv].nn = gemm_nn_portable;
    v[nv].tn = gemm_tn_portable;
    v[nv].wide = gemm_tn_wide_portable;
    v[nv].nt = gemm_nt_portable;
    v[nv].vexp = vexp_portable;
    v[nv].vmul = vmul_portable;
    v[nv].softmax = ISA_PORTABLE;
    nv++;
#if HM_K_X86
    if (have_avx2_fma()) {
        v[nv].name = "avx2";
        v[nv].nn = gemm_nn_avx2;
        v[nv].tn = gemm_tn_avx2;
        v[nv].wide = gemm_tn_wide_avx2;
        v[nv].nt = gemm_nt_avx2;
        v[nv].vexp = vexp_avx2;
        v[nv].vmul = vmul_avx2;
        v[nv].softmax = ISA_AVX2;
        nv++;
    }
    if (have_avx512()) {
        v[nv].name = "avx512";
        v[nv].nn = gemm_nn_avx2;
        v[nv].tn = gemm_tn_512;
        v[nv].wide = gemm_tn_wide_512;
        v[nv].nt = gemm_nt_512;
        v[nv].vexp = vexp_512;
        v[nv].vmul = vmul_512;
        v[nv].softmax = ISA_AVX512;
        nv++;
    }
#endif
    return nv;
}

/* A deterministic uniform draw on [-1.5, 2.385) (an LCG; no shared state). */
static double st_draw(uint64_t *s) {
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return -1.5 + 3.885 * ((double)(*s >> 11) / 9007199254740992.0);
}

/* A gemm test shape: sizes and the padding of each leading dimension. */
typedef struct gemm_shape {
    int m, k, n, pa, pb, pc;
} gemm_shape;

/*
 * Both gemm kernels of variant v on one shape, against a naive triple loop:
 * the error bound is 2 (k + 2) eps sum |a b| per entry (each side is within
 * k eps of it). Also checks that the padding of C is never written, that
 * results are bitwise the same for operands shifted by 1-3 doubles (no
 * dependence on alignment), and that gemm_tn_acc over two row ranges equals
 * one call bit for bit. Returns 0 or 1 with a message.
 */
static int st_gemm_shape(const kernel_variant *v, const gemm_shape *s, char *msg, size_t len) {
    const int m = s->m, k = s->k, n = s->n;
    const size_t lda = (size_t)(k + s->pa), ldb = (size_t)(n + s->pb), ldc = (size_t)(n + s->pc);
    // nn: A m x k, B k x n, C m x n. tn: A m x k, B m x n, C k x n.
    const size_t la = (size_t)m * lda + 4, lbn = (size_t)k * ldb + 4, lbt = (size_t)m * ldb + 4;
    const size_t rows_c = (size_t)(m > k ? m : k), lc = rows_c * ldc + 4;
    const size_t total = 2 * la + 2 * lbn + lbt + 4 * lc;
    const double sentinel = 12345.678;
    int fail = 0;
    double *mem = malloc(total * sizeof(double));
    if (mem == NULL) {
        snprintf(msg, len, "kernel self-test: out of memory");
        return 1;
    }
    // Operands, shifted copies of the nn operands, and four C-sized arrays.
    double *A = mem, *A2 = A + la, *Bn = A2 + la, *Bn2 = Bn + lbn, *Bt = Bn2 + lbn;
    double *C = Bt + lbt, *ref = C + lc, *bnd = ref + lc, *C2 = bnd + lc;
    uint64_t seed = 20240611u + (uint64_t)(m * 131 + k * 17 + n);
    for (size_t i = 0; i < total; i++) {
        mem[i] = st_draw(&seed);
    }
    // --- C = A B
    for (size_t i = 0; i < lc; i++) {
        C[i] = sentinel;
    }
    v->nn(m, k, n, A, lda, Bn, ldb, C, ldc);
    for (int i = 0; i < m && !fail; i++) {
        for (int j = 0; j < n && !fail; j++) {
            double r = 0.0, b = 0.0;
            for (int p = 0; p < k; p++) {
                double t = A[(size_t)i * lda + (size_t)p] * Bn[(size_t)p * ldb + (size_t)j];
                r += t;
                b += fabs(t);
            }
            double got = C[(size_t)i * ldc + (size_t)j];
            if (!(fabs(got - r) <= 2.0 * (k + 2) * 2.220446049250313e-16 * b)) {
                snprintf(msg, len, "gemm_nn (%s) m=%d k=%d n=%d: C[%d][%d] = %.17g, expected %.17g",
                         v->name, m, k, n, i, j, got, r);
                fail = 1;
            }
        }
    }
    for (size_t i = 0; i < lc && !fail; i++) {
        if ((i % ldc >= (size_t)n || i >= (size_t)m * ldc) && C[i] != sentinel) {
            snprintf(msg, len, "gemm_nn (%s) m=%d k=%d n=%d wrote outside C", v->name, m, k, n);
            fail = 1;
        }
    }
    // Shifted copies of the operands must give the same bits.
    for (size_t off = 1; off < 4 && !fail; off++) {
        memcpy(A2 + off, A, (size_t)m * lda * sizeof(double));
        memcpy(Bn2 + off, Bn, (size_t)k * ldb * sizeof(double));
        v->nn(m, k, n, A2 + off, lda, Bn2 + off, ldb, C2 + off, ldc);
        for (int i = 0; i < m && !fail; i++) {
            const size_t o = (size_t)i * ldc;
            if (n > 0 && memcmp(C + o, C2 + off + o, (size_t)n * sizeof(double)) != 0) {
                snprintf(msg, len, "gemm_nn (%s) m=%d k=%d n=%d depends on alignment", v->name,
                         m, k, n);
                fail = 1;
            }
        }
    }
    // --- C += A' B
    for (size_t i = 0; i < lc; i++) {
        C[i] = (i % ldc < (size_t)n && i < (size_t)k * ldc) ? st_draw(&seed) : sentinel;
        C2[i] = C[i];
    }
    for (int p = 0; p < k; p++) {
        for (int j = 0; j < n; j++) {
            double r = C[(size_t)p * ldc + (size_t)j], b = fabs(r);
            for (int i = 0; i < m; i++) {
                double t = A[(size_t)i * lda + (size_t)p] * Bt[(size_t)i * ldb + (size_t)j];
                r += t;
                b += fabs(t);
            }
            ref[(size_t)p * ldc + (size_t)j] = r;
            bnd[(size_t)p * ldc + (size_t)j] = b;
        }
    }
    v->tn(m, k, n, A, lda, Bt, ldb, C, ldc);
    for (int p = 0; p < k && !fail; p++) {
        for (int j = 0; j < n && !fail; j++) {
            const size_t o = (size_t)p * ldc + (size_t)j;
            if (!(fabs(C[o] - ref[o]) <= 2.0 * (m + 2) * 2.220446049250313e-16 * bnd[o])) {
                snprintf(msg, len,
                         "gemm_tn_acc (%s) m=%d k=%d n=%d: C[%d][%d] = %.17g, expected %.17g",
                         v->name, m, k, n, p, j, C[o], ref[o]);
                fail = 1;
            }
        }
    }
    for (size_t i = 0; i < lc && !fail; i++) {
        if ((i % ldc >= (size_t)n || i >= (size_t)k * ldc) && C[i] != sentinel) {
            snprintf(msg, len, "gemm_tn_acc (%s) m=%d k=%d n=%d wrote outside C", v->name, m, k,
                     n);
            fail = 1;
        }
    }
    // Two calls over rows [0, m1) and [m1, m) give the bits of one call.
    if (!fail && m > 1) {
        const int m1 = m / 3 + 1;
        v->tn(m1, k, n, A, lda, Bt, ldb, C2, ldc);
        v->tn(m - m1, k, n, A + (size_t)m1 * lda, lda, Bt + (size_t)m1 * ldb, ldb, C2, ldc);
        if (memcmp(C, C2, lc * sizeof(double)) != 0) {
            snprintf(msg, len, "gemm_tn_acc (%s) m=%d k=%d n=%d: split rows change the result",
                     v->name, m, k, n);
            fail = 1;
        }
    }
    free(mem);
    return fail;
}

/*
 * Awkward shapes: not multiples of the vector width or a tile, padded
 * leading dimensions, n = 1, k = 1, m = 0, several k-chunks (k = 601),
 * two column panels (n = 129), several row blocks of gemm_tn_acc
 * (m = 300, 1030), and the E-step's typical shapes. hm_kernel_selftest()
 * adds every n up to 40 and a few up to 140, which reaches every tile
 * shape the dispatchers have.
 */
static const gemm_shape st_shapes[] = {
    {0, 5, 3, 0, 1, 0},    {1, 1, 1, 0, 0, 0},     {7, 1, 5, 2, 0, 1},    {5, 3, 1, 1, 3, 2},
    {3, 2, 2, 0, 0, 0},    {4, 4, 4, 0, 0, 0},     {13, 37, 17, 3, 5, 1}, {64, 44, 5, 0, 0, 0},
    {9, 7, 3, 1, 1, 1},    {11, 9, 2, 5, 0, 3},    {6, 5, 65, 0, 2, 0},   {5, 130, 129, 1, 1, 1},
    {3, 601, 6, 0, 0, 2},  {33, 560, 17, 0, 0, 0}, {2, 25, 128, 0, 0, 0}, {300, 9, 5, 1, 0, 0},
    {259, 45, 7, 0, 3, 1}, {10, 3, 13, 0, 0, 0},   {1030, 6, 2, 0, 1, 0}, {17, 13, 1, 2, 0, 0},
};

/*
 * hm_vexp's algorithm in variant v against libm's exp: relative error below
 * 4e-16 wherever exp(x) is normal, absolute error below 2^-1072 in the
 * subnormal range, the edge cases, the same bits in any position of a
 * vector or tail, and nothing written past x[n - 1].
 */
static int st_vexp(const kernel_variant *v, char *msg, size_t len) {
    enum { N = 60000 };
    double *x = malloc(2 * N * sizeof(double));
    if (x == NULL) {
        snprintf(msg, len, "kernel self-test: out of memory");
        return 1;
    }
    double *y = x + N;
    uint64_t seed = 987654321u;
    for (int i = 0; i < N; i++) {
        // A sweep of the whole range, dense points in [-2.5, 2.5] and
        // scattered ones around the under- and overflow thresholds.
        if (i < N / 2) {
            x[i] = -745.6 + 1455.3 * (double)i / (double)(N / 2);
        } else if (i < 5 * N / 6) {
            x[i] = 1.3 * st_draw(&seed);
        } else {
            x[i] = (i % 2 ? 709.0 : -746.0) + 0.5 * (st_draw(&seed) + 1.5);
        }
        y[i] = x[i];
    }
    v->vexp(y, N);
    int fail = 0;
    for (int i = 0; i < N && !fail; i++) {
        double e = exp(x[i]);
        if (e >= 2.2250738585072014e-308 && isfinite(e)) {
            double rel = fabs(y[i] - e) / e;
            if (!(rel < 4e-16)) {
                snprintf(msg, len, "vexp (%s): exp(%.17g) = %.17g, libm %.17g", v->name, x[i], y[i],
                         e);
                fail = 1;
            }
        } else if (isfinite(e) ? !(fabs(y[i] - e) <= ldexp(1.0, -1072)) : y[i] != e) {
            snprintf(msg, len, "vexp (%s): exp(%.17g) = %.17g, libm %.17g", v->name, x[i], y[i], e);
            fail = 1;
        }
    }
    // Edge cases: exact values where the result is exact or saturated.
    const double inf = HUGE_VAL;
    const double ex[] = {0.0, -0.0, 1e-300, -inf, inf, 710.0, 709.79, -746.0, -1e300, 1e300};
    const double ey[] = {1.0, 1.0, 1.0, 0.0, inf, inf, inf, 0.0, 0.0, inf};
    const int ne = (int)(sizeof ex / sizeof ex[0]);
    double z[16];
    for (int i = 0; i < ne; i++) {
        z[i] = ex[i];
    }
    z[ne] = nan("");
    z[ne + 1] = 709.78;
    v->vexp(z, ne + 2);
    for (int i = 0; i < ne && !fail; i++) {
        if (z[i] != ey[i]) {
            snprintf(msg, len, "vexp (%s): exp(%g) = %g, expected %g", v->name, ex[i], z[i], ey[i]);
            fail = 1;
        }
    }
    if (!fail && (!isnan(z[ne]) || !isfinite(z[ne + 1]) || z[ne + 1] < 1.7e308)) {
        snprintf(msg, len, "vexp (%s): NaN or 709.78 mishandled (%g, %g)", v->name, z[ne],
                 z[ne + 1]);
        fail = 1;
    }
    // Every position of a vector and of the tail gives the same bits, and
    // nothing past the end is written.
    for (int nn = 1; nn <= 13 && !fail; nn++) {
        for (int i = 0; i < 16; i++) {
            z[i] = i < nn ? -3.0970390857 : 1.25;
        }
        v->vexp(z, nn);
        for (int i = 0; i < 16 && !fail; i++) {
            if (i < nn ? dbl_bits(z[i]) != dbl_bits(z[0]) : z[i] != 1.25) {
                snprintf(msg, len, "vexp (%s): n=%d, element %d differs", v->name, nn, i);
                fail = 1;
            }
        }
    }
    free(x);
    return fail;
}

/*
 * The AVX2 code sums in the order of the portable code (the top of the
 * file). With products that are exact in double precision (20-bit by
 * 10-bit integers times powers of two) a fused multiply-add rounds like a
 * multiply and an add, so the two must agree bit for bit; the magnitudes
 * span 2^60, so any other order of the additions would round differently.
 */
static int st_order(const kernel_variant *port, const kernel_variant *simd, char *msg, size_t len) {
    static const gemm_shape shapes[] = {
        {13, 37, 17, 1, 0, 2}, {64, 44, 5, 0, 0, 0}, {11, 601, 3, 0, 1, 0}, {5, 130, 129, 0, 0, 0}};
    int fail = 0;
    for (int s = 0; s < 4 && !fail; s++) {
        const int m = shapes[s].m, k = shapes[s].k, n = shapes[s].n;
        const size_t lda = (size_t)(k + shapes[s].pa), ldb = (size_t)(n + shapes[s].pb);
        const size_t ldc = (size_t)(n + shapes[s].pc), rows = (size_t)(m > k ? m : k);
        const size_t la = (size_t)m * lda, lb = rows * ldb, lc = rows * ldc;
        double *mem = malloc((la + lb + 2 * lc) * sizeof(double));
        if (mem == NULL) {
            snprintf(msg, len, "kernel self-test: out of memory");
            return 1;
        }
        double *A = mem, *B = A + la, *C1 = B + lb, *C2 = C1 + lc;
        uint64_t seed = 4242u + (uint64_t)s;
        for (size_t i = 0; i < la + lb; i++) {
            double u = st_draw(&seed), w = st_draw(&seed);
            double mant = floor((i < la ? 1048576.0 : 1024.0) * u);
            mem[i] = ldexp(mant, (int)floor(i < la ? 20.0 * w : 5.0 * w));
        }
        port->nn(m, k, n, A, lda, B, ldb, C1, ldc);
        simd->nn(m, k, n, A, lda, B, ldb, C2, ldc);
        for (int i = 0; i < m && !fail; i++) {
            if (memcmp(C1 + (size_t)i * ldc, C2 + (size_t)i * ldc, (size_t)n * sizeof(double))) {
                snprintf(msg, len, "gemm_nn m=%d k=%d n=%d: %s and %s sum in different orders", m,
                         k, n, port->name, simd->name);
                fail = 1;
            }
        }
        for (size_t i = 0; i < lc; i++) {
            C1[i] = C2[i] = ldexp(floor(1024.0 * st_draw(&seed)), 30);
        }
        port->tn(m, k, n, A, lda, B, ldb, C1, ldc);
        simd->tn(m, k, n, A, lda, B, ldb, C2, ldc);
        if (!fail && memcmp(C1, C2, lc * sizeof(double)) != 0) {
            snprintf(msg, len, "gemm_tn_acc m=%d k=%d n=%d: %s and %s sum in different orders", m,
                     k, n, port->name, simd->name);
            fail = 1;
        }
        free(mem);
    }
    return fail;
}

/*
 * The transposed-layout products (gemm_tn_wide, gemm_nt) and vmul of every
 * variant on one shape: kk (the rows of A and B for wide, of A and C for
 * nt), nk, ni, with leading dimensions padded by `pad`. Operands are exact
 * products (20-bit by 10-bit integers times powers of two spanning 2^60):
 * every variant must give the portable code's bits (any other summation
 * order rounds differently), and those must be within 2 (n + 2) eps
 * sum |a b| of a long double reference. The padding of C must keep its
 * sentinel, and every operand ends at the end of its allocation, so a read
 * past a row end shows under AddressSanitizer.
 */
static int st_trans_shape(const kernel_variant *v, int nv, int kk, int nk, int ni, int pad, char *msg,
                          size_t len) {
    const size_t lda_w = (size_t)(nk + pad), ldb = (size_t)(ni + pad), ldc_w = ldb;
    const size_t ldc_t = (size_t)(nk + pad);
    // wide: A kk x nk, B kk x ni, C nk x ni. nt: A kk x ni, B nk x ni, C kk x nk.
    const size_t la = (size_t)kk * lda_w, lb = (size_t)kk * ldb, lbt = (size_t)nk * ldb;
    const size_t lcw = (size_t)nk * ldc_w, lct = (size_t)kk * ldc_t;
    const double sentinel = -777.25;
    double *Aw = malloc((la ? la : 1) * sizeof(double)), *Bw = malloc((lb ? lb : 1) * sizeof(double));
    double *Bt = malloc((lbt ? lbt : 1) * sizeof(double));
    double *Cr = malloc(((lcw > lct ? lcw : lct) + 1) * sizeof(double));
    double *C = malloc(((lcw > lct ? lcw : lct) + 1) * sizeof(double));
    int fail = 0;
    if (!Aw || !Bw || !Bt || !Cr || !C) {
        snprintf(msg, len, "kernel self-test: out of memory");
        fail = 1;
    }
    uint64_t seed = 777u + (uint64_t)(kk * 1000 + nk * 31 + ni);
    for (size_t i = 0; !fail && i < la + lb + lbt; i++) {
        double u = st_draw(&seed), w = st_draw(&seed);
        int big = i < la + lb && i >= la; /* B of wide, A of nt: 20-bit */
        double mant = floor((big ? 1048576.0 : 1024.0) * u);
        double x = ldexp(mant, (int)floor(big ? 20.0 * w : 5.0 * w));
        if (i < la) {
            Aw[i] = x;
        } else if (i < la + lb) {
            Bw[i - la] = x;
        } else {
            Bt[i - la - lb] = x;
        }
    }
    for (int pass = 0; pass < 2 && !fail; pass++) {
        // pass 0: C = A' B (wide); pass 1: C = A B' (nt) with A = Bw.
        const size_t lc = pass == 0 ? lcw : lct, ldc = pass == 0 ? ldc_w : ldc_t;
        const int rows = pass == 0 ? nk : kk, cols = pass == 0 ? ni : nk;
        for (int a = 0; a < nv && !fail; a++) {
            double *out = a == 0 ? Cr : C;
            for (size_t i = 0; i < lc; i++) {
                out[i] = sentinel;
            }
            if (pass == 0) {
                v[a].wide(kk, nk, ni, Aw, lda_w, Bw, ldb, out, ldc);
            } else {
                v[a].nt(kk, nk, ni, Bw, ldb, Bt, ldb, out, ldc);
            }
            for (size_t i = 0; i < lc && !fail; i++) {
                const int inside = (int)(i / ldc) < rows && (int)(i % ldc) < cols;
                if (!inside && out[i] != sentinel) {
                    snprintf(msg, len, "%s (%s) %d x %d x %d wrote outside C", pass ? "gemm_nt" : "gemm_tn_wide",
                             v[a].name, kk, nk, ni);
                    fail = 1;
                } else if (inside && a > 0 && dbl_bits(out[i]) != dbl_bits(Cr[i])) {
                    snprintf(msg, len, "%s %d x %d x %d: %s and portable sum in different orders",
                             pass ? "gemm_nt" : "gemm_tn_wide", kk, nk, ni, v[a].name);
                    fail = 1;
                }
            }
        }
        // The portable result against a long double reference.
        for (int r = 0; r < rows && !fail; r++) {
            for (int c2 = 0; c2 < cols && !fail; c2++) {
                long double ref = 0.0L, mag = 0.0L;
                const int n = pass == 0 ? kk : ni;
                for (int t = 0; t < n; t++) {
                    long double x = pass == 0 ? (long double)Aw[(size_t)t * lda_w + (size_t)r] * Bw[(size_t)t * ldb + (size_t)c2]
                                              : (long double)Bw[(size_t)r * ldb + (size_t)t] * Bt[(size_t)c2 * ldb + (size_t)t];
                    ref += x;
                    mag += fabsl(x);
                }
                const double got = Cr[(size_t)r * ldc + (size_t)c2];
                if (!(fabsl((long double)got - ref) <= 2.0L * (n + 2) * 2.220446049250313e-16L * mag)) {
                    snprintf(msg, len, "%s %d x %d x %d: C[%d][%d] = %.17g, expected %.17Lg",
                             pass ? "gemm_nt" : "gemm_tn_wide", kk, nk, ni, r, c2, got, ref);
                    fail = 1;
                }
            }
        }
    }
    // vmul of the first two rows of wide's B (length ni), and nothing past.
    const double *b0 = Bw, *b1 = Bw + (kk > 1 ? ldb : 0);
    for (int a = 0; a < nv && !fail && kk > 0; a++) {
        for (int i = 0; i <= ni; i++) {
            C[i] = sentinel;
        }
        v[a].vmul(ni, b0, b1, C);
        for (int i = 0; i < ni && !fail; i++) {
            if (dbl_bits(C[i]) != dbl_bits(b0[i] * b1[i])) {
                snprintf(msg, len, "vmul (%s) n = %d wrong at %d", v[a].name, ni, i);
                fail = 1;
            }
        }
        if (!fail && C[ni] != sentinel) {
            snprintf(msg, len, "vmul (%s) n = %d wrote past the end", v[a].name, ni);
            fail = 1;
        }
    }
    free(Aw);
    free(Bw);
    free(Bt);
    free(Cr);
    free(C);
    return fail;
}

/* Every group width and row remainder of the transposed products' tiles
 * (nk to 13 with kk to 17), columns that leave every lane remainder, and
 * the E-step's shapes. */
static int st_transposed(const kernel_variant *v, int nv, char *msg, size_t len) {
    static const int nis[] = {1, 5, 8, 19, 33};
    for (int nk = 1; nk <= 13; nk++) {
        for (int kk = 0; kk <= 17; kk++) {
            for (int t = 0; t < 5; t++) {
                if ((kk + t + nk) % 2 == 0 && t != 3) {
                    continue; /* half the small shapes suffice for the remainders */
                }
                if (st_trans_shape(v, nv, kk, nk, nis[t], (kk + nk) % 3, msg, len)) {
                    return 1;
                }
            }
        }
    }
    static const int big[][3] = {{560, 17, 256}, {44, 5, 1000}, {16, 9, 1023}, {9, 19, 70}, {61, 4, 129}};
    for (int s = 0; s < 5; s++) {
        if (st_trans_shape(v, nv, big[s][0], big[s][1], big[s][2], s % 2, msg, len)) {
            return 1;
        }
    }
    // nk = 0 and ni = 0 are no-ops for wide; nt with ni = 0 gives zeros.
    double z[4] = {5.0, 5.0, 5.0, 5.0}, a1[2] = {1.0, 2.0};
    hm_k_gemm_nt(2, 2, 0, a1, 1, a1, 1, z, 2);
    hm_k_gemm_tn_wide(2, 0, 3, a1, 1, a1, 1, z + 3, 1);
    if (z[0] != 0.0 || z[1] != 0.0 || z[2] != 0.0 || z[3] != 0.0 || z[3] != 0.0) {
        snprintf(msg, len, "gemm_nt with ni = 0 did not zero C");
        return 1;
    }
    return 0;
}

/* vexp gives the same bits in every SIMD variant (the same operations lane
 * by lane) across the whole range, including the tails of 1..15. */
static int st_vexp_bits(const kernel_variant *v, int nv, char *msg, size_t len) {
    enum { N = 4099 };
    double *x = malloc(2 * N * sizeof(double));
    if (x == NULL) {
        snprintf(msg, len, "kernel self-test: out of memory");
        return 1;
    }
    int fail = 0;
    for (int a = 2; a < nv && !fail; a++) {
        for (int i = 0; i < N; i++) {
            x[i] = x[N + i] = -750.0 + 1462.0 * (double)i / (double)N;
        }
        v[1].vexp(x, N);
        v[a].vexp(x + N, N);
        for (int i = 0; i < N && !fail; i++) {
            if (dbl_bits(x[i]) != dbl_bits(x[N + i])) {
                snprintf(msg, len, "vexp: %s and %s differ at %.17g", v[1].name, v[a].name,
                         -750.0 + 1462.0 * (double)i / (double)N);
                fail = 1;
            }
        }
    }
    free(x);
    return fail;
}

/* The softmax of variant v (its ISA). */
static void st_softmax_run(const kernel_variant *v, int m, int ni, const double *t, double *Q, size_t ldq,
                           double *R, size_t ldr, double *mx, double *tot) {
#if HM_K_X86
    if (v->softmax == ISA_AVX512) {
        softmax_cols_512(m, ni, t, -700.0, Q, ldq, R, ldr, mx, tot);
        return;
    }
    if (v->softmax == ISA_AVX2) {
        softmax_cols_generic(m, ni, t, -700.0, Q, ldq, R, ldr, mx, tot, vexp_avx2);
        return;
    }
#endif
    softmax_cols_generic(m, ni, t, -700.0, Q, ldq, R, ldr, mx, tot, vexp_portable);
}

/*
 * hm_k_softmax_cols in every variant: against a direct column-by-column
 * computation with libm's exp (relative 1e-15), the SIMD variants with the
 * same bits as each other, logits far below the floor giving exactly 0, a
 * NaN logit skipped by the maximum, and nothing written past ni or into
 * Q's last row.
 */
static int st_softmax(const kernel_variant *v, int nv, char *msg, size_t len) {
    enum { M = 6, NI = 37, LD = 41 };
    double Q0[(M + 1) * LD], Q[(M + 1) * LD], R[(M + 1) * LD], R1[(M + 1) * LD], mx[LD], tot[LD], tot1[LD];
    double t[M];
    uint64_t seed = 31337u;
    for (int k = 0; k < M; k++) {
        t[k] = 0.5 * st_draw(&seed);
    }
    for (int i = 0; i < (M + 1) * LD; i++) {
        Q0[i] = 40.0 * st_draw(&seed);
    }
    Q0[2 * LD + 3] = -5000.0; /* exactly 0 after the floor */
    Q0[1 * LD + 4] = 800.0;   /* the others underflow against it */
    Q0[3 * LD + 5] = nan(""); /* skipped by the maximum */
    for (int m = 0; m <= M; m += 3) {
        for (int ni = 1; ni <= NI; ni += (ni < 17 ? 1 : 10)) {
            for (int a = 0; a < nv; a++) {
                memcpy(Q, Q0, sizeof Q);
                for (int i = 0; i < (M + 1) * LD; i++) {
                    R[i] = 99.0;
                }
                mx[ni] = tot[ni] = 99.0;
                st_softmax_run(&v[a], m, ni, t, Q, LD, R, LD, mx, tot);
                if (mx[ni] != 99.0 || tot[ni] != 99.0 || R[(size_t)m * LD + (size_t)ni] != 99.0 ||
                    memcmp(Q + (size_t)m * LD, Q0 + (size_t)m * LD, LD * sizeof(double)) != 0) {
                    snprintf(msg, len, "softmax (%s) m = %d ni = %d wrote out of bounds", v[a].name, m, ni);
                    return 1;
                }
                for (int i = 0; i < ni; i++) {
                    double mref = 0.0, sref = 0.0;
                    for (int k = 0; k < m; k++) {
                        double q = Q0[(size_t)k * LD + (size_t)i] + t[k];
                        mref = q > mref ? q : mref;
                    }
                    for (int k = 0; k <= m; k++) {
                        double sh = k < m ? Q0[(size_t)k * LD + (size_t)i] + t[k] - mref : -mref;
                        double e = sh < -700.0 ? 0.0 : exp(sh);
                        double got = R[(size_t)k * LD + (size_t)i];
                        sref += e;
                        if (isnan(sh) ? !isnan(got) : !(fabs(got - e) <= 1e-15 * e + 1e-300)) {
                            snprintf(msg, len, "softmax (%s) m = %d ni = %d: R[%d][%d] = %.17g, expected %.17g",
                                     v[a].name, m, ni, k, i, got, e);
                            return 1;
                        }
                    }
                    if (mx[i] != mref || (!isnan(sref) && !(fabs(tot[i] - sref) <= 1e-14 * sref))) {
                        snprintf(msg, len, "softmax (%s) m = %d: max or total of column %d wrong", v[a].name, m, i);
                        return 1;
                    }
                }
                if (a == 1) {
                    memcpy(R1, R, sizeof R);
                    memcpy(tot1, tot, sizeof tot);
                } else if (a > 1) {
                    for (int k = 0; k <= m; k++) {
                        for (int i = 0; i < ni; i++) {
                            if (dbl_bits(R[(size_t)k * LD + (size_t)i]) != dbl_bits(R1[(size_t)k * LD + (size_t)i]) ||
                                dbl_bits(tot[i]) != dbl_bits(tot1[i])) {
                                snprintf(msg, len, "softmax: %s and %s differ (m = %d, ni = %d)", v[1].name,
                                         v[a].name, m, ni);
                                return 1;
                            }
                        }
                    }
                }
            }
        }
    }
    return 0;
}

int hm_kernel_selftest(char *msg, size_t len) {
    static const int wide[] = {63, 64, 65, 127, 128, 129, 140};
    kernel_variant v[3];
    const int nv = kernel_variants(v);
    const int ns = (int)(sizeof st_shapes / sizeof st_shapes[0]);
    for (int a = 0; a < nv; a++) {
        for (int s = 0; s < ns; s++) {
            if (st_gemm_shape(&v[a], &st_shapes[s], msg, len)) {
                return 1;
            }
        }
        // 11 rows leave remainders 1, 2, 3, 1 for tile heights 2, 3, 4, 5;
        // k = 9 and 10 leave partial vectors in both kernels.
        for (int n = 1; n <= 40 + 7; n++) {
            gemm_shape sh = {11, 9 + n % 2, n <= 40 ? n : wide[n - 41], 1, 2, 1};
            if (st_gemm_shape(&v[a], &sh, msg, len)) {
                return 1;
            }
        }
        if (st_vexp(&v[a], msg, len)) {
            return 1;
        }
    }
    if (st_transposed(v, nv, msg, len) || st_vexp_bits(v, nv, msg, len) || st_softmax(v, nv, msg, len)) {
        return 1;
    }
    if (nv > 2 && st_order(&v[0], &v[2], msg, len)) {
        return 1;
    }
    if (nv > 1 && st_order(&v[0], &v[1], msg, len)) {
        return 1;
    }
    // y = x A: the dispatched and the portable version against a naive sum,
    // over widths that leave every remainder of the 16- and 4-column blocks.
    {
        double x[50], M[50 * 43], y1[43], y2[43];
        for (int i = 0; i < 50; i++) {
            x[i] = 0.3 + 0.01 * i - (i % 3 == 0 ? 0.5 : 0.0);
        }
        for (int i = 0; i < 50 * 43; i++) {
            M[i] = ((i * 37) % 101) / 50.0 - 1.0;
        }
        static const int ks[] = {1, 7, 50};
        for (int q = 0; q < 3; q++) {
            for (int n = 1; n <= 40; n++) {
                const int k = ks[q];
                hm_k_vec_mat(k, n, x, M, 43, y1);
                vec_mat_portable(k, n, x, M, 43, y2);
                for (int j = 0; j < n; j++) {
                    long double ref = 0.0L, mag = 0.0L;
                    for (int i = 0; i < k; i++) {
                        ref += (long double)x[i] * M[i * 43 + j];
                        mag += fabsl((long double)x[i] * M[i * 43 + j]);
                    }
                    const double tol = 1e-14 * (double)(mag + 1.0L);
                    if (fabs(y1[j] - (double)ref) > tol || fabs(y2[j] - (double)ref) > tol) {
                        snprintf(msg, len, "hm_k_vec_mat k = %d n = %d column %d: %g / %g, expected %g", k, n, j,
                                 y1[j], y2[j], (double)ref);
                        return 1;
                    }
                }
            }
        }
    }
    // The public entry points: k = 0 gives C = 0, and the dispatch works.
    double A[6] = {0.5, -1.25, 2.0, 0.75, -0.3, 1.1}, B[6] = {1.5, 0.2, -0.7, 2.385, 0.9, -1.0};
    double C[4] = {9.0, 9.0, 9.0, 9.0};
    hm_k_gemm_nn(2, 0, 2, A, 3, B, 2, C, 2);
    if (C[0] != 0.0 || C[1] != 0.0 || C[2] != 0.0 || C[3] != 0.0) {
        snprintf(msg, len, "gemm_nn with k = 0 did not zero C");
        return 1;
    }
    // C = A B and then C3 += A' B through the dispatch, against sums by hand.
    hm_k_gemm_nn(2, 3, 2, A, 3, B, 2, C, 2);
    double C3[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    hm_k_gemm_tn_acc(2, 3, 2, A, 3, B, 2, C3, 2);
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            double r = A[3 * i] * B[j] + A[3 * i + 1] * B[2 + j] + A[3 * i + 2] * B[4 + j];
            if (fabs(C[2 * i + j] - r) > 1e-14) {
                snprintf(msg, len, "hm_k_gemm_nn: C[%d][%d] = %g, expected %g", i, j,
                         C[2 * i + j], r);
                return 1;
            }
        }
    }
    for (int p = 0; p < 3; p++) {
        for (int j = 0; j < 2; j++) {
            double r = (double)(2 * p + j + 1) + A[p] * B[j] + A[3 + p] * B[2 + j];
            if (fabs(C3[2 * p + j] - r) > 1e-14) {
                snprintf(msg, len, "hm_k_gemm_tn_acc: C[%d][%d] = %g, expected %g", p, j,
                         C3[2 * p + j], r);
                return 1;
            }
        }
    }
    double x[3] = {0.0, 1.0, -1.0};
    hm_vexp(x, 3);
    if (x[0] != 1.0 || fabs(x[1] - 2.718281828459045) > 1e-15 ||
        fabs(x[2] - 0.36787944117144233) > 1e-16) {
        snprintf(msg, len, "hm_vexp gives %g, %g, %g for 0, 1, -1", x[0], x[1], x[2]);
        return 1;
    }
    return 0;
}
