# Independent products of families: each block consumes its
# own columns, left to right; statistics and parameters are concatenated.

#' @rdname ef_family
#' @export
ef_product <- function(...) {
  blocks <- list(...)
  if (length(blocks) == 1L && is.list(blocks[[1]]) && !inherits(blocks[[1]], "ef_family")) {
    blocks <- blocks[[1]]
  }
  if (length(blocks) < 1L) {
    abort_hm("{.fn ef_product} needs at least one family.", "argument")
  }
  # Nested products are flattened: the engine sees one level of blocks.
  flat <- list()
  for (i in seq_along(blocks)) {
    b <- blocks[[i]]
    if (!inherits(b, "ef_family")) {
      abort_hm("Argument {i} of {.fn ef_product} must be a family, not {.obj_type_friendly {b}}.", "argument")
    }
    flat <- c(flat, if (b$name == "product") b$blocks else list(b))
  }
  blocks <- flat
  if (length(blocks) > 64L) {
    abort_hm("{.fn ef_product} takes at most 64 blocks.", "argument")
  }
  spec <- c(fam_kind[["product"]], length(blocks), unlist(lapply(blocks, `[[`, "spec")))
  info <- native_family_info(spec)
  d <- vapply(blocks, `[[`, integer(1), "d")
  dims <- vapply(blocks, `[[`, integer(1), "dim")
  col_off <- c(0L, cumsum(d))
  par_off <- c(0L, cumsum(dims))
  fam <- structure(
    list(
      name = "product", n = length(blocks), spec = spec, d = info[1], dim = info[2],
      closed = info[3] == 1L,
      label = paste0("Product(", paste(vapply(blocks, `[[`, "", "label"), collapse = " x "), ")"),
      blocks = blocks, col_off = col_off, par_off = par_off,
      n_free = sum(vapply(blocks, function(b) as.integer(b$n_free), integer(1)))
    ),
    class = c("ef_product", "ef_family")
  )
  fam$to_nat <- function(params) {
    if (!is.list(params) || length(params) != length(fam$blocks)) {
      abort_hm("{.arg params} must be a list with one element per block ({length(fam$blocks)}).", "params")
    }
    unlist(lapply(seq_along(fam$blocks), function(b) fam$blocks[[b]]$to_nat(params[[b]])))
  }
  fam$to_src <- function(theta) {
    lapply(seq_along(fam$blocks), function(b) {
      fam$blocks[[b]]$to_src(theta[par_off[b] + seq_len(dims[b])])
    })
  }
  fam$encode <- function(x, f, arg, call) {
    do.call(cbind, lapply(seq_along(f$blocks), function(b) {
      blk <- f$blocks[[b]]
      blk$encode(x[, col_off[b] + seq_len(d[b]), drop = FALSE], blk, arg, call)
    }))
  }
  fam$support <- function(x, arg, call) {
    for (b in seq_along(fam$blocks)) {
      fam$blocks[[b]]$support(x[, col_off[b] + seq_len(d[b]), drop = FALSE], arg, call)
    }
    invisible(x)
  }
  fam
}
