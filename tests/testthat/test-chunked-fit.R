# Chunked EM (R/chunked-fit.R): fit_lvm(model, lvm_chunks(...)) against the
# in-memory fit, which it must equal bit for bit (identical()) for any
# chunking, plan, worker count and schedule.

hm <- function(name) get(name, envir = asNamespace("harmonium"))

# Rows of x (a matrix or data frame) in k consecutive chunks of unequal,
# block-unaligned sizes.
split_rows <- function(x, k) {
  n <- NROW(x)
  if (k == 1L) return(list(x))
  cuts <- c(0, sort(sample.int(n - 1L, k - 1L)), n)
  lapply(seq_len(k), function(j) x[(cuts[j] + 1):cuts[j + 1], , drop = FALSE])
}

gmm_data <- function(n = 6011L) {
  set.seed(41)
  x <- rbind(matrix(rnorm(3 * (n %/% 2), sd = 0.7), ncol = 3), matrix(rnorm(3 * (n - n %/% 2), 2), ncol = 3))
  x[sample.int(n), ]
}
gmm_init <- list(weights = c(0.3, 0.7), components = list(
  list(mean = c(0, 0, 0), cov = diag(3)), list(mean = c(1, 1, 1), cov = 2 * diag(3))))

lca_data <- function(n = 5003L) {
  set.seed(42)
  z <- sample.int(2L, n, TRUE, prob = c(0.4, 0.6))
  pr <- list(rbind(c(0.7, 0.2, 0.1), c(0.1, 0.3, 0.6)), rbind(c(0.8, 0.2), c(0.3, 0.7)),
    rbind(c(0.4, 0.3, 0.2, 0.1), c(0.1, 0.1, 0.3, 0.5)))
  as.data.frame(lapply(pr, function(p) vapply(z, function(k) sample.int(ncol(p), 1L, prob = p[k, ]), integer(1))),
    col.names = c("a", "b", "c"))
}
lca_model <- function() mixture(ef_product(ef_categorical(3), ef_categorical(2), ef_categorical(4)), 2)

fa_data <- function(n = 4099L) {
  set.seed(43)
  matrix(rnorm(n * 2), n) %*% matrix(c(0.9, 0.8, 0.7, 0, 0.1, 0.2, 0, 0.1, 0.6, 0.7, 0.8, 0.5), 2, byrow = TRUE) +
    matrix(rnorm(n * 6, sd = 0.5), n)
}

expect_same_fit <- function(a, b, info = NULL) {
  expect_identical(a$params, b$params, info = info)
  expect_identical(a$loglik, b$loglik, info = info)
  expect_identical(a$trace, b$trace, info = info)
  expect_identical(a$iterations, b$iterations, info = info)
}

test_that("the engine's tree over blocks gives the same sums from any block-aligned split", {
  x <- gmm_data(5000L)
  m <- mixture(ef_normal(3), 2)
  th <- hm("model_to_nat")(m, gmm_init)
  B <- hm("native_estep_block_rows")(m)
  full <- hm("native_model_estep")(m, th, x, NULL, logp = FALSE, post = FALSE, threads = 1L)$stats
  nb <- ceiling(nrow(x) / B)
  # Parts of 1 and 2 blocks and the rest, as workers would hold them.
  expect_gte(nb, 5)
  cuts <- c(0, 1, 3, nb) * B
  cuts[length(cuts)] <- nrow(x)
  nodes <- lapply(seq_len(length(cuts) - 1L), function(j) {
    rows <- (cuts[j] + 1):cuts[j + 1]
    hm("native_estep_part")(m, th, x[rows, , drop = FALSE], cuts[j] / B, 1L)[[1]]$nodes
  })
  expect_identical(hm("chunk_fold")(nodes, nb, NULL), full)
  # The fold refuses nodes that do not tile the blocks.
  expect_error(hm("chunk_fold")(nodes[-2], nb, NULL), class = "harmonium_error_internal")
  # Threads do not change the nodes.
  n2 <- hm("native_estep_part")(m, th, x[(4 * B + 1):nrow(x), ], 4, 2L)[[1]]$nodes
  expect_identical(n2, hm("native_estep_part")(m, th, x[(4 * B + 1):nrow(x), ], 4, 1L)[[1]]$nodes)
})

