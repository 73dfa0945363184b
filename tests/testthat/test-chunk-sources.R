# Chunked data sources (R/chunk-sources.R): every kind reads back exactly the
# rows of a reference data frame, in order, also after serialisation into
# another R process.

ref_frame <- function(n = 1000L) {
  set.seed(12)
  data.frame(
    id = seq_len(n),
    # multiples of 1/1024 survive a CSV round trip exactly
    x = round(stats::rnorm(n) * 1024) / 1024,
    g = factor(sample(c("a", "b", "c"), n, replace = TRUE)),
    stringsAsFactors = FALSE
  )
}

plain <- function(d) {
  rownames(d) <- NULL
  d
}

read_all <- function(src) {
  parts <- lapply(seq_len(chunk_count(src)), function(i) chunk_read(src, i))
  out <- do.call(rbind, parts)
  rownames(out) <- NULL
  out
}

# The CSV reading of ref_frame(): factors come back as strings.
as_csv_types <- function(d) {
  d[] <- lapply(d, function(v) if (is.factor(v)) as.character(v) else v)
  d
}

split_rows <- function(d, sizes) {
  idx <- rep(seq_along(sizes), sizes)
  unname(lapply(split(d, idx), function(p) {
    rownames(p) <- NULL
    p
  }))
}

child_read <- function(src, i) {
  bytes <- serialize(src, NULL)
  callr::r(function(bytes, i) {
    src <- unserialize(bytes)
    harmonium:::chunk_read(src, i)
  }, args = list(bytes = bytes, i = i), libpath = .libPaths())
}

test_that("a list of data frames is read back chunk by chunk", {
  d <- ref_frame()
  src <- lvm_chunks(split_rows(d, c(400, 350, 250)))
  expect_s3_class(src, "lvm_chunks")
  expect_true(is_lvm_chunks(src))
  expect_identical(chunk_count(src), 3L)
  expect_identical(chunk_nrows(src), c(400L, 350L, 250L))
  expect_identical(read_all(src), d)
  expect_identical(chunk_read(src, 2)$id, 401:750)
  expect_identical(lvm_chunks(src), src)
  expect_output(print(src), "list: 3 chunks")
  expect_output(print(src), "Rows: +1,000")
  expect_output(print(src), "id, x, g")
})

test_that("a list of matrices and column selection", {
  m <- as.matrix(faithful)
  src <- lvm_chunks(list(m[1:100, ], m[101:272, ]))
  expect_identical(chunk_nrows(src), c(100L, 172L))
  x <- read_all(src)
  expect_true(is.matrix(x))
  expect_identical(unname(x), unname(m))
  sel <- lvm_chunks(split_rows(faithful, c(136, 136)), columns = "waiting")
  expect_identical(names(chunk_read(sel, 1)), "waiting")
  expect_identical(read_all(sel)$waiting, faithful$waiting)
  # unnamed matrices are checked by their number of columns
  um <- lvm_chunks(list(unname(m), unname(m)))
  expect_identical(um$ncol, 2L)
})

test_that("list sources are validated", {
  expect_error(lvm_chunks(list()), class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful, faithful[1])), "same columns", class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful, rev(faithful))), class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(as.matrix(faithful), as.matrix(faithful)[, 1, drop = FALSE])),
    class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful, as.matrix(faithful))), "Element 2", class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful, "a")), class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful), columns = "nope"), "nope", class = "harmonium_error_argument")
  expect_error(lvm_chunks(faithful), "fit_lvm", class = "harmonium_error_argument")
  expect_error(lvm_chunks(1:3), class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful), table = "t"), "DBI", class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful), n = 2), class = "harmonium_error_argument")
  expect_error(lvm_chunks(list(faithful), "t"), "must be empty", class = "harmonium_error_argument")
  expect_error(lvm_chunks(), class = "harmonium_error_argument_missing")
})

