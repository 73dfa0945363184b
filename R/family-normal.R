# The Normal family with full, diagonal or isotropic covariance. Natural
# parameters: theta1 = P mu and the packed
# second-order block (-P_ii / 2 on the diagonal, -P_ij off it, for the full
# representation; -P_ii / 2 for the diagonal one; -(d / 2) p for P = p I).

#' @rdname ef_family
#' @export
ef_normal <- function(dim = 1, covariance = c("full", "diagonal", "isotropic")) {
  dim <- check_count(dim, max = 10000L)
  if (identical(covariance, c("full", "diagonal", "isotropic"))) covariance <- "full"
  structure <- normal_structure(covariance, dim)
  # The per-component representation: what a single Normal of this
  # structure is (the structure letters act only inside a mixture).
  covariance <- structure$rep
  rep <- match(covariance, c("full", "diagonal", "isotropic")) - 1L
  n <- dim
  to_nat <- function(params) {
    check_params_list(params, c("mean", "cov"), arg = "params")
    mu <- check_numeric_vector(params$mean, n, arg = "params$mean")
    S <- check_matrix(params$cov, n, n, arg = "params$cov")
    if (max(abs(S - t(S))) > 1e-10 * max(1, max(abs(S)))) {
      abort_hm("{.arg params$cov} must be symmetric.", "params")
    }
    off <- S[row(S) != col(S)]
    if (rep >= 1L && length(off) && max(abs(off)) > 1e-12 * max(abs(diag(S)))) {
      abort_hm("{.arg params$cov} must be diagonal for a {covariance} normal.", "params")
    }
    if (rep == 2L && diff(range(diag(S))) > 1e-10 * max(diag(S))) {
      abort_hm("{.arg params$cov} must be a multiple of the identity for an isotropic normal.", "params")
    }
    L <- tryCatch(chol(S), error = function(e) NULL)
    if (is.null(L)) {
      abort_hm("{.arg params$cov} must be positive definite.", "params")
    }
    P <- chol2inv(L)
    th1 <- as.vector(P %*% mu)
    th2 <- switch(rep + 1L,
      {
        M <- -P
        diag(M) <- -diag(P) / 2
        pack_sym(M)
      },
      -diag(P) / 2,
      -(n / 2) * mean(diag(P))
    )
    c(th1, th2)
  }
  to_src <- function(theta) {
    th1 <- theta[seq_len(n)]
    th2 <- theta[-seq_len(n)]
    P <- switch(rep + 1L,
      {
        M <- unpack_sym(th2, n)
        P <- -M
        diag(P) <- -2 * diag(M)
        P
      },
      diag(-2 * th2, n),
      diag(-2 * th2 / n, n)
    )
    S <- chol2inv(chol(P))
    S <- (S + t(S)) / 2
    list(mean = as.vector(S %*% th1), cov = S)
  }
  # The scaler from the columns' means and root mean squared deviations
  # (the data pass computes them, R/data-path.R).
  scale_moments <- function(ctr, sds) {
    sds[!is.finite(sds) | sds <= 0] <- 1
    # Structures that per-column rescaling does not preserve (isotropic
    # shapes, a common shape with varying orientations, a common orientation
    # with varying shapes) share one scale factor across the columns, so
    # that the fit on the standardised data is the fit on the raw data.
    if (rep == 2L || !structure$equivariant) sds[] <- sqrt(mean(sds^2))
    list(center = ctr, scale = sds)
  }
  scaling <- function(x) {
    if (is.matrix(x) && is.double(x) && nrow(x) > 0L) {
      mo <- data_moments(x)
      return(scale_moments(mo$mean, mo$rms))
    }
    ctr <- colMeans(x)
    scale_moments(ctr, sqrt(colMeans(sweep(x, 2, ctr)^2)))
  }
  affine <- function(params, center, scale, inverse = FALSE) {
    if (inverse) {
      list(mean = params$mean * scale + center, cov = params$cov * outer(scale, scale))
    } else {
      list(mean = (params$mean - center) / scale, cov = params$cov / outer(scale, scale))
    }
  }
  new_family("normal", n, rep, trials = structure$code,
    label = sprintf("Normal(%d, %s covariance)", n, structure$label),
    to_nat = to_nat, to_src = to_src, support = support_any,
    features = function(x) x, scaling = scaling, scale_moments = scale_moments, affine = affine,
    covariance = covariance, structure = structure$name,
    n_free = n + switch(rep + 1L, n * (n + 1) / 2, n, 1)
  )
}

# --- covariance structures ------------------------------------------------------

