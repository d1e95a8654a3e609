#!/bin/sh
# The first thing to run: a busybox container through `pxoci create/start` on the built-in simulated
# PVE node — a real LXC container — then its output, its PVE config and its state, then clean-up.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
scripts/install-deps.sh
work=$(mktemp -d /tmp/pxoci-demo.XXXXXX)
root="$work/node"
node=$(command -v node)
trap 'set +e; "$top/dist/pxoci" --root "$work/state" delete --force demo >/dev/null 2>&1; "$node" "$top/dist/pvesim.js" down --root "$root" >/dev/null 2>&1; rm -rf "$work"' EXIT INT TERM

eval "$("$node" dist/pvesim.js env --root "$root")"
bundle="$work/bundle"
mkdir -p "$bundle"
scripts/make-busybox-rootfs.sh "$bundle/rootfs"
cd "$bundle"
"$top/dist/pxoci" spec
# runc's default spec wants a terminal; the demo writes to plain pipes and runs a short script.
"$node" -e '
  const fs = require("fs");
  const spec = JSON.parse(fs.readFileSync("config.json", "utf8"));
  spec.process.terminal = false;
  spec.process.args = ["sh", "-c", "echo \"hello from $(hostname), pid $$, uid $(id -u)\"; cat /proc/self/cgroup | head -3; exit 3"];
  spec.linux.resources = { ...spec.linux.resources, memory: { limit: 268435456 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
  fs.writeFileSync("config.json", JSON.stringify(spec, null, 2));
'
pxoci="$top/dist/pxoci --root $work/state"
echo "\$ pxoci create --bundle $bundle --pid-file $work/demo.pid demo"
$pxoci create --bundle "$bundle" --pid-file "$work/demo.pid" demo
echo "\$ pxoci state demo"
$pxoci state demo
vmid=$(sed -n 's/.*"vmid": \([0-9]*\).*/\1/p' "$work/state/demo/state.json")
echo "\$ pct config $vmid"
pct config "$vmid"
echo "\$ pct list"
pct list
echo "\$ pxoci start demo   (the container's output follows)"
$pxoci start demo
while [ "$($pxoci state demo | sed -n 's/.*"status": "\(.*\)".*/\1/p')" != stopped ]; do sleep 0.1; done
echo "\$ cat $work/state/demo/exit   (raw wait status: exit code 3)"
cat "$work/state/demo/exit"
echo "\$ pxoci delete demo"
$pxoci delete demo
echo "\$ pct list   (empty: the CT is gone)"
pct list
