# Chunked data sources (issue 12). An `lvm_chunks` object describes data that
# is read one chunk at a time: from a list in memory, from CSV or Parquet
# files, from an arrow Dataset, from a DBI database, or from a function. The
# chunked EM driver (R/chunked.R) only uses the internal verbs below:
#
#   chunk_count(src)    number of chunks, >= 1
#   chunk_read(src, i)  chunk i (1-based) as a data frame (or matrix)
#   chunk_nrows(src)    rows per chunk when cheaply known, else NULL
#   is_lvm_chunks(x)
#   chunk_record_columns(src, x)   fix the columns later chunks must have
#   chunk_disconnect(src)          close this process's reconnection
#
# The object holds only serialisable things (paths, SQL text, functions,
# column names), so chunk_read() works in another R process after the object
# has been serialised there by a future plan. A DBI connection is kept only as
# a hint: a worker that cannot use it reconnects (see chunk_db_connection()).
#
# arrow is optional and deliberately not in Suggests (it cannot be installed
# in CI's time budget): its functions are looked up at run time with
# arrow_fun() after requireNamespace(), so R CMD check never needs it.

#' Data read chunk by chunk
#'
#' `lvm_chunks()` describes a data set that is read one chunk at a time, so
#' that [fit_lvm()] can fit it by exact EM without holding it in memory: the
#' E-step statistics of each chunk are computed separately (under the user's
#' `future::plan()`) and added. Nothing large is read when the object is
#' created; each chunk is read when it is needed, in whichever R process
#' needs it.
#'
#' @section Sources:
#' * A list of data frames or of matrices: each element is a chunk. All must
#'   have the same columns.
#' * A character vector of CSV files (`.csv`, `.csv.gz`): each file is a
#'   chunk, read with `data.table::fread()` when data.table is installed,
#'   else with [utils::read.csv()] (`check.names = FALSE`; strings stay
#'   character).
#' * A character vector of Parquet files (`.parquet`), or a directory holding
#'   them (taken in order of name): each file is a chunk, read with
#'   `arrow::read_parquet()` when arrow is installed, else with
#'   `nanoparquet::read_parquet()`.
#' * An `arrow::Dataset`: each of its files is a chunk. Partitioning columns
#'   encoded in directory names are not part of the chunks.
#' * A DBI connection with `table =` (a table name) or `query =` (a `SELECT`
#'   statement): chunks of `chunk_rows` rows, read with
#'   `SELECT ... FROM (...) LIMIT r OFFSET o`. Give `order_by =` for a
#'   well-defined order: without it the rows come in the database's scan
#'   order, which DuckDB keeps stable (it preserves insertion order) but
#'   other databases need not, and chunks could then overlap.
#' * A function of one argument, `function(i)`, returning chunk `i`, with the
#'   number of chunks in `n =`.
#' * An `lvm_chunks` object, returned as it is.
#'
#' @section Databases and parallel workers:
#' Workers of a multi-process plan (`future::multisession`, `cluster`) are
#' other R processes, where the connection object is no longer usable. There
#' `lvm_chunks()` reconnects once per worker and source: with `connect()`
#' when it is given; otherwise, for a DuckDB connection to a database file,
#' by opening that file with `read_only = TRUE`. DuckDB lets several processes
#' open one file only if all of them open it read-only, so for a
#' multi-process plan open the driver's own connection with
#' `DBI::dbConnect(duckdb::duckdb(), dbdir = path, read_only = TRUE)` as
#' well. Other databases (and in-memory DuckDB databases) need `connect`.
#'
#' @param source The data: see Sources.
#' @param ... Must be empty.
#' @param table For a DBI connection, the name of a table (a string or a
#'   `DBI::Id()`).
#' @param query For a DBI connection, a `SELECT` statement instead of `table`.
#' @param order_by For a DBI connection, column names to order the rows by,
#'   which fixes how they are cut into chunks.
#' @param chunk_rows For a DBI connection, rows per chunk (default 1e6).
#' @param columns Optional names of the columns to keep (for databases and
#'   Parquet files, only these are read).
#' @param connect For a DBI connection, a function of no arguments returning
#'   a new connection to the same database, used by processes in which the
#'   original connection is not valid.
#' @param n For a function source, the number of chunks.
#' @return An object of class `lvm_chunks`.
#' @seealso [lvm_estep()] for the E-step of one chunk.
#' @examples
#' # A list of data frames, one per chunk:
#' chunks <- split(faithful, rep(1:3, length.out = nrow(faithful)))
#' lvm_chunks(chunks)
#'
#' # CSV files, one chunk per file:
#' paths <- file.path(tempdir(), paste0("faithful-", 1:3, ".csv"))
#' for (i in 1:3) write.csv(chunks[[i]], paths[i], row.names = FALSE)
#' src <- lvm_chunks(paths)
#' src
#' unlink(paths)
#' @export
lvm_chunks <- function(source, ..., table = NULL, query = NULL, order_by = NULL, chunk_rows = NULL,
                       columns = NULL, connect = NULL, n = NULL) {
  env <- rlang::current_env()
  if (missing(source)) abort_missing("source", env)
  if (...length() > 0L) {
    abort_hm(c("{.arg ...} must be empty.", i = "Name the arguments, e.g. {.code table = \"t\"}."),
      "argument", call = env)
  }
  if (inherits(source, "lvm_chunks")) {
    return(source)
  }
  columns <- check_chunk_columns(columns, env)
  if (!is.null(n) && !is.function(source)) {
    abort_hm("{.arg n} is only for a function source.", "argument", call = env)
  }
  if (inherits(source, "DBIConnection")) {
    return(chunks_from_db(source, table, query, order_by, chunk_rows, columns, connect, env))
  }
  check_db_only(list(table = table, query = query, order_by = order_by, chunk_rows = chunk_rows,
    connect = connect), env)
  if (inherits(source, "Dataset")) {
    src <- chunks_from_dataset(source, columns, env)
  } else if (is.function(source)) {
    src <- chunks_from_function(source, n, columns, env)
  } else if (is.character(source)) {
    src <- chunks_from_files(source, columns, env)
  } else if (is.list(source) && !is.data.frame(source)) {
    src <- chunks_from_list(source, columns, env)
  } else {
    abort_hm(c("{.arg source} must be a list of data frames or matrices, file paths, an arrow Dataset,
      a DBI connection or a function, not {.obj_type_friendly {source}}.",
      i = if (is.data.frame(source) || is.matrix(source)) "For data in memory, pass it to {.fn fit_lvm} directly."),
      "argument", call = env)
  }
  src
}

