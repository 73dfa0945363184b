# Exact EM over chunked data sources (lvm_chunks(), R/chunk-sources.R) on
# any future::plan(): the same fit, bit for bit, as fit_lvm() on the
# rows in memory.
#
# Every sum the fit needs (the data pass's moments, the E-step's
# statistics, the factor-analysis moments) is taken by the engine over
# blocks of rows and reduced by a fixed binary tree over the blocks' GLOBAL
# indices (hm_tree, src/engine/hm_engine.h). A worker holding rows
# [s, e) of the data computes the tree's nodes for the whole blocks inside
# them; the rows before its first block boundary and after its last (its
# head and tail, fewer than a block each) belong to blocks it shares with
# its neighbours. The driver keeps those fragments from the first pass
# (at most two blocks of rows per chunk), assembles each shared block once
# and computes its nodes itself; folding all nodes in block order by the
# tree's rule gives the bits one pass over all the rows gives. Workers
# return nodes only (O(log n) vectors of statistics per chunk).
#
# Passes: (0) rows per chunk (and the column layout); (1) the data pass
# (missing values, supports, the standardisation moments) with the shifts
# of the whole data's first block; then one pass per EM iteration, all live
# starts evaluated together. Factor analysis and the LGM need one pass for
# their moments and iterate on them in memory.

# --- mapping chunks over the plan ------------------------------------------------

# Runs task(i) for every chunk i through the user's future plan (or in
# this process when future is missing or the plan is sequential) and
# returns the results in chunk order. A task that fails for another reason
# than a harmonium error (a dead worker, a lost connection) is retried once
# on whatever worker the plan gives next; a second failure is an error
# naming the chunk. progressr (when installed) gets one tick per chunk.
chunk_map <- function(n_chunks, task, what, call) {
  out <- vector("list", n_chunks)
  tick <- chunk_progressor(n_chunks, what)
  if (!chunk_use_future()) {
    for (i in seq_len(n_chunks)) {
      out[[i]] <- chunk_try(task, i, what, call, launch = NULL)
      tick()
    }
    return(out)
  }
  launch <- function(i) {
    future::future(task(i), seed = NULL, globals = list(task = task, i = i),
      packages = "harmonium", label = sprintf("harmonium-chunk-%d", i))
  }
  fs <- vector("list", n_chunks)
  for (i in seq_len(n_chunks)) fs[[i]] <- launch(i)
  for (i in seq_len(n_chunks)) {
    out[[i]] <- chunk_try(task, i, what, call, launch = launch, fut = fs[[i]])
    fs[i] <- list(NULL)
    tick()
  }
  out
}

# A task for chunk_map(): function(i) .f(i, ...) whose environment holds
# only .f and the arguments (a closure made in a driver's frame would ship
# that whole frame, data included, to every worker).
chunk_task <- function(.f, ...) {
  .args <- list(...)
  f <- function(i) do.call(.f, c(list(i), .args))
  environment(f) <- list2env(list(.f = .f, .args = .args), parent = asNamespace("harmonium"))
  f
}

chunk_use_future <- function() {
  requireNamespace("future", quietly = TRUE) && !inherits(future::plan(), "sequential")
}

# The value of chunk i's task (from its future when given), retried once.
chunk_try <- function(task, i, what, call, launch, fut = NULL) {
  run <- function(f) {
    if (is.null(f)) task(i) else future::value(f)
  }
  # harmonium's own errors are the data's (the same on any worker) and are
  # raised at once, except a failed read of the source.
  final <- function(e) inherits(e, "harmonium_error") && !inherits(e, "harmonium_error_chunk_read")
  first <- tryCatch(run(fut), error = function(e) e)
  if (!inherits(first, "error")) return(first)
  if (final(first)) stop(first)
  retry <- tryCatch(run(if (is.null(launch)) NULL else launch(i)), error = function(e) e)
  if (!inherits(retry, "error")) return(retry)
  if (final(retry)) stop(retry)
  abort_hm(c("Chunk {i} failed twice in {what}.",
    x = "First: {conditionMessage(first)}", x = "Then: {conditionMessage(retry)}"),
    "chunk_failed", call = call)
}

chunk_progressor <- function(n, what) {
  if (!requireNamespace("progressr", quietly = TRUE)) return(function() invisible())
  p <- progressr::progressor(steps = n)
  function() p(message = what)
}

# --- the layout ---------------------------------------------------------------------

# Chunk i's rows, less those with a missing value under na_action = "omit".
chunk_read_rows <- function(src, i, na_action) {
  df <- chunk_read(src, i)
  if (na_action == "omit" && NROW(df) > 0L) {
    keep <- stats::complete.cases(df)
    if (!all(keep)) df <- df[keep, , drop = FALSE]
  }
  df
}

# The block layout of rows [s, e) (0-based, e exclusive) of n rows in
# blocks of B: the head [s, a), whole blocks [a, z) (from block a / B) and
# the tail [z, e), as counts of rows from the chunk's start.
chunk_blocks <- function(s, e, n, B) {
  a <- min(ceiling(s / B) * B, e)
  z <- if (e == n) e else max(floor(e / B) * B, a)
  list(head = a - s, body = c(a - s, z - s), tail = e - z, b0 = a / B, nb = if (z > a) ceiling((z - a) / B) else 0)
}

