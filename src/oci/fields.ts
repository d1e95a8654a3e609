// Every config.json field and what pxoci does with it on a PVE node — the one table the translator
// consults for fields it does not map one by one, and the source of docs/fields.md.
// handling: 'applied' (with `pve`, the PVE mechanism), 'provided' (LXC/PVE already does what the
// field asks), 'recorded' (kept by the runtime, no CT effect is asked for), 'rejected' (create fails,
// naming the field; `why` says why).

import { MEMORY_MIN_MIB } from '../pve/config.js';
import { ANNOTATION_VALUE_SHOWN, ANNOTATIONS_SHOWN } from './translate/annotations.js';
import { PVE_NET0_ANNOTATION } from './translate/pve-network.js';

export type FieldRule =
  | { path: string; handling: 'applied' | 'provided' | 'recorded'; pve: string }
  | { path: string; handling: 'rejected'; pve: '-'; why: string };

const INIT_APPLIES = "pxoci's init (lxc.init.cmd: /.pxoci/init) applies it before exec";
const MOUNT_HOOK = "pxoci's mount hook (lxc.hook.mount: pxoci-helper mount-hook, in the CT before LXC's pivot_root)";
const CT_SETUP = 'pxoci create (pxoci-helper ct-setup, in the CT\'s mount namespace while the process waits for start)';

