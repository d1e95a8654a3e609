// The LXC config PVE renders from a CT's config at every start (pve-container's update_lxc_config), as
// PVE 9 (pve-container 6.1) or PVE 8.4 (5.2) renders it on its node: lxc 6 and pure cgroup v2. Nothing here knows the host the simulator
// runs on; whatever PVE looks up on its node comes in as RenderFacts, and host-adapter.ts rewrites the
// result for this host. Steps come in PVE's order because raw lxc.* keys (late) override earlier lines.
import { hostManagedAddressError } from '../pve/host-dhcp.js';
import { parsePropertyString, splitList, type PveConfig, type PveRelease } from '../pve/config.js';

export const LXC_CONFIG_DIR = '/usr/share/lxc/config';
/** pve-lxc-syscalld's socket; PVE keeps using the old one on a node that still has only that. */
export const SYSCALLD_SOCKET = '/run/pve-lxc-syscalld/socket';
export const SYSCALLD_SOCKET_OLD = '/run/pve/lxc-syscalld.sock';

export type DeviceFact = { kind: 'missing' } | { kind: 'not-a-device' } | { kind: 'b' | 'c'; major: number; minor: number };

/** What update_lxc_config looks up on its node besides the CT's config. */
export interface RenderFacts {
  /** The node's PVE release: which pve-container renders. */
  pve: PveRelease;
  /** var/lib/lxc/<vmid> did not exist before this start (PVE's mkpath of it leaves errno at ENOENT). */
  firstStart: boolean;
  /** /var/lib/lxc on a real node. */
  lxcPath: string;
  /** PVE's `-f` test on a file of LXC_CONFIG_DIR. */
  hasLxcConfigFile(name: string): boolean;
  readLxcConfigFile(name: string): string;
  device(path: string): DeviceFact;
  /** The running kernel's version, major and minor. */
  kernelVersion: [number, number];
  pathExists(path: string): boolean;
  /** A bridge's MTU; undefined when the node has no such bridge. */
  bridgeMtu(bridge: string): number | undefined;
  /** The CPUs the node's cpuset gives CTs; undefined without a cpuset controller. */
  ctCpus(): number[] | undefined;
  random(): number;
}

export type LxcLine = [key: string, value: string];

/** The lines one part of update_lxc_config wrote, so that an adapter can find what it has to rewrite. */
export interface RenderedStep {
  step:
    | 'cgroup-dirs'
    | 'arch'
    | 'includes'
    | 'seccomp'
    | 'apparmor'
    | 'fuse'
    | 'sys-mixed'
    | 'dev-shm'
    | 'device'
    | 'monitor-unshare'
    | 'idmap'
    | 'console'
    | 'tty-env-uts'
    | 'memory'
    | 'cpu'
    | 'rootfs'
    | 'entrypoint'
    | 'network'
    | 'env'
    | 'raw'
    | 'cores';
  /** For a 'device' step: its option (dev0, dev1, …). */
  key?: string;
  lines: LxcLine[];
  /** PVE's own warnings from this step (printed by its `warn`, not fatal). */
  warnings: string[];
}

export interface RenderedLxcConfig {
  /** var/lib/lxc/<vmid> of the node. */
  ctDir: string;
  steps: RenderedStep[];
  /** Files PVE writes next to the config (rules.seccomp). */
  files: Record<string, string>;
}

