"""scikit-learn's FactorAnalysis on the same data as bench-fa.R.

Called with: data.csv factors. Prints "seconds loglik iterations": the time
of one fit (its SVD-based iterations to its default tolerance) and the total
log-likelihood of the data at the fit (score() is the mean per row).
"""
import sys
import time

import numpy as np
from sklearn.decomposition import FactorAnalysis


def main():
    x = np.loadtxt(sys.argv[1], delimiter=",")
    q = int(sys.argv[2])
    fa = FactorAnalysis(n_components=q, tol=1e-8, max_iter=10000)
    t0 = time.perf_counter()
    fa.fit(x)
    elapsed = time.perf_counter() - t0
    print(elapsed, fa.score(x) * x.shape[0], fa.n_iter_)


if __name__ == "__main__":
    main()