new_lvm_chunks <- function(kind, n, ..., columns = NULL, ncol = NULL, select = NULL) {
  structure(list(kind = kind, n = as.integer(n), columns = columns, ncol = ncol, select = select, ...),
    class = "lvm_chunks")
}

is_lvm_chunks <- function(x) inherits(x, "lvm_chunks")

check_chunk_columns <- function(columns, call) {
  if (is.null(columns)) {
    return(NULL)
  }
  if (!is.character(columns) || length(columns) == 0L || anyNA(columns) || any(columns == "") ||
    anyDuplicated(columns)) {
    abort_hm("{.arg columns} must be distinct column names (a character vector).", "argument", call = call)
  }
  columns
}

check_db_only <- function(args, call) {
  given <- names(args)[!vapply(args, is.null, logical(1))]
  if (length(given) > 0L) {
    abort_hm(c("{.arg {given}} {?is/are} only for a DBI connection source.",
      i = "{.arg source} is not a DBI connection."), "argument", call = call)
  }
}

# Column selection of an in-memory chunk; the names must exist.
select_columns <- function(x, select, what, call) {
  if (is.null(select)) {
    return(x)
  }
  have <- colnames(x)
  miss <- setdiff(select, have)
  if (length(miss) > 0L) {
    abort_hm("{what} has no column{?s} {.val {miss}} (from {.arg columns}).", "data", call = call)
  }
  x[, select, drop = FALSE]
}

# --- lists ------------------------------------------------------------------

