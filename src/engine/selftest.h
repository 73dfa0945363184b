/*
 * selftest.h: the engine's C unit tests. Each returns 0 on success and
 * writes a message of at most len bytes on failure.
 */
#ifndef HM_SELFTEST_H
#define HM_SELFTEST_H

#include <stddef.h>

int hm_fam_normal_selftest(char *msg, size_t msglen);
int hm_fam_categorical_selftest(char *msg, size_t msglen);
int hm_fam_bernoulli_selftest(char *msg, size_t msglen);
int hm_fam_binomial_selftest(char *msg, size_t msglen);
int hm_fam_poisson_selftest(char *msg, size_t msglen);
int hm_fam_compoisson_selftest(char *msg, size_t msglen);
int hm_fam_vonmises_selftest(char *msg, size_t msglen);
int hm_fam_dirichlet_selftest(char *msg, size_t msglen);
int hm_fam_gamma_selftest(char *msg, size_t msglen);
int hm_fam_boltzmann_selftest(char *msg, size_t msglen);
int hm_lgm_selftest(char *msg, size_t msglen);
int hm_lgm_asym_selftest(char *msg, size_t msglen);
int hm_catdir_selftest(char *msg, size_t msglen);
int hm_lds_selftest(char *msg, size_t msglen);
int hm_hmog_diag_selftest(char *msg, size_t msglen);
int hm_hmm_selftest(char *msg, size_t msglen);
int hm_covstruct_selftest(char *msg, size_t msglen);

int hm_selftest_count(void);
const char *hm_selftest_name(int i);
int hm_selftest_run(int i, char *msg, size_t len);

#endif
