// What `pct start` writes to var/lib/lxc/<vmid>/config: pve-container's update_lxc_config, translated
// for this host (lxc 5.0, hybrid cgroups, no AppArmor). Every difference from a real node is returned
// as a warning, never dropped silently.
import { existsSync, statSync } from 'node:fs';
import { deviceNumbers } from '../../src/runtime/hostfs.js';
import { join } from 'node:path';
import { parsePropertyString, type PveConfig } from '../../src/pve/config.js';

export interface LxcConfigResult {
  lines: string[];
  warnings: string[];
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
      return [['lxc.cgroup.memory.limit_in_bytes', value]];
    case 'memory.low':
      return [['lxc.cgroup.memory.soft_limit_in_bytes', value]];
    case 'memory.swap.max':
      if (!existsSync(join(V1_MEMORY, 'memory.memsw.limit_in_bytes')) || memoryMiB === undefined) return undefined;
      return [['lxc.cgroup.memory.memsw.limit_in_bytes', String(Number(value) + memoryMiB * 1024 * 1024)]];
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

export function buildLxcConfig(conf: PveConfig, vmid: number, root: string, postStopHook: string): LxcConfigResult {
  const o = conf.options;
  const warnings: string[] = [];
  const out: Array<[string, string]> = [];
  const raw = conf.lxc;
  const hasRaw = (k: string) => raw.some(([key]) => key === k);
  const unprivileged = o.unprivileged === '1';

  out.push(['lxc.cgroup.relative', '0']);
  out.push(['lxc.cgroup.dir.monitor', `lxc.monitor/${vmid}`]);
  out.push(['lxc.cgroup.dir.container', `lxc/${vmid}`]);
  out.push(['lxc.cgroup.dir.container.inner', 'ns']);
  out.push(['lxc.arch', o.arch ?? 'amd64']);
  const ostype = o.ostype ?? 'unmanaged';
  const common = `/usr/share/lxc/config/${ostype}.common.conf`;
  out.push(['lxc.include', ostype !== 'unmanaged' && existsSync(common) ? common : '/usr/share/lxc/config/common.conf']);
  if (unprivileged || hasRaw('lxc.idmap')) out.push(['lxc.include', '/usr/share/lxc/config/userns.conf']);
  if (!hasRaw('lxc.apparmor.profile')) {
    out.push(['lxc.apparmor.profile', 'unconfined']);
    warnings.push('AppArmor is not enforced on this host (PVE would load its generated profile)');
  }
  const features = o.features ? parsePropertyString('features', o.features) : {};
  if (features.nesting === '1') warnings.push('features nesting=1: AppArmor nesting not simulated');
  if (features.fuse === '1') out.push(['lxc.mount.entry', '/dev/fuse dev/fuse none bind,create=file 0 0']);
  if (unprivileged && features.force_rw_sys !== '1') out.push(['lxc.mount.auto', 'sys:mixed']);
  for (const [key, value] of Object.entries(o)) {
    const m = /^dev(\d+)$/.exec(key);
    if (!m) continue;
    const dev = parsePropertyString('dev', value);
    const numbers = deviceNumbers(dev.path!);
    if (!numbers) throw new Error(`Device ${dev.path} does not exist`);
    const type = statSync(dev.path!).isBlockDevice() ? 'b' : 'c';
    out.push(['lxc.cgroup2.devices.allow', `${type} ${numbers.major}:${numbers.minor} ${dev['deny-write'] === '1' ? 'r' : 'rw'}`]);
    // PVE's prestart hook mknods the node; a bind of the host node gives the CT the same device.
    out.push(['lxc.mount.entry', `${dev.path} ${dev.path!.replace(/^\//, '')} none bind,create=file 0 0`]);
  }
  out.push(['lxc.monitor.unshare', '1']);
  if (unprivileged && !hasRaw('lxc.idmap')) {
    out.push(['lxc.idmap', 'u 0 100000 65536']);
    out.push(['lxc.idmap', 'g 0 100000 65536']);
  }
  if (o.console === '0') out.push(['lxc.console.path', 'none']);
  out.push(['lxc.tty.max', o.tty ?? '2']);
  out.push(['lxc.environment', 'TERM=linux']);
  out.push(['lxc.uts.name', o.hostname ?? `CT${vmid}`]);
  const memory = o.memory !== undefined ? Number(o.memory) : 512;
  const cgroup2: Array<[string, string]> = [
    ['lxc.cgroup2.memory.max', String(memory * 1024 * 1024)],
    ['lxc.cgroup2.memory.high', String(memory >= 16384 ? (memory - 128) * 1024 * 1024 : memory * 1024 * 1016)],
    ['lxc.cgroup2.memory.swap.max', String(Number(o.swap ?? 0) * 1024 * 1024)],
  ];
  if (o.cpulimit && Number(o.cpulimit) > 0) cgroup2.push(['lxc.cgroup2.cpu.max', `${Math.trunc(100000 * Number(o.cpulimit))} 100000`]);
  cgroup2.push(['lxc.cgroup2.cpu.weight', o.cpuunits ?? '100']);
  out.push(...cgroup2);
  out.push(['lxc.rootfs.path', join(root, 'var/lib/lxc', String(vmid), 'rootfs')]);
  if (o.entrypoint) out.push(['lxc.init.cmd', o.entrypoint]);
  if (Object.keys(o).some((k) => /^net\d+$/.test(k))) warnings.push('netN interfaces are not simulated: the CT gets an empty network namespace');
  out.push(['lxc.net.0.type', 'empty']);
  for (const v of conf.env ?? []) out.push(['lxc.environment', v]); // lxc 5 has no lxc.environment.runtime
  out.push(...raw);
  if (o.cores && !hasRaw('lxc.cgroup2.cpuset.cpus')) {
    out.push(['lxc.cgroup2.cpuset.cpus', `0-${Math.max(0, Math.min(Number(o.cores), 1024) - 1)}`]);
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
  return { lines, warnings };
}
