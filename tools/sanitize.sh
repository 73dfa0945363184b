#!/usr/bin/env bash
# tools/sanitize.sh: the whole testthat suite under AddressSanitizer and
# UndefinedBehaviorSanitizer (issue 9).
#
#   bash tools/sanitize.sh            from the package root (or anywhere)
#   bash tools/sanitize.sh FILE...    only these test files (paths to .R
#                                     files), e.g. while fixing a finding
#
# 1. Copies the package sources (without objects) to a scratch directory and
#    installs them into a private library with
#    -fsanitize=address,undefined -fno-sanitize-recover=all
#    -fno-omit-frame-pointer -g -O1, given through a private R_MAKEVARS_USER
#    file (src/Makevars is untouched, the working tree gets no objects).
#    The installed .so is checked for ASan instrumentation.
# 2. Runs `Rscript tools/run-tests.R` with gcc's libasan preloaded into R,
#    the sanitized library first in R_LIBS (the dependencies come from the
#    normal library) and HARMONIUM_SANITIZER=true exported.
# 3. Fails (exit 1) on any sanitizer finding: the run aborting, a report in
#    its output, or a report file in the log directory. Child R processes
#    started by the tests (callr) inherit LD_PRELOAD and the options and
#    write their reports to the same log directory, so a crash in a child
#    that the test itself tolerates still fails this script. Three canaries
#    (heap overflow, signed overflow, segfault in a scratch .so) must be
#    caught first, so a broken setup cannot pass silently.
#
# The last line printed is "N passed, N failed, N skipped" of the sanitized
# run, with each sanitizer finding counted as a failure.
#
# Environment:
#   HARMONIUM_SAN_DIR   scratch directory (default: a new mktemp -d); kept
#                       after the run when given, removed otherwise
#   HARMONIUM_SAN_REUSE=true  skip the build if HARMONIUM_SAN_DIR already
#                       holds a sanitized library (for repeated runs)
#
# Suppressions for findings in R itself or other packages (never ours) are
# in tools/sanitize-ubsan.supp and tools/sanitize-asan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. tools/build-private.sh

if [ -n "${HARMONIUM_SAN_DIR:-}" ]; then
    work=$HARMONIUM_SAN_DIR
    mkdir -p "$work"
    keep=true
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/harmonium-san.XXXXXX")
    keep=false