test_that("GMM, LCA and FA on 1, 3 and 7 chunks are identical to the in-memory fit", {
  set.seed(44)
  x <- gmm_data()
  m <- mixture(ef_normal(3), 2)
  ref <- fit_lvm(m, x, init = gmm_init)
  expect_gt(ref$iterations, 10L)
  for (k in c(1L, 3L, 7L)) {
    expect_same_fit(fit_lvm(m, lvm_chunks(split_rows(x, k)), init = gmm_init), ref, info = paste("GMM", k))
  }
  y <- lca_data()
  ml <- lca_model()
  st <- suppressWarnings(fit_lvm(ml, y, control = lvm_control(n_init = 1, maxit = 3)))
  ref <- fit_lvm(ml, y, init = st$params)
  for (k in c(1L, 3L, 7L)) {
    expect_same_fit(fit_lvm(ml, lvm_chunks(split_rows(y, k)), init = st$params), ref, info = paste("LCA", k))
  }
  z <- fa_data()
  mf <- factor_analysis(6, 2)
  st <- suppressWarnings(fit_lvm(mf, z, control = lvm_control(maxit = 2)))
  ref <- fit_lvm(mf, z, init = st$params)
  expect_gt(ref$iterations, 2L)
  for (k in c(1L, 3L, 7L)) {
    expect_same_fit(fit_lvm(mf, lvm_chunks(split_rows(z, k)), init = st$params), ref, info = paste("FA", k))
  }
})

test_that("chunks smaller than a block, empty chunks and a function source are handled", {
  x <- gmm_data(3001L)
  m <- mixture(ef_normal(3), 2)
  ref <- fit_lvm(m, x, init = gmm_init, control = lvm_control(maxit = 15, tol = 0))
  sizes <- c(5, 0, 300, 1, 1200, 7, 1488)
  cuts <- c(0, cumsum(sizes))
  pieces <- lapply(seq_along(sizes), function(j) x[seq_len(sizes[j]) + cuts[j], , drop = FALSE])
  ctl <- lvm_control(maxit = 15, tol = 0)
  expect_same_fit(fit_lvm(m, lvm_chunks(pieces), init = gmm_init, control = ctl), ref)
  reader <- function(i) pieces[[i]]
  expect_same_fit(fit_lvm(m, lvm_chunks(reader, n = length(pieces)), init = gmm_init, control = ctl), ref)
})

test_that("default starts come from a sample of chunks and reach the in-memory optimum", {
  x <- gmm_data()
  m <- mixture(ef_normal(3), 2)
  mem <- fit_lvm(m, x)
  ch <- fit_lvm(m, lvm_chunks(split_rows(x, 4)))
  expect_equal(ch$loglik, mem$loglik, tolerance = 1e-8)
  expect_true(ch$converged)
  expect_s3_class(ch, "lvm_chunked_fit")
  expect_gte(nrow(ch$starts), 1L)
  # The same source and seed: the same fit.
  expect_identical(fit_lvm(m, lvm_chunks(split_rows(x, 4)))$params, ch$params)
})

test_that("na_action = 'omit' drops the same rows as in memory; missing values are named by global row", {
  x <- gmm_data(2000L)
  x[c(5, 1500), 2] <- NA
  m <- mixture(ef_normal(3), 2)
  ctl <- lvm_control(maxit = 10, tol = 0)
  ref <- fit_lvm(m, x, init = gmm_init, na_action = "omit", control = ctl)
  ch <- lvm_chunks(list(x[1:1000, ], x[1001:2000, ]))
  expect_same_fit(fit_lvm(m, ch, init = gmm_init, na_action = "omit", control = ctl), ref)
  expect_error(fit_lvm(m, ch, init = gmm_init), "1500", class = "harmonium_error_data_na")
})