chunks_from_list <- function(source, columns, call) {
  if (length(source) == 0L) {
    abort_hm("{.arg source} is an empty list; it needs at least one chunk.", "argument", call = call)
  }
  is_df <- vapply(source, is.data.frame, logical(1))
  is_mat <- vapply(source, function(x) is.matrix(x) && (is.numeric(x) || is.logical(x)), logical(1))
  if (!all(is_df) && !all(is_mat)) {
    bad <- which(!(if (any(is_df)) is_df else is_mat))[1L]
    abort_hm(c("{.arg source} must be a list of data frames or a list of numeric matrices.",
      x = "Element {bad} is {.obj_type_friendly {source[[bad]]}}."), "argument", call = call)
  }
  first <- source[[1L]]
  cols <- colnames(first)
  p <- ncol(first)
  for (i in seq_along(source)[-1L]) {
    x <- source[[i]]
    if (ncol(x) != p || !identical(colnames(x), cols)) {
      abort_hm(c("All chunks in {.arg source} must have the same columns.",
        x = "Element {i} has {describe_columns(x)}; element 1 has {describe_columns(first)}."),
        "argument", call = call)
    }
  }
  if (!is.null(columns)) {
    if (is.null(cols) || length(setdiff(columns, cols)) > 0L) {
      abort_hm("{.arg columns} names column{?s} {.val {setdiff(columns, cols)}} not in the chunks.",
        "argument", call = call)
    }
  }
  new_lvm_chunks(if (all(is_df)) "list" else "matrix list", length(source),
    data = unname(source), nrows = vapply(source, nrow, integer(1), USE.NAMES = FALSE),
    columns = if (is.null(columns)) cols else columns,
    ncol = if (is.null(columns)) p else length(columns), select = columns)
}

describe_columns <- function(x) {
  nm <- colnames(x)
  if (is.null(nm)) paste(ncol(x), "unnamed columns") else paste0("columns ", paste(nm, collapse = ", "))
}

# --- files ------------------------------------------------------------------

file_kind <- function(path) {
  p <- tolower(path)
  ifelse(grepl("\\.csv(\\.gz)?$", p), "csv", ifelse(grepl("\\.parquet$", p), "parquet", NA_character_))
}

chunks_from_files <- function(source, columns, call) {
  if (length(source) == 0L || anyNA(source)) {
    abort_hm("{.arg source} must be file paths without {.code NA}, and at least one.", "argument",
      call = call)
  }
  if (length(source) == 1L && dir.exists(source)) {
    files <- sort(list.files(source, pattern = "\\.parquet$", full.names = TRUE, ignore.case = TRUE))
    if (length(files) == 0L) {
      abort_hm("Directory {.file {source}} in {.arg source} holds no {.file .parquet} files.", "argument",
        call = call)
    }
    source <- files
  }
  kinds <- file_kind(source)
  if (anyNA(kinds)) {
    bad <- source[is.na(kinds)][1L]
    abort_hm(c("{.arg source} must name {.file .csv}, {.file .csv.gz} or {.file .parquet} files.",
      x = "{.file {bad}} has another extension."), "argument", call = call)
  }
  if (length(unique(kinds)) > 1L) {
    abort_hm("{.arg source} mixes CSV and Parquet files; use one format.", "argument", call = call)
  }
  missing_files <- source[!file.exists(source) | dir.exists(source)]
  if (length(missing_files) > 0L) {
    abort_hm(c("Every file in {.arg source} must exist.",
      x = "Not found: {.file {missing_files}}."), "argument", call = call)
  }
  files <- normalizePath(source, mustWork = TRUE)
  if (kinds[1L] == "csv") {
    reader <- if (requireNamespace("data.table", quietly = TRUE)) "data.table" else "utils"
    header <- names(read_csv_chunk(files[1L], reader, nrows = 1L))
    cols <- header
  } else {
    reader <- if (requireNamespace("arrow", quietly = TRUE)) "arrow" else "nanoparquet"
    if (reader == "nanoparquet" && !requireNamespace("nanoparquet", quietly = TRUE)) {
      abort_hm(c("Reading Parquet files needs the {.pkg arrow} or the {.pkg nanoparquet} package.",
        i = "Install one of them, e.g. {.code install.packages(\"nanoparquet\")}."), "argument", call = call)
    }
    cols <- parquet_columns(files[1L], reader)
  }
  if (!is.null(columns) && length(setdiff(columns, cols)) > 0L) {
    abort_hm(c("{.arg columns} names column{?s} {.val {setdiff(columns, cols)}} not in the files.",
      i = "{.file {files[1L]}} has {.val {cols}}."), "argument", call = call)
  }
  new_lvm_chunks(kinds[1L], length(files), files = files, reader = reader,
    columns = if (is.null(columns)) cols else columns, select = columns)
}

