"""One EM iteration of scikit-learn's GaussianMixture from given parameters.

Called by bench-mixture.R with: data.csv weights.csv means.csv covs.csv
covariance(full|diagonal) reps. Prints "seconds_per_iteration total_loglik".
The parameters are installed directly (weights_, means_, covariances_ and
the precision Cholesky factors), then _e_step + _m_step are timed: the same
work as one harmonium or mclust iteration.
"""
import sys
import time

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky


def main():
    x = np.loadtxt(sys.argv[1], delimiter=",")
    w = np.atleast_1d(np.loadtxt(sys.argv[2], delimiter=","))
    mu = np.loadtxt(sys.argv[3], delimiter=",", ndmin=2)
    cov = np.loadtxt(sys.argv[4], delimiter=",", ndmin=2)
    kind = "full" if sys.argv[5] == "full" else "diag"
    reps = int(sys.argv[6])
    k, d = mu.shape
    covs = cov.reshape(k, d, d) if kind == "full" else cov.reshape(k, d, d)[:, range(d), range(d)]
    gm = GaussianMixture(k, covariance_type=kind, max_iter=1, init_params="random_from_data")
    gm.fit(x[: 10 * k])  # sets up the estimator; parameters are replaced below

    def install():
        gm.weights_ = w.copy()
        gm.means_ = mu.copy()
        gm.covariances_ = covs.copy()
        gm.precisions_cholesky_ = _compute_precision_cholesky(covs, kind)

    install()
    log_prob_norm, log_resp = gm._e_step(x)
    loglik = log_prob_norm * x.shape[0]
    times = []
    for _ in range(reps):
        install()
        t0 = time.perf_counter()
        _, log_resp = gm._e_step(x)
        gm._m_step(x, log_resp)
        times.append(time.perf_counter() - t0)
    print(sorted(times)[len(times) // 2], loglik)


if __name__ == "__main__":
    main()
