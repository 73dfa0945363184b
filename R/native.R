# The only file with .Call(). One wrapper per entry point, grouped by glue
# file; arguments are already validated and coerced (doubles, integers,
# 0-based codes, natural coordinates).

# glue_init.c
native_threads_max <- function() .Call(C_threads_max)

# glue_family.c
native_family_info <- function(spec) .Call(C_family_info, spec)
native_family_stat <- function(spec, x) .Call(C_family_stat, spec, x)
native_family_log_base <- function(spec, x) .Call(C_family_log_base, spec, x)
native_family_log_density <- function(spec, theta, x) .Call(C_family_log_density, spec, theta, x)
native_family_log_partition <- function(spec, theta) .Call(C_family_log_partition, spec, theta)
native_family_to_mean <- function(spec, theta) .Call(C_family_to_mean, spec, theta)
native_family_to_natural <- function(spec, eta, ctrl) .Call(C_family_to_natural, spec, eta, ctrl)
native_family_neg_entropy <- function(spec, eta, ctrl) .Call(C_family_neg_entropy, spec, eta, ctrl)
native_family_sample <- function(spec, theta, n) .Call(C_family_sample, spec, theta, n)
native_family_check <- function(spec, theta) .Call(C_family_check, spec, theta)
native_family_check_data <- function(spec, x) .Call(C_family_check_data, spec, x)

# glue_data.c
# The data pass: missing values, support, conversion and moments of the
# columns of a matrix or list (spec and sup as data_plan() builds them), and
# the threaded standardisation with the columns' sums of squares.
native_data_scan <- function(x, spec, sup, want_raw, threads) {
  .Call(C_data_scan, x, spec, sup, want_raw, threads)
}
native_data_scale <- function(x, center, scale, threads) {
  .Call(C_data_scale, x, as.double(center), as.double(scale), threads)
}

# glue_model.c
native_model_info <- function(m) .Call(C_model_info, m$hm_kind, m$obs_spec, m$lat_spec)
native_model_log_partition <- function(m, theta) {
  .Call(C_model_log_partition, m$hm_kind, m$obs_spec, m$lat_spec, theta)
}
native_model_rho_chi <- function(m, theta) .Call(C_model_rho_chi, m$hm_kind, m$obs_spec, m$lat_spec, theta)
native_model_to_mean <- function(m, theta) .Call(C_model_to_mean, m$hm_kind, m$obs_spec, m$lat_spec, theta)
native_model_to_natural <- function(m, eta, ctrl) {
  .Call(C_model_to_natural, m$hm_kind, m$obs_spec, m$lat_spec, eta, ctrl)
}
native_model_whiten <- function(m, eta) .Call(C_model_whiten, m$hm_kind, m$obs_spec, m$lat_spec, eta)
native_mixture_split <- function(m, theta) .Call(C_mixture_split, m$hm_kind, m$obs_spec, m$lat_spec, theta)
native_mixture_join <- function(m, comps, prior) {
  .Call(C_mixture_join, m$hm_kind, m$obs_spec, m$lat_spec, comps, prior)
}
native_model_estep <- function(m, theta, x, w = NULL, given = NULL, logp = TRUE, post = TRUE, threads = 1L) {
  .Call(C_model_estep, m$hm_kind, m$obs_spec, m$lat_spec, theta, x, w, given, c(logp, post), threads)
}
native_model_sample <- function(m, theta, n) .Call(C_model_sample, m$hm_kind, m$obs_spec, m$lat_spec, theta, n)
native_model_posterior_fold <- function(m, theta, x) {
  .Call(C_model_posterior_fold, m$hm_kind, m$obs_spec, m$lat_spec, theta, x)
}

# glue_grad.c
native_model_gradient <- function(m, theta, x, w = NULL, threads = 1L) {
  .Call(C_model_gradient, m$hm_kind, m$obs_spec, m$lat_spec, theta, x, w, threads)
}

# glue_cd.c
native_model_cd_gradient <- function(m, theta, x, k) {
  .Call(C_model_cd_gradient, m$hm_kind, m$obs_spec, m$lat_spec, theta, x, as.integer(k))
}

# glue_em.c
native_em_run <- function(m, theta, x, w, ctrl, em, threads) {
  .Call(C_em_run, m$hm_kind, m$obs_spec, m$lat_spec, theta, x, w, ctrl, em, threads)
}

# glue_start.c
native_kmeans_run <- function(f, k, trials, maxit, threads) {
  .Call(C_kmeans_run, f, as.integer(k), as.double(c(trials, maxit)), as.integer(threads))
}
native_ward_labels <- function(z, k, threads) .Call(C_ward_labels, z, as.integer(k), as.integer(threads))
native_mixture_labels_theta <- function(m, x, w, labels, smooth, ctrl, threads) {
  .Call(C_mixture_labels_theta, m$hm_kind, m$obs_spec, m$lat_spec, x, w, labels, as.double(smooth), ctrl,
    as.integer(threads))
}

# glue_lgm.c: factor analysis, PPCA and the LGM from the data's moments.
native_lgm_moments <- function(m, x, w, threads) {
  .Call(C_lgm_moments, m$hm_kind, m$obs_spec, m$lat_spec, x, w, threads)
}
native_lgm_em_moments <- function(m, theta, mom, ctrl, em) {
  .Call(C_lgm_em_moments, m$hm_kind, m$obs_spec, m$lat_spec, theta, mom, ctrl, em)
}
native_lgm_moments_gradient <- function(m, theta, mom) {
  .Call(C_lgm_moments_gradient, m$hm_kind, m$obs_spec, m$lat_spec, theta, mom)
}

# glue_selftest.c
native_selftest_list <- function() .Call(C_selftest_list)
# Rows x statistics below which the engine's E-step runs serially; returns the
# previous value (the tests set 0 so that threads run on small data).
parallel_min_work <- function(work) .Call(C_parallel_min_work, as.double(work))
native_selftest_run <- function(i) .Call(C_selftest_run, i)

# hmm.c (glue_hmm.c)
native_hmm_infer <- function(logp, init, trans) .Call(C_hmm_infer, logp, init, trans)

# Linear dynamical systems (R/model-lds.R, src/glue/glue_lds.c).
native_lds_estep <- function(y, len, w, par, threads, want) {
  .Call(C_lds_estep, y, len, w, par, threads, want)
}
native_hmm_em_run <- function(mix, theta, chain, x, starts, lengths, w, ctrl, em, threads) {
  .Call(C_hmm_em_run, mix$hm_kind, mix$obs_spec, mix$lat_spec, theta, chain, x, as.integer(starts),
    as.integer(lengths), w, ctrl, as.double(em), as.integer(threads))
}
native_hmm_seq_infer <- function(mix, theta, chain, x, starts, lengths, want, threads) {
  .Call(C_hmm_seq_infer, mix$hm_kind, mix$obs_spec, mix$lat_spec, theta, chain, x, as.integer(starts),
    as.integer(lengths), as.logical(want), as.integer(threads))
}
native_hmm_stationary <- function(trans) .Call(C_hmm_stationary, as.double(trans))