# The reader is chosen where the source is created, so that all chunks come
# from the same reader (and column types); a worker without that package
# falls back to the one that is always there.
read_csv_chunk <- function(file, reader, nrows = -1L, select = NULL) {
  if (reader == "data.table" && requireNamespace("data.table", quietly = TRUE) &&
    !grepl("\\.gz$", file, ignore.case = TRUE)) {
    fread <- getExportedValue("data.table", "fread")
    read <- function(...) {
      fread(file, nrows = if (nrows < 0L) Inf else nrows, data.table = FALSE, check.names = FALSE,
        stringsAsFactors = FALSE, integer64 = "double", select = select, ...)
    }
    x <- read()
    # fread parses ISO dates and times, read.csv leaves them as strings:
    # read those columns again as strings, for the same types either way.
    timed <- names(x)[vapply(x, function(v) inherits(v, c("Date", "POSIXt", "ITime")), logical(1))]
    if (length(timed) > 0L) x <- read(colClasses = list(character = timed))
  } else {
    x <- utils::read.csv(file, nrows = nrows, check.names = FALSE, stringsAsFactors = FALSE)
  }
  x <- as.data.frame(x)
  if (!is.null(select) && all(select %in% names(x))) x <- x[select]
  x
}

arrow_fun <- function(name) getExportedValue("arrow", name)

parquet_columns <- function(file, reader) {
  if (reader == "arrow") {
    return(arrow_fun("ParquetFileReader")$create(file)$GetSchema()$names)
  }
  sch <- nanoparquet::read_parquet_schema(file)
  sch$name[!is.na(sch$r_col)]
}

read_parquet_chunk <- function(file, reader, select = NULL) {
  if (reader == "arrow" && requireNamespace("arrow", quietly = TRUE)) {
    read <- arrow_fun("read_parquet")
    # col_select is a tidyselect argument: inject the names as a literal.
    x <- if (is.null(select)) read(file) else rlang::inject(read(file, col_select = !!select))
  } else if (!is.null(select) && "col_select" %in% names(formals(nanoparquet::read_parquet))) {
    x <- nanoparquet::read_parquet(file, col_select = select)
  } else {
    x <- nanoparquet::read_parquet(file)
  }
  x <- as.data.frame(x)
  if (!is.null(select) && all(select %in% names(x))) x <- x[select]
  x
}

parquet_nrows <- function(files, reader) {
  tryCatch({
    if (reader == "arrow" && requireNamespace("arrow", quietly = TRUE)) {
      vapply(files, function(f) as.integer(arrow_fun("ParquetFileReader")$create(f)$num_rows), integer(1),
        USE.NAMES = FALSE)
    } else {
      vapply(files, function(f) as.integer(nanoparquet::read_parquet_info(f)$num_rows), integer(1),
        USE.NAMES = FALSE)
    }
  }, error = function(e) NULL)
}

# --- arrow Datasets ---------------------------------------------------------

chunks_from_dataset <- function(source, columns, call) {
  if (!requireNamespace("arrow", quietly = TRUE)) {
    abort_hm("Reading an arrow Dataset needs the {.pkg arrow} package.", "argument", call = call)
  }
  files <- source$files
  if (length(files) == 0L) {
    abort_hm("The arrow Dataset in {.arg source} has no files.", "argument", call = call)
  }
  format <- tryCatch(source$format$type, error = function(e) "parquet")
  if (!format %in% c("parquet", "ipc", "csv")) {
    abort_hm("Cannot read the {.val {format}} files of the arrow Dataset in {.arg source}.", "argument",
      call = call)
  }
  cols <- tryCatch(names(source), error = function(e) NULL)
  if (!is.null(columns) && !is.null(cols) && length(setdiff(columns, cols)) > 0L) {
    abort_hm("{.arg columns} names column{?s} {.val {setdiff(columns, cols)}} not in the Dataset.",
      "argument", call = call)
  }
  # Partition columns (in directory names) are not in the files, so the
  # Dataset's names are not the chunks' names unless columns are chosen.
  new_lvm_chunks("arrow Dataset", length(files), files = as.character(files), format = format,
    columns = columns, select = columns)
}

read_dataset_chunk <- function(file, format, select) {
  x <- switch(format,
    parquet = arrow_fun("read_parquet")(file),
    ipc = arrow_fun("read_feather")(file),
    csv = arrow_fun("read_csv_arrow")(file)
  )
  x <- as.data.frame(x)
  if (!is.null(select) && all(select %in% names(x))) x <- x[select]
  x
}

# --- functions --------------------------------------------------------------