// `as const` keeps every row's path as a literal type, so code naming a row is checked by tsc.
const TABLE = [
  { path: 'ociVersion', handling: 'recorded', pve: '1.0.0 … 1.2.x accepted' },
  { path: 'root.path', handling: 'applied', pve: "rootfs: <its real path> (bind rootfs; PVE's prestart hook refuses a symlink anywhere in it)" },
  { path: 'root.readonly', handling: 'applied', pve: `${MOUNT_HOOK} remounts the root read-only last, once every mount point exists (PVE's ro=1 would come before them)` },
  { path: 'hostname', handling: 'applied', pve: 'hostname (→ lxc.uts.name); derived from the id when absent' },
  { path: 'domainname', handling: 'rejected', pve: '-', why: 'PVE sets no NIS domain name for a CT' },
  { path: 'mounts[] bind, rbind', handling: 'applied', pve: `${MOUNT_HOOK}, in config.json's order: the mount point made inside the root (symlinks resolved in it, parents too, owned by the CT's root), the source's real path bound (recursively for rbind), then remounted for ro, nosuid, nodev, noexec and atime options, as runc. Not mpN: PVE mounts those before anything else, never recursively, and refuses symlinks in them` },
  { path: 'mounts[] tmpfs, mqueue, devpts, proc, sysfs (at other paths)', handling: 'applied', pve: `${MOUNT_HOOK}, in config.json's order, flags and data as runc passes them` },
  { path: 'mounts[].options tmpcopyup', handling: 'applied', pve: `${MOUNT_HOOK} copies what the image has at the path into the new tmpfs (owners, modes, times)` },
  { path: 'mounts[].options shared, slave, private, unbindable (and r…)', handling: 'applied', pve: `${CT_SETUP} sets them once LXC's pivot_root has turned every mount rshared` },
  { path: 'mounts[].options on a bind: data (mode=, size=, …)', handling: 'applied', pve: 'passed to mount(2) as runc passes them, which ignores data for a bind' },
  { path: 'mounts[] /proc (proc), /sys (sysfs)', handling: 'provided', pve: "LXC common.conf: lxc.mount.auto = proc:mixed sys:mixed (their options are LXC's); where the config orders one after its other mounts, pxoci's mount hook binds LXC's tree onto itself there, keeping every read-only flag" },
  { path: 'mounts[] /sys/fs/cgroup (cgroup)', handling: 'applied', pve: 'lxc.mount.auto: cgroup:ro:force (cgroup:mixed:force without ro): LXC alone skips it when the CT keeps CAP_SYS_ADMIN' },
  { path: 'mounts[] /dev (tmpfs), /dev/pts (devpts)', handling: 'applied', pve: "/dev: lxc.mount.fstab (LXC mounts it after /proc and /sys and fills it: nodes, console, ttys; ro and tmpcopyup refused); /dev/pts: the config's devpts in its place, with LXC's own instance mounted over it for its console and ptys" },
  { path: 'default devices (/dev/null, zero, full, random, urandom, tty, console, ptmx)', handling: 'applied', pve: `LXC autodev makes the nodes and the console; ${CT_SETUP} makes /dev/ptmx the symlink to pts/ptmx (LXC binds it)` },
  { path: 'process.args', handling: 'applied', pve: INIT_APPLIES },
  { path: 'process.env', handling: 'applied', pve: INIT_APPLIES },
  { path: 'process.cwd', handling: 'applied', pve: INIT_APPLIES },
  { path: 'process.user.uid, gid, additionalGids', handling: 'applied', pve: INIT_APPLIES },
  { path: 'process.user.umask', handling: 'applied', pve: INIT_APPLIES },
  { path: 'process.noNewPrivileges', handling: 'applied', pve: INIT_APPLIES },
  { path: 'process.oomScoreAdj', handling: 'applied', pve: INIT_APPLIES },
  { path: 'process.terminal', handling: 'applied', pve: "pxoci's init opens a pty of the CT's own devpts and sends its master over --console-socket" },
  { path: 'process.rlimits', handling: 'applied', pve: 'lxc.prlimit.<name>: soft:hard (set by LXC before capabilities are dropped)' },
  { path: 'process.capabilities.bounding', handling: 'applied', pve: "lxc.cap.keep: <bounding set> + setgid setuid setpcap for pxoci's init, which drops those from the bounding set itself before exec (and narrows it for an exec'd process)" },
  { path: 'process.capabilities.effective, permitted, inheritable, ambient', handling: 'applied', pve: "pxoci's init: keepcaps across the uid change, then capset and ambient raise, as runc (after exec the kernel's rules apply: uid 0 gets its bounding set)" },
  { path: 'process.user.username', handling: 'rejected', pve: '-', why: 'Windows only' },
  { path: 'process.apparmorProfile', handling: 'applied', pve: 'lxc.apparmor.profile' },
  { path: 'process.consoleSize', handling: 'applied', pve: "pxoci's init sizes the pty (TIOCSWINSZ) before it sends the master over --console-socket" },
  { path: 'process.selinuxLabel', handling: 'rejected', pve: '-', why: 'PVE hosts run AppArmor, not SELinux' },
  { path: 'process.scheduler', handling: 'rejected', pve: '-', why: 'no PVE key sets a scheduling policy' },
  { path: 'process.ioPriority', handling: 'rejected', pve: '-', why: 'no PVE key sets an I/O priority' },
  { path: 'process.execCPUAffinity', handling: 'rejected', pve: '-', why: 'no PVE key sets a per-process CPU affinity' },
  { path: 'process.commandLine', handling: 'rejected', pve: '-', why: 'Windows only' },
  { path: 'hooks.prestart, createRuntime', handling: 'applied', pve: 'run by pxoci create on the host once the container process waits for start (after LXC\'s pivot_root, unlike runc); state status "creating", pid = host pid; a failure fails create, which removes the CT and runs poststop' },
  { path: 'hooks.createContainer', handling: 'applied', pve: "run by pxoci create through pxoci-helper nsexec in the CT's user, cgroup, ipc, uts, net and pid namespaces; the mount namespace stays the host's (LXC has already pivoted, so only there is the rootfs at root.path), and mounts LXC made inside the CT are not seen; pid = the container process's pid in the CT" },
  { path: 'hooks.startContainer', handling: 'applied', pve: "run by pxoci's init in the CT, as the container process, right before exec (path resolved in the CT; no env = the process's env); a failure ends the process before it runs and fails start (the init reports it through the keeper; runc 1.1's start succeeds)" },
  { path: 'hooks.poststart', handling: 'applied', pve: 'run by pxoci start on the host after the process is released; a failure kills the process and fails start (runtime-spec 1.2, runc ≥ 1.2)' },
  { path: 'hooks.poststop', handling: 'applied', pve: 'run by pxoci delete on the host after the CT is destroyed; a failure is a warning on stderr' },
  { path: 'annotations', handling: 'applied', pve: `description (the CT notes in the UI): one \`annotation <key>=<value>\` line each (first ${ANNOTATIONS_SHOWN}, values cut at ${ANNOTATION_VALUE_SHOWN} characters), after a \`Kubernetes pod <namespace>/<name>: …\` line naming the pod and its sandbox id when containerd's CRI set \`io.kubernetes.cri.*\`; all kept in the state (pxoci state shows them); a key or value with a control character is rejected; \`${PVE_NET0_ANNOTATION}\` also becomes the CT's PVE net0 (README: PVE networking)` },
  { path: 'linux.namespaces[] pid, ipc, uts, mount, network, cgroup', handling: 'provided', pve: 'LXC creates private namespaces for every CT' },
  { path: 'linux.namespaces[] user + uid/gidMappings', handling: 'applied', pve: 'unprivileged: 1 (+ lxc.idmap lines unless PVE\'s default map)' },
  { path: 'linux.namespaces[] cgroup (absent)', handling: 'provided', pve: 'LXC always gives a CT a private cgroup namespace; the container sees its own cgroup as the root' },
  { path: 'linux.namespaces[] network, ipc, uts (absent from a given list)', handling: 'applied', pve: "the host's namespace (the one pxoci create runs in, as runc): the launcher opens it, and pxoci's init joins it before it forks the container process; the CT stays a normal PVE guest (docs/DESIGN.md, \"Joining namespaces\")" },
  { path: 'linux.namespaces[] pid, mount (absent from a given list)', handling: 'rejected', pve: '-', why: "an absent namespace means the host's one: the container process is a child of the CT's init, PID 1 of the CT's own pid namespace, and its root is the CT's rootfs, which LXC mounts in the CT's own mount namespace" },
  { path: 'linux.namespaces[] user with a joined or host namespace', handling: 'rejected', pve: '-', why: "the init of a user-namespaced (unprivileged) CT has no capability over a namespace its own user namespace does not own, so it cannot join one" },
  { path: 'linux.namespaces (absent)', handling: 'provided', pve: 'a config without the list gets the private namespaces of every CT (runc would use the host ones)' },
  { path: 'linux.namespaces[].path network, ipc, uts', handling: 'applied', pve: "the launcher opens the path on the host and checks it is a namespace of that type; pxoci's init joins it (setns) before it forks the container process, so exec'd processes, hooks and the pid-file pid are in it too (docs/DESIGN.md, \"Joining namespaces\")" },
  { path: 'linux.namespaces[].path pid, mount, user, cgroup', handling: 'rejected', pve: '-', why: "pxoci joins only network, IPC and UTS namespaces: the container process is a child of the CT's init, in the CT's own pid namespace (a process can enter only a pid namespace below its own), its root is mounted in the CT's own mount namespace, and LXC makes the CT's user and cgroup namespaces" },
  { path: 'linux.namespaces[] time', handling: 'rejected', pve: '-', why: 'LXC 5/6 on PVE has no time namespace key' },
  { path: 'linux.resources.memory.limit', handling: 'applied', pve: `memory: <MiB, rounded up, ≥ ${MEMORY_MIN_MIB}>; -1 → unlimited is not expressible (rejected)` },
  { path: 'linux.resources.memory.swap', handling: 'applied', pve: 'swap: <(swap − limit) MiB>; -1 → unlimited is not expressible (rejected)' },
  { path: 'linux.resources.memory.reservation', handling: 'applied', pve: 'lxc.cgroup2.memory.low (-1 → max)' },
  { path: 'linux.resources.memory.useHierarchy', handling: 'provided', pve: 'cgroup v2 is always hierarchical' },
  { path: 'linux.resources.memory.checkBeforeUpdate', handling: 'rejected', pve: '-', why: 'pct set memory does not compare the new limit with the current usage' },
  { path: 'linux.resources.memory (other)', handling: 'rejected', pve: '-', why: 'kernel/kernelTCP/swappiness/disableOOMKiller are cgroup v1 only; PVE is cgroup v2' },
  { path: 'linux.resources.cpu.shares', handling: 'applied', pve: 'cpuunits: 1 + ((shares − 2) · 9999) / 262142 (runc\'s v1→v2 conversion)' },
  { path: 'linux.resources.cpu.quota/period', handling: 'applied', pve: 'cpulimit: quota / period (quota -1 → no limit)' },
  { path: 'linux.resources.cpu.cpus', handling: 'applied', pve: 'cores: <count, ≤ 8192> + lxc.cgroup2.cpuset.cpus' },
  { path: 'linux.resources.cpu.mems', handling: 'applied', pve: 'lxc.cgroup2.cpuset.mems' },
  { path: 'linux.resources.cpu (realtime, burst, idle)', handling: 'rejected', pve: '-', why: 'no cgroup v2 key on PVE' },
  { path: 'linux.resources.pids.limit', handling: 'applied', pve: 'lxc.cgroup2.pids.max (-1 → max)' },
  { path: 'linux.resources.devices', handling: 'applied', pve: 'lxc.cgroup2.devices.allow/deny (a leading deny-all is LXC\'s own baseline)' },
  { path: 'linux.resources.hugepageLimits', handling: 'rejected', pve: '-', why: "the cgroup files (hugetlb.2MB.max) have capitals, which PVE's config parser does not accept in a raw lxc key" },
  { path: 'linux.resources.blockIO.weight', handling: 'applied', pve: "lxc.cgroup2.io.weight: default <runc's conversion of [10, 1000] to [1, 10000]>" },
  { path: 'linux.resources.blockIO.throttle*', handling: 'applied', pve: 'lxc.cgroup2.io.max: <maj:min> rbps|wbps|riops|wiops=N' },
  { path: 'linux.resources.blockIO (leafWeight, weightDevice)', handling: 'rejected', pve: '-', why: 'no cgroup v2 equivalent' },
  { path: 'linux.resources.unified', handling: 'applied', pve: 'lxc.cgroup2.<key> (cgroup.* core files rejected: LXC and PVE manage them)' },
  { path: 'linux.resources.network, rdma', handling: 'rejected', pve: '-', why: 'cgroup v1 net_cls/net_prio and rdma are not set by PVE' },
  { path: 'linux.devices', handling: 'applied', pve: `${CT_SETUP} makes each node (the host need not have it) in a tmpfs of its own and binds it onto a placeholder the mount hook made, with its mode and owner (0666, root by default, as runc) + lxc.cgroup2.devices.allow before linux.resources.devices; the nodes LXC makes itself stay LXC's. Not devN: PVE 8.1 … 9.x refuse devN in a privileged CT` },
  { path: 'linux.cgroupsPath', handling: 'recorded', pve: 'PVE places every CT in lxc/<vmid>' },
  { path: 'linux.sysctl (IPC keys)', handling: 'applied', pve: "kernel.{msgmax,msgmnb,msgmni,sem,shmall,shmmax,shmmni,shm_rmid_forced}: pxoci's keeper writes them from inside the CT's own IPC namespace (setns) before start (LXC's lxc.sysctl.* fails once proc:mixed made /proc/sys read-only)" },
  { path: 'linux.sysctl (net.*)', handling: 'applied', pve: "pxoci's keeper writes /proc/sys/net/… from inside the CT's own network namespace (setns) before start" },
  { path: 'linux.sysctl (other keys)', handling: 'rejected', pve: '-', why: 'PVE accepts only the IPC sysctls as raw keys, and other non-namespaced sysctls would change the host' },
  { path: 'linux.seccomp', handling: 'applied', pve: "an LXC policy file (<state>/<id>/ct/seccomp) + lxc.seccomp.profile; it replaces LXC's common.seccomp and PVE's rules.seccomp, and binds the whole CT from its start, pxoci's init included (a profile that denies what the init needs is rejected)" },
  { path: 'linux.seccomp (absent)', handling: 'provided', pve: "LXC's default policy (common.seccomp, or PVE's rules.seccomp for unprivileged CTs) applies, where runc would apply none" },
  { path: 'linux.seccomp.architectures (not every ABI of the node)', handling: 'rejected', pve: '-', why: 'LXC applies the same rules to every ABI of the node (amd64: x86_64, x86, x32) and cannot refuse the ones a profile leaves out' },
  { path: 'linux.seccomp SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_NOTIFY', handling: 'rejected', pve: '-', why: "LXC's policy format has only kill (the thread), errno, trap and allow, and its notify goes to LXC's own proxy" },
  { path: 'linux.seccomp.listenerPath, listenerMetadata', handling: 'rejected', pve: '-', why: 'no seccomp agent can be served through LXC' },
  { path: 'linux.seccomp.flags (LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV)', handling: 'rejected', pve: '-', why: 'LXC loads the policy without them; TSYNC is accepted (the init is single-threaded when LXC loads it)' },
  { path: 'linux.maskedPaths', handling: 'applied', pve: `${MOUNT_HOOK}, after the mounts, on the container's own path: the null device over a file, an empty read-only tmpfs over a directory; a path the container lacks is left alone, as runc` },
  { path: 'linux.readonlyPaths', handling: 'applied', pve: `${MOUNT_HOOK}, after the mounts: the container's own path bound onto itself and remounted read-only; a path the container lacks is left alone, as runc` },
  { path: 'linux.rootfsPropagation', handling: 'applied', pve: `${CT_SETUP} sets the root's propagation before the mounts' and, unless private or slave, again after them, as runc 1.4 (without it the root stays LXC's: shared, in a peer group of its own)` },
  { path: 'linux.mountLabel', handling: 'rejected', pve: '-', why: 'PVE hosts run AppArmor, not SELinux' },
  { path: 'linux.intelRdt', handling: 'rejected', pve: '-', why: 'no PVE key for resctrl' },
  { path: 'linux.personality', handling: 'rejected', pve: '-', why: 'lxc.arch is set from the node; no other personality' },
  { path: 'linux.timeOffsets', handling: 'rejected', pve: '-', why: 'no time namespace on PVE' },
  { path: 'linux.memoryPolicy', handling: 'rejected', pve: '-', why: 'no PVE key sets a NUMA memory policy' },
  { path: 'linux.netDevices', handling: 'rejected', pve: '-', why: "a PVE CT's network devices are its netN veths; no key moves a host interface into it" },
] as const satisfies readonly FieldRule[];

export type FieldPath = (typeof TABLE)[number]['path'];
export type RejectedFieldPath = Extract<(typeof TABLE)[number], { handling: 'rejected' }>['path'];

export const FIELDS: readonly FieldRule[] = TABLE;

/** Why pxoci refuses a field, as docs/fields.md states it: one text for the error and the docs. */
export function rejectionReason(path: RejectedFieldPath): string {
  const rule = FIELDS.find((f): f is Extract<FieldRule, { handling: 'rejected' }> => f.path === path && f.handling === 'rejected');
  // Unreachable from typed code; JavaScript callers get told instead of a made-up reason.
  if (!rule) throw new Error(`src/oci/fields.ts has no rejected row "${path}"`);
  return rule.why;
}