# Nodes of the blocks that straddle chunks, from the chunks' fragments:
# fragments[[i]] = list(head = rows, tail = rows) (data frames or
# matrices), layout = the chunk starts. Returns, per straddled block b, the
# block's rows in order, as list(b0 = b, rows = ...).
chunk_shared_blocks <- function(frag, starts, counts, n, B) {
  blocks <- list()
  for (i in seq_along(frag)) {
    s <- starts[i]
    e <- s + counts[i]
    if (counts[i] == 0) next
    ly <- chunk_blocks(s, e, n, B)
    add <- function(rows, first) {
      if (NROW(rows) == 0L) return()
      g <- first + seq_len(NROW(rows)) - 1
      for (b in unique(floor(g / B))) {
        key <- as.character(b)
        piece <- rows[floor(g / B) == b, , drop = FALSE]
        blocks[[key]] <<- if (is.null(blocks[[key]])) list(b0 = b, rows = piece) else
          list(b0 = b, rows = rbind(blocks[[key]]$rows, piece))
      }
    }
    add(frag[[i]]$head, s)
    if (NROW(frag[[i]]$tail)) add(frag[[i]]$tail, e - NROW(frag[[i]]$tail))
  }
  blocks[order(vapply(blocks, `[[`, numeric(1), "b0"))]
}

# Folds a list of node sets (list(lo, size, val)) by the engine's rule.
chunk_fold <- function(node_sets, nb, call) {
  node_sets <- node_sets[!vapply(node_sets, is.null, logical(1))]
  lo <- unlist(lapply(node_sets, `[[`, "lo"))
  size <- unlist(lapply(node_sets, `[[`, "size"))
  val <- do.call(cbind, lapply(node_sets, `[[`, "val"))
  o <- order(lo)
  tot <- native_tree_fold(lo[o], size[o], val[, o, drop = FALSE], nb)
  if (is.null(tot)) abort_hm("The chunks' statistics do not cover the data's blocks (an internal error).", "internal", call = call)
  tot
}

# --- the worker's side ------------------------------------------------------------

# The engine's rows of chunk df for `model` (support and missing values
# checked, factors coded), standardised by sc: what prepare_data() gives
# for the same rows in memory.
chunk_engine_rows <- function(model, df, sc, threads, call, row0 = 0) {
  x <- chunk_checked_pass(model, df, call, threads, row0)$x
  scale_data(sc, x, threads)
}

# data_pass() on a chunk whose first row is global row row0 + 1 (errors
# name global rows), with `part` for the moments' tree nodes.
chunk_checked_pass <- function(model, df, call, threads, row0 = 0, part = NULL) {
  fam <- model$obs
  src <- data_source(df, "data", call)
  if (src$d != fam$d) {
    abort_hm("Chunk rows have {src$d} column{?s} but {model$label} needs {fam$d}.", "data", call = call)
  }
  data_pass(fam, src, "data", call, threads, row0 = row0, part = part)
}

# --- the fit ------------------------------------------------------------------------

