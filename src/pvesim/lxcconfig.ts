// What `pct start` writes to var/lib/lxc/<vmid>/config: pve-container's update_lxc_config, translated
// for this host (lxc 5.0, hybrid cgroups, no AppArmor). Every difference from a real node is returned
// as a warning, never dropped silently.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { deviceNumbers } from '../pve/node-facts.js';
import { join } from 'node:path';
import { parsePropertyString, type PveConfig } from '../pve/config.js';
import { cgroupScope } from './node.js';

export interface LxcConfigResult {
  lines: string[];
  warnings: string[];
  /** Files PVE writes next to the config (rules.seccomp). */
  files: Record<string, string>;
}

const V1_MEMORY = '/sys/fs/cgroup/memory';

/** Inverse of runc's shares→weight conversion, for cgroup v1 cpu.shares. */
export function weightToShares(weight: number): number {
  return Math.max(2, Math.round(2 + ((weight - 1) * 262142) / 9999));
}

/** A cgroup2 key as this hybrid host can enforce it (cgroup v1), or undefined. */
function cgroupV1(key: string, value: string, memoryMiB: number | undefined): Array<[string, string]> | undefined {
  const name = key.slice('lxc.cgroup2.'.length);
  switch (name) {
    case 'memory.max':
      return [['lxc.cgroup.memory.limit_in_bytes', value === 'max' ? '-1' : value]];
    case 'memory.low':
      return [['lxc.cgroup.memory.soft_limit_in_bytes', value]];
    case 'memory.swap.max':
      // v1 has no separate swap limit, only memory+swap (memsw, present with swapaccount=1).
      if (!existsSync(join(V1_MEMORY, 'memory.memsw.limit_in_bytes')) || memoryMiB === undefined) return undefined;
      return [['lxc.cgroup.memory.memsw.limit_in_bytes', value === 'max' ? '-1' : String(Number(value) + memoryMiB * 1024 * 1024)]];
    case 'cpu.max': {
      const [quota, period] = value.split(' ');
      return [
        ['lxc.cgroup.cpu.cfs_period_us', period ?? '100000'],
        ['lxc.cgroup.cpu.cfs_quota_us', quota === 'max' ? '-1' : (quota ?? '-1')],
      ];
    }
    case 'cpu.weight':
      return [['lxc.cgroup.cpu.shares', String(weightToShares(Number(value)))]];
    case 'pids.max':
      return [['lxc.cgroup.pids.max', value]];
    case 'cpuset.cpus':
    case 'cpuset.mems':
      return [[`lxc.cgroup.${name}`, value]];
    case 'devices.allow':
    case 'devices.deny':
      return [[`lxc.cgroup.${name}`, value]];
    default:
      return undefined;
  }
}

/** PVE::CpuSet short_string of the host's cpuset (cgroup v1 here). */
function hostCpus(): number[] {
  let text = '';
  try {
    text = readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim();
  } catch {
    return [];
  }
  const cpus: number[] = [];
  for (const part of text.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) cpus.push(i);
  }
  return cpus;
}

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

const CFG = '/usr/share/lxc/config';

