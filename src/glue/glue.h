/*
 * glue.h: prototypes of every .Call entry point (registered in init.c).
 */
#ifndef HM_GLUE_H
#define HM_GLUE_H

#include "convert.h"

SEXP ffi_init(SEXP ns);
SEXP ffi_threads_max(void);

SEXP ffi_data_scan(SEXP x, SEXP spec, SEXP sup, SEXP want_raw, SEXP threads);
SEXP ffi_data_scale(SEXP x, SEXP center, SEXP scale, SEXP threads);
SEXP ffi_data_scan_part(SEXP x, SEXP spec, SEXP sup, SEXP threads, SEXP part);
SEXP ffi_data_scan_finish(SEXP sums, SEXP shift, SEXP moments, SEXP n);
SEXP ffi_col_block_rows(SEXP n, SEXP d);

SEXP glue_tree_nodes(const hm_tree *t, int slen);
SEXP ffi_model_estep_part(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP b0, SEXP threads);
SEXP ffi_lgm_moments_part(SEXP kind, SEXP obs, SEXP lat, SEXP x, SEXP w, SEXP b0, SEXP threads);
SEXP ffi_lgm_moments_unpack(SEXP kind, SEXP obs, SEXP lat, SEXP tot);
SEXP ffi_tree_fold(SEXP lo, SEXP size, SEXP val, SEXP nb);
SEXP ffi_em_mstep(SEXP kind, SEXP obs, SEXP lat, SEXP stats, SEXP ctrl);
SEXP ffi_model_block_rows(SEXP kind, SEXP obs, SEXP lat);
SEXP ffi_lds_estep(SEXP y, SEXP len, SEXP w, SEXP par, SEXP threads, SEXP want);

SEXP ffi_hmm_infer(SEXP logp, SEXP init, SEXP trans);
SEXP ffi_hmm_em_run(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP chain, SEXP x, SEXP starts, SEXP lengths,
                    SEXP w, SEXP ctrl, SEXP em, SEXP threads);
SEXP ffi_hmm_seq_infer(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP chain, SEXP x, SEXP starts,
                       SEXP lengths, SEXP want, SEXP threads);
SEXP ffi_hmm_stationary(SEXP trans);
SEXP ffi_hmm_em_stats(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP chain, SEXP x, SEXP starts, SEXP lengths,
                      SEXP w, SEXP threads);
SEXP ffi_hmm_em_update(SEXP kind, SEXP obs, SEXP lat, SEXP hst, SEXP mst, SEXP chain, SEXP mode, SEXP ctrl);
SEXP ffi_family_info(SEXP spec);
SEXP ffi_family_stat(SEXP spec, SEXP x);
SEXP ffi_family_log_base(SEXP spec, SEXP x);
SEXP ffi_family_log_density(SEXP spec, SEXP theta, SEXP x);
SEXP ffi_family_log_partition(SEXP spec, SEXP theta);
SEXP ffi_family_to_mean(SEXP spec, SEXP theta);
SEXP ffi_family_to_natural(SEXP spec, SEXP eta, SEXP ctrl);
SEXP ffi_family_neg_entropy(SEXP spec, SEXP eta, SEXP ctrl);
SEXP ffi_family_sample(SEXP spec, SEXP theta, SEXP n);
SEXP ffi_family_check(SEXP spec, SEXP theta);
SEXP ffi_family_check_data(SEXP spec, SEXP x);

SEXP ffi_model_info(SEXP kind, SEXP obs, SEXP lat);
SEXP ffi_model_log_partition(SEXP kind, SEXP obs, SEXP lat, SEXP theta);
SEXP ffi_model_rho_chi(SEXP kind, SEXP obs, SEXP lat, SEXP theta);
SEXP ffi_model_to_mean(SEXP kind, SEXP obs, SEXP lat, SEXP theta);
SEXP ffi_model_to_natural(SEXP kind, SEXP obs, SEXP lat, SEXP eta, SEXP ctrl);
SEXP ffi_model_whiten(SEXP kind, SEXP obs, SEXP lat, SEXP eta);
SEXP ffi_mixture_split(SEXP kind, SEXP obs, SEXP lat, SEXP theta);
SEXP ffi_mixture_join(SEXP kind, SEXP obs, SEXP lat, SEXP comps, SEXP prior);
SEXP ffi_model_estep(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP given,
                     SEXP want, SEXP threads);
SEXP ffi_model_sample(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP n);
SEXP ffi_model_posterior_fold(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x);

SEXP ffi_model_gradient(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP threads);

SEXP ffi_model_cd_gradient(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP k);

SEXP ffi_em_run(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP ctrl, SEXP em,
                SEXP threads);

SEXP ffi_kmeans_run(SEXP f, SEXP k, SEXP ctl, SEXP threads);
SEXP ffi_ward_labels(SEXP z, SEXP k, SEXP threads);
SEXP ffi_mixture_labels_theta(SEXP kind, SEXP obs, SEXP lat, SEXP x, SEXP w, SEXP labels, SEXP smooth,
                              SEXP ctrl, SEXP threads);
SEXP ffi_lgm_moments(SEXP kind, SEXP obs, SEXP lat, SEXP x, SEXP w, SEXP threads);
SEXP ffi_lgm_em_moments(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP mom, SEXP ctrl, SEXP em);
SEXP ffi_lgm_moments_gradient(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP mom);

SEXP ffi_selftest_list(void);
SEXP ffi_selftest_run(SEXP i);
SEXP ffi_parallel_min_work(SEXP work);

SEXP ffi_bench_gemm_rate(SEXP shape, SEXP seconds, SEXP threads);

#endif