fit_chunked <- function(model, src, init, method, control, weights, na_action, call, env) {
  if (!is.null(weights)) {
    abort_hm(c("{.arg weights} are not supported with chunked data.", i = "Fit the rows in memory to weight them."),
      "unsupported", call = env)
  }
  if (method == "auto") method <- "em"
  if (is_sequence_model(model)) {
    if (method != "em") {
      abort_hm("Sequence models are fitted by Baum-Welch (exact EM); use {.code method = \"em\"}.", "unsupported",
        call = env)
    }
    return(fit_chunked_hmm(model, src, init, control, na_action, call, env))
  }
  if (method != "em" || isFALSE(model$has_em)) {
    abort_hm("Chunked data are fitted by EM; {model$label} {if (isFALSE(model$has_em)) 'has none' else 'needs method = \"em\"'}.",
      "unsupported", call = env)
  }
  threads <- resolve_threads(control$threads)
  nc <- chunk_count(src)
  # Pass 0: rows per chunk.
  counts <- chunk_nrows(src)
  if (is.null(counts) || na_action == "omit") {
    counts <- unlist(chunk_map(nc, chunk_task(chunk_count_task, src = src, na_action = na_action),
      "counting rows", env))
  }
  counts <- as.double(counts)
  n <- sum(counts)
  if (n == 0) abort_hm("{.arg data} has no rows.", "data", call = env)
  if (n > .Machine$integer.max) {
    abort_hm("{.arg data} has {format(n, big.mark = ',')} rows; the engine counts rows in 32-bit integers.", "data", call = env)
  }
  starts <- c(0, cumsum(counts))[seq_len(nc)]
  first <- which(counts > 0)[1L]
  # The model adopts the first chunk's level names; the whole data's first
  # block (read here, usually from the first chunk alone) gives the shifts
  # of the standardisation moments, as the in-memory data pass takes them.
  d0 <- chunk_read_rows(src, first, na_action)
  model <- prepare_data(model, d0[seq_len(min(NROW(d0), 2L)), , drop = FALSE], NULL, "fail", env)$model
  if (!is.null(model[["k"]]) && model[["k"]] > n) {
    abort_hm("{.arg model} has {model$k} components but {.arg data} has only {n} row{?s}.", "data", call = env)
  }
  fam <- model$obs
  d <- fam$d
  Bs <- native_col_block_rows(n, d)
  Be <- native_estep_block_rows(model)
  fb <- chunk_first_block(src, d0, first, counts, min(n, Bs), na_action)
  fb_pass <- chunk_checked_pass(model, fb, env, 1L)
  shift <- fb_pass$shift

  # Pass 1: the data pass over the chunks' whole blocks, their fragments
  # for both block sizes kept.
  parts <- lapply(seq_len(nc), function(i) {
    s <- starts[i]
    e <- s + counts[i]
    list(scan = chunk_blocks(s, e, n, Bs), estep = chunk_blocks(s, e, n, Be))
  })
  p1 <- chunk_map(nc, chunk_task(chunk_scan_task, src = src, model = model, na_action = na_action, parts = parts,
    Bs = Bs, shift = shift, starts = starts, counts = counts), "the data pass", env)
  frag <- lapply(p1, `[[`, "frag")
  shared <- chunk_shared_blocks(lapply(frag, `[[`, "scan"), starts, counts, n, Bs)
  nodes <- c(lapply(p1, `[[`, "nodes"), lapply(shared, function(b) {
    chunk_checked_pass(model, b$rows, env, 1L, row0 = b$b0 * Bs, part = c(b$b0, Bs, shift))$nodes
  }))
  sums <- chunk_fold(nodes, ceiling(n / Bs), env)
  mo <- native_data_scan_finish(sums, shift, fb_pass$moments, n)
  sc <- make_scaler(fam, matrix(0, 0L, d), list(mean = mo$mean, rms = mo$rms))
  check_scaler(sc, matrix(0, 0L, d), env, sumsq = mo$sumsq)
  ctrl <- fam_ctrl(reg = control$reg, floor = mixture_floor, lower = fit_lower(model, control))
  ll_offset <- n * sc$log_jac
  # The blocks of the E-step's grid that straddle chunks, in engine units.
  shared_e <- lapply(chunk_shared_blocks(lapply(frag, `[[`, "estep"), starts, counts, n, Be), function(b) {
    list(b0 = b$b0, x = chunk_engine_rows(model, b$rows, sc, threads, env))
  })
  nb_e <- ceiling(n / Be)
  layout <- list(src = src, model = model, sc = sc, na_action = na_action, starts = starts, counts = counts,
    n = n, Be = Be, nb = nb_e, shared = shared_e, parts = parts, threads = control$threads)

  # Starts: the user's, or the model's own starts on a seeded sample of chunks.
  if (!is.null(init)) {
    th0 <- list(model_init(model, matrix(0, 0L, d), NULL, init, ctrl, threads, sc, env))
  } else {
    smp <- chunk_start_sample(layout, control, env)
    th0 <- list()
    cache <- start_cache()
    for (i in seq_len(control$n_init)) {
      th <- start_theta(model, smp$xs, smp$x, NULL, NULL, i, control, ctrl, threads, sc, env, cache)
      if (!is.null(th) && !inherits(th, "hm_start_duplicate")) th0[[length(th0) + 1L]] <- th
    }
    if (!length(th0)) abort_hm("No start gave valid parameters on the sample of chunks.", "fit_failed", call = env)
  }
  em <- if (isTRUE(model$em_moments)) {
    mom <- chunk_lgm_moments(layout, env)
    lapply(th0, function(th) run_em(model, th, NULL, NULL, ctrl, control, threads, mom = mom))
  } else {
    chunk_run_em(layout, th0, ctrl, control, env)
  }
  # The best start, as fit_lvm() chooses.
  best <- NULL
  starts_tab <- data.frame(start = seq_along(em), loglik = NA_real_, iterations = 0L, status = "failed",
    note = "", stringsAsFactors = FALSE)
  for (i in seq_along(em)) {
    e <- em[[i]]
    nt <- length(e$trace)
    if (!(nt > 0L && is.finite(e$trace[nt]) && all(is.finite(e$theta)))) {
      starts_tab$note[i] <- "EM ended where the log-likelihood is not finite"
      next
    }
    ll <- e$trace[nt] - ll_offset
    starts_tab$loglik[i] <- ll
    starts_tab$iterations[i] <- nt
    starts_tab$status[i] <- if (e$converged) "converged" else if (e$status == 1L) "max_iter" else
      paste0("stopped: ", hm_status_names[e$status + 1L])
    health <- if (e$status <= 1L) mixture_health(model, e$theta, NULL, NULL, eff = mixture_eff(model, e$stats)) else ""
    if (nzchar(health)) {
      starts_tab$status[i] <- "degenerate"
      starts_tab$note[i] <- health
    }
    healthy <- e$status <= 1L && !nzchar(health)
    if (is.null(best) || (healthy && !best$healthy) || (healthy == best$healthy && ll > best$loglik)) {
      best <- list(em = e, loglik = ll, start = i, healthy = healthy, health = health)
    }
  }
  report_starts(best, starts_tab, control, "Try {.code lvm_control(reg = 1e-6)}, fewer components, or {.arg init}.", env)
  e <- best$em
  if (e$status > 1L) {
    warn_hm("EM stopped: {collapse_note(e, \"component\", length(e$trace))}.", "collapse")
  } else if (nzchar(best$health)) {
    warn_hm("Every start ended degenerate; the best one's {best$health}.", "collapse")
  } else if (!e$converged) {
    warn_not_converged("EM", control)
  }
  trace <- e$trace - ll_offset
  check_monotone(trace)
  theta <- model_canonical(model, e$theta)
  stats <- if (isTRUE(e$at_theta) && identical(theta, e$theta) && !anyNA(e$stats)) e$stats else
    chunk_stats(layout, list(theta), env)[[1L]]$stats
  loglik <- stats[model$dim + 1L] - ll_offset
  starts_tab$loglik[best$start] <- loglik
  params <- model_name_params(model, model_affine(model, sc, model_to_src(model, theta), inverse = TRUE))
  fit <- structure(
    list(model = model, params = params, theta = theta, scaler = sc, loglik = loglik, trace = loglik,
      iterations = 0L, converged = NA, n = as.integer(n), df = model$n_free, weights = NULL, x = NULL,
      posterior = NULL, logp = NULL, call = call, source = src, chunks = nc, stats = stats),
    class = unique(c(paste0(model$kind, "_fit"), model$fit_class, "lvm_chunked_fit", "lvm_fit"))
  )
  fit <- fit_record_em(fit, trace, length(e$trace), isTRUE(e$converged), hm_status_names[e$status + 1L],
    starts_tab, best$start, control, method)
  diagnose_fit(fit, NULL, NULL)
  fit
}

