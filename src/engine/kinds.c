/*
 * kinds.c: the registry of model kinds reached through hm_kind_ops
 * (hm_engine.h). The only file that names the kinds' operation tables.
 */
#include <stddef.h>

#include "hm_engine.h"
#include "hm_kinds.h"

const hm_kind_ops *hm_kind_lookup(int kind) {
    switch (kind) {
    case HM_HM_HMOG:
        return &hm_kind_hmog_ops;
    case HM_HM_MIXTURE_OF:
        return &hm_kind_mixture_of_ops;
    case HM_HM_HMOG_DIAG:
        return &hm_kind_hmog_diag_ops;
    default:
        return NULL;
    }
}
