// linux.resources → PVE's own options where it has one (memory, swap, cpuunits, cpulimit, cores), raw
// lxc.cgroup2.* keys for the other cgroup v2 files, and a rejection by name for what cgroup v2 on PVE
// cannot express. One translation for create and `update`: update passes what the CT has now, because
// runc's update leaves a field at 0 unchanged and relates some fields to the current ones (swap to the
// memory limit, a quota to the period).
import type { OciResources } from '../bundle.js';
import { CPUUNITS_MAX_CGROUP2 } from '../../pve/config.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';
import { CtConfig } from './ct-config.js';

type Resources = OciResources;

const MiB = 1024 * 1024;

/** What a running CT has now, for `update`. */
export interface CurrentResources {
  /** PVE's memory option in MiB (512 when absent, as PVE). */
  memoryMiB: number;
  /** PVE's cpulimit; 0 is no limit. */
  cpulimit: number;
  /** The CT's raw lxc.* lines. */
  lxc: Array<[string, string]>;
}

/** The CFS period PVE writes with every cpulimit (cpu.max = <cpulimit·100000> 100000), which is also
 *  the kernel's default one. */
const PVE_CFS_PERIOD_US = 100000;

function mib(bytes: number): number {
  return Math.ceil(bytes / MiB);
}

/** runc's cgroup v1 → v2 conversion of cpu.shares to cpu.weight, which is what cpuunits sets. */
export function sharesToCpuunits(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** runc's conversion of a blkio weight [10, 1000] to cgroup v2's io.weight [1, 10000]. */
function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** How many CPUs (or memory nodes) a cpuset list names, as the kernel parses it. */
function countCpus(field: string, cpus: string): number {
  let n = 0;
  for (const part of cpus.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(field, `"${cpus}" is not a CPU list (e.g. "0-3,6")`);
    const [first, last] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (last < first) throw new ConfigError(field, `"${cpus}" is not a CPU list: the range ${part} runs backwards`);
    n += last - first + 1;
  }
  return n;
}

/** A limit where 0 leaves things as they are, -1 is the cgroup's "max" and less is no value at all. */
function limitValue(field: string, n: number | undefined): string | undefined {
  if (n === undefined || n === 0) return undefined;
  if (n === -1) return 'max';
  if (n < 0) throw new ConfigError(field, `${n} is not a limit (a positive number, or -1 for none)`);
  return String(n);
}

/**
 * Writes linux.resources into `ct`. With `current` (update), only what the request changes is
 * written, and what a running CT cannot change is refused; without it (create), everything asked is.
 */
export function translateResources(r: Resources, ct: CtConfig, current?: CurrentResources): void {
  translateMemory(r.memory, ct, current);
  translateCpu(r.cpu, ct, current);
  const pids = limitValue('linux.resources.pids.limit', r.pids?.limit);
  if (pids !== undefined) ct.raw('lxc.cgroup2.pids.max', pids, 'linux.resources.pids.limit');
  translateDeviceRules(r.devices ?? [], ct, current);
  if (r.hugepageLimits?.length) throw new ConfigError('linux.resources.hugepageLimits', rejectionReason('linux.resources.hugepageLimits'));
  if (r.blockIO) translateBlockIO(r.blockIO, ct);
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    if (!/^[a-z]+\.[a-z0-9_.]+$/.test(k)) throw new ConfigError(`linux.resources.unified["${k}"]`, 'not a cgroup v2 file name');
    // cgroup.procs, cgroup.subtree_control, …: the cgroup's membership and structure are LXC's and PVE's.
    if (k.startsWith('cgroup.')) throw new ConfigError(`linux.resources.unified["${k}"]`, "a cgroup core file, not a controller's limit: LXC and PVE manage it");
    ct.raw(`lxc.cgroup2.${k}`, v, `linux.resources.unified["${k}"]`);
  }
  if (r.network) throw new ConfigError('linux.resources.network', rejectionReason('linux.resources.network, rdma'));
  if (r.rdma) throw new ConfigError('linux.resources.rdma', rejectionReason('linux.resources.network, rdma'));
}