# The rows of the whole data's first block (n_first rows): from the first
# chunk d0, and from the next chunks when it is shorter.
chunk_first_block <- function(src, d0, first, counts, n_first, na_action) {
  rows <- d0
  i <- first
  while (NROW(rows) < n_first && i < length(counts)) {
    i <- i + 1L
    if (counts[i] > 0) rows <- rbind(rows, chunk_read_rows(src, i, na_action))
  }
  rows[seq_len(n_first), , drop = FALSE]
}

native_col_block_rows <- function(n, d) .Call(C_col_block_rows, as.double(n), as.integer(d))

# Pass 1 on a worker: the data pass over chunk i's whole blocks (moment
# nodes, missing values and supports checked, rows named globally) and the
# fragments of both block grids.
chunk_count_task <- function(i, src, na_action) NROW(chunk_read_rows(src, i, na_action))

chunk_scan_task <- function(i, src, model, na_action, parts, Bs, shift, starts, counts) {
  call <- NULL
  part <- parts[[i]]
  start <- starts[i]
  count <- counts[i]
  df <- chunk_read_rows(src, i, na_action)
  if (NROW(df) != count) {
    abort_hm("Chunk {i} had {count} row{?s} when counted and has {NROW(df)} now; sources must give the same rows on every read.",
      "data", call = call)
  }
  s <- part$scan
  nodes <- NULL
  if (s$body[2] > s$body[1]) {
    rows <- df[(s$body[1] + 1):s$body[2], , drop = FALSE]
    nodes <- chunk_checked_pass(model, rows, call, 1L, row0 = start + s$body[1], part = c(s$b0, Bs, shift))$nodes
  }
  frag <- function(ly) {
    list(head = df[seq_len(ly$head), , drop = FALSE],
      tail = df[count - ly$tail + seq_len(ly$tail), , drop = FALSE])
  }
  list(nodes = nodes, frag = list(scan = frag(part$scan), estep = frag(part$estep)))
}

# One E-step pass at each theta in `thetas`: per theta list(stats, status).
chunk_stats <- function(layout, thetas, call) {
  ly <- layout
  th <- do.call(cbind, thetas)
  task <- chunk_task(chunk_estep_task, src = ly$src, model = ly$model, sc = ly$sc, na_action = ly$na_action,
    parts = ly$parts, th = th, threads = ly$threads)
  res <- chunk_map(length(ly$counts), task, "an E-step", call)
  shared <- lapply(ly$shared, function(b) native_estep_part(ly$model, th, b$x, b$b0, resolve_threads(ly$threads)))
  lapply(seq_along(thetas), function(s) {
    sets <- c(lapply(res, function(r) if (is.null(r)) NULL else r[[s]]), lapply(shared, `[[`, s))
    bad <- vapply(sets, function(x) !is.null(x) && x$status != 0L, logical(1))
    if (any(bad)) return(list(stats = NULL, status = sets[[which(bad)[1L]]]$status))
    list(stats = chunk_fold(lapply(sets, function(x) x$nodes), ly$nb, call), status = 0L)
  })
}

chunk_estep_task <- function(i, src, model, sc, na_action, parts, th, threads) {
  part <- parts[[i]]$estep
  if (part$nb == 0) return(NULL)
  threads <- resolve_threads(threads)
  df <- chunk_read_rows(src, i, na_action)
  rows <- df[(part$body[1] + 1):part$body[2], , drop = FALSE]
  x <- chunk_engine_rows(model, rows, sc, threads, NULL)
  native_estep_part(model, th, x, part$b0, threads)
}

native_estep_part <- function(m, th, x, b0, threads) {
  res <- .Call(C_model_estep_part, m$hm_kind, m$obs_spec, m$lat_spec, th, x, NULL, as.double(b0), as.integer(threads))
  lapply(res, function(r) list(nodes = r$nodes, status = r$status))
}

native_tree_fold <- function(lo, size, val, nb) .Call(C_tree_fold, lo, size, val, as.double(nb))
native_data_scan_part <- function(x, spec, sup, threads, part) {
  .Call(C_data_scan_part, x, spec, sup, as.integer(threads), as.double(part))
}
native_data_scan_finish <- function(sums, shift, moments, n) {
  .Call(C_data_scan_finish, as.double(sums), as.double(shift), as.double(moments), as.double(n))
}
native_lgm_moments_unpack <- function(m, tot) .Call(C_lgm_moments_unpack, m$hm_kind, m$obs_spec, m$lat_spec, tot)

native_estep_block_rows <- function(m) .Call(C_model_block_rows, m$hm_kind, m$obs_spec, m$lat_spec)

