#!/usr/bin/env bash
# pve-check: what pxoci can do on this Proxmox VE node. An admin runs it as root on the node, in a pxoci
# checkout that is built (npm ci && npm run build); it runs small busybox containers through pxoci, the
# way an engine would, prints one table of what works on this node and PVE version, and removes
# everything it made (its CTs, bundles, state dir). Needs busybox (apt install busybox-static).
#
#   scripts/pve-check.sh                 on a real PVE node
#   scripts/pve-check.sh --pvesim 8|9    on a simulated PVE 8.4 / 9 node made for the run (CI does this)
#
# Ends with `pve-check: N of M checks passed`; exits 0 only when all passed.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
pxoci_bin=${PXOCI:-$top/dist/pxoci}
node=$(command -v node || true)
sim=''
if [ "${1:-}" = --pvesim ]; then
  sim=${2:-}
  case "$sim" in 8 | 9) ;; *) echo "usage: $0 [--pvesim 8|9]" >&2; exit 2 ;; esac
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--pvesim 8|9]" >&2
  exit 2
fi
[ "$(id -u)" = 0 ] || { echo "pve-check: run it as root (pxoci writes /etc/pve and starts CTs)" >&2; exit 2; }
[ -n "$node" ] || { echo "pve-check: node (Node.js >= 20) is not installed" >&2; exit 2; }
[ -x "$pxoci_bin" ] || { echo "pve-check: $pxoci_bin is missing: run npm ci && npm run build first" >&2; exit 2; }

work=$(mktemp -d /tmp/pxoci-pve-check.XXXXXX)
# Unprivileged CTs (uid 100000) must reach their bundles below it.
chmod 755 "$work"
state="$work/state"
tag="pvecheck$$"
ids=()

