#!/usr/bin/env bash
# tools/valgrind.sh: a representative subset of the testthat suite under
# valgrind's memcheck (issue 9). Not part of CI (about 20-50 times slower than
# a plain run).
#
#   bash tools/valgrind.sh                 the default subset (below)
#   bash tools/valgrind.sh SPEC...         these instead; SPEC is a test file
#                                          (test-fit.R) or FILE:REGEX to run
#                                          only the tests matching REGEX
#
# Installs the package built with -O0 -g (a private R_MAKEVARS_USER; the
# package's Makevars untouched) from a copy of the sources into a private
# library, then runs each test file in
#   R -d "valgrind --error-exitcode=1 --track-origins=yes --leak-check=no ..."
# and fails (exit 1) if any file fails or valgrind reports any error. R itself
# is clean under memcheck on this platform; should a report come from R or
# another package, add a narrow entry to tools/valgrind.supp with the reason.
#
# valgrind must be installed: `apt-get install -y valgrind` (Debian/Ubuntu),
# done here automatically when run as root and apt-get is available.
#
# Environment: HARMONIUM_VG_DIR scratch directory (kept when given),
# HARMONIUM_VG_REUSE=true reuses its library.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. tools/build-private.sh

if ! command -v valgrind > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        apt-get install -y valgrind
    else
        echo "valgrind.sh: valgrind not found; install it: apt-get install -y valgrind" >&2
        exit 2
    fi
fi

if [ -n "${HARMONIUM_VG_DIR:-}" ]; then
    work=$HARMONIUM_VG_DIR
    mkdir -p "$work"
    keep=true
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/harmonium-vg.XXXXXX")
    keep=false
fi
cleanup() { if [ "$keep" = false ]; then rm -rf "$work"; fi; }
trap cleanup EXIT
lib=$work/lib

# A spec is FILE or FILE:REGEX; with a regex only the test_that() blocks whose
# description matches it run (the file's other top-level code, its fixtures,
# always runs), so the slow files contribute a few representative tests. A
# spec selecting no test is an error. The default: each family group, each
# model kind (mixture, lgm, harmonium, hmm, lds, composite) and chunked EM.
# Not the fuzz test: its cases run in callr child processes, which valgrind
# does not follow (tools/sanitize.sh covers them: children inherit libasan).
specs=("$@")
if [ ${#specs[@]} -eq 0 ]; then
    specs=(
        test-family-normal.R test-family-categorical.R test-family-counts.R
        test-family-continuous.R test-family-product.R test-family-boltzmann.R
        test-model-mixture.R test-model-lgm.R test-model-harmonium.R test-chunked.R
        'test-model-hmm.R:enumeration|rejects|bad input'
        'test-model-lds.R:^lds engine|classed errors'
        'test-model-composite.R:random parameters|unsupported shapes|bad input|conjugated models'
    )
fi

t0=$(date +%s)
so=$lib/harmonium/libs/harmonium.so
if [ "${HARMONIUM_VG_REUSE:-}" = true ] && [ -f "$so" ]; then
    echo "valgrind.sh: reusing $lib"
else
    printf 'CFLAGS = -g -O0\n' > "$work/Makevars"
    build_private "$root" "$work" "$lib" valgrind.sh
fi
echo "valgrind.sh: -O0 -g build in $(($(date +%s) - t0)) s"

# The selected test files, written next to a copy of the helpers.
rm -rf "$work/tests"
cp -r tests/testthat "$work/tests"
files=()
for spec in "${specs[@]}"; do
    file=${spec%%:*}
    regex=""
    [ "$file" = "$spec" ] || regex=${spec#*:}
    src=tests/testthat/$(basename "$file")
    [ -f "$src" ] || src=$file
    if [ ! -f "$src" ]; then
        echo "valgrind.sh: no test file $file" >&2
        exit 2
    fi
    dest=$work/tests/$(basename "$src")
    cp "$src" "$dest"
    if [ -n "$regex" ]; then
        Rscript --vanilla -e '
a <- commandArgs(TRUE)
ex <- parse(a[1], keep.source = TRUE)
src <- vapply(attr(ex, "srcref"), function(r) paste(as.character(r), collapse = "\n"), "")
is_test <- vapply(ex, function(e) is.call(e) && identical(e[[1]], as.name("test_that")), NA)
keep <- vapply(seq_along(ex), function(i) !is_test[i] || grepl(a[2], ex[[i]][[2]]), NA)
if (!any(keep & is_test)) stop("no test in ", a[1], " matches ", a[2])
writeLines(src[keep], a[1])
cat(sprintf("valgrind.sh: %s: %d of %d tests\n", basename(a[1]), sum(keep & is_test), sum(is_test)))' \
            "$dest" "$regex"
    fi
    files+=("$dest")
done

export R_LIBS="$lib${R_LIBS:+:$R_LIBS}"
export OMP_THREAD_LIMIT=${OMP_THREAD_LIMIT:-2}
export HARMONIUM_VALGRIND=true
vg="valgrind --error-exitcode=1 --track-origins=yes --leak-check=no --num-callers=30"
vg="$vg --suppressions=$root/tools/valgrind.supp"
rm -rf "$work/logs"
mkdir -p "$work/logs"

# One R process runs every selected file (R and package start-up under
# memcheck take minutes, so once), printing each file's counts and time.
cat > "$work/run.R" <<'EOF'
bad <- 0
for (f in commandArgs(TRUE)) {
  t0 <- proc.time()[["elapsed"]]
  res <- as.data.frame(testthat::test_file(f, package = "harmonium",
    load_package = "installed", reporter = "summary", stop_on_failure = FALSE))
  nf <- sum(res$failed) + sum(res$error)
  bad <- bad + nf
  cat(sprintf("valgrind.sh: %s: %d passed, %d failed, %d skipped, %.0f s\n", basename(f),
    sum(res$nb) - sum(res$failed) - sum(res$skipped), nf, sum(res$skipped),
    proc.time()[["elapsed"]] - t0))
}
quit(status = if (bad > 0) 2L else 0L, save = "no")
EOF
t1=$(date +%s)
set +e
nice R -d "$vg --log-file=$work/logs/vg.%p" --vanilla --no-echo -f "$work/run.R" \
    --args "${files[@]}" 2>&1 | tee "$work/tests.log"
status=${PIPESTATUS[0]}
set -e
echo "valgrind.sh: ${#files[@]} files under valgrind in $(($(date +%s) - t1)) s (total $(($(date +%s) - t0)) s), exit status $status"
# Valgrind's log per process: R and any process it forks.
bad=0
for v in "$work"/logs/vg.*; do
    if grep -qE '^==[0-9]+== ERROR SUMMARY: [1-9]' "$v"; then
        echo "==== valgrind errors in $v"
        cat "$v"
        bad=$((bad + 1))
    fi
done
if [ "$status" -ne 0 ] || [ "$bad" -gt 0 ]; then
    echo "valgrind.sh: FAILED ($bad process(es) with valgrind errors, exit status $status)"
    exit 1
fi
echo "valgrind.sh: no valgrind errors"