fi
lib=$work/lib
logs=$work/logs
cleanup() { if [ "$keep" = false ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

libasan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$libasan" ] || [ "$libasan" = libasan.so ]; then
    echo "sanitize.sh: gcc's libasan.so not found (install gcc's libasan)" >&2
    exit 2
fi
libasan=$(readlink -f "$libasan")
libubsan=$(readlink -f "$(gcc -print-file-name=libubsan.so)")

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# --- build -------------------------------------------------------------------
t0=$(date +%s)
cat > "$work/Makevars" <<EOF
CFLAGS = -g -O1 $san
LDFLAGS = $san
EOF
so=$lib/harmonium/libs/harmonium.so
if [ "${HARMONIUM_SAN_REUSE:-}" = true ] && [ -f "$so" ]; then
    echo "sanitize.sh: reusing $lib"
else
    build_private "$root" "$work" "$lib" sanitize.sh --no-test-load
fi
syms=$(nm -D "$so")
if ! grep -q '__asan_report_load' <<< "$syms" || ! grep -q '__ubsan_handle' <<< "$syms"; then
    echo "sanitize.sh: $so is not instrumented (no __asan_/__ubsan_ symbols)" >&2
    exit 1
fi
t1=$(date +%s)
echo "sanitize.sh: sanitized build in $((t1 - t0)) s ($so)"

# --- run ---------------------------------------------------------------------
rm -rf "$logs"
mkdir -p "$logs"
# detect_leaks=0: R frees little at exit by design. detect_odr_violation=0:
# R's own libraries repeat globals across shared objects.
# allocator_may_return_null=1: a request R cannot satisfy (the tests ask for
# huge sizes on purpose) returns NULL, so R raises its ordinary
# "cannot allocate" error instead of ASan aborting.
# allow_user_segv_handler=0 (with handle_segv, handle_abort): ASan keeps the
# fatal-signal handlers instead of R's "caught segfault" one, so a crash of
# a child R process is reported into the log directory as well.
export ASAN_OPTIONS="detect_leaks=0:detect_odr_violation=0:allocator_may_return_null=1:handle_segv=1:handle_sigbus=1:handle_sigfpe=1:handle_sigill=1:handle_abort=1:allow_user_segv_handler=0:log_path=$logs/asan:suppressions=$root/tools/sanitize-asan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/tools/sanitize-ubsan.supp"
# UBSan ignores log_path in UBSAN_OPTIONS when ASan is preloaded (its
# __sanitizer_set_report_path call binds to libasan's), so a preloaded shim
# sets libubsan's own report path from HARMONIUM_UBSAN_LOG.
export HARMONIUM_UBSAN_LOG=$logs/ubsan
preload="$libasan $libubsan $work/shim/ubsan-log.so"
export HARMONIUM_SANITIZER=true
export OMP_THREAD_LIMIT=${OMP_THREAD_LIMIT:-2}
export R_LIBS="$lib${R_LIBS:+:$R_LIBS}"
out=$work/tests.log

mkdir -p "$work/shim"
cat > "$work/shim/ubsan-log.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
/* Points libubsan's own report file at $HARMONIUM_UBSAN_LOG.<pid>. */
__attribute__((constructor)) static void ubsan_log_path(void) {
    const char *path = getenv("HARMONIUM_UBSAN_LOG");
    void *h = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (path == NULL || h == NULL) {
        return;
    }
    void (*set)(const char *) = (void (*)(const char *))dlsym(h, "__sanitizer_set_report_path");
    if (set != NULL) {
        set(path);
    }
}
EOF
gcc -shared -fPIC -O1 -o "$work/shim/ubsan-log.so" "$work/shim/ubsan-log.c" -ldl

# Canaries: a heap overflow, a signed overflow and a segfault in a scratch .so built with
# the same flags must each be caught (the R process dies, a report lands in
# the log directory), or this script cannot see anything.
mkdir -p "$work/canary"
cat > "$work/canary/canary.c" <<'EOF'
#include <limits.h>
#include <stdlib.h>
#include <Rinternals.h>
SEXP canary_heap(SEXP n) {
    int k = Rf_asInteger(n);
    int *p = malloc(sizeof(int) * (size_t)k);
    volatile int s = p[k];
    free(p);
    return Rf_ScalarInteger(s);
}
SEXP canary_overflow(SEXP n) {
    int k = Rf_asInteger(n);
    return Rf_ScalarInteger(k + INT_MAX);
}
SEXP canary_segv(SEXP n) {
    volatile int *p = (int *)(size_t)Rf_asInteger(n);
    return Rf_ScalarInteger(*p);
}
EOF
(cd "$work/canary" && R_MAKEVARS_USER=$work/Makevars R CMD SHLIB -o canary.so canary.c > build.log 2>&1) || {
    cat "$work/canary/build.log"
    echo "sanitize.sh: the canary did not build" >&2
    exit 1
}
for fn in canary_heap canary_overflow canary_segv; do
    rm -rf "${logs:?}"/*
    if LD_PRELOAD=$preload Rscript -e "dyn.load('$work/canary/canary.so'); .Call('$fn', 4L)" \
        > "$work/canary/$fn.log" 2>&1 || [ -z "$(find "$logs" -type f)" ]; then
        cat "$work/canary/$fn.log" "$logs"/* 2>/dev/null || true
        echo "sanitize.sh: the $fn canary was not caught: the sanitizer setup is broken" >&2
        exit 1
    fi
done
rm -rf "${logs:?}"/*
echo "sanitize.sh: canaries (heap overflow, signed overflow, segfault) caught"

# The package the tests load must be the sanitized one.
where=$(LD_PRELOAD=$preload Rscript -e 'cat(find.package("harmonium"))' 2>>"$work/check.log") || {
    cat "$work/check.log" >&2
    echo "sanitize.sh: R does not start with libasan preloaded" >&2
    exit 1
}
if [ "$(readlink -f "$where")" != "$(readlink -f "$lib/harmonium")" ]; then
    echo "sanitize.sh: the tests would load harmonium from $where, not $lib" >&2
    exit 1
fi

if [ $# -eq 0 ]; then
    run=(Rscript tools/run-tests.R)
else
    # The same counts line as run-tests.R, over the files given.
    run=(Rscript -e '
files <- commandArgs(TRUE)
res <- do.call(rbind, lapply(files, function(f) as.data.frame(testthat::test_file(f,
  package = "harmonium", load_package = "installed", stop_on_failure = FALSE))))
failed <- sum(res$failed) + sum(res$error)
cat(sprintf("\n%d passed, %d failed, %d skipped\n", sum(res$nb) - sum(res$failed) -
  sum(res$skipped), failed, sum(res$skipped)))
quit(status = if (failed > 0) 1L else 0L, save = "no")' "$@")
fi
set +e
LD_PRELOAD=$preload nice "${run[@]}" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
t2=$(date +%s)
echo "sanitize.sh: sanitized test run in $((t2 - t1)) s, exit status $status"

# --- verdict -------------------------------------------------------------
findings=0
reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
    for f in $reports; do
        echo "==== sanitizer report $f"
        cat "$f"
        findings=$((findings + 1))
    done
fi
pattern='ERROR: AddressSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|SUMMARY: AddressSanitizer'
if grep -Eq "$pattern" "$out"; then
    echo "==== sanitizer report in the test output:"
    grep -En "$pattern" "$out" | head -50
    [ "$findings" -gt 0 ] || findings=1
fi

counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -n 1 || true)
if [ -z "$counts" ]; then
    echo "sanitize.sh: the test run ended without its counts (status $status): it aborted"
    [ "$findings" -gt 0 ] || findings=1
    counts="0 passed, 0 failed, 0 skipped"
fi
read -r passed _ failed _ skipped _ <<< "$counts"
if [ "$findings" -gt 0 ]; then
    echo "sanitize.sh: FAILED: $findings sanitizer finding(s)"
elif [ "$status" -ne 0 ]; then
    echo "sanitize.sh: FAILED: test failures under the sanitizers (status $status)"
else
    echo "sanitize.sh: no sanitizer findings"
fi
echo "$passed passed, $((failed + findings)) failed, $skipped skipped"
if [ "$findings" -gt 0 ] || [ "$status" -ne 0 ]; then
    exit 1
fi
exit 0