cleanup() {
  set +e
  for id in "${ids[@]}"; do "$pxoci_bin" --root "$state" delete --force "$id" >/dev/null 2>&1; done
  [ -n "$sim" ] && "$node" "$top/dist/pvesim.js" down --root "$work/pve" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$sim" ]; then
  eval "$("$node" "$top/dist/pvesim.js" env --root "$work/pve" --pve "$sim")" || exit 2
  where="pvesim"
else
  command -v pct >/dev/null || { echo "pve-check: no pct here: this is not a PVE node (or use --pvesim 8|9)" >&2; exit 2; }
  where="$(hostname)"
fi
admindir="${PXOCI_PVE_ROOT:-}/var/lib/dpkg"
pve_version=$(dpkg-query --admindir="$admindir" -W -f='${Version}' pve-manager 2>/dev/null || echo unknown)
container_version=$(dpkg-query --admindir="$admindir" -W -f='${Version}' pve-container 2>/dev/null || echo unknown)

"$top/scripts/make-busybox-rootfs.sh" "$work/rootfs" || exit 2
pxoci() { "$pxoci_bin" --root "$state" "$@"; }
status_of() { pxoci state "$1" 2>/dev/null | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }
vmid_of() { sed -n 's/.*"vmid": \([0-9]*\).*/\1/p' "$state/$1/state.json" 2>/dev/null; }

# bundle NAME JS: a bundle with its own busybox rootfs and pxoci's default spec (no terminal), changed
# by JS, a function body that gets `spec` and `dir` (the bundle).
bundle() {
  local dir="$work/b-$1"
  mkdir -p "$dir"
  cp -a "$work/rootfs" "$dir/rootfs"
  (cd "$dir" && pxoci spec) || return 1
  "$node" -e '
    const fs = require("fs");
    const dir = process.argv[1];
    const spec = JSON.parse(fs.readFileSync(dir + "/config.json", "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["true"];
    // As podman and containerd run it; the read-only default of runc spec has a check of its own.
    spec.root.readonly = false;
    new Function("spec", "dir", process.argv[2])(spec, dir);
    fs.writeFileSync(dir + "/config.json", JSON.stringify(spec, null, 2));
  ' "$dir" "$2" || return 1
  echo "$dir"
}

# run ID BUNDLE [seconds]: create + start as an engine does (stdio to files), wait until it has stopped.
# Sets $out (its output), $exit_code; returns non-zero with $note set when a step fails.
run() {
  local id=$1 b=$2 wait=${3:-30}
  ids+=("$id")
  if ! pxoci create --bundle "$b" "$id" >"$work/$id.out" 2>"$work/$id.err" </dev/null; then
    note="create: $(tail -n 1 "$work/$id.err")"
    return 1
  fi
  if ! pxoci start "$id" 2>"$work/$id.start"; then
    note="start: $(tail -n 1 "$work/$id.start")"
    return 1
  fi
  local i=0
  while [ "$(status_of "$id")" != stopped ]; do
    i=$((i + 1))
    [ $i -gt $((wait * 10)) ] && { note="still $(status_of "$id") after ${wait}s"; return 1; }
    sleep 0.1
  done
  out=$(cat "$work/$id.out")
  exit_code=$(($(cat "$state/$id/exit" 2>/dev/null || echo 65280) >> 8))
  return 0
}

# done_with ID: delete, and nothing of it may be left.
done_with() {
  local id=$1 vmid
  vmid=$(vmid_of "$id")
  pxoci delete --force "$id" >/dev/null 2>"$work/$id.delete" || { note="delete: $(tail -n 1 "$work/$id.delete")"; return 1; }
  if [ -n "$vmid" ] && [ -e "${PXOCI_PVE_ROOT:-}/etc/pve/lxc/$vmid.conf" ]; then note="CT $vmid left behind"; return 1; fi
  return 0
}

results=()
passed=0
total=0
check() {
  local name=$1 ok=0
  shift
  note=''
  total=$((total + 1))
  "$@" && ok=1
  # A check that failed half-way leaves its container: delete it now (the last check looks at that).
  for id in "${ids[@]}"; do "$pxoci_bin" --root "$state" delete --force "$id" >/dev/null 2>&1; done
  # pct's failures run long: the table keeps their start and their end.
  [ ${#note} -gt 150 ] && note="${note:0:70} … ${note: -70}"
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    results+=("$(printf '%-30s %-6s %s' "$name" ok "$note")")
  else
    results+=("$(printf '%-30s %-6s %s' "$name" FAILED "$note")")
  fi
}

# --- the checks --------------------------------------------------------------------------------------

c_lifecycle() {
  local id="$tag-life" b
  b=$(bundle life 'spec.process.args = ["sleep", "1000"];') || return 1
  ids+=("$id")
  pxoci create --bundle "$b" "$id" >/dev/null 2>"$work/$id.err" </dev/null || { note="create: $(tail -n 1 "$work/$id.err")"; return 1; }
  [ "$(status_of "$id")" = created ] || { note="state after create: $(status_of "$id")"; return 1; }
  pxoci start "$id" 2>"$work/$id.err" || { note="start: $(tail -n 1 "$work/$id.err")"; return 1; }
  [ "$(status_of "$id")" = running ] || { note="state after start: $(status_of "$id")"; return 1; }
  pxoci kill "$id" TERM || { note='kill failed'; return 1; }
  local i=0
  while [ "$(status_of "$id")" != stopped ]; do i=$((i + 1)); [ $i -gt 100 ] && { note='not stopped 10 s after SIGTERM'; return 1; }; sleep 0.1; done
  done_with "$id" || return 1
  pxoci state "$id" >/dev/null 2>&1 && { note='state still answers after delete'; return 1; }
  note='create, start, state, kill, delete'
}

c_exit_code() {
  local id="$tag-exit" b
  b=$(bundle exit 'spec.process.args = ["sh", "-c", "echo out; echo err >&2; exit 7"];') || return 1
  run "$id" "$b" || return 1
  [ "$exit_code" = 7 ] || { note="exit code $exit_code, not 7"; return 1; }
  [ "$out" = out ] && [ "$(cat "$work/$id.err")" = err ] || { note="stdout: $out, stderr: $(cat "$work/$id.err")"; return 1; }
  note='exit status and stdio reach the caller'
  done_with "$id"
}

c_binds() {
  local id="$tag-binds" b
  mkdir -p "$work/ro-src" "$work/rw-src"
  echo from-host >"$work/ro-src/f"
  b=$(bundle binds "
    spec.mounts.push({ destination: '/ro', type: 'bind', source: '$work/ro-src', options: ['rbind', 'ro'] });
    spec.mounts.push({ destination: '/rw', type: 'bind', source: '$work/rw-src', options: ['rbind', 'rw'] });
    spec.process.args = ['sh', '-c', 'cat /ro/f; touch /ro/x 2>/dev/null && echo ro-writable; echo from-ct > /rw/g'];
  ") || return 1
  run "$id" "$b" || return 1
  [ "$out" = from-host ] || { note="output: $out"; return 1; }
  [ "$(cat "$work/rw-src/g" 2>/dev/null)" = from-ct ] || { note='nothing written through the rw bind'; return 1; }
  done_with "$id"
}

c_nested_binds() {
  local id="$tag-nested" b
  mkdir -p "$work/inner" "$work/outer"
  touch "$work/inner/from-inner" "$work/outer/from-outer"
  # OCI order: /mnt/x/y first, then /mnt/x over it, so y is hidden (as runc shows it).
  b=$(bundle nested "
    spec.mounts.push({ destination: '/mnt/x/y', type: 'bind', source: '$work/inner', options: ['rbind'] });
    spec.mounts.push({ destination: '/mnt/x', type: 'bind', source: '$work/outer', options: ['rbind'] });
    spec.process.args = ['sh', '-c', 'ls /mnt/x'];
  ") || return 1
  run "$id" "$b" || return 1
  [ "$out" = from-outer ] || { note="ls /mnt/x: $(echo $out)"; return 1; }
  done_with "$id"
}

c_symlinked_bundle() {
  local id="$tag-symlink" b
  b=$(bundle symlink-real 'spec.process.args = ["sh", "-c", "echo hi"];') || return 1
  ln -s "$b" "$work/b-symlink"
  run "$id" "$work/b-symlink" || return 1
  [ "$out" = hi ] || { note="output: $out"; return 1; }
  note='bundle path with a symlink in it'
  done_with "$id"
}

c_readonly_rootfs() {
  local id="$tag-ro" b
  mkdir -p "$work/ro-rootfs-src"
  b=$(bundle readonly "
    spec.root.readonly = true;
    spec.mounts.push({ destination: '/data', type: 'bind', source: '$work/ro-rootfs-src', options: ['rbind'] });
    spec.process.args = ['sh', '-c', 'touch /data/x && touch /y 2>/dev/null || echo rootfs-ro'];
  ") || return 1
  run "$id" "$b" || return 1
  [ "$out" = rootfs-ro ] && [ -e "$work/ro-rootfs-src/x" ] || { note="inside: $out"; return 1; }
  note='a bind into a read-only rootfs (runc spec default)'
  done_with "$id"
}

c_limits() {
  local id="$tag-limits" b pid cg mem pids
  b=$(bundle limits '
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: 67108864 }, pids: { limit: 64 }, cpu: { quota: 50000, period: 100000 } };
    spec.process.args = ["sleep", "1000"];
  ') || return 1
  ids+=("$id")
  pxoci create --bundle "$b" "$id" >/dev/null 2>"$work/$id.err" </dev/null || { note="create: $(tail -n 1 "$work/$id.err")"; return 1; }
  pxoci start "$id" || { note='start failed'; return 1; }
  # PVE sets the limits on the CT's cgroup (lxc/<vmid>); the payload runs in its child (ns).
  pid=$(pxoci state "$id" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
  cg=$(sed -n 's/^0::\(.*\)\/ns$/\1/p' "/proc/$pid/cgroup")
  if [ -n "$cg" ] && [ -e "/sys/fs/cgroup$cg/memory.max" ]; then
    mem=$(cat "/sys/fs/cgroup$cg/memory.max")
    pids=$(cat "/sys/fs/cgroup$cg/pids.max")
  else
    cg=$(sed -n 's/^[0-9]*:memory:\(.*\)\/ns$/\1/p' "/proc/$pid/cgroup")
    mem=$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" 2>/dev/null)
    cg=$(sed -n 's/^[0-9]*:pids:\(.*\)\/ns$/\1/p' "/proc/$pid/cgroup")
    pids=$(cat "/sys/fs/cgroup/pids$cg/pids.max" 2>/dev/null)
  fi
  [ "$mem" = 67108864 ] && [ "$pids" = 64 ] || { note="the CT's cgroup has memory $mem, pids $pids"; return 1; }
  note='memory 64 MiB and pids 64 on the CT cgroup'
  done_with "$id"
}

c_device() {
  local id="$tag-device" b dev=''
  for d in /dev/net/tun /dev/fuse; do [ -c "$d" ] && { dev=$d; break; }; done
  [ -n "$dev" ] || { note='no /dev/net/tun or /dev/fuse on this host to pass through'; return 1; }
  local major minor
  major=$((0x$(stat -c %t "$dev")))
  minor=$((0x$(stat -c %T "$dev")))
  b=$(bundle device "
    spec.linux.devices = [{ path: '$dev', type: 'c', major: $major, minor: $minor, fileMode: 0o666, uid: 0, gid: 0 }];
    spec.linux.resources = { ...spec.linux.resources, devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: $major, minor: $minor, access: 'rwm' }] };
    spec.process.args = ['sh', '-c', 'test -c $dev && echo present'];
  ") || return 1
  run "$id" "$b" || return 1
  [ "$out" = present ] || { note="$dev not in the container: $out"; return 1; }
  note="$dev in a CT without user namespace"
  done_with "$id"
}

c_userns() {
  local id="$tag-userns" b
  b=$(bundle userns '
    spec.linux.namespaces.push({ type: "user" });
    spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.process.args = ["sh", "-c", "cat /proc/self/uid_map; touch /owned && echo writable"];
  ') || return 1
  chown -R 100000:100000 "$b/rootfs"
  run "$id" "$b" || return 1
  [ "$(echo $out)" = "0 100000 65536 writable" ] || { note="inside: $(echo $out)"; return 1; }
  done_with "$id"
}

c_seccomp() {
  local id="$tag-seccomp" b
  b=$(bundle seccomp '
    spec.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] };
    spec.process.args = ["sh", "-c", "mkdir /tmp/d 2>/dev/null && echo made || echo refused"];
  ') || return 1
  run "$id" "$b" || return 1
  [ "$out" = refused ] || { note="mkdir under a profile refusing it: $out"; return 1; }
  done_with "$id"
}

c_hooks() {
  local id="$tag-hooks" b log="$work/hooks.log"
  : >"$log"
  b=$(bundle hooks "
    const hook = (name) => ({ path: '/bin/sh', args: ['sh', '-c', 'echo ' + name + ' >> $log'] });
    spec.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
    spec.process.args = ['true'];
  ") || return 1
  run "$id" "$b" || return 1
  done_with "$id" || return 1
  [ "$(echo $(cat "$log"))" = "prestart createRuntime poststart poststop" ] || { note="hooks ran: $(echo $(cat "$log"))"; return 1; }
}

c_exec() {
  local id="$tag-exec" b r
  b=$(bundle exec 'spec.process.args = ["sleep", "1000"];') || return 1
  ids+=("$id")
  pxoci create --bundle "$b" "$id" >/dev/null 2>"$work/$id.err" </dev/null || { note="create: $(tail -n 1 "$work/$id.err")"; return 1; }
  pxoci start "$id" || { note='start failed'; return 1; }
  r=$(pxoci exec "$id" sh -c 'echo in-ct; exit 5' 2>&1 </dev/null)
  local code=$?
  [ "$code" = 5 ] && [ "$r" = in-ct ] || { note="exec: exit $code, output $r"; return 1; }
  done_with "$id"
}

c_podman_like() {
  local id="$tag-podman" b
  mkdir -p "$work/podman-shm"
  echo "127.0.0.1 localhost" >"$work/podman-hosts"
  echo "nameserver 127.0.0.1" >"$work/podman-resolv"
  echo "podmanlike" >"$work/podman-hostname"
  : >"$work/podman-containerenv"
  # What podman 4 writes for `podman run --network none busybox ...`, minus its seccomp profile; its
  # RLIMIT_NOFILE is 1048576 where the host allows that much.
  local nofile
  nofile=$(ulimit -Hn)
  if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
  b=$(bundle podman "
    const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'];
    spec.ociVersion = '1.0.2-dev';
    spec.hostname = 'podmanlike';
    spec.process = {
      terminal: false, user: { uid: 0, gid: 0, umask: 18, additionalGids: [0, 10] },
      args: ['sh', '-c', 'test -e /run/.containerenv && echo \$container && hostname && ulimit -n && touch /dev/shm/x && echo shm-ok'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'container=podman', 'HOME=/root', 'HOSTNAME=podmanlike'],
      cwd: '/', capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: $nofile, soft: $nofile }],
      oomScoreAdj: 0,
    };
    spec.mounts = [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      { destination: '/dev/shm', type: 'bind', source: '$work/podman-shm', options: ['bind', 'rprivate', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: '$work/podman-resolv', options: ['bind', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: '$work/podman-hosts', options: ['bind', 'rprivate'] },
      { destination: '/run/.containerenv', type: 'bind', source: '$work/podman-containerenv', options: ['bind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: '$work/podman-hostname', options: ['bind', 'rprivate'] },
    ];
    spec.annotations = { 'io.container.manager': 'libpod', 'io.podman.annotations.autoremove': 'FALSE', 'org.opencontainers.image.stopSignal': '15' };
    spec.linux = {
      sysctl: { 'net.ipv4.ping_group_range': '0 0' },
      resources: { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 2048 } },
      cgroupsPath: 'machine.slice:libpod:' + '$id',
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block'],
      readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    };
  ") || return 1
  run "$id" "$b" || return 1
  [ "$(echo $out)" = "podman podmanlike $nofile shm-ok" ] || { note="inside: $(echo $out)"; return 1; }
  done_with "$id"
}

c_nothing_left() {
  local left
  left=$(pxoci list 2>/dev/null | tail -n +2)
  [ -z "$left" ] || { note="pxoci list: $left"; return 1; }
  left=$(grep -l "$tag" "${PXOCI_PVE_ROOT:-}"/etc/pve/nodes/*/lxc/*.conf 2>/dev/null)
  [ -z "$left" ] || { note="CT configs left: $left"; return 1; }
}

check 'lifecycle' c_lifecycle
check 'exit code' c_exit_code
check 'binds ro/rw' c_binds
check 'nested binds, OCI order' c_nested_binds
check 'symlinked bundle path' c_symlinked_bundle
check 'read-only rootfs with a bind' c_readonly_rootfs
check 'limits' c_limits
check 'device (no user namespace)' c_device
check 'user namespace' c_userns
check 'seccomp' c_seccomp
check 'hooks' c_hooks
check 'exec' c_exec
check 'podman-like config' c_podman_like
check 'nothing left behind' c_nothing_left

printf 'pxoci %s on %s: PVE %s (pve-container %s), kernel %s\n' "$("$pxoci_bin" --version | head -n 1 | sed 's/^pxoci version //')" "$where" "$pve_version" "$container_version" "$(uname -r)"
printf '%-30s %-6s %s\n' check result note
for line in "${results[@]}"; do echo "$line"; done
echo "pve-check: $passed of $total checks passed"
[ "$passed" = "$total" ]
