/*
 * hm_kinds.h: the operation tables of the model kinds, defined in the
 * kinds' own files and named only by the registry in kinds.c (and the
 * file defining each). Generic code reaches a kind through
 * hm_kind_lookup().
 */
#ifndef HM_KINDS_H
#define HM_KINDS_H

#include "hm_engine.h"

extern const hm_kind_ops hm_kind_mixture_ops;          /* mixture.c */
extern const hm_kind_ops hm_kind_lgm_ops;              /* lgm.c */
extern const hm_kind_ops hm_kind_lgm_diag_ops;         /* lgm.c */
extern const hm_kind_ops hm_kind_boltzmann_lgm_ops;    /* boltzmann_lgm.c */
extern const hm_kind_ops hm_kind_boltzmann_lgm_mf_ops; /* boltzmann_lgm.c */
extern const hm_kind_ops hm_kind_catdir_ops;           /* conjugate.c */
extern const hm_kind_ops hm_kind_hmog_ops;             /* hmog.c */
extern const hm_kind_ops hm_kind_mixture_of_ops;       /* mixture_of.c */
extern const hm_kind_ops hm_kind_hmog_diag_ops;        /* hmog_diag.c */

#endif