function translateMemory(memory: Resources['memory'], ct: CtConfig, current: CurrentResources | undefined): void {
  if (!memory) return;
  const limit = memory.limit ?? 0;
  if (limit === -1) throw new ConfigError('linux.resources.memory.limit', "-1 (unlimited) is not expressible: PVE's memory option is a limit in MiB");
  if (limit < 0) throw new ConfigError('linux.resources.memory.limit', `${limit} is not a number of bytes`);
  if (limit > 0) ct.option('memory', String(mib(limit)), 'linux.resources.memory.limit');
  const swap = memory.swap ?? 0;
  if (swap === -1) throw new ConfigError('linux.resources.memory.swap', 'unlimited swap (-1) is not expressible in PVE (swap is MiB ≥ 0)');
  if (swap < 0) throw new ConfigError('linux.resources.memory.swap', `${swap} is not a number of bytes`);
  if (swap > 0) {
    const memoryBytes = limit > 0 ? limit : current ? current.memoryMiB * MiB : undefined;
    if (memoryBytes === undefined) throw new ConfigError('linux.resources.memory.swap', 'needs memory.limit (it is memory + swap)');
    if (swap < memoryBytes) throw new ConfigError('linux.resources.memory.swap', `${swap} is below the memory limit of ${memoryBytes} bytes: it is memory + swap, so it must be ≥ memory.limit`);
    ct.option('swap', String(mib(swap - memoryBytes)), 'linux.resources.memory.swap');
  }
  const reservation = limitValue('linux.resources.memory.reservation', memory.reservation);
  if (reservation !== undefined) ct.raw('lxc.cgroup2.memory.low', reservation, 'linux.resources.memory.reservation');
  if (memory.checkBeforeUpdate) throw new ConfigError('linux.resources.memory.checkBeforeUpdate', rejectionReason('linux.resources.memory.checkBeforeUpdate'));
  const other = { kernel: memory.kernel ? 1 : 0, kernelTCP: memory.kernelTCP ? 1 : 0, swappiness: memory.swappiness !== undefined ? 1 : 0, disableOOMKiller: memory.disableOOMKiller ? 1 : 0 };
  for (const [k, asked] of Object.entries(other)) {
    if (asked) throw new ConfigError(`linux.resources.memory.${k}`, rejectionReason('linux.resources.memory (other)'));
  }
}

function translateCpu(cpu: Resources['cpu'], ct: CtConfig, current: CurrentResources | undefined): void {
  if (!cpu) return;
  if (cpu.shares) ct.option('cpuunits', String(Math.min(sharesToCpuunits(cpu.shares), CPUUNITS_MAX_CGROUP2)), 'linux.resources.cpu.shares');
  translateCpuLimit(cpu.quota ?? 0, cpu.period ?? 0, ct, current);
  if (cpu.cpus) {
    ct.option('cores', String(countCpus('linux.resources.cpu.cpus', cpu.cpus)), 'linux.resources.cpu.cpus');
    ct.raw('lxc.cgroup2.cpuset.cpus', cpu.cpus, 'linux.resources.cpu.cpus');
  }
  if (cpu.mems) {
    countCpus('linux.resources.cpu.mems', cpu.mems);
    ct.raw('lxc.cgroup2.cpuset.mems', cpu.mems, 'linux.resources.cpu.mems');
  }
  for (const k of ['realtimeRuntime', 'realtimePeriod', 'burst', 'idle'] as const) {
    if (cpu[k]) throw new ConfigError(`linux.resources.cpu.${k}`, rejectionReason('linux.resources.cpu (realtime, burst, idle)'));
  }
}

/**
 * quota/period → cpulimit (CPUs' worth of time). As in runc's update, a quota alone keeps the period
 * and a period alone keeps the quota; PVE's period is always 100000 µs, so a CT's quota is
 * cpulimit · 100000.
 */