chunks_from_function <- function(source, n, columns, call) {
  if (is.null(n)) {
    abort_hm(c("{.arg n} is missing: a function source needs the number of chunks.",
      i = "E.g. {.code lvm_chunks(function(i) read_part(i), n = 10)}."), "argument_missing", call = call)
  }
  n <- check_count(n, "n", call)
  if (length(formals(source)) == 0L && !is.primitive(source)) {
    abort_hm("{.arg source} must be a function of the chunk number, {.code function(i)}.", "argument",
      call = call)
  }
  new_lvm_chunks("function", n, fun = source, columns = columns, select = columns)
}

# --- databases --------------------------------------------------------------

chunks_from_db <- function(con, table, query, order_by, chunk_rows, columns, connect, call) {
  if (!requireNamespace("DBI", quietly = TRUE)) {
    abort_hm("A database source needs the {.pkg DBI} package.", "argument", call = call)
  }
  if (is.null(table) == is.null(query)) {
    abort_hm("A DBI connection source needs exactly one of {.arg table} and {.arg query}.", "argument",
      call = call)
  }
  if (!is.null(table)) {
    if (!(is.character(table) && length(table) == 1L && !is.na(table) && nzchar(table)) &&
      !inherits(table, "Id")) {
      abort_hm("{.arg table} must be a table name (a string or {.fn DBI::Id}).", "argument", call = call)
    }
    from <- as.character(DBI::dbQuoteIdentifier(con, table))
  } else {
    if (!is.character(query) || length(query) != 1L || is.na(query) ||
      !grepl("^\\s*(select|with)\\b", query, ignore.case = TRUE)) {
      abort_hm("{.arg query} must be one {.code SELECT} statement (a string).", "argument", call = call)
    }
    from <- paste0("(", sub(";\\s*$", "", query), ")")
  }
  if (!is.null(order_by) &&
    (!is.character(order_by) || length(order_by) == 0L || anyNA(order_by) || any(order_by == ""))) {
    abort_hm("{.arg order_by} must be column names (a character vector).", "argument", call = call)
  }
  chunk_rows <- if (is.null(chunk_rows)) 1000000L else check_count(chunk_rows, "chunk_rows", call)
  if (!is.null(connect) && !is.function(connect)) {
    abort_hm("{.arg connect} must be a function of no arguments returning a DBI connection.", "argument",
      call = call)
  }
  if (!tryCatch(isTRUE(DBI::dbIsValid(con)), error = function(e) FALSE)) {
    abort_hm("The DBI connection in {.arg source} is not valid (closed?).", "argument", call = call)
  }
  quote_ids <- function(x) paste(as.character(DBI::dbQuoteIdentifier(con, x)), collapse = ", ")
  select <- if (is.null(columns)) "*" else quote_ids(columns)
  base <- paste0("SELECT ", select, " FROM ", from, " AS hm_chunk_src")
  order <- if (is.null(order_by)) "" else paste0(" ORDER BY ", quote_ids(order_by))
  count_sql <- paste0("SELECT COUNT(*) AS n FROM ", from, " AS hm_chunk_src")
  rows <- tryCatch(DBI::dbGetQuery(con, count_sql)[[1L]],
    error = function(e) {
      abort_hm(c("Could not count the rows of the database source.", x = "{conditionMessage(e)}"),
        "argument", call = call)
    })
  cols <- tryCatch(names(DBI::dbGetQuery(con, paste0(base, order, " LIMIT 0"))),
    error = function(e) abort_hm(c("Could not read the columns of the database source.",
      x = "{conditionMessage(e)}", i = "Check {.arg columns} and {.arg order_by}."), "argument", call = call))
  rows <- as.double(rows)
  if (rows < 1) {
    abort_hm("The database source has no rows.", "data", call = call)
  }
  n <- ceiling(rows / chunk_rows)
  nrows <- rep(chunk_rows, n)
  nrows[n] <- as.integer(rows - (n - 1) * chunk_rows)
  new_lvm_chunks("database", n, sql = paste0(base, order), chunk_rows = chunk_rows, rows = rows,
    nrows = as.integer(nrows), con = con, connect = connect, dbdir = duckdb_file(con),
    owner = process_key(), id = chunk_source_id(), columns = cols, select = columns)
}

process_key <- function() paste(Sys.info()[["nodename"]], Sys.getpid())