test_that("hidden Markov models fit on chunks of whole sequences", {
  set.seed(45)
  mk <- function(T) {
    z <- cumsum(runif(T) < 0.1) %% 2 + 1
    cbind(y = rnorm(T, c(0, 3)[z]), w = rnorm(T, c(1, -1)[z]))
  }
  seqs <- lapply(c(300, 250, 400, 120), mk)
  m <- hmm(ef_normal(2), 2)
  p0 <- list(initial = c(S1 = 0.5, S2 = 0.5), transition = matrix(c(0.8, 0.2, 0.3, 0.7), 2, byrow = TRUE),
    emission = list(list(mean = c(0.5, 0), cov = diag(2)), list(mean = c(2, -0.5), cov = diag(2))))
  ctl <- lvm_control(maxit = 15, tol = 0)
  # One chunk: the in-memory fit's bits.
  one <- fit_lvm(m, lvm_chunks(seqs[1]), init = p0, control = ctl)
  expect_same_fit(one, fit_lvm(m, seqs[1], init = p0, control = ctl))
  # Several: the same EM, summed over chunks (equal to rounding), the same
  # bits under any plan.
  ch <- fit_lvm(m, lvm_chunks(seqs), init = p0, control = ctl)
  mem <- fit_lvm(m, seqs, init = p0, control = ctl)
  expect_equal(ch$loglik, mem$loglik, tolerance = 1e-12)
  expect_equal(ch$trace, mem$trace, tolerance = 1e-12)
  expect_equal(ch$params, mem$params, tolerance = 1e-9)
  expect_identical(ch$n, mem$n)
  expect_output(print(ch), "4 sequences")
  post <- posterior(ch)
  expect_length(post, 4L)
  expect_equal(post[[2]], posterior(mem, seqs[2]), tolerance = 1e-8)
  expect_equal(unname(unlist(log_density(ch))), unname(log_density(mem)), tolerance = 1e-8)
  # Default starts from a sample of chunks reach the in-memory optimum.
  expect_equal(fit_lvm(m, lvm_chunks(seqs))$loglik, fit_lvm(m, seqs)$loglik, tolerance = 1e-7)
  skip_on_cran()
  skip_if_not_installed("future")
  old <- future::plan()
  on.exit(future::plan(old), add = TRUE)
  future::plan(future::multisession, workers = 2L)
  expect_same_fit(fit_lvm(m, lvm_chunks(seqs), init = p0, control = ctl), ch)
})

test_that("linear dynamical systems fit on chunks of whole sequences", {
  set.seed(46)
  sim <- function(T) {
    z <- cumsum(rnorm(T, sd = 0.3))
    cbind(a = z + rnorm(T, sd = 0.5), b = 0.5 * z + rnorm(T, sd = 0.5))
  }
  seqs <- lapply(c(200, 150, 300), sim)
  m <- lds(2, 1)
  mem <- fit_lvm(m, seqs)
  ctl <- lvm_control(maxit = 10, tol = 0)
  one <- fit_lvm(m, lvm_chunks(seqs[1]), init = mem$params, control = ctl)
  expect_same_fit(one, fit_lvm(m, seqs[1], init = mem$params, control = ctl))
  ch <- fit_lvm(m, lvm_chunks(seqs), init = mem$params, control = ctl)
  ref <- fit_lvm(m, seqs, init = mem$params, control = ctl)
  expect_equal(ch$loglik, ref$loglik, tolerance = 1e-12)
  expect_equal(ch$params, ref$params, tolerance = 1e-10)
  expect_s3_class(ch, "lvm_chunked_fit")
  expect_equal(fit_lvm(m, lvm_chunks(seqs))$loglik, mem$loglik, tolerance = 1e-7)
})

test_that("what chunked EM cannot do is a classed error before any pass", {
  x <- gmm_data(500L)
  ch <- lvm_chunks(list(x[1:200, ], x[201:500, ]))
  m <- mixture(ef_normal(3), 2)
  expect_error(fit_lvm(m, ch, weights = rep(1, 500)), class = "harmonium_error_unsupported")
  expect_error(fit_lvm(m, ch, method = "gradient"), class = "harmonium_error_unsupported")
  expect_error(fit_lvm(lds(1, 1), lvm_chunks(list(matrix(rnorm(50)))), method = "gradient"),
    class = "harmonium_error_unsupported")
  expect_error(fit_lvm(hmm(ef_normal(3), 2), ch, na_action = "omit"), class = "harmonium_error_argument")
  expect_error(fit_lvm(mixture(ef_normal(3), 600), ch), class = "harmonium_error_data")
  expect_error(fit_lvm(mixture(ef_normal(2), 2), ch), class = "harmonium_error_data")
})

