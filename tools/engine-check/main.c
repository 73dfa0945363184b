/*
 * main.c: runs the engine's self-test table (src/engine/selftest.c) outside
 * R, for the sanitizer build in tools/engine-check (style.md 3.11). The
 * same table runs inside R as one test_that() per entry
 * (tests/testthat/test-engine-c.R); here every engine file is compiled with
 * AddressSanitizer and UndefinedBehaviorSanitizer, so a test that passes in
 * R but reads out of bounds or overflows an int fails here.
 *
 * Usage: engine-check [pattern ...]
 *   Runs every self-test whose name contains one of the patterns (all of
 *   them without arguments), prints PASS or FAIL with the test's message
 *   for each, and exits with status 1 if any failed, 2 if no test matched.
 *
 * The self-tests need no host services: those that sample build their own
 * deterministic generator, so nothing here stands in for R's RNG.
 */
#include <stdio.h>
#include <string.h>

#include "selftest.h"

/* 1 if name contains any of the patterns argv[1..argc-1], or if there are
 * none. */
static int selected(const char *name, int argc, char **argv) {
    if (argc < 2) {
        return 1;
    }
    for (int a = 1; a < argc; a++) {
        if (strstr(name, argv[a]) != NULL) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    char msg[1024];
    int ran = 0, failed = 0;
    for (int i = 0; i < hm_selftest_count(); i++) {
        const char *name = hm_selftest_name(i);
        if (!selected(name, argc, argv)) {
            continue;
        }
        msg[0] = '\0';
        int rc = hm_selftest_run(i, msg, sizeof msg);
        // Flushed per test, so that a sanitizer abort in the next test
        // still leaves this line in a piped log.
        if (rc == 0) {
            printf("PASS  %s\n", name);
        } else {
            printf("FAIL  %s: %s\n", name, msg[0] != '\0' ? msg : "(no message)");
            failed++;
        }
        fflush(stdout);
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "engine-check: no self-test matches the given patterns\n");
        return 2;
    }
    printf("%d of %d self-tests failed\n", failed, ran);
    return failed > 0 ? 1 : 0;
}