# mclust's names of the 14 parsimonious structures, in the order of the
# engine's enum hm_cov_struct (codes 1..14; 0 is none).
cov_structures <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE",
  "EEV", "VEV", "EVV", "VVV")

# Structures whose fit is not equivariant under per-column rescaling.
cov_not_equivariant <- c("EII", "VII", "EEV", "VEV", "EVE", "VVE")

# The structure of a covariance argument: the engine code (0 for the
# historical "full", "diagonal", "isotropic", whose M-step is per
# component), the mclust name it equals, the per-component representation,
# the label of the family, and whether rescaling columns one by one
# preserves it. For dim = 1 mclust's "E" and "V" are the equal- and
# varying-variance models (EII and VII).
normal_structure <- function(covariance, dim, call = rlang::caller_env()) {
  plain <- c(full = "VVV", diagonal = "VVI", isotropic = "VII")
  names1 <- c(E = "EII", V = "VII")
  choices <- c(names(plain), cov_structures, if (dim == 1L) names(names1))
  if (!is.character(covariance) || length(covariance) != 1L || is.na(covariance) ||
    !(covariance %in% choices)) {
    extra <- if (is.character(covariance) && length(covariance) == 1L && covariance %in% names(names1)) {
      c(i = "{.val E} and {.val V} are the structures of one-dimensional data.")
    }
    abort_hm(c("{.arg covariance} must be one of {.or {.val {choices}}}.", extra), "argument", call = call)
  }
  if (covariance %in% names(plain)) {
    nm <- plain[[covariance]]
    return(list(code = 0L, name = nm, rep = covariance, label = covariance, equivariant = nm != "VII"))
  }
  nm <- if (covariance %in% names(names1)) names1[[covariance]] else covariance
  rep <- if (substr(nm, 3, 3) != "I") "full" else if (substr(nm, 2, 2) == "I") "isotropic" else "diagonal"
  list(code = match(nm, cov_structures), name = covariance, rep = rep, label = covariance,
    equivariant = !(nm %in% cov_not_equivariant))
}

# The engine name (EII..VVV) of a Normal family's structure.
normal_structure_code_name <- function(fam) {
  nm <- fam$structure
  if (nm %in% c("E", "V")) c(E = "EII", V = "VII")[[nm]] else nm
}

# Number of free covariance parameters of k components of dimension d under
# a structure, as mclust's nVarParams.
cov_structure_df <- function(name, d, k) {
  if (name %in% c("E", "V")) name <- c(E = "EII", V = "VII")[[name]]
  r <- d * (d - 1) / 2
  switch(name,
    EII = 1, VII = k, EEI = d, VEI = k + d - 1, EVI = 1 + k * (d - 1), VVI = k * d,
    EEE = d * (d + 1) / 2, VEE = k + d * (d + 1) / 2 - 1, EVE = 1 + k * (d - 1) + r,
    VVE = k * d + r, EEV = d + k * r, VEV = k + d - 1 + k * r,
    EVV = 1 + k * (d * (d + 1) / 2 - 1), VVV = k * d * (d + 1) / 2
  )
}

# Whether k covariance matrices satisfy a structure, to a relative
# tolerance: equal volumes |Sigma_k|^(1/d) (E first letter); for a common
# shape and orientation equal normalised matrices Sigma_k / lambda_k, for a
# common shape alone equal normalised eigenvalues; for a common orientation
# alone commuting matrices (common eigenvectors). Axis-aligned and
# isotropic forms are enforced by the family's representation.
cov_structure_holds <- function(name, covs, tol = 1e-7) {
  if (name %in% c("E", "V")) name <- c(E = "EII", V = "VII")[[name]]
  d <- nrow(covs[[1]])
  l <- strsplit(name, "")[[1]]
  vol <- vapply(covs, function(S) exp(as.numeric(determinant(S)$modulus) / d), 1)
  near <- function(a, b) max(abs(a - b)) <= tol * max(abs(b), 1e-300)
  ok <- TRUE
  if (l[1] == "E") ok <- ok && all(vapply(vol, near, TRUE, b = vol[1]))
  C <- Map(function(S, v) S / v, covs, vol)
  if (l[2] == "E" && l[3] != "V") {
    ok <- ok && all(vapply(C, near, TRUE, b = C[[1]]))
  } else if (l[2] == "E") {
    ev <- lapply(C, function(S) sort(eigen(S, symmetric = TRUE, only.values = TRUE)$values))
    ok <- ok && all(vapply(ev, near, TRUE, b = ev[[1]]))
  }
  if (l[3] == "E" && l[2] != "E") {
    for (j in seq_along(C)) {
      ok <- ok && near(C[[1]] %*% C[[j]], C[[j]] %*% C[[1]])
    }
  }
  ok
}
