"""scikit-learn's GaussianMixture over a fixed number of EM iterations from given parameters.

Called by bench/bench-mixture.R as

    python3 sklearn_gmm.py DIR covariance(full|diagonal) iterations reps

DIR holds the files R wrote with writeBin (little-endian doubles):
x.bin (n x d, column-major), w.bin (K), mu.bin (d x K, column-major),
cov.bin (d x d x K) and dims.bin (n, d, K). Each of `reps` runs times the
whole fit() call, GaussianMixture(max_iter = iterations, tol = 0,
reg_covar = 0, weights_init, means_init, precisions_init), with Python's
clock around it. Prints one line: "version median_seconds loglik iterations",
loglik being the total log-likelihood at the fitted parameters
(score() is the per-sample mean, times n), the same quantity as harmonium's
and mclust's log-likelihood after the same iterations.
"""
import os
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture


def read(d, name, shape):
    # R writes column-major: read the reversed shape and transpose.
    v = np.fromfile(os.path.join(d, name), dtype="<f8")
    return v.reshape(shape[::-1]).T


def main():
    d = sys.argv[1]
    kind = "full" if sys.argv[2] == "full" else "diag"
    iters = int(sys.argv[3])
    reps = int(sys.argv[4])
    n, p, k = (int(v) for v in np.fromfile(os.path.join(d, "dims.bin"), dtype="<f8"))
    # C order, as scikit-learn's own arrays are: the copy is not timed.
    x = np.ascontiguousarray(read(d, "x.bin", (n, p)))
    w = np.fromfile(os.path.join(d, "w.bin"), dtype="<f8")
    mu = np.ascontiguousarray(read(d, "mu.bin", (p, k)).T)
    cov = read(d, "cov.bin", (p, p, k))
    covs = np.stack([cov[:, :, j] for j in range(k)])
    if kind == "full":
        prec = np.stack([np.linalg.inv(c) for c in covs])
    else:
        prec = np.stack([1.0 / np.diag(c) for c in covs])

    def fit():
        gm = GaussianMixture(
            n_components=k, covariance_type=kind, max_iter=iters, tol=0.0, reg_covar=0.0,
            weights_init=w, means_init=mu, precisions_init=prec, init_params="random_from_data",
            random_state=1,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(x)
        return gm

    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        gm = fit()
        times.append(time.perf_counter() - t0)
    loglik = gm.score(x) * n
    print(sklearn.__version__, sorted(times)[len(times) // 2], repr(loglik), gm.n_iter_)


if __name__ == "__main__":
    main()
