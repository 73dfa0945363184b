/*
 * init.c: registration only. Exact arities, no dynamic lookup, symbols
 * forced (R calls them as C_<module>_<verb>).
 */
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

#include "glue/glue.h"

#define CALLDEF(name, n) {#name, (DL_FUNC)&ffi_##name, n}

static const R_CallMethodDef call_entries[] = {
    CALLDEF(init, 1),
    CALLDEF(threads_max, 0),
    CALLDEF(data_scan, 5),
    CALLDEF(data_scale, 4),
    CALLDEF(data_scan_part, 5),
    CALLDEF(data_scan_finish, 4),
    CALLDEF(col_block_rows, 2),
    CALLDEF(model_estep_part, 8),
    CALLDEF(lgm_moments_part, 7),
    CALLDEF(lgm_moments_unpack, 4),
    CALLDEF(tree_fold, 4),
    CALLDEF(em_mstep, 5),
    CALLDEF(model_block_rows, 3),
    CALLDEF(hmm_infer, 3),
    CALLDEF(lds_estep, 6),
    CALLDEF(hmm_em_run, 12),
    CALLDEF(hmm_seq_infer, 10),
    CALLDEF(hmm_stationary, 1),
    CALLDEF(hmm_em_stats, 10),
    CALLDEF(hmm_em_update, 8),
    CALLDEF(family_info, 1),
    CALLDEF(family_stat, 2),
    CALLDEF(family_log_base, 2),
    CALLDEF(family_log_density, 3),
    CALLDEF(family_log_partition, 2),
    CALLDEF(family_to_mean, 2),
    CALLDEF(family_to_natural, 3),
    CALLDEF(family_neg_entropy, 3),
    CALLDEF(family_sample, 3),
    CALLDEF(family_check, 2),
    CALLDEF(family_check_data, 2),
    CALLDEF(model_info, 3),
    CALLDEF(model_log_partition, 4),
    CALLDEF(model_rho_chi, 4),
    CALLDEF(model_to_mean, 4),
    CALLDEF(model_to_natural, 5),
    CALLDEF(model_whiten, 4),
    CALLDEF(mixture_split, 4),
    CALLDEF(mixture_join, 5),
    CALLDEF(model_estep, 9),
    CALLDEF(model_sample, 5),
    CALLDEF(model_posterior_fold, 5),
    CALLDEF(model_gradient, 7),
    CALLDEF(model_cd_gradient, 6),
    CALLDEF(em_run, 9),
    CALLDEF(kmeans_run, 4),
    CALLDEF(ward_labels, 3),
    CALLDEF(mixture_labels_theta, 9),
    CALLDEF(lgm_moments, 6),
    CALLDEF(lgm_em_moments, 7),
    CALLDEF(lgm_moments_gradient, 5),
    CALLDEF(selftest_list, 0),
    CALLDEF(parallel_min_work, 1),
    CALLDEF(selftest_run, 1),
    CALLDEF(bench_gemm_rate, 3),
    {NULL, NULL, 0}};

void attribute_visible R_init_harmonium(DllInfo *dll) {
    R_registerRoutines(dll, NULL, call_entries, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