test_that("chunk_read checks the chunk number", {
  src <- lvm_chunks(list(faithful, faithful))
  expect_error(chunk_read(src, 3), class = "harmonium_error_argument")
  expect_error(chunk_read(src, 0), class = "harmonium_error_argument")
  expect_error(chunk_read(src, 1.5), class = "harmonium_error_argument")
})

test_that("CSV files, plain and gzipped, are one chunk each", {
  d <- ref_frame()
  parts <- split_rows(d, c(300, 300, 400))
  dir <- tempfile("csv")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  paths <- file.path(dir, c("a.csv", "b.csv", "c.csv.gz"))
  for (i in 1:2) utils::write.csv(parts[[i]], paths[i], row.names = FALSE)
  gz <- gzfile(paths[3], "w")
  utils::write.csv(parts[[3]], gz, row.names = FALSE)
  close(gz)
  src <- lvm_chunks(paths)
  expect_identical(src$kind, "csv")
  expect_identical(chunk_count(src), 3L)
  expect_identical(src$columns, c("id", "x", "g"))
  expect_null(chunk_nrows(src))
  back <- read_all(src)
  expect_identical(back, as_csv_types(d))
  expect_type(back$id, "integer")
  expect_identical(chunk_read(src, 3)$id, 601:1000)
  expect_output(print(src), "csv: 3 chunks")
  sel <- lvm_chunks(paths, columns = c("x", "id"))
  expect_identical(read_all(sel), as_csv_types(d)[c("x", "id")])
  expect_error(lvm_chunks(paths, columns = "nope"), class = "harmonium_error_argument")
  # the serialised source reads the same chunk in a fresh process
  expect_identical(child_read(src, 2), chunk_read(src, 2))
})

test_that("CSV chunks with other columns are an error naming the chunk", {
  dir <- tempfile("csv")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  paths <- file.path(dir, c("a.csv", "b.csv"))
  utils::write.csv(faithful, paths[1], row.names = FALSE)
  utils::write.csv(faithful[c("waiting", "eruptions")], paths[2], row.names = FALSE)
  src <- lvm_chunks(paths)
  expect_identical(names(chunk_read(src, 1)), names(faithful))
  expect_error(chunk_read(src, 2), "Chunk 2", class = "harmonium_error_data")
})

test_that("file sources are validated", {
  dir <- tempfile("files")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  a <- file.path(dir, "a.csv")
  utils::write.csv(faithful, a, row.names = FALSE)
  expect_error(lvm_chunks(c(a, file.path(dir, "missing.csv"))), "missing.csv",
    class = "harmonium_error_argument")
  expect_error(lvm_chunks(file.path(dir, "a.txt")), class = "harmonium_error_argument")
  expect_error(lvm_chunks(c(a, file.path(dir, "b.parquet"))), "mixes", class = "harmonium_error_argument")
  expect_error(lvm_chunks(character()), class = "harmonium_error_argument")
  expect_error(lvm_chunks(dir), "no", class = "harmonium_error_argument")
})

test_that("Parquet files and directories are one chunk per file", {
  skip_if_not_installed("nanoparquet")
  d <- ref_frame()
  parts <- split_rows(d, c(250, 250, 250, 250))
  dir <- tempfile("pq")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  # names sort as 1, 2, 3, 4 although written in another order
  paths <- file.path(dir, sprintf("part-%02d.parquet", 1:4))
  for (i in c(3, 1, 4, 2)) nanoparquet::write_parquet(parts[[i]], paths[i])
  src <- lvm_chunks(dir)
  expect_identical(src$kind, "parquet")
  expect_identical(basename(src$files), basename(paths))
  expect_identical(chunk_nrows(src), rep(250L, 4))
  back <- read_all(src)
  expect_identical(class(back), "data.frame")
  expect_identical(back, d)
  expect_identical(read_all(lvm_chunks(paths)), d)
  sel <- lvm_chunks(paths, columns = c("g", "id"))
  expect_identical(sel$columns, c("g", "id"))
  expect_identical(read_all(sel), d[c("g", "id")])
  expect_output(print(src), "parquet: 4 chunks")
  expect_identical(child_read(src, 4), chunk_read(src, 4))
})