export function updateLxcConfig(conf: PveConfig, vmid: number, facts: RenderFacts): RenderedLxcConfig {
  const o = conf.options;
  const steps: RenderedStep[] = [];
  const files: Record<string, string> = {};
  const step = (name: RenderedStep['step'], lines: LxcLine[] = [], warnings: string[] = []): void => {
    steps.push({ step: name, lines, warnings });
  };
  const hasRaw = (key: string) => conf.lxc.some(([k]) => k === key);
  const customIdmap = hasRaw('lxc.idmap');
  const unprivileged = o.unprivileged === '1' || customIdmap;
  const ctDir = `${facts.lxcPath}/${vmid}`;

  step('cgroup-dirs', [
    ['lxc.cgroup.relative', '0'],
    ['lxc.cgroup.dir.monitor', `lxc.monitor/${vmid}`],
    ['lxc.cgroup.dir.container', `lxc/${vmid}`],
    ['lxc.cgroup.dir.container.inner', 'ns'],
  ]);
  if (!o.arch) throw new Error("missing 'arch' - internal error");
  step('arch', [['lxc.arch', o.arch]]);
  const ostype = o.ostype;
  if (!ostype) throw new Error("missing 'ostype' - internal error");
  const include = (name: string, fallback: string): LxcLine => [
    'lxc.include',
    `${LXC_CONFIG_DIR}/${facts.hasLxcConfigFile(name) ? name : fallback}`,
  ];
  step('includes', [include(`${ostype}.common.conf`, 'common.conf'), ...(unprivileged ? [include(`${ostype}.userns.conf`, 'userns.conf')] : [])]);

  const features = o.features ? parsePropertyString('features', o.features) : {};
  steps.push({ step: 'seccomp', ...seccomp(conf, vmid, unprivileged, features, facts, ctDir, files) });
  steps.push({ step: 'apparmor', ...apparmor(conf, features, facts.pve) });
  step('fuse', features.fuse === '1' ? [['lxc.apparmor.raw', 'mount fstype=fuse,'], ['lxc.mount.entry', '/dev/fuse dev/fuse none bind,create=file 0 0']] : []);
  // systemd in an unprivileged CT does not get along with a writable /sys.
  step('sys-mixed', unprivileged && features.force_rw_sys !== '1' ? [['lxc.mount.auto', 'sys:mixed']] : []);
  // Without an init system nobody else mounts /dev/shm (PVE 9 only: PVE 8 has no entrypoint).
  const entrypoint = facts.pve >= 9 ? o.entrypoint : undefined;
  step('dev-shm', entrypoint !== undefined && entrypoint !== '/sbin/init' ? [['lxc.mount.entry', 'shm dev/shm tmpfs rw,nosuid,nodev,create=dir 0 0']] : []);
  // PVE's bug (8.1 … 9.x): get_device_mode_and_rdev tests errno even after a successful stat. The
  // start still carries the ENOENT of the probe for the missing unmanaged.common.conf (lxc-pve ships
  // none) or, at a first start, of the mkpath of var/lib/lxc/<vmid>, unless make_seccomp_config opened
  // files since (Perl's open leaves ENOTTY): it does only for an unprivileged CT without a raw
  // lxc.seccomp.profile. A privileged CT, or one with its own seccomp profile, fails.
  const staleEnoent = (ostype === 'unmanaged' || facts.firstStart) && files['rules.seccomp'] === undefined;
  for (const key of Object.keys(o).filter((k) => /^dev\d+$/.test(k))) {
    steps.push({ step: 'device', key, lines: passthroughDevice(key, o[key]!, facts, staleEnoent), warnings: [] });
  }
  // Keeps the CT's mounts out of the host's namespace (loop devices would stay attached otherwise).
  step('monitor-unshare', [['lxc.monitor.unshare', '1']]);
  step(
    'idmap',
    unprivileged && !customIdmap
      ? [
          ['lxc.idmap', 'u 0 100000 65536'],
          ['lxc.idmap', 'g 0 100000 65536'],
        ]
      : [],
  );
  step(
    'console',
    o.console === '0'
      ? [
          ['lxc.console.path', 'none'],
          ['lxc.cgroup2.devices.deny', 'c 5:1 rwm'],
        ]
      : [],
  );
  step('tty-env-uts', [
    ['lxc.tty.max', o.tty ?? '2'],
    // Some init scripts need a Linux terminal.
    ['lxc.environment', 'TERM=linux'],
    ['lxc.uts.name', o.hostname || `CT${vmid}`],
  ]);
  const memory = Number(o.memory || 512);
  step('memory', [
    ['lxc.cgroup2.memory.max', String(memory * 1024 * 1024)],
    // Throttled a little before the OOM killer: 1016/1024 of the limit, at most 128 MiB below it.
    ['lxc.cgroup2.memory.high', String(memory >= 16384 ? (memory - 128) * 1024 * 1024 : memory * 1024 * 1016)],
    ['lxc.cgroup2.memory.swap.max', String(Math.trunc(Number(o.swap ?? 0) * 1024 * 1024))],
  ]);
  const cpu: LxcLine[] = [];
  if (o.cpulimit && Number(o.cpulimit) > 0) cpu.push(['lxc.cgroup2.cpu.max', `${Math.trunc(100000 * Number(o.cpulimit))} 100000`]);
  // cpu.weight's range on cgroup v2.
  if (o.cpuunits !== undefined) cpu.push(['lxc.cgroup2.cpu.weight', String(Math.min(10000, Math.max(1, Number(o.cpuunits))))]);
  step('cpu', cpu);
  if (!o.rootfs) throw new Error("missing 'rootfs' configuration");
  step('rootfs', [['lxc.rootfs.path', `${ctDir}/rootfs`]]);
  step('entrypoint', entrypoint !== undefined ? [['lxc.init.cmd', entrypoint]] : []);
  step('network', networks(o, vmid, facts));
  step('env', facts.pve >= 9 ? (conf.env ?? []).map((v): LxcLine => ['lxc.environment.runtime', v]) : []);
  step('raw', [...conf.lxc]);
  // PVE 8 also takes a cgroup v1 cpuset key as the CT's own.
  step('cores', cores(o, hasRaw('lxc.cgroup2.cpuset.cpus') || (facts.pve < 9 && hasRaw('lxc.cgroup.cpuset.cpus')), facts));
  return { ctDir, steps, files };
}

