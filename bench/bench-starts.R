# Measures how many starts the default of lvm_control(n_init = NULL) needs:
# for textbook data sets, the best log-likelihood reached by the best of
# n_init starts (healthy fits only, as fit_lvm() keeps them), against the
# peer's (mclust's VVV fit from its hierarchical start; poLCA's best of many
# random starts) and the best known (the maximum over 100 of our starts and
# the peer); reached: within 0.01 of the best known. Run from the package root with the package installed:
#   Rscript bench/bench-starts.R
suppressMessages({
  library(harmonium)
  library(mclust)
  library(poLCA)
})
n_inits <- c(1L, 2L, 5L, 10L, 20L)
only <- Sys.getenv("BENCH_STARTS_ONLY")  # "gauss", "lca" or "other": one section

fit_best <- function(model, x, n_init, seed = 1L) {
  t <- system.time(f <- suppressWarnings(fit_lvm(model, x, control = lvm_control(n_init = n_init, seed = seed))))
  list(loglik = f$loglik, time = t[["elapsed"]], degenerate = harmonium:::fit_is_degenerate(f))
}

rows <- list()
add <- function(data, k, model, peer, x, m) {
  top <- fit_best(m, x, 100L)
  known <- max(peer, if (!top$degenerate) top$loglik else -Inf, na.rm = TRUE)
  for (n in n_inits) {
    r <- fit_best(m, x, n)
    rows[[length(rows) + 1L]] <<- data.frame(data = data, k = k, model = model, n_init = n,
      loglik = round(r$loglik, 3), peer = round(peer, 3), known = round(known, 3),
      reached = !r$degenerate && r$loglik >= known - 0.01, time = round(r$time, 3))
  }
}

# --- Gaussian mixtures, unrestricted covariances (mclust's VVV) ------------------
gauss <- list(
  iris = iris[, 1:4], diabetes = mclust::diabetes[, -1], faithful = faithful,
  banknote = mclust::banknote[, -1], crabs = MASS::crabs[, 4:8], thyroid = mclust::thyroid[, -1]
)
for (nm in if (only %in% c("", "gauss")) names(gauss)) {
  x <- as.matrix(gauss[[nm]])
  for (k in 2:4) {
    mc <- Mclust(x, G = k, modelNames = "VVV", verbose = FALSE)
    add(nm, k, "VVV", if (is.null(mc)) NA_real_ else mc$loglik, x, mixture(ef_normal(ncol(x)), k))
  }
}

# --- latent class analysis ------------------------------------------------------------
polca_best <- function(df, k, nrep = 50L) {
  f <- stats::as.formula(paste0("cbind(", paste(names(df), collapse = ","), ") ~ 1"))
  invisible(utils::capture.output(r <- poLCA(f, df, nclass = k, nrep = nrep, maxiter = 5000, verbose = FALSE)))
  r$llik
}
lca_model <- function(df, k) mixture(ef_product(lapply(unname(vapply(df, nlevels, integer(1))), ef_categorical)), k)
as_factors <- function(df) as.data.frame(lapply(df, factor))
data(cheating, package = "poLCA")
data(election, package = "poLCA")
data(carcinoma, package = "poLCA")
env <- new.env()
load("/work/shared/data/gss82.rda", envir = env)
gss82 <- get(ls(env)[1], envir = env)
el <- election[, c("MORALG", "CARESG", "KNOWG", "LEADG", "DISHONG", "INTELG",
  "MORALB", "CARESB", "KNOWB", "LEADB", "DISHONB", "INTELB")]
el <- el[stats::complete.cases(el), ]
lca <- list(
  cheating = list(df = cheating[, 1:4], k = 2:3),
  carcinoma = list(df = carcinoma, k = 2:3),
  gss82 = list(df = gss82, k = 2:3),
  election = list(df = el, k = 2:3)
)
for (nm in if (only %in% c("", "lca")) names(lca)) {
  df <- as_factors(lca[[nm]]$df)
  # poLCA wants categories 1..L.
  dpol <- as.data.frame(lapply(df, as.integer))
  for (k in lca[[nm]]$k) {
    add(nm, k, "LCA", polca_best(dpol, k), df, lca_model(df, k))
  }
}

# --- other mixtures (no peer: the best known is the best of 100 starts) ------------
other <- list(
  list(data = "fisherB3", model = "von Mises", k = 2:3,
    x = read.csv("/work/shared/data/fisherB3.csv")$degrees * pi / 180, fam = ef_von_mises()),
  list(data = "wind", model = "von Mises", k = 2:3, x = read.csv("/work/shared/data/wind.csv")$radians,
    fam = ef_von_mises()),
  list(data = "discoveries", model = "Poisson", k = 2:3, x = as.numeric(datasets::discoveries), fam = ef_poisson()),
  list(data = "earthquakes", model = "Poisson", k = 2:3, x = read.csv("/work/shared/data/earthquakes.csv")$count,
    fam = ef_poisson())
)
for (o in if (only %in% c("", "other")) other) {
  for (k in o$k) add(o$data, k, o$model, NA_real_, o$x, mixture(o$fam, k))
}

tab <- do.call(rbind, rows)
print(tab, row.names = FALSE)
cat("\nSmallest n_init reaching the best known maximum:\n")
first <- function(v) if (all(is.na(v))) NA_integer_ else as.integer(min(v, na.rm = TRUE))
print(stats::aggregate(cbind(n_init = ifelse(reached, n_init, NA)) ~ data + k + model, tab, first,
  na.action = na.pass), row.names = FALSE)