test_that("a function source reads chunk i with function(i)", {
  d <- ref_frame()
  parts <- split_rows(d, rep(200, 5))
  f <- function(i) parts[[i]]
  src <- lvm_chunks(f, n = 5)
  expect_identical(chunk_count(src), 5L)
  expect_null(chunk_nrows(src))
  expect_identical(read_all(src), d)
  expect_identical(child_read(src, 5), parts[[5]])
  expect_error(lvm_chunks(f), "n", class = "harmonium_error_argument_missing")
  expect_error(lvm_chunks(f, n = 0), class = "harmonium_error_argument")
  expect_error(lvm_chunks(f, n = 2.5), class = "harmonium_error_argument")
  expect_error(lvm_chunks(function() 1, n = 2), class = "harmonium_error_argument")
})

test_that("a function source's chunks are checked", {
  bad <- lvm_chunks(function(i) if (i == 1) faithful else "oops", n = 2)
  expect_error(chunk_read(bad, 2), "Chunk 2", class = "harmonium_error_data")
  # the reader's message is quoted, not interpolated
  failing <- lvm_chunks(function(i) stop("disk {gone}"), n = 3)
  expect_error(chunk_read(failing, 3), "chunk 3 .*disk \\{gone\\}", class = "harmonium_error_data")
  sel <- lvm_chunks(function(i) if (i == 1) faithful else faithful["waiting"], n = 2,
    columns = c("eruptions", "waiting"))
  expect_identical(chunk_read(sel, 1), faithful)
  expect_error(chunk_read(sel, 2), "Chunk 2", class = "harmonium_error_data")
  # columns recorded from the first chunk are checked in later ones
  free <- lvm_chunks(function(i) if (i == 1) faithful else rev(faithful), n = 2)
  expect_identical(names(chunk_read(free, 2)), rev(names(faithful)))
  free <- chunk_record_columns(free, chunk_read(free, 1))
  expect_error(chunk_read(free, 2), "other columns", class = "harmonium_error_data")
})

test_that("an arrow Dataset is one chunk per file", {
  skip_if_not_installed("arrow")
  open_dataset <- getExportedValue("arrow", "open_dataset")
  write_parquet <- getExportedValue("arrow", "write_parquet")
  d <- ref_frame()
  parts <- split_rows(d, c(500, 500))
  dir <- tempfile("ds")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  for (i in 1:2) write_parquet(parts[[i]], file.path(dir, sprintf("p%d.parquet", i)))
  ds <- open_dataset(dir)
  src <- lvm_chunks(ds)
  expect_identical(chunk_count(src), 2L)
  expect_identical(chunk_nrows(src), c(500L, 500L))
  expect_equal(read_all(src), d, ignore_attr = TRUE)
  expect_equal(child_read(src, 2), chunk_read(src, 2))
})

# --- databases ----------------------------------------------------------------

duckdb_file_with <- function(d) {
  path <- tempfile(fileext = ".duckdb")
  con <- DBI::dbConnect(duckdb::duckdb(), dbdir = path)
  DBI::dbWriteTable(con, "ref", d)
  DBI::dbDisconnect(con, shutdown = TRUE)
  path
}

db_types <- function(d) {
  d$g <- as.character(d$g)
  d
}

test_that("a DuckDB table is read in chunks of chunk_rows rows", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  d <- ref_frame()
  con <- DBI::dbConnect(duckdb::duckdb())
  on.exit(DBI::dbDisconnect(con, shutdown = TRUE), add = TRUE)
  DBI::dbWriteTable(con, "ref", db_types(d))
  src <- lvm_chunks(con, table = "ref", chunk_rows = 300, order_by = "id")
  expect_identical(chunk_count(src), 4L)
  expect_identical(chunk_nrows(src), c(300L, 300L, 300L, 100L))
  expect_identical(src$columns, c("id", "x", "g"))
  expect_identical(read_all(src), db_types(d))
  expect_identical(chunk_read(src, 4)$id, 901:1000)
  expect_output(print(src), "database: 4 chunks")
  # without order_by, DuckDB's insertion order
  plain <- lvm_chunks(con, table = "ref", chunk_rows = 300)
  expect_identical(read_all(plain), db_types(d))
  # the default chunk size holds the whole table
  expect_identical(chunk_count(lvm_chunks(con, table = "ref")), 1L)
  sel <- lvm_chunks(con, table = "ref", chunk_rows = 300, columns = c("x", "id"), order_by = "id")
  expect_identical(read_all(sel), d[c("x", "id")])
})

