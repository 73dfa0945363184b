# Small E-steps run serially by default (the engine's parallel_min_work);
# the suite's data are small, so every E-step is made eligible for threads
# here, so that the thread-count tests run the threaded path.
invisible(harmonium:::parallel_min_work(0))