chunk_source_id <- function() {
  paste0(process_key(), "-", format(Sys.time(), "%Y%m%d%H%M%OS6"), "-",
    paste(sample(c(letters, 0:9), 8L, replace = TRUE), collapse = ""))
}

# The database file behind a DuckDB connection (NULL for an in-memory one or
# for other drivers): duckdb keeps it in the driver's `dbdir` slot.
duckdb_file <- function(con) {
  if (!inherits(con, "duckdb_connection")) {
    return(NULL)
  }
  dbdir <- tryCatch(con@driver@dbdir, error = function(e) NULL)
  if (!is.character(dbdir) || length(dbdir) != 1L || is.na(dbdir) || dbdir %in% c("", ":memory:") ||
    !file.exists(dbdir)) {
    return(NULL)
  }
  normalizePath(dbdir)
}

# One reconnection per source and process, kept until the process ends.
chunk_connections <- new.env(parent = emptyenv())

chunk_db_connection <- function(src, call) {
  here <- process_key()
  if (identical(src$owner, here) && tryCatch(isTRUE(DBI::dbIsValid(src$con)), error = function(e) FALSE)) {
    return(src$con)
  }
  cached <- chunk_connections[[src$id]]
  if (!is.null(cached) && identical(cached$owner, here) &&
    tryCatch(isTRUE(DBI::dbIsValid(cached$con)), error = function(e) FALSE)) {
    return(cached$con)
  }
  if (is.function(src$connect)) {
    con <- src$connect()
    if (!inherits(con, "DBIConnection")) {
      abort_hm("{.arg connect} must return a DBI connection, not {.obj_type_friendly {con}}.", "argument",
        call = call)
    }
  } else if (!is.null(src$dbdir)) {
    if (!requireNamespace("duckdb", quietly = TRUE)) {
      abort_hm("Reconnecting to {.file {src$dbdir}} needs the {.pkg duckdb} package in this R process.",
        "argument", call = call)
    }
    # quietly: recent duckdb versions announce each new instance's storage,
    # once in every worker
    con <- tryCatch(suppressMessages(DBI::dbConnect(duckdb::duckdb(), dbdir = src$dbdir, read_only = TRUE)),
      error = function(e) abort_hm(c("Could not open the DuckDB file {.file {src$dbdir}} read-only in this process.",
        x = "{conditionMessage(e)}",
        i = "Open the main connection with {.code read_only = TRUE} too: DuckDB shares a file between
          processes only when all of them open it read-only."), "argument", call = call))
  } else {
    abort_hm(c("The database connection cannot be used in this R process.",
      i = "Pass {.arg connect} to {.fn lvm_chunks}: a function of no arguments that returns a new connection."),
      "argument", call = call)
  }
  if (is.null(chunk_connections$.finalizer)) {
    chunk_connections$.finalizer <- TRUE
    reg.finalizer(chunk_connections, function(e) chunk_disconnect_all(), onexit = TRUE)
  }
  chunk_connections[[src$id]] <- list(con = con, owner = here)
  con
}

# Closes this process's reconnections (of one source, or of all).
chunk_disconnect <- function(src) {
  cached <- chunk_connections[[src$id]]
  if (!is.null(cached)) {
    rm(list = src$id, envir = chunk_connections)
    db_disconnect(cached$con)
  }
  invisible(NULL)
}

chunk_disconnect_all <- function() {
  ids <- setdiff(ls(chunk_connections, all.names = TRUE), ".finalizer")
  for (id in ids) {
    db_disconnect(chunk_connections[[id]]$con)
    rm(list = id, envir = chunk_connections)
  }
  invisible(NULL)
}

db_disconnect <- function(con) {
  if (inherits(con, "duckdb_connection")) {
    try(DBI::dbDisconnect(con, shutdown = TRUE), silent = TRUE)
  } else {
    try(DBI::dbDisconnect(con), silent = TRUE)
  }
}

read_db_chunk <- function(src, i, call) {
  con <- chunk_db_connection(src, call)
  offset <- format((i - 1) * src$chunk_rows, scientific = FALSE)
  sql <- paste0(src$sql, " LIMIT ", src$chunk_rows, " OFFSET ", offset)
  DBI::dbGetQuery(con, sql)
}

# --- the verbs the driver uses ------------------------------------------------

chunk_count <- function(src) src$n

# For sources whose columns are not known in advance (functions, arrow
# Datasets): record those of a chunk read (normally the first), so that
# chunk_read() checks every later chunk against them.
chunk_record_columns <- function(src, x) {
  if (is.null(src$columns)) src$columns <- colnames(x)
  if (is.null(src$ncol)) src$ncol <- ncol(x)
  src
}

chunk_nrows <- function(src) {
  switch(src$kind,
    "list" = ,
    "matrix list" = ,
    "database" = src$nrows,
    parquet = parquet_nrows(src$files, src$reader),
    "arrow Dataset" = if (src$format == "parquet") parquet_nrows(src$files, "arrow"),
    NULL
  )
}

chunk_read <- function(src, i, call = rlang::caller_env()) {
  if (!is.numeric(i) || length(i) != 1L || is.na(i) || i != round(i) || i < 1 || i > src$n) {
    abort_hm("Chunk number {.arg i} must be a whole number between 1 and {src$n}.", "argument", call = call)
  }
  i <- as.integer(i)
  what <- paste("Chunk", i)
  x <- tryCatch(
    switch(src$kind,
      "list" = ,
      "matrix list" = select_columns(src$data[[i]], src$select, what, call),
      csv = read_csv_chunk(src$files[i], src$reader, select = src$select),
      parquet = read_parquet_chunk(src$files[i], src$reader, src$select),
      "arrow Dataset" = read_dataset_chunk(src$files[i], src$format, src$select),
      "function" = src$fun(i),
      database = read_db_chunk(src, i, call)
    ),
    # One handler: a second one for harmonium errors would run inside this
    # one's scope, so its rethrow would be caught here again.
    error = function(e) {
      if (inherits(e, "harmonium_error")) stop(e)
      # A failed read may be transient (a lost connection, a busy file
      # system): its own class, which the chunked driver retries.
      msg <- conditionMessage(e)
      cli::cli_abort(c("Could not read chunk {i} of {src$n}.", x = "{msg}"),
        class = c("harmonium_error_chunk_read", "harmonium_error_data", "harmonium_error"), call = call)
    }
  )
  if (!is.data.frame(x) && !(is.matrix(x) && (is.numeric(x) || is.logical(x)))) {
    abort_hm("Chunk {i} is {.obj_type_friendly {x}}, not a data frame or numeric matrix.", "data", call = call)
  }
  if (src$kind == "function") x <- select_columns(x, src$select, what, call)
  check_chunk_shape(x, i, src, call)
  x
}

check_chunk_shape <- function(x, i, src, call) {
  if (!is.null(src$columns) && !identical(colnames(x), src$columns)) {
    got <- colnames(x)
    got <- if (is.null(got)) "no column names" else paste0("columns ", paste(got, collapse = ", "))
    abort_hm(c("Chunk {i} has other columns than the first chunk.",
      x = "Expected columns {paste(src$columns, collapse = ', ')}; chunk {i} has {got}."),
      "data", call = call)
  }
  if (!is.null(src$ncol) && ncol(x) != src$ncol) {
    abort_hm("Chunk {i} has {ncol(x)} column{?s}, the first chunk {src$ncol}.", "data", call = call)
  }
  invisible(x)
}

#' @export
print.lvm_chunks <- function(x, ...) {
  nr <- tryCatch(chunk_nrows(x), error = function(e) NULL)
  cat("<lvm_chunks> ", x$kind, ": ", x$n, if (x$n == 1L) " chunk" else " chunks", "\n", sep = "")
  if (!is.null(nr)) {
    cat("Rows:    ", format(sum(as.double(nr)), big.mark = ",", scientific = FALSE), "\n", sep = "")
  }
  if (!is.null(x$columns)) {
    cols <- x$columns
    shown <- if (length(cols) > 8L) c(cols[1:8], "...") else cols
    cat("Columns: ", length(cols), " (", paste(shown, collapse = ", "), ")\n", sep = "")
  } else if (!is.null(x$ncol)) {
    cat("Columns: ", x$ncol, "\n", sep = "")
  }
  if (x$kind %in% c("csv", "parquet", "arrow Dataset")) {
    cat("Files:   ", basename(x$files[1L]), if (x$n > 1L) paste0(" ... ", basename(x$files[x$n])), "\n",
      sep = "")
  }
  if (x$kind == "database") {
    cat("Query:   ", x$sql, "\n", "         in chunks of ", format(x$chunk_rows, big.mark = ",",
      scientific = FALSE), " rows\n", sep = "")
  }
  invisible(x)
}
