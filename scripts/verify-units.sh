#!/usr/bin/env bash
# Checks the files under systemd/ without installing anything:
#   1. unit files: no inline comments (systemd has none: "Key=value # x" makes "# x" part of
#      the value), then `systemd-analyze verify` on a temporary copy whose ExecStart= binaries
#      exist (a built vtad/vtactl if there is one, else /bin/true), so only real problems are
#      reported. verify exits 0 for unknown keys and unparsable values ("..., ignoring"), so
#      ANY output from it counts as a failure here.
#   2. sysusers.d and tmpfiles.d: applied to an empty temporary root (--root), never to /.
#   3. vtad.json.example: valid JSON (python3, if present).
#   4. `systemd-analyze security --offline=yes` exposure of vtad.service, for information.
#
# Usage: scripts/verify-units.sh [SYSTEMD_DIR]       (default: the repository's systemd/)
#   VTAD=/path/to/vtad VTACTL=/path/to/vtactl   binaries to put in ExecStart= (optional)
# Needs systemd-analyze, systemd-sysusers, systemd-tmpfiles (Debian package: systemd).
# Exit status: 0 clean, 1 findings, 2 tools missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$here/systemd}
units=(vtad.socket vtad.service vta-program@.service)

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "verify-units: $tool not found; install the Debian package 'systemd' (apt-get install --no-install-recommends systemd)" >&2
        exit 2
    fi
done

pick() {
    # First existing executable among the arguments, else /bin/true.
    for candidate in "$@"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return
        fi
    done
    echo /bin/true
}
vtad=$(pick "${VTAD:-}" "$here/.build/debug/vtad" "$here/.build/release/vtad")
vtactl=$(pick "${VTACTL:-}" "$here/.build/debug/vtactl" "$here/.build/release/vtactl")

tmp=$(mktemp -d /tmp/verify-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
    echo "verify-units: $*" >&2
    status=1
}

# 1. Unit files.
mkdir "$tmp/units"
for u in "${units[@]}"; do
    [ -f "$dir/$u" ] || { fail "$dir/$u is missing"; continue; }
    # An inline comment: a non-comment line with whitespace followed by # or ;.
    if grep -nE '^[[:space:]]*[^#;[:space:]].*[[:space:]][#;]' "$dir/$u" >"$tmp/inline"; then
        while IFS= read -r line; do fail "$u:${line%%:*}: inline comment (put comments on their own line): ${line#*:}"; done <"$tmp/inline"
    fi
    sed -E \
        -e "s#^(ExecStart=[-@:+!]*)/usr/local/bin/vtad([[:space:]]|\$)#\\1$vtad\\2#" \
        -e "s#^(ExecStart=[-@:+!]*)/usr/local/bin/vtactl([[:space:]]|\$)#\\1$vtactl\\2#" \
        "$dir/$u" >"$tmp/units/$u"
done
echo "verify-units: systemd-analyze verify (ExecStart= binaries: $vtad, $vtactl)"
verify_rc=0
(cd "$tmp/units" && systemd-analyze verify "${units[@]/#/./}") >"$tmp/verify.out" 2>&1 || verify_rc=$?
if [ "$verify_rc" -ne 0 ] || [ -s "$tmp/verify.out" ]; then
    sed "s#$tmp/units/##g; s#^#  #" "$tmp/verify.out" >&2
    fail "systemd-analyze verify reported problems (exit $verify_rc)"
fi

# 2. sysusers.d then tmpfiles.d, into an empty root (tmpfiles resolves vtad/vta there).
root="$tmp/root"
mkdir -p "$root/etc"
touch "$root/etc/passwd" "$root/etc/group" "$root/etc/shadow" "$root/etc/gshadow"
echo "verify-units: systemd-sysusers and systemd-tmpfiles (in $root)"
if ! systemd-sysusers --root="$root" "$dir/sysusers.d/vta.conf" >"$tmp/sysusers.out" 2>&1; then
    sed 's/^/  /' "$tmp/sysusers.out" >&2
    fail "systemd-sysusers rejected sysusers.d/vta.conf"
fi
grep -q '^vta:' "$root/etc/group" || fail "sysusers.d/vta.conf did not create group vta"
vta_gid=$(awk -F: '$1 == "vta" { print $3 }' "$root/etc/group")
awk -F: -v gid="$vta_gid" '$1 == "vtad" && $4 == gid { found = 1 } END { exit !found }' "$root/etc/passwd" ||
    fail "sysusers.d/vta.conf did not create user vtad with primary group vta"
if ! systemd-tmpfiles --root="$root" --create "$dir/tmpfiles.d/vta.conf" >"$tmp/tmpfiles.out" 2>&1 || [ -s "$tmp/tmpfiles.out" ]; then
    sed 's/^/  /' "$tmp/tmpfiles.out" >&2
    fail "systemd-tmpfiles reported problems with tmpfiles.d/vta.conf"
fi
[ "$(stat -c %a "$root/run/vta" 2>/dev/null)" = 750 ] || fail "tmpfiles.d/vta.conf did not create /run/vta with mode 0750"

# 3. The example daemon configuration.
if command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool "$dir/vtad.json.example" >/dev/null 2>"$tmp/json.out" || {
        sed 's/^/  /' "$tmp/json.out" >&2
        fail "vtad.json.example is not valid JSON"
    }
fi

# 4. Exposure score (information only; --offline needs systemd 250 or newer).
if systemd-analyze security --offline=yes "$tmp/units/vtad.service" >"$tmp/security.out" 2>&1; then
    grep -E 'Overall exposure level' "$tmp/security.out" | sed 's/^/verify-units: /' || true
fi

if [ "$status" -eq 0 ]; then
    echo "verify-units: OK"
fi
exit "$status"