/** make_seccomp_config: an unprivileged CT gets common.seccomp plus PVE's rules, in its own file. */
function seccomp(
  conf: PveConfig,
  vmid: number,
  unprivileged: boolean,
  features: Record<string, string>,
  facts: RenderFacts,
  ctDir: string,
  files: Record<string, string>,
): { lines: LxcLine[]; warnings: string[] } {
  if (conf.lxc.some(([k]) => k === 'lxc.seccomp.profile')) {
    const overridden = ['keyctl', 'mknod'].filter((f) => features[f] === '1').join(', ');
    return { lines: [], warnings: overridden ? [`explicitly configured lxc.seccomp.profile overrides the following settings: ${overridden}`] : [] };
  }
  // A privileged CT keeps the profile its lxc.include brings.
  if (!unprivileged) return { lines: [], warnings: [] };
  const rules: Record<string, string[]> = {
    // btrfs ioctls (type 0x94) half work in a user namespace: snapshots could be made but not removed.
    ioctl: ['errno 1 [1,0x9400,SCMP_CMP_MASKED_EQ,0xff00]'],
  };
  // AF_ALG sockets (38) answer EAFNOSUPPORT (PVE 9).
  if (facts.pve >= 9) rules.socket = ['errno 97 [0,38,SCMP_CMP_EQ]'];
  if (features.keyctl !== '1') rules.keyctl = ['errno 38'];
  const lines: LxcLine[] = [];
  if (features.mknod === '1') {
    const [major, minor] = facts.kernelVersion;
    if (major < 5 || (major === 5 && minor < 3)) throw new Error(`'mknod' feature requested, but kernel too old (found ${major}.${minor}, required >= 5.3)`);
    const socket = facts.pve < 9 || (!facts.pathExists(SYSCALLD_SOCKET) && facts.pathExists(SYSCALLD_SOCKET_OLD)) ? SYSCALLD_SOCKET_OLD : SYSCALLD_SOCKET;
    lines.push(['lxc.seccomp.notify.proxy', `unix:${socket}`], ['lxc.seccomp.notify.cookie', String(vmid)]);
    // Only character (S_IFCHR 8192) and block (S_IFBLK 24576) nodes go to pve-lxc-syscalld; the mode
    // is mknod's 2nd and mknodat's 3rd argument.
    rules.mknod = ['notify [1,8192,SCMP_CMP_MASKED_EQ,61440]', 'notify [1,24576,SCMP_CMP_MASKED_EQ,61440]'];
    rules.mknodat = ['notify [2,8192,SCMP_CMP_MASKED_EQ,61440]', 'notify [2,24576,SCMP_CMP_MASKED_EQ,61440]'];
  }
  const extra = Object.keys(rules)
    .sort()
    .flatMap((sc) => rules[sc]!.map((r) => `${sc} ${r}`))
    .join('\n');
  files['rules.seccomp'] = facts.readLxcConfigFile('common.seccomp') + extra + '\n';
  lines.push(['lxc.seccomp.profile', `${ctDir}/rules.seccomp`]);
  return { lines, warnings: [] };
}

/** make_apparmor_config: LXC's generated profile, widened for the CT's features. */
function apparmor(conf: PveConfig, features: Record<string, string>, pve: PveRelease): { lines: LxcLine[]; warnings: string[] } {
  // PVE 9's profiles use AppArmor abi/4.0, where mqueue and userns need their own rules.
  const lines: LxcLine[] = [['lxc.apparmor.profile', 'generated'], ...(pve >= 9 ? [['lxc.apparmor.raw', 'allow mqueue,'] as LxcLine] : [])];
  const uses: string[] = [];
  if (features.fuse === '1') uses.push('features:fuse');
  if (features.nesting === '1') {
    uses.push('features:nesting');
    lines.push(['lxc.apparmor.allow_nesting', '1'], ...(pve >= 9 ? [['lxc.apparmor.raw', 'allow userns,'] as LxcLine] : []));
  } else {
    // Otherwise a CT could mount over (and chown) the host's /proc and /sys.
    lines.push(['lxc.apparmor.raw', 'deny mount -> /proc/,'], ['lxc.apparmor.raw', 'deny mount -> /sys/,']);
  }
  if (features.mount) {
    uses.push('features:mount');
    for (const fs of splitList(features.mount)) lines.push(['lxc.apparmor.raw', `mount fstype=${fs},`]);
  }
  if (conf.lxc.some(([k]) => k === 'lxc.apparmor.profile')) {
    return { lines: [], warnings: uses.length ? [`explicitly configured lxc.apparmor.profile overrides the following settings: ${uses.join(', ')}`] : [] };
  }
  return { lines, warnings: [] };
}