function translateCpuLimit(quota: number, period: number, ct: CtConfig, current: CurrentResources | undefined): void {
  if (quota === -1) {
    ct.option('cpulimit', '0', 'linux.resources.cpu.quota');
    return;
  }
  if (quota < 0) throw new ConfigError('linux.resources.cpu.quota', `${quota} is not a quota (µs per period, or -1 for none)`);
  let limit: number;
  let field = 'linux.resources.cpu.quota';
  if (quota > 0) limit = quota / (period || PVE_CFS_PERIOD_US);
  else if (period > 0 && current && current.cpulimit > 0) {
    limit = (current.cpulimit * PVE_CFS_PERIOD_US) / period;
    field = 'linux.resources.cpu.period';
  } else return;
  // PVE reads cpulimit 0 as no limit at all: a quota that rounds to 0 keeps the smallest one.
  ct.option('cpulimit', String(Math.round(limit * 100) / 100 || 0.01), field);
}

/** linux.resources.devices: the device cgroup's allow and deny rules, in order. */
function translateDeviceRules(rules: NonNullable<Resources['devices']>, ct: CtConfig, current: CurrentResources | undefined): void {
  const lines = new CtConfig();
  rules.forEach((d, i) => {
    const all = (d.type ?? 'a') === 'a' && d.major === undefined && d.minor === undefined;
    // LXC's common.conf already starts from deny-all plus the standard devices runc also keeps.
    if (i === 0 && !d.allow && all) return;
    const num = (n: number | undefined) => (n === undefined || n < 0 ? '*' : String(n));
    const rule = all ? 'a' : `${d.type ?? 'a'} ${num(d.major)}:${num(d.minor)} ${d.access ?? 'rwm'}`;
    lines.raw(d.allow ? 'lxc.cgroup2.devices.allow' : 'lxc.cgroup2.devices.deny', rule);
  });
  if (current) {
    // Engines resend the create-time rules with every update (runc's update ignores them all).
    const now = current.lxc.filter(([k]) => isDeviceRule(k));
    if (rules.length && JSON.stringify(now) !== JSON.stringify(lines.lxc)) {
      throw new ConfigError('linux.resources.devices', "the device rules of a running PVE CT cannot be changed (LXC sets them at start; runc's update leaves them too)");
    }
    return;
  }
  for (const [k, v] of lines.lxc) ct.raw(k, v);
}

const isDeviceRule = (key: string) => key === 'lxc.cgroup2.devices.allow' || key === 'lxc.cgroup2.devices.deny';

function translateBlockIO(b: NonNullable<Resources['blockIO']>, ct: CtConfig): void {
  if (b.weight) ct.raw('lxc.cgroup2.io.weight', `default ${blkioToIoWeight(b.weight)}`, 'linux.resources.blockIO.weight');
  if (b.leafWeight || b.weightDevice?.length) throw new ConfigError('linux.resources.blockIO.weightDevice', rejectionReason('linux.resources.blockIO (leafWeight, weightDevice)'));
  const throttles = [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']] as const;
  for (const [k, key] of throttles) for (const d of b[k] ?? []) ct.raw('lxc.cgroup2.io.max', `${d.major}:${d.minor} ${key}=${d.rate}`, `linux.resources.blockIO.${k}`);
}

/**
 * The CT's raw lines with an update's lines in place of the ones they change: one line per key,
 * except io.max, which has one line per device and limit (`8:0 rbps=…`).
 */
export function replaceRawLines(lines: Array<[string, string]>, changes: Array<[string, string]>): Array<[string, string]> {
  const identity = ([k, v]: [string, string]) => (k === 'lxc.cgroup2.io.max' ? `${k} ${v.replace(/=.*$/, '')}` : k);
  const last = new Map(changes.map((l) => [identity(l), l]));
  return [...lines.filter((l) => !last.has(identity(l))), ...last.values()];
}