test_that("methods stream over chunks: predict, posterior, log_density, logLik, summary", {
  parts <- split(faithful, rep(1:3, length.out = nrow(faithful)))
  ch <- lvm_chunks(parts)
  m <- mixture(ef_normal(2), 2)
  f <- fit_lvm(m, ch, init = fit_lvm(m, faithful)$params)
  mem <- with_params(m, f$params, faithful)
  expect_equal(logLik(f), logLik(fit_lvm(m, faithful, init = f$params)), tolerance = 1e-12)
  pr <- predict(f)
  expect_length(pr, 3L)
  expect_identical(unname(unlist(pr)), unname(predict(mem, do.call(rbind, parts))))
  post <- posterior(f)
  expect_equal(do.call(rbind, post), posterior(mem, do.call(rbind, parts)), tolerance = 1e-14)
  ld <- log_density(f, ch)
  expect_equal(sum(unlist(ld)), f$loglik, tolerance = 1e-10)
  got <- list()
  rows <- predict(f, type = "posterior", to = function(i, r) got[[i]] <<- r)
  expect_identical(rows, nrow(faithful) + 0)
  expect_identical(got, predict(f, type = "posterior"))
  expect_error(predict(f, to = "table"), class = "harmonium_error_argument")
  s <- summary(f)
  expect_equal(sum(s$sizes), nrow(faithful), tolerance = 1e-6)
  expect_output(print(s), "Expected cluster sizes")
  expect_false(any(grepl("attr(,", capture.output(print(s)), fixed = TRUE)))
  expect_output(print(f), "log-likelihood")
  expect_error(vcov(f), class = "harmonium_error_unsupported")
})

test_that("under multisession and a PSOCK cluster of 2 workers the fits are identical", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("parallelly")
  x <- gmm_data()
  m <- mixture(ef_normal(3), 2)
  # Twelve iterations each (the schedule, not convergence, is under test).
  ctl <- lvm_control(maxit = 12, tol = 0)
  ref <- fit_lvm(m, x, init = gmm_init, control = ctl)
  y <- lca_data()
  ml <- lca_model()
  st <- suppressWarnings(fit_lvm(ml, y, control = lvm_control(n_init = 1, maxit = 3)))
  ref_l <- fit_lvm(ml, y, init = st$params, control = ctl)
  z <- fa_data()
  mf <- factor_analysis(6, 2)
  st_f <- suppressWarnings(fit_lvm(mf, z, control = lvm_control(maxit = 2)))
  ref_f <- fit_lvm(mf, z, init = st_f$params)
  old <- future::plan()
  on.exit(future::plan(old), add = TRUE)
  cl <- parallelly::makeClusterPSOCK(2L)
  on.exit(parallel::stopCluster(cl), add = TRUE)
  for (pl in c("multisession", "cluster")) {
    if (pl == "multisession") future::plan(future::multisession, workers = 2L) else
      future::plan(future::cluster, workers = cl)
    for (k in c(3L, 7L)) {
      expect_same_fit(fit_lvm(m, lvm_chunks(split_rows(x, k)), init = gmm_init, control = ctl), ref,
        info = paste(pl, "GMM", k))
    }
    expect_same_fit(fit_lvm(ml, lvm_chunks(split_rows(y, 3L)), init = st$params, control = ctl), ref_l,
      info = paste(pl, "LCA"))
    expect_same_fit(fit_lvm(mf, lvm_chunks(split_rows(z, 3L)), init = st_f$params), ref_f, info = paste(pl, "FA"))
  }
})

test_that("a worker that dies mid-iteration is replaced, its chunk retried, and the fit unchanged", {
  skip_on_cran()
  skip_if_not_installed("future")
  x <- gmm_data(4000L)
  m <- mixture(ef_normal(3), 2)
  ctl <- lvm_control(maxit = 6, tol = 0)
  ref <- fit_lvm(m, x, init = gmm_init, control = ctl)
  dir <- tempfile("chunks")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  # Chunk 2 holds whole blocks of the E-step's grid, so every E-step reads it.
  pieces <- list(x[1:1000, ], x[1001:2500, ], x[2501:4000, ])
  for (j in 1:3) saveRDS(pieces[[j]], file.path(dir, paste0(j, ".rds")))
  marker <- file.path(dir, "killed")
  driver <- Sys.getpid()
  # Chunk 2's reader kills its worker the 4th time it is read (an E-step,
  # after the counts and the data pass), once.
  reader <- function(i) {
    if (i == 2L && Sys.getpid() != driver) {
      reads <- file.path(dir, "reads")
      cnt <- if (file.exists(reads)) readRDS(reads) + 1L else 1L
      saveRDS(cnt, reads)
      if (cnt == 4L && !file.exists(marker)) {
        file.create(marker)
        quit(save = "no", status = 1L)
      }
    }
    readRDS(file.path(dir, paste0(i, ".rds")))
  }
  old <- future::plan()
  on.exit(future::plan(old), add = TRUE)
  future::plan(future::multisession, workers = 2L)
  fit <- suppressWarnings(fit_lvm(m, lvm_chunks(reader, n = 3L), init = gmm_init, control = ctl))
  expect_true(file.exists(marker))
  expect_same_fit(fit, ref)
  # A chunk that fails on every read is reported by number.
  bad <- function(i) if (i == 2L) stop("disk on fire") else pieces[[i]]
  expect_error(fit_lvm(m, lvm_chunks(bad, n = 3L), init = gmm_init, control = ctl), "Chunk 2",
    class = "harmonium_error_chunk_failed")
})