native_em_mstep <- function(m, stats, ctrl) .Call(C_em_mstep, m$hm_kind, m$obs_spec, m$lat_spec, stats, ctrl)

# EM for every start in lockstep, one pass over the chunks per iteration
# (the live starts' E-steps in the same pass), each start's iterations as
# glue_em.c's loop runs them: the trace holds the log-likelihood at the
# start of each iteration; a start stops on the relative-change test, a
# failed M-step or E-step, or maxit.
chunk_run_em <- function(layout, th0, ctrl, control, call) {
  m <- layout$model
  S <- length(th0)
  st <- lapply(th0, function(th) list(cur = th, trace = numeric(0), ll_old = NA_real_, done = FALSE,
    converged = FALSE, status = 1L, bad = -1L, at_theta = FALSE, stats = NULL))
  tol <- control$tol
  it <- 0L
  progress_start()
  while (it < control$maxit && !all(vapply(st, `[[`, logical(1), "done"))) {
    it <- it + 1L
    live <- which(!vapply(st, `[[`, logical(1), "done"))
    es <- chunk_stats(layout, lapply(st[live], `[[`, "cur"), call)
    for (j in seq_along(live)) {
      s <- st[[live[j]]]
      r <- es[[j]]
      if (r$status != 0L) {
        s$status <- r$status
        s$done <- TRUE
        st[[live[j]]] <- s
        next
      }
      ll <- r$stats[m$dim + 1L]
      s$trace <- c(s$trace, ll)
      ms <- native_em_mstep(m, r$stats, ctrl)
      if (ms$status != 0L) {
        s$status <- ms$status
        s$bad <- ms$bad
        s$at_theta <- TRUE
        s$stats <- r$stats
        s$done <- TRUE
      } else if (is.finite(s$ll_old) && abs(ll - s$ll_old) / (1 + abs(ll)) < tol) {
        s$converged <- TRUE
        s$status <- 0L
        s$at_theta <- TRUE
        s$stats <- r$stats
        s$done <- TRUE
      } else {
        s$ll_old <- ll
        s$cur <- ms$theta
      }
      st[[live[j]]] <- s
    }
    progress_tick(st[[live[1L]]]$trace - layout$n * layout$sc$log_jac)
  }
  lapply(st, function(s) list(theta = s$cur, trace = s$trace, status = if (!s$done) 1L else s$status, bad = s$bad,
    converged = s$converged, abandoned = FALSE, at_theta = s$at_theta, stats = s$stats))
}

# The linear-Gaussian kinds' data moments over the chunks (one pass).
chunk_lgm_moments <- function(layout, call) {
  ly <- layout
  task <- chunk_task(chunk_moments_task, src = ly$src, model = ly$model, sc = ly$sc, na_action = ly$na_action,
    parts = ly$parts, threads = ly$threads)
  res <- chunk_map(length(ly$counts), task, "the data's moments", call)
  shared <- lapply(ly$shared, function(b) native_lgm_moments_part(ly$model, b$x, b$b0, resolve_threads(ly$threads)))
  sets <- c(res, shared)
  sets <- sets[!vapply(sets, is.null, logical(1))]
  for (s in sets) stop_status(s, "the data's moments", call = call)
  tot <- chunk_fold(lapply(sets, `[[`, "nodes"), ly$nb, call)
  native_lgm_moments_unpack(ly$model, tot)
}

chunk_moments_task <- function(i, src, model, sc, na_action, parts, threads) {
  part <- parts[[i]]$estep
  if (part$nb == 0) return(NULL)
  threads <- resolve_threads(threads)
  df <- chunk_read_rows(src, i, na_action)
  x <- chunk_engine_rows(model, df[(part$body[1] + 1):part$body[2], , drop = FALSE], sc, threads, NULL)
  native_lgm_moments_part(model, x, part$b0, threads)
}

native_lgm_moments_part <- function(m, x, b0, threads) {
  .Call(C_lgm_moments_part, m$hm_kind, m$obs_spec, m$lat_spec, x, NULL, as.double(b0), as.integer(threads))
}

# A seeded sample of whole chunks, up to start_rows rows (at least one
# chunk), for the model's starts, in engine units.
chunk_start_sample <- function(layout, control, call) {
  ly <- layout
  nc <- length(ly$counts)
  cap <- chunk_start_rows
  ord <- with_seed(if (is.null(control$seed)) default_seed else control$seed, sample.int(nc))
  ord <- ord[ly$counts[ord] > 0]
  take <- ord[seq_len(max(1L, sum(cumsum(ly$counts[ord]) <= cap)))]
  take <- sort(take)
  threads <- resolve_threads(ly$threads)
  parts <- lapply(take, function(i) {
    df <- chunk_read_rows(ly$src, i, ly$na_action)
    chunk_checked_pass(ly$model, df, call, threads, row0 = ly$starts[i])$x
  })
  x <- do.call(rbind, parts)
  list(x = x, xs = scale_data(ly$sc, x, threads), chunks = take)
}

# Rows of the sample of chunks the starts of a chunked fit are taken from.
chunk_start_rows <- 200000

# --- methods on chunked sources -------------------------------------------------------

# The chunked source a method streams over: newdata when it is one, the
# fit's own source when newdata is missing from a chunked fit, else NULL.
chunk_newdata <- function(fit, newdata) {
  if (is_lvm_chunks(newdata)) return(newdata)
  if (is.null(newdata) && inherits(fit, "lvm_chunked_fit")) return(fit$source)
  NULL
}

