/*
 * hm_kinds.h: the operation tables of the model kinds, for the registry in
 * kinds.c only. Generic code reaches a kind through hm_kind_lookup().
 */
#ifndef HM_KINDS_H
#define HM_KINDS_H

#include "hm_engine.h"

extern const hm_kind_ops hm_kind_hmog_ops;
extern const hm_kind_ops hm_kind_mixture_of_ops;
extern const hm_kind_ops hm_kind_hmog_diag_ops;

#endif