test_that("fits from CSV files, a Parquet dataset and a DuckDB table equal the in-memory fits", {
  dir <- tempfile("src")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  x <- gmm_data(3001L)
  colnames(x) <- c("a", "b", "c")
  pieces <- split_rows(as.data.frame(x), 3L)
  m <- mixture(ef_normal(3), 2)
  # CSV: the reference is the rows as the files give them back.
  csv <- file.path(dir, sprintf("part-%d.csv", 1:3))
  for (j in 1:3) utils::write.csv(pieces[[j]], csv[j], row.names = FALSE)
  back <- do.call(rbind, lapply(csv, utils::read.csv))
  expect_same_fit(fit_lvm(m, lvm_chunks(csv), init = gmm_init), fit_lvm(m, back, init = gmm_init))
  skip_if_not_installed("nanoparquet")
  pq <- file.path(dir, "pq")
  dir.create(pq)
  for (j in 1:3) nanoparquet::write_parquet(pieces[[j]], file.path(pq, sprintf("part-%d.parquet", j)))
  ref <- fit_lvm(m, x, init = gmm_init)
  expect_same_fit(fit_lvm(m, lvm_chunks(pq), init = gmm_init), ref)
  z <- fa_data(2000L)
  colnames(z) <- paste0("v", 1:6)
  zp <- split_rows(as.data.frame(z), 3L)
  for (j in 1:3) nanoparquet::write_parquet(zp[[j]], file.path(pq, sprintf("fa-%d.parquet", j)))
  mf <- factor_analysis(6, 2)
  st <- suppressWarnings(fit_lvm(mf, z, control = lvm_control(maxit = 2)))
  expect_same_fit(fit_lvm(mf, lvm_chunks(file.path(pq, sprintf("fa-%d.parquet", 1:3))), init = st$params),
    fit_lvm(mf, z, init = st$params))
  skip_if_not_installed("duckdb")
  db <- file.path(dir, "data.duckdb")
  con <- DBI::dbConnect(duckdb::duckdb(), dbdir = db)
  DBI::dbWriteTable(con, "gmm", as.data.frame(x))
  y <- lca_data(2500L)
  DBI::dbWriteTable(con, "lca", y)
  DBI::dbDisconnect(con, shutdown = TRUE)
  con <- DBI::dbConnect(duckdb::duckdb(), dbdir = db, read_only = TRUE)
  on.exit(DBI::dbDisconnect(con, shutdown = TRUE), add = TRUE)
  expect_same_fit(fit_lvm(m, lvm_chunks(con, table = "gmm", chunk_rows = 700), init = gmm_init), ref)
  ml <- lca_model()
  st <- suppressWarnings(fit_lvm(ml, y, control = lvm_control(n_init = 1, maxit = 3)))
  expect_same_fit(fit_lvm(ml, lvm_chunks(con, query = "SELECT a, b, c FROM lca", chunk_rows = 1000),
    init = st$params), fit_lvm(ml, y, init = st$params))
  # The same table from workers in other processes (each opens the file read-only).
  skip_on_cran()
  skip_if_not_installed("future")
  old <- future::plan()
  on.exit(future::plan(old), add = TRUE)
  future::plan(future::multisession, workers = 2L)
  expect_same_fit(fit_lvm(m, lvm_chunks(con, table = "gmm", chunk_rows = 700), init = gmm_init,
    control = lvm_control(maxit = 8, tol = 0)), fit_lvm(m, x, init = gmm_init, control = lvm_control(maxit = 8, tol = 0)))
})

test_that("progressr gets one tick per chunk per pass", {
  skip_if_not_installed("progressr")
  x <- gmm_data(2000L)
  m <- mixture(ef_normal(3), 2)
  # (progressr signals only when enabled; its default is interactive().)
  old <- options(progressr.enable = TRUE)
  on.exit(options(old), add = TRUE)
  ticks <- 0L
  withCallingHandlers(
    fit_lvm(m, lvm_chunks(split_rows(x, 4L)), init = gmm_init, control = lvm_control(maxit = 3, tol = 0)),
    progression = function(p) if (identical(p$type, "update")) ticks <<- ticks + 1L
  )
  # The data pass, three E-steps and the final one at the fitted parameters.
  expect_identical(ticks, 4L * 5L)
})
