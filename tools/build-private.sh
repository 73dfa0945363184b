# Sourced by tools/sanitize.sh and tools/valgrind.sh: build_private ROOT WORK
# LIB NAME [R CMD INSTALL options] installs a copy of the package sources in
# ROOT (without objects, git metadata or build output, so nothing compiled
# with other flags is picked up and the working tree is left alone) into the
# library LIB, compiled with the flags in WORK/Makevars (a private
# R_MAKEVARS_USER, which the caller writes). NAME prefixes its messages.
build_private() {
    local root=$1 work=$2 lib=$3 name=$4
    shift 4
    rm -rf "$work/pkg" "$lib"
    mkdir -p "$work/pkg/harmonium" "$lib"
    tar -C "$root" --exclude=./.git --exclude='*.o' --exclude='*.so' \
        --exclude=./demo-output --exclude=./lib --exclude=./bench/out -cf - . |
        tar -C "$work/pkg/harmonium" -xf -
    R_MAKEVARS_USER=$work/Makevars nice R CMD INSTALL --preclean --no-multiarch "$@" \
        -l "$lib" "$work/pkg/harmonium" > "$work/install.log" 2>&1 || {
        cat "$work/install.log"
        echo "$name: build failed" >&2
        exit 1
    }
}
