/*
 * kinds.c: the registry of model kinds (hm_kind_ops, hm_engine.h). The
 * only file that names the kinds' operation tables; every generic file
 * reaches a kind through hm_kind_lookup().
 */
#include <stddef.h>

#include "hm_engine.h"
#include "hm_kinds.h"

const hm_kind_ops *hm_kind_lookup(int kind) {
    switch (kind) {
    case HM_HM_MIXTURE:
        return &hm_kind_mixture_ops;
    case HM_HM_LGM:
        return &hm_kind_lgm_ops;
    case HM_HM_BOLTZMANN_LGM:
        return &hm_kind_boltzmann_lgm_ops;
    case HM_HM_LGM_DIAG:
        return &hm_kind_lgm_diag_ops;
    case HM_HM_BOLTZMANN_LGM_MF:
        return &hm_kind_boltzmann_lgm_mf_ops;
    case HM_HM_CATEGORICAL_DIRICHLET:
        return &hm_kind_catdir_ops;
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
