#!/usr/bin/env bash
# Installs libvta (TVM's VTA driver and runtime C API, docs/c-api.md) under a prefix:
#   PREFIX/include/vta/{driver.h,runtime.h,hw_spec.h} and PREFIX/lib/libvta.so
#
# Usage: scripts/install-libvta.sh PREFIX
# Environment:
#   LIBVTA_LIB           an already built libvta.so to install (nothing is built then)
#   CONFIGURATION        debug or release (default release) when building
#   SWIFT                the swift driver (default swift)
#   SWIFT_BUILD_FLAGS    extra flags for swift build (e.g. --static-swift-stdlib)
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
prefix=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
swift=${SWIFT:-swift}

if [ -n "${LIBVTA_LIB:-}" ]; then
    lib=$LIBVTA_LIB
else
    configuration=${CONFIGURATION:-release}
    # shellcheck disable=SC2086  # SWIFT_BUILD_FLAGS is a list of flags
    (cd "$root" && "$swift" build -c "$configuration" --product vta ${SWIFT_BUILD_FLAGS:-})
    # shellcheck disable=SC2086
    lib="$(cd "$root" && "$swift" build -c "$configuration" --show-bin-path ${SWIFT_BUILD_FLAGS:-})/libvta.so"
fi
if [ ! -f "$lib" ]; then
    echo "$0: $lib does not exist; build it with: swift build --product vta" >&2
    exit 1
fi

install -d "$prefix/include/vta" "$prefix/lib"
install -m 0644 "$root/Sources/VTACABI/include/vta/driver.h" "$root/Sources/VTACABI/include/vta/runtime.h" \
    "$root/Sources/VTACABI/include/vta/hw_spec.h" "$prefix/include/vta/"
install -m 0755 "$lib" "$prefix/lib/libvta.so"
echo "installed libvta into $prefix (include/vta, lib/libvta.so)"
