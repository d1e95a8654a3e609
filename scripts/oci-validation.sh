#!/bin/sh
# The OCI runtime-tools validation suite (github.com/opencontainers/runtime-tools, validation/) against
# pxoci on a simulated PVE node and against runc on the same host, side by side.
#
#   scripts/oci-validation.sh RUNTIME_TOOLS_DIR [RESULTS_FILE]
#
# RUNTIME_TOOLS_DIR is the user's own checkout, with its programs already built there as its own
# Makefile builds them: this project neither ships nor builds them.
# Debian 12's Go (1.19) builds runtime-tools up to commit 260e151 (March 2025); later commits need Go
# 1.21. Each program runs from that directory (it unpacks rootfs-<arch>.tar.gz from there) with RUNTIME
# set to each runtime in turn; its TAP output goes to $OCI_VALIDATION_WORK (default: a temporary
# directory, kept), and scripts/oci-validation-report.mjs prints one table per program and writes
# RESULTS_FILE (default conformance/results/oci-validation.txt), which scripts/gen-fields-doc.mjs shows
# in docs/fields.md. As root, after `npm run build`. The programs take about 4 minutes on runc and 16 on
# pxoci here (2 cores; every pxoci container is a PVE CT start), more on a loaded machine.
# OCI_VALIDATION_ONLY="prog1 prog2" runs only those programs.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
tools=${1:?usage: scripts/oci-validation.sh RUNTIME_TOOLS_DIR [RESULTS_FILE]}
tools=$(cd "$tools" && pwd)
results=${2:-$top/conformance/results/oci-validation.txt}
runc=${RUNC:-/usr/sbin/runc}
per_program_timeout=${OCI_VALIDATION_TIMEOUT:-900}

fail() {
  echo "oci-validation: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || fail "run as root (containers are started)"
[ -x "$top/dist/pxoci" ] || fail "no dist/pxoci: run npm run build first"
[ -x "$runc" ] || fail "no runc at $runc (set RUNC=)"
arch=$(go env GOARCH 2>/dev/null || dpkg --print-architecture)
[ -f "$tools/rootfs-$arch.tar.gz" ] || fail "$tools has no rootfs-$arch.tar.gz: not a runtime-tools checkout?"
[ -x "$tools/runtimetest" ] || fail "$tools/runtimetest is missing: build the checkout's programs first (see its Makefile)"
programs=$(cd "$tools" && ls validation/*/*.t 2>/dev/null | sort) || true
[ -n "$programs" ] || fail "no validation/*/*.t in $tools: build the checkout's programs first (see its Makefile)"
if [ -n "${OCI_VALIDATION_ONLY:-}" ]; then
  wanted=""
  for p in $OCI_VALIDATION_ONLY; do wanted="$wanted validation/$p/$p.t"; done
  programs=$wanted
fi

work=${OCI_VALIDATION_WORK:-$(mktemp -d /tmp/pxoci-oci-validation.XXXXXX)}
mkdir -p "$work/tap/runc" "$work/tap/pxoci" "$work/bin"
node=$(command -v node)
sim="$work/node"
cleanup() {
  set +e
  "$node" "$top/dist/pvesim.js" down --root "$sim" >/dev/null 2>&1
}
trap cleanup EXIT INT TERM

# The programs call $RUNTIME with runc's commands and no global options: each runtime gets a wrapper
# with its own state root (and, for pxoci, the simulated node).
"$node" "$top/dist/pvesim.js" env --root "$sim" > "$work/node.env"
. "$work/node.env"
cat > "$work/bin/pxoci" <<SH
#!/bin/sh
PXOCI_PVE_ROOT='$PXOCI_PVE_ROOT' PXOCI_PVE_NODE='$PXOCI_PVE_NODE' PATH='$PATH' exec '$top/dist/pxoci' --root '$work/state-pxoci' "\$@"
SH
cat > "$work/bin/runc" <<SH
#!/bin/sh
exec '$runc' --root '$work/state-runc' "\$@"
SH
chmod 755 "$work/bin/pxoci" "$work/bin/runc"

# What a program left behind (a failed check may leave its container) must not meet the next one.
leftovers() {
  for id in $("$work/bin/$1" list -q 2>/dev/null); do "$work/bin/$1" delete --force "$id" >/dev/null 2>&1; done
}

{
  echo "runtime-tools $(git -C "$tools" rev-parse HEAD 2>/dev/null || echo unknown) ($(git -C "$tools" describe --tags --always --dirty 2>/dev/null || echo 'not a git checkout'))"
  echo "runc $("$runc" --version | head -1 | sed 's/^runc version //')"
  echo "pxoci $(git -C "$top" rev-parse HEAD)$(git -C "$top" diff --quiet HEAD -- src native 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "kernel $(uname -r), $(nproc) CPUs"
} > "$work/versions"

started=$(date +%s)
for prog in $programs; do
  name=$(basename "$prog" .t)
  for rt in runc pxoci; do
    t0=$(date +%s)
    # A program reads runtimetest and the rootfs tarball from the current directory.
    status=0
    (cd "$tools" && RUNTIME="$work/bin/$rt" timeout -k 10 "$per_program_timeout" "./$prog") \
      > "$work/tap/$rt/$name.tap" 2> "$work/tap/$rt/$name.stderr" </dev/null || status=$?
    echo "$status" > "$work/tap/$rt/$name.exit"
    echo $(( $(date +%s) - t0 )) > "$work/tap/$rt/$name.seconds"
    leftovers "$rt"
    echo "$name $rt: exit $(cat "$work/tap/$rt/$name.exit"), $(cat "$work/tap/$rt/$name.seconds") s" >&2
  done
done
echo "total $(( $(date +%s) - started )) s" >> "$work/versions"

"$node" "$top/scripts/oci-validation-report.mjs" "$work" "$results"
echo "TAP output and stderr of every run: $work/tap" >&2