test_that("a SELECT query is a source, its rows counted", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  d <- ref_frame(2000L)
  con <- DBI::dbConnect(duckdb::duckdb())
  on.exit(DBI::dbDisconnect(con, shutdown = TRUE), add = TRUE)
  DBI::dbWriteTable(con, "big", db_types(d))
  src <- lvm_chunks(con, query = "SELECT id, x FROM big WHERE id <= 1000;", chunk_rows = 300,
    order_by = "id")
  expect_identical(chunk_count(src), 4L)
  expect_identical(sum(chunk_nrows(src)), 1000L)
  expect_identical(read_all(src), plain(d[1:1000, c("id", "x")]))
  rev_src <- lvm_chunks(con, query = "SELECT * FROM big WHERE id > 1000", order_by = c("g", "id"),
    chunk_rows = 999)
  expect_identical(chunk_count(rev_src), 2L)
  want <- db_types(d)[d$id > 1000, ]
  want <- want[order(want$g, want$id), ]
  rownames(want) <- NULL
  expect_identical(read_all(rev_src), want)
})

test_that("database sources are validated before reading", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  con <- DBI::dbConnect(duckdb::duckdb())
  on.exit(DBI::dbDisconnect(con, shutdown = TRUE), add = TRUE)
  DBI::dbWriteTable(con, "t", faithful)
  DBI::dbExecute(con, "CREATE TABLE empty (a INTEGER)")
  expect_error(lvm_chunks(con), "table", class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = "t", query = "SELECT 1"), class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = 1), class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, query = "DROP TABLE t"), "SELECT", class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = "nope"), class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = "t", columns = "nope"), class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = "t", order_by = 3), class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = "t", chunk_rows = 0), class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = "t", connect = "x"), class = "harmonium_error_argument")
  expect_error(lvm_chunks(con, table = "empty"), "no rows", class = "harmonium_error_data")
  expect_true(DBI::dbExistsTable(con, "t"))
  closed <- DBI::dbConnect(duckdb::duckdb())
  DBI::dbDisconnect(closed, shutdown = TRUE)
  expect_error(lvm_chunks(closed, table = "t"), "not valid", class = "harmonium_error_argument")
})

test_that("a table name is quoted", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  con <- DBI::dbConnect(duckdb::duckdb())
  on.exit(DBI::dbDisconnect(con, shutdown = TRUE), add = TRUE)
  DBI::dbWriteTable(con, "my table", faithful)
  src <- lvm_chunks(con, table = "my table", chunk_rows = 100)
  expect_identical(chunk_count(src), 3L)
  expect_equal(read_all(src), faithful, ignore_attr = TRUE)
})

