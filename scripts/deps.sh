#!/usr/bin/env bash
# Installs what building swift-vta needs when it is missing (`make deps`).
#   Debian packages: the -dev packages of the kernel-interface system libraries, pkg-config, dtc,
#   a C compiler and binutils for the libvta tests.
#   Swift: must already be installed (6.2 or newer); /opt/swift/usr/bin is added to PATH by the Makefile.
set -euo pipefail

# systemd provides systemd-analyze, used by `make test` to verify the units in systemd/; gcc and
# binutils (cc, nm) build and inspect the C ABI tests against libvta.so.
packages=(libudev-dev libdrm-dev pkg-config device-tree-compiler systemd gcc libc6-dev binutils)

if command -v dpkg >/dev/null 2>&1; then
    missing=()
    for p in "${packages[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]})); then
        if [ "$(id -u)" -eq 0 ]; then
            echo "deps: installing ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update
            apt-get install -y --no-install-recommends "${missing[@]}"
        else
            echo "deps: missing Debian packages: ${missing[*]}" >&2
            echo "deps: install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
            exit 1
        fi
    fi
else
    echo "deps: not a Debian system (no dpkg); make sure these (or your distribution's equivalents) are installed: ${packages[*]}" >&2
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "deps: swift is not on PATH. Install Swift 6.2 or newer from https://www.swift.org/install/" >&2
    echo "      (on our machines it is in /opt/swift/usr/bin, which the Makefile adds to PATH when it exists)" >&2
    exit 1
fi
version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' | head -n 1)
if [ -n "$version" ]; then
    read -r major minor <<<"$version"
    if ((major < 6 || (major == 6 && minor < 2))); then
        echo "deps: Swift $major.$minor found; swift-vta needs Swift 6.2 or newer (https://www.swift.org/install/)" >&2
        exit 1
    fi
fi