export function buildLxcConfig(conf: PveConfig, vmid: number, root: string, postStopHook: string): LxcConfigResult {
  const o = conf.options;
  const warnings: string[] = [];
  const files: Record<string, string> = {};
  const out: Array<[string, string]> = [];
  const raw = conf.lxc;
  const hasRaw = (k: string) => raw.some(([key]) => key === k);
  const customIdmap = hasRaw('lxc.idmap');
  const unprivileged = o.unprivileged === '1' || customIdmap;

  out.push(['lxc.cgroup.relative', '0']);
  const scope = cgroupScope(root);
  if (scope) warnings.push(`cgroups under ${scope}lxc/${vmid} (a real node: lxc/${vmid}), so that simulated nodes on one host do not collide`);
  out.push(['lxc.cgroup.dir.monitor', `${scope}lxc.monitor/${vmid}`]);
  out.push(['lxc.cgroup.dir.container', `${scope}lxc/${vmid}`]);
  out.push(['lxc.cgroup.dir.container.inner', 'ns']);
  if (!o.arch) throw new Error("missing 'arch' - internal error");
  out.push(['lxc.arch', o.arch]);
  const ostype = o.ostype;
  if (!ostype) throw new Error("missing 'ostype' - internal error");
  const include = (name: string, fallback: string) => (existsSync(`${CFG}/${name}`) ? `${CFG}/${name}` : `${CFG}/${fallback}`);
  out.push(['lxc.include', include(`${ostype}.common.conf`, 'common.conf')]);
  if (unprivileged) out.push(['lxc.include', include(`${ostype}.userns.conf`, 'userns.conf')]);

  const features = o.features ? parsePropertyString('features', o.features) : {};
  // make_seccomp_config
  if (hasRaw('lxc.seccomp.profile')) {
    const overridden = ['keyctl', 'mknod'].filter((f) => features[f] === '1').join(', ');
    if (overridden) warnings.push(`explicitly configured lxc.seccomp.profile overrides the following settings: ${overridden}`);
  } else if (unprivileged) {
    const rules: Record<string, string[]> = {
      ioctl: ['errno 1 [1,0x9400,SCMP_CMP_MASKED_EQ,0xff00]'],
      socket: ['errno 97 [0,38,SCMP_CMP_EQ]'],
    };
    if (features.keyctl !== '1') rules.keyctl = ['errno 38'];
    if (features.mknod === '1') warnings.push('features mknod=1: the seccomp notify proxy (pve-lxc-syscalld) is not simulated; mknod stays denied');
    const extra = Object.keys(rules)
      .sort()
      .flatMap((sc) => rules[sc]!.map((r) => `${sc} ${r}`))
      .join('\n');
    files['rules.seccomp'] = readFileSync(`${CFG}/common.seccomp`, 'utf8') + extra + '\n';
    out.push(['lxc.seccomp.profile', join(root, 'var/lib/lxc', String(vmid), 'rules.seccomp')]);
  }
  // make_apparmor_config: this host has no AppArmor, so the profile cannot be 'generated'.
  const profileUses = [
    ...(features.fuse === '1' ? ['features:fuse'] : []),
    ...(features.nesting === '1' ? ['features:nesting'] : []),
    ...(features.mount ? ['features:mount'] : []),
  ];
  if (hasRaw('lxc.apparmor.profile')) {
    if (profileUses.length) warnings.push(`explicitly configured lxc.apparmor.profile overrides the following settings: ${profileUses.join(', ')}`);
  } else {
    out.push(['lxc.apparmor.profile', 'unconfined']);
    warnings.push(`AppArmor is not enforced on this host: lxc.apparmor.profile = unconfined instead of PVE's generated profile${profileUses.length ? ` (${profileUses.join(', ')} have no effect)` : ''}`);
  }
  if (features.fuse === '1') out.push(['lxc.mount.entry', '/dev/fuse dev/fuse none bind,create=file 0 0']);
  if (unprivileged && features.force_rw_sys !== '1') out.push(['lxc.mount.auto', 'sys:mixed']);
  if (o.entrypoint !== undefined && o.entrypoint !== '/sbin/init') {
    out.push(['lxc.mount.entry', 'shm dev/shm tmpfs rw,nosuid,nodev,create=dir 0 0']);
  }
  for (const key of Object.keys(o).filter((k) => /^dev\d+$/.test(k))) {
    const dev = parsePropertyString('dev', o[key]!);
    if (dev.path === undefined) throw new Error(`Path is not defined for passthrough device ${key}`);
    if (!existsSync(dev.path)) throw new Error(`Device ${dev.path} does not exist`);
    const numbers = deviceNumbers(dev.path);
    if (!numbers) throw new Error(`${dev.path} is not a device`);
    const type = statSync(dev.path).isBlockDevice() ? 'b' : 'c';
    out.push(['lxc.cgroup2.devices.allow', `${type} ${numbers.major}:${numbers.minor} ${dev['deny-write'] === '1' ? 'r' : 'rw'}`]);
    if (dev['deny-write'] === '1') out.push(['lxc.cgroup2.devices.deny', `${type} ${numbers.major}:${numbers.minor} w`]);
    // PVE's prestart hook mknods the node (with uid/gid/mode); a bind of the host node gives the CT the
    // same device, but with the host's owner and mode.
    if (dev.uid !== undefined || dev.gid !== undefined || dev.mode !== undefined) {
      warnings.push(`${key}: uid/gid/mode of the device node are not simulated (bind of the host node)`);
    }
    out.push(['lxc.mount.entry', `${dev.path} ${dev.path.replace(/^\//, '')} none bind,create=file 0 0`]);
  }
  out.push(['lxc.monitor.unshare', '1']);
  if (unprivileged && !customIdmap) {
    out.push(['lxc.idmap', 'u 0 100000 65536']);
    out.push(['lxc.idmap', 'g 0 100000 65536']);
  }
  if (o.console === '0') {
    out.push(['lxc.console.path', 'none']);
    out.push(['lxc.cgroup2.devices.deny', 'c 5:1 rwm']);
  }
  out.push(['lxc.tty.max', o.tty ?? '2']);
  out.push(['lxc.environment', 'TERM=linux']);
  out.push(['lxc.uts.name', o.hostname || `CT${vmid}`]);
  const memory = Number(o.memory || 512);
  out.push(['lxc.cgroup2.memory.max', String(memory * 1024 * 1024)]);
  out.push(['lxc.cgroup2.memory.high', String(memory >= 16384 ? (memory - 128) * 1024 * 1024 : memory * 1024 * 1016)]);
  out.push(['lxc.cgroup2.memory.swap.max', String(Math.trunc(Number(o.swap ?? 0) * 1024 * 1024))]);
  if (o.cpulimit && Number(o.cpulimit) > 0) out.push(['lxc.cgroup2.cpu.max', `${Math.trunc(100000 * Number(o.cpulimit))} 100000`]);
  // clamp_cpu_shares on cgroup v2
  if (o.cpuunits !== undefined) out.push(['lxc.cgroup2.cpu.weight', String(Math.min(10000, Math.max(1, Number(o.cpuunits))))]);
  if (!o.rootfs) throw new Error("missing 'rootfs' configuration");
  out.push(['lxc.rootfs.path', join(root, 'var/lib/lxc', String(vmid), 'rootfs')]);
  if (o.entrypoint !== undefined) {
    if (/['"]/.test(o.entrypoint)) warnings.push(`entrypoint: lxc 5.0 splits lxc.init.cmd on spaces and ignores quotes: ${o.entrypoint}`);
    out.push(['lxc.init.cmd', o.entrypoint]);
  }
  const nets = Object.keys(o).filter((k) => /^net\d+$/.test(k));
  if (nets.length) warnings.push(`${nets.join(', ')}: network interfaces are not simulated; the CT gets an empty network namespace`);
  out.push(['lxc.net.0.type', 'empty']);
  if (conf.env?.length) warnings.push('env: lxc 5.0 has no lxc.environment.runtime; written as lxc.environment (also seen by lxc-attach)');
  for (const v of conf.env ?? []) out.push(['lxc.environment.runtime', v]);
  out.push(...raw);
  if (o.cores && !hasRaw('lxc.cgroup2.cpuset.cpus')) {
    // A random subset of the host's CPUs, as PVE (pvestatd rebalances later; the simulator does not).
    const members = hostCpus();
    while (members.length > Number(o.cores)) members.splice(Math.floor(Math.random() * members.length), 1);
    if (members.length) out.push(['lxc.cgroup.cpuset.cpus', shortString(members)]);
  }
  out.push(['lxc.hook.post-stop', postStopHook]);

  // This host has cgroup v1 controllers: translate what has an equivalent, say what has none.
  const lines: string[] = [];
  for (const [key, value] of out) {
    if (key.startsWith('lxc.cgroup2.')) {
      const v1 = cgroupV1(key, value, memory);
      if (!v1) {
        warnings.push(`${key} = ${value} not enforced on this host (hybrid cgroups, no v1 equivalent)`);
        continue;
      }
      for (const [k, v] of v1) lines.push(`${k} = ${v}`);
      continue;
    }
    if (key === 'lxc.environment.runtime') {
      lines.push(`lxc.environment = ${value}`);
      continue;
    }
    lines.push(`${key} = ${value}`);
  }
  return { lines, warnings, files };
}