# fun(fit, rows) for every chunk of src, on the workers of the plan; the
# fit goes to them without its source. Results in chunk order: a list, or,
# with `to` (a function(i, result), e.g. appending to a database table),
# handed to `to` in chunk order by the driver and counted (invisibly).
chunk_apply_fit <- function(fit, src, fun, what, to = NULL, call = rlang::caller_env()) {
  if (!is.null(to) && !is.function(to)) {
    abort_hm("{.arg to} must be a function(i, result) or NULL.", "argument", call = call)
  }
  light <- fit
  light$source <- NULL
  class(light) <- setdiff(class(fit), "lvm_chunked_fit")
  res <- chunk_map(chunk_count(src), chunk_task(chunk_fit_task, src = src, fit = light, fun = fun), what, call)
  if (is.null(to)) return(res)
  rows <- 0
  for (i in seq_along(res)) {
    to(i, res[[i]])
    rows <- rows + NROW(res[[i]])
  }
  invisible(rows)
}

chunk_fit_task <- function(i, src, fit, fun) fun(fit, chunk_read(src, i))

# The log-likelihood of a fit on a chunked source, streamed: the sum over
# chunks of log_density() (each chunk's rows in order).
chunk_loglik <- function(fit, src, call = rlang::caller_env()) {
  parts <- chunk_apply_fit(fit, src, function(f, d) sum(log_density(f, d)), "the log-likelihood", call = call)
  sum(unlist(parts))
}

# A chunked fit's expected cluster sizes (the posterior weights summed by
# its last E-step); summary() shows them in place of the MAP table.
chunked_sizes <- function(fit) {
  eff <- mixture_eff(fit$model, fit$stats)
  if (is.null(eff)) return(NULL)
  names(eff) <- seq_along(eff)
  structure(round(eff, 1), expected = TRUE)
}

# --- hidden Markov models on chunks of whole sequences ------------------------------

# A chunk of a sequence model is any sequence form fit_lvm() takes (a list
# of sequences, or one sequence as a vector, matrix or data frame); a
# sequence is never split. Baum-Welch's E-step statistics (the chain's and
# the emissions') are sums over sequences: each worker returns its chunk's,
# the driver adds them in chunk order and runs the update
# (hm_hmm_em_update). The fit is exact EM and the same for any plan and
# worker count; one chunk gives the in-memory fit's bits, and other
# chunkings agree with it to rounding.
fit_chunked_hmm <- function(model, src, init, control, na_action, call, env) {
  if (na_action == "omit") {
    abort_hm(c("{.arg na_action} does not apply to sequence models.",
      i = "Missing observations are skipped by the update step; the state is still predicted."),
      "argument", call = env)
  }
  if (inherits(model, "lds_model")) return(fit_chunked_lds(model, src, init, control, call, env))
  if (!inherits(model, "hmm_model")) {
    abort_hm("Chunked EM supports HMMs and linear dynamical systems among the sequence models, not {model$label}.",
      "unsupported", call = env)
  }
  threads <- resolve_threads(control$threads)
  nc <- chunk_count(src)
  # Pass 1: the emission family's levels from the first chunk, then each
  # chunk's count of complete rows, means and centred sums of squares.
  m <- hmm_prepare(model, as_sequences(chunk_read(src, 1L), NULL, "data", env), env)$model
  mom <- chunk_map(nc, chunk_task(chunk_hmm_moments_task, src = src, model = m), "the data pass", env)
  n_ok <- vapply(mom, `[[`, numeric(1), "n_ok")
  S <- m$states
  if (sum(n_ok) < S) {
    abort_hm("{.arg data} has {sum(n_ok)} complete observation{?s}, fewer than the {S} states.", "data", call = env)
  }
  d <- m$d
  if (nc == 1L) {
    mo <- mom[[1L]]$mo
  } else {
    # Chan, Golub and LeVeque's pairwise update, in chunk order.
    mean <- rep(0, d)
    m2 <- rep(0, d)
    tot <- 0
    for (r in mom) {
      if (r$n_ok == 0) next
      delta <- r$mo$mean - mean
      new <- tot + r$n_ok
      mean <- mean + delta * (r$n_ok / new)
      m2 <- m2 + r$n_ok * r$mo$rms^2 + delta^2 * tot * r$n_ok / new
      tot <- new
    }
    mo <- list(mean = mean, rms = sqrt(m2 / tot))
  }
  sc <- make_scaler(m$obs, matrix(0, 0L, d), mo)
  ctrl <- fam_ctrl(reg = control$reg, floor = mixture_floor)
  wobs <- sum(n_ok)
  # Starts: the user's, or the model's own on a seeded sample of chunks.
  starts_th <- list()
  if (!is.null(init)) {
    starts_th[[1L]] <- hmm_start(m, matrix(0, 0L, d), matrix(0, 0L, d), logical(0), NULL, init, 1L, control, ctrl,
      threads, sc, env)
  } else {
    ord <- with_seed(if (is.null(control$seed)) default_seed else control$seed, sample.int(nc))
    rows <- vapply(mom, `[[`, numeric(1), "n")
    take <- sort(ord[seq_len(max(1L, sum(cumsum(rows[ord]) <= chunk_start_rows)))])
    seqs <- unlist(lapply(take, function(i) {
      ch <- chunk_read(src, i)
      if (is.list(ch) && !is.data.frame(ch)) ch else list(ch)
    }), recursive = FALSE)
    smp <- hmm_prepare(m, as_sequences(seqs, NULL, "data", env), env)
    xs <- scale_data(sc, smp$x)
    for (i in seq_len(control$n_init)) {
      st <- hmm_start(m, xs, smp$x, smp$ok, NULL, NULL, i, control, ctrl, threads, sc, env)
      if (!is.null(st)) starts_th[[length(starts_th) + 1L]] <- st
    }
  }
  if (!length(starts_th)) abort_hm("No start gave valid parameters on the sample of chunks.", "fit_failed", call = env)
  ly <- list(src = src, model = m, sc = sc, threads = control$threads, nc = nc, offset = wobs * sc$log_jac)
  em <- lapply(starts_th, function(st) chunk_run_hmm_em(ly, st, ctrl, control, env))
  best <- NULL
  starts_tab <- data.frame(start = seq_along(em), loglik = NA_real_, iterations = 0L, status = "failed",
    note = "", stringsAsFactors = FALSE)
  for (i in seq_along(em)) {
    e <- em[[i]]
    fin <- chunk_hmm_stats(ly, e$theta, e$chain, env)
    if (is.null(fin)) next
    ll <- fin$ll - wobs * sc$log_jac
    if (!is.finite(ll)) next
    e$final <- fin
    starts_tab$loglik[i] <- ll
    starts_tab$iterations[i] <- length(e$trace)
    starts_tab$status[i] <- if (e$converged) "converged" else if (e$status == 1L) "max_iter" else
      paste0("stopped: ", hm_status_names[e$status + 1L])
    healthy <- e$status <= 1L
    if (is.null(best) || (healthy && !best$healthy) || (healthy == best$healthy && ll > best$ll)) {
      best <- list(em = e, ll = ll, start = i, healthy = healthy)
    }
  }
  report_starts(best, starts_tab, control, "Try {.code lvm_control(reg = 1e-6)}, fewer states, or {.arg init}.", env)
  e <- best$em
  if (e$status > 1L) {
    warn_hm("Baum-Welch stopped at iteration {length(e$trace)} ({status_message(e$status)}).", "collapse")
  } else if (!e$converged) {
    warn_not_converged("Baum-Welch", control)
  }
  trace <- e$trace - wobs * sc$log_jac
  if (m$initial != "stationary") check_monotone(trace)
  fit <- structure(
    list(model = m, params = hmm_to_src(m, e$theta, e$chain, sc), theta = e$theta, chain = e$chain, scaler = sc,
      loglik = best$ll, seq_loglik = NULL, trace = best$ll, iterations = 0L, converged = NA, status = "ok",
      n = as.integer(sum(vapply(mom, `[[`, numeric(1), "n"))), n_obs = as.integer(wobs), df = m$n_free,
      weights = NULL, x = NULL, sequences = list(lengths = unlist(lapply(mom, `[[`, "lengths"))), posterior = NULL, filtered = NULL, call = call, source = src,
      chunks = nc),
    class = c("hmm_fit", "lvm_chunked_fit", "lvm_fit")
  )
  fit_record_em(fit, trace, length(e$trace), isTRUE(e$converged), hm_status_names[e$status + 1L], starts_tab,
    best$start, control, "em")
}