/** A devN: the cgroup lets the CT use the device (PVE's hooks make its node in the CT's /dev). */
function passthroughDevice(key: string, value: string, facts: RenderFacts, staleEnoent: boolean): LxcLine[] {
  const dev = parsePropertyString('dev', value, { pve: facts.pve });
  if (dev.path === undefined) throw new Error(`Path is not defined for passthrough device ${key}`);
  const found = facts.device(dev.path);
  if (found.kind === 'missing' || staleEnoent) throw new Error(`Device ${dev.path} does not exist`);
  if (found.kind === 'not-a-device') throw new Error(`${dev.path} is not a device`);
  const numbers = `${found.kind} ${found.major}:${found.minor}`;
  const readOnly = dev['deny-write'] === '1';
  return [['lxc.cgroup2.devices.allow', `${numbers} ${readOnly ? 'r' : 'rw'}`], ...(readOnly ? [['lxc.cgroup2.devices.deny', `${numbers} w`] as LxcLine] : [])];
}

/** netN: a veth pair per interface, its host end named after the CT, added to the bridge by a script. */
function networks(o: Record<string, string>, vmid: number, facts: RenderFacts): LxcLine[] {
  const lines: LxcLine[] = [];
  // PVE walks its keys sorted as strings (net10 before net2).
  for (const key of Object.keys(o).sort()) {
    const m = /^net(\d+)$/.exec(key);
    if (!m) continue;
    const i = m[1]!;
    const net = parsePropertyString('net', o[key]!, { pve: facts.pve });
    lines.push([`lxc.net.${i}.type`, 'veth'], [`lxc.net.${i}.veth.pair`, `veth${vmid}i${i}`]);
    if (net.hwaddr !== undefined) lines.push([`lxc.net.${i}.hwaddr`, net.hwaddr]);
    if (net.name !== undefined) lines.push([`lxc.net.${i}.name`, net.name]);
    const bridgeMtu = facts.bridgeMtu(net.bridge ?? '');
    if (bridgeMtu === undefined) throw new Error(`bridge '${net.bridge ?? ''}' does not exist`);
    const mtu = Number(net.mtu) || bridgeMtu;
    if (mtu > bridgeMtu) throw new Error(`${key}: MTU size '${mtu}' is bigger than bridge MTU '${bridgeMtu}'`);
    lines.push([`lxc.net.${i}.mtu`, String(mtu)], [`lxc.net.${i}.script.up`, '/usr/share/lxc/lxcnetaddbr']);
    // host-managed: LXC, not the CT, configures the addresses (for CTs without a network manager).
    if (net.link_down !== '1' && net['host-managed'] === '1') {
      if (net.ip !== undefined && !/^(dhcp|manual)$/.test(net.ip)) lines.push([`lxc.net.${i}.ipv4.address`, net.ip]);
      if (net.gw !== undefined) lines.push([`lxc.net.${i}.ipv4.gateway`, net.gw]);
      if (net.ip6 !== undefined) {
        const refused = hostManagedAddressError(net);
        if (refused) throw new Error(`${key}: ${refused}`);
        if (!/^(dhcp|manual)$/.test(net.ip6)) lines.push([`lxc.net.${i}.ipv6.address`, net.ip6]);
      }
      if (net.gw6 !== undefined) lines.push([`lxc.net.${i}.ipv6.gateway`, net.gw6]);
      lines.push([`lxc.net.${i}.flags`, 'up']);
    }
  }
  return lines;
}

/** cores: a random subset of the node's CPUs (pvestatd rebalances them later). */
function cores(o: Record<string, string>, rawCpuset: boolean, facts: RenderFacts): LxcLine[] {
  if (!o.cores || rawCpuset) return [];
  const members = facts.ctCpus();
  if (!members) return [];
  while (members.length > Number(o.cores)) members.splice(Math.floor(facts.random() * members.length), 1);
  return [['lxc.cgroup2.cpuset.cpus', shortString(members)]];
}

/** PVE::CpuSet's short form: runs of consecutive CPUs as a-b. */
function shortString(cpus: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    out.push(i === j ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return out.join(',');
}