test_that("a DuckDB file opened read-only is shared with another process", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  d <- ref_frame()
  path <- duckdb_file_with(db_types(d))
  on.exit(unlink(path), add = TRUE)
  con <- DBI::dbConnect(duckdb::duckdb(), dbdir = path, read_only = TRUE)
  on.exit(DBI::dbDisconnect(con, shutdown = TRUE), add = TRUE, after = FALSE)
  src <- lvm_chunks(con, table = "ref", chunk_rows = 300, order_by = "id")
  expect_identical(src$dbdir, normalizePath(path))
  # the child reconnects read-only, once for both chunks, while the parent
  # still holds its connection
  bytes <- serialize(src, NULL)
  got <- callr::r(function(bytes) {
    src <- unserialize(bytes)
    a <- harmonium:::chunk_read(src, 2)
    con1 <- harmonium:::chunk_connections[[src$id]]$con
    b <- harmonium:::chunk_read(src, 4)
    con2 <- harmonium:::chunk_connections[[src$id]]$con
    n_cached <- length(setdiff(ls(harmonium:::chunk_connections, all.names = TRUE), ".finalizer"))
    list(a = a, b = b, same = identical(con1, con2), n_cached = n_cached)
  }, args = list(bytes = bytes), libpath = .libPaths())
  expect_identical(got$a, plain(db_types(d)[301:600, ]))
  expect_identical(got$a, chunk_read(src, 2))
  expect_identical(got$b, chunk_read(src, 4))
  expect_true(got$same)
  expect_identical(got$n_cached, 1L)
  expect_identical(chunk_read(src, 1)$id, 1:300)
})

test_that("a dead connection in this process is replaced once", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  d <- ref_frame()
  path <- duckdb_file_with(db_types(d))
  on.exit(unlink(path), add = TRUE)
  con <- DBI::dbConnect(duckdb::duckdb(), dbdir = path, read_only = TRUE)
  src <- lvm_chunks(con, table = "ref", chunk_rows = 500)
  DBI::dbDisconnect(con, shutdown = TRUE)
  on.exit(chunk_disconnect(src), add = TRUE, after = FALSE)
  expect_identical(read_all(src), db_types(d))
  cached <- chunk_connections[[src$id]]$con
  expect_true(DBI::dbIsValid(cached))
  chunk_read(src, 1)
  expect_identical(chunk_connections[[src$id]]$con, cached)
  chunk_disconnect(src)
  expect_null(chunk_connections[[src$id]])
})

test_that("a writable DuckDB file cannot be opened by another process", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  path <- duckdb_file_with(faithful)
  on.exit(unlink(path), add = TRUE)
  con <- DBI::dbConnect(duckdb::duckdb(), dbdir = path)
  on.exit(DBI::dbDisconnect(con, shutdown = TRUE), add = TRUE, after = FALSE)
  src <- lvm_chunks(con, table = "ref", chunk_rows = 100)
  bytes <- serialize(src, NULL)
  cls <- callr::r(function(bytes) {
    tryCatch(harmonium:::chunk_read(unserialize(bytes), 1), error = function(e) c(class(e), conditionMessage(e)))
  }, args = list(bytes = bytes), libpath = .libPaths())
  expect_true("harmonium_error_argument" %in% cls)
  expect_true(any(grepl("read_only = TRUE", cls, fixed = TRUE)))
})

test_that("connect = reconnects in other processes; without it an in-memory database cannot", {
  skip_if_not_installed("DBI")
  skip_if_not_installed("duckdb")
  d <- ref_frame()
  path <- duckdb_file_with(db_types(d))
  on.exit(unlink(path), add = TRUE)
  mem <- DBI::dbConnect(duckdb::duckdb())
  on.exit(DBI::dbDisconnect(mem, shutdown = TRUE), add = TRUE, after = FALSE)
  DBI::dbWriteTable(mem, "ref", db_types(d))
  # the child connects with connect() to a file holding the same table
  connect <- function() DBI::dbConnect(duckdb::duckdb(), dbdir = path, read_only = TRUE)
  with_connect <- lvm_chunks(mem, table = "ref", chunk_rows = 300, order_by = "id", connect = connect)
  expect_null(with_connect$dbdir)
  expect_identical(child_read(with_connect, 3), chunk_read(with_connect, 3))
  without <- lvm_chunks(mem, table = "ref", chunk_rows = 300)
  bytes <- serialize(without, NULL)
  cls <- callr::r(function(bytes) {
    tryCatch(harmonium:::chunk_read(unserialize(bytes), 1), error = function(e) c(class(e), conditionMessage(e)))
  }, args = list(bytes = bytes), libpath = .libPaths())
  expect_true("harmonium_error_argument" %in% cls)
  expect_true(any(grepl("connect", cls)))
})