chunk_hmm_moments_task <- function(i, src, model) {
  df <- chunk_read(src, i)
  seqs <- as_sequences(df, NULL, "data", NULL)
  prep <- hmm_prepare(model, seqs, NULL)
  xo <- prep$x[prep$ok, , drop = FALSE]
  list(n = nrow(prep$x), n_ok = sum(prep$ok), lengths = seqs$lengths, mo = if (nrow(xo)) data_moments(xo) else list(mean = rep(0, ncol(xo)),
    rms = rep(0, ncol(xo))))
}

chunk_hmm_stats_task <- function(i, src, model, sc, theta, chain, threads) {
  threads <- resolve_threads(threads)
  seqs <- as_sequences(chunk_read(src, i), NULL, "data", NULL)
  prep <- hmm_prepare(model, seqs, NULL)
  lay <- seq_layout(seqs)
  xs <- scale_data(sc, prep$x, threads)
  native_hmm_em_stats(model$mix, theta, chain, xs, lay$start, lay$lengths, NULL, threads)
}

native_hmm_em_stats <- function(m, theta, chain, x, starts, lengths, w, threads) {
  .Call(C_hmm_em_stats, m$hm_kind, m$obs_spec, m$lat_spec, theta, chain, x, as.integer(starts), as.integer(lengths),
    w, as.integer(threads))
}
native_hmm_em_update <- function(m, hst, mst, chain, mode, ctrl) {
  .Call(C_hmm_em_update, m$hm_kind, m$obs_spec, m$lat_spec, hst, mst, chain, as.integer(mode), ctrl)
}

# One pass: the chain's and the emissions' statistics summed over chunks in
# chunk order, with the log-likelihood; NULL when a chunk's E-step failed.
chunk_hmm_stats <- function(ly, theta, chain, call) {
  res <- chunk_map(ly$nc, chunk_task(chunk_hmm_stats_task, src = ly$src, model = ly$model, sc = ly$sc,
    theta = theta, chain = chain, threads = ly$threads), "a Baum-Welch E-step", call)
  bad <- vapply(res, function(r) r$status != 0L, logical(1))
  if (any(bad)) return(structure(list(status = res[[which(bad)[1L]]]$status), class = "hm_failed"))
  hst <- res[[1L]]$hst
  mst <- res[[1L]]$mst
  for (r in res[-1L]) {
    hst <- hst + r$hst
    mst <- mst + r$mst
  }
  S <- ly$model$states
  list(hst = hst, mst = mst, ll = hst[S * S + S + 1L], status = 0L)
}

# Baum-Welch over chunks, iteration by iteration as glue_hmm.c's loop runs it.
chunk_run_hmm_em <- function(ly, st, ctrl, control, call) {
  m <- ly$model
  theta <- st$theta
  chain <- hmm_chain(st$initial, st$transition)
  trace <- numeric(0)
  ll_old <- NA_real_
  status <- 1L
  bad <- -1L
  converged <- FALSE
  progress_start()
  for (it in seq_len(control$maxit)) {
    es <- chunk_hmm_stats(ly, theta, chain, call)
    if (inherits(es, "hm_failed")) {
      status <- es$status
      break
    }
    ll <- es$ll
    trace <- c(trace, ll)
    up <- native_hmm_em_update(m$mix, es$hst, es$mst, chain, m$init_mode, ctrl)
    progress_tick(trace - ly$offset)
    if (up$status != 0L) {
      status <- up$status
      bad <- up$bad
      break
    }
    if (is.finite(ll_old) && abs(ll - ll_old) / (1 + abs(ll)) < control$tol) {
      converged <- TRUE
      status <- 0L
      break
    }
    ll_old <- ll
    theta <- up$theta
    chain <- up$chain
  }
  list(theta = theta, chain = chain, trace = trace, status = status, bad = bad, converged = converged)
}

# --- linear dynamical systems on chunks of whole sequences ---------------------------

# As for HMMs: a chunk is one whole sequence form; the Kalman smoother's
# statistics (sums over sequences) are added in chunk order and the M-step
# (lds_mstep()) runs on the sum, as lds_run_em() runs it in memory.
fit_chunked_lds <- function(model, src, init, control, call, env) {
  threads <- resolve_threads(control$threads)
  nc <- chunk_count(src)
  init_par <- if (is.null(init)) NULL else lds_constrain(model, lds_check_params(model, init, "init", env))
  if (is.null(init_par)) {
    # The model's deterministic start on a seeded sample of whole chunks.
    rows <- chunk_nrows(src)
    ord <- with_seed(if (is.null(control$seed)) default_seed else control$seed, sample.int(nc))
    take <- if (is.null(rows)) ord[1L] else sort(ord[seq_len(max(1L, sum(cumsum(rows[ord]) <= chunk_start_rows)))])
    seqs <- as_sequences(unlist(lapply(take, function(i) {
      ch <- chunk_read(src, i)
      if (is.list(ch) && !is.data.frame(ch)) ch else list(ch)
    }), recursive = FALSE), NULL, "data", env)
    init_par <- with_seed(start_seed(control, 1L), lds_start(model, lds_data(model, seqs, "data", env), seqs, 1L))
  }
  task_for <- function(par) chunk_task(chunk_lds_stats_task, src = src, model = model, par = par, threads = control$threads)
  pass <- function(par) {
    res <- chunk_map(nc, task_for(par), "a Kalman smoother pass", env)
    bad <- vapply(res, function(r) r$status != 0L, logical(1))
    if (any(bad)) return(res[[which(bad)[1L]]])
    st <- res[[1L]]$stats
    for (r in res[-1L]) st <- st + r$stats
    list(stats = st, status = 0L, n = sum(vapply(res, `[[`, numeric(1), "n")),
      n_obs = sum(vapply(res, `[[`, numeric(1), "n_obs")), lengths = unlist(lapply(res, `[[`, "lengths")),
      names = res[[1L]]$names)
  }
  em <- lds_run_em(model, NULL, NULL, NULL, init_par, control, threads, env, estep = pass)
  par <- em$par
  trace <- em$trace
  status <- em$status
  converged <- em$converged
  it <- em$iterations
  fin <- pass(par)
  if (status == "not_pd") {
    warn_hm("EM stopped at iteration {length(trace)}: a noise covariance became singular.", "collapse")
  } else if (!converged) {
    warn_not_converged("EM", control)
  }
  check_monotone(trace)
  starts <- data.frame(start = 1L, loglik = fin$stats[1], iterations = length(trace), status = status, note = "",
    stringsAsFactors = FALSE)
  y0 <- matrix(0, model$p, 0L, dimnames = list(fin$names, NULL))
  fit <- structure(
    list(model = model, params = lds_name_params(par, y0), loglik = fin$stats[1], logp = numeric(0),
      trace = numeric(0), iterations = 0L, converged = NA, status = "given", n = as.integer(fin$n),
      n_obs = as.integer(fin$n_obs), df = model$n_free, y = NULL, lengths = fin$lengths, ids = NULL, start = NULL,
      weights = NULL, call = call, method = "em", source = src, chunks = nc),
    class = c("lds_fit", "lvm_chunked_fit", "lvm_fit")
  )
  fit_record_em(fit, trace, it, converged, status, starts, 1L, control)
}

chunk_lds_stats_task <- function(i, src, model, par, threads) {
  seqs <- as_sequences(chunk_read(src, i), NULL, "data", NULL)
  y <- lds_data(model, seqs, "data", NULL)
  es <- lds_estep(y, seqs, NULL, par, resolve_threads(threads))
  list(stats = es$stats, status = es$status, n = ncol(y), n_obs = sum(!is.na(y)), lengths = seqs$lengths,
    names = rownames(y))
}
