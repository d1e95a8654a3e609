// linux.resources → PVE's own options where it has one (memory, swap, cpuunits, cpulimit, cores), raw
// lxc.cgroup2.* keys for the other cgroup v2 files, and a rejection by name for what cgroup v2 on PVE
// cannot express.
import type { OciSpec } from '../bundle.js';
import { CPULIMIT_MAX, CPUUNITS_MAX_CGROUP2, MEMORY_MIN_MIB } from '../../pve/config.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';
import type { CtConfig } from './ct-config.js';

type Resources = NonNullable<NonNullable<OciSpec['linux']>['resources']>;

function mib(bytes: number): number {
  return Math.ceil(bytes / (1024 * 1024));
}

/** runc's cgroup v1 → v2 conversion of cpu.shares to cpu.weight, which is what cpuunits sets. */
export function sharesToCpuunits(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

function countCpus(field: string, cpus: string): number {
  let n = 0;
  for (const part of cpus.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new ConfigError(field, `"${cpus}" is not a CPU list`);
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

/** The kernel's CFS period, which a quota without one is relative to. */
const CFS_DEFAULT_PERIOD_US = 100000;

/** The resources PVE can also change live (`pxoci update`): memory, swap, cpulimit, cpuunits. */
export function resourcesToOptions(r: Resources): Record<string, string> {
  const o: Record<string, string> = {};
  const mem = r.memory;
  if (mem?.limit !== undefined && mem.limit > 0) {
    const m = mib(mem.limit);
    if (m < MEMORY_MIN_MIB) throw new ConfigError('linux.resources.memory.limit', `${mem.limit} bytes is below PVE's minimum of ${MEMORY_MIN_MIB} MiB`);
    o.memory = String(m);
    if (mem.swap !== undefined) {
      if (mem.swap === -1) throw new ConfigError('linux.resources.memory.swap', 'unlimited swap (-1) is not expressible in PVE (swap is MiB ≥ 0)');
      if (mem.swap < mem.limit) throw new ConfigError('linux.resources.memory.swap', 'must be ≥ memory.limit (it is memory + swap)');
      o.swap = String(mib(mem.swap - mem.limit));
    }
  } else if (mem?.swap !== undefined && mem.swap !== -1) {
    throw new ConfigError('linux.resources.memory.swap', 'needs memory.limit (it is memory + swap)');
  }
  const cpu = r.cpu;
  if (cpu?.shares !== undefined && cpu.shares > 0) o.cpuunits = String(Math.min(sharesToCpuunits(cpu.shares), CPUUNITS_MAX_CGROUP2));
  if (cpu?.quota !== undefined && cpu.quota > 0) {
    const period = cpu.period && cpu.period > 0 ? cpu.period : CFS_DEFAULT_PERIOD_US;
    const limit = cpu.quota / period;
    if (limit > CPULIMIT_MAX) throw new ConfigError('linux.resources.cpu.quota', `more than ${CPULIMIT_MAX} CPUs`);
    // PVE reads cpulimit 0 as no limit at all: a quota that rounds to 0 keeps the smallest one.
    o.cpulimit = String(Math.round(limit * 100) / 100 || 0.01);
  }
  return o;
}

export function translateResources(r: Resources, ct: CtConfig): void {
  Object.assign(ct.options, resourcesToOptions(r));
  translateMemory(r.memory, ct);
  translateCpu(r.cpu, ct);
  if (r.pids?.limit !== undefined && r.pids.limit > 0) ct.raw('lxc.cgroup2.pids.max', String(r.pids.limit));
  translateDeviceRules(r.devices ?? [], ct);
  if (r.hugepageLimits?.length) throw new ConfigError('linux.resources.hugepageLimits', rejectionReason('linux.resources.hugepageLimits'));
  if (r.blockIO) translateBlockIO(r.blockIO, ct);
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    if (!/^[a-z]+\.[a-z0-9_.]+$/.test(k)) throw new ConfigError(`linux.resources.unified["${k}"]`, 'not a cgroup v2 file name');
    ct.raw(`lxc.cgroup2.${k}`, v);
  }
  if (r.network) throw new ConfigError('linux.resources.network', rejectionReason('linux.resources.network, rdma'));
  if (r.rdma) throw new ConfigError('linux.resources.rdma', rejectionReason('linux.resources.network, rdma'));
}

/** What of memory resourcesToOptions leaves: the soft limit, and the cgroup v1 fields PVE lacks. */
function translateMemory(memory: Resources['memory'], ct: CtConfig): void {
  if (memory?.reservation !== undefined && memory.reservation > 0) ct.raw('lxc.cgroup2.memory.low', String(memory.reservation));
  if (memory?.checkBeforeUpdate) throw new ConfigError('linux.resources.memory.checkBeforeUpdate', rejectionReason('linux.resources.memory.checkBeforeUpdate'));
  for (const k of ['kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller'] as const) {
    if (memory?.[k] !== undefined) throw new ConfigError(`linux.resources.memory.${k}`, rejectionReason('linux.resources.memory (other)'));
  }
}

/** What of cpu resourcesToOptions leaves: the cpusets (cores counts them), and what PVE lacks. */
function translateCpu(cpu: Resources['cpu'], ct: CtConfig): void {
  if (cpu?.cpus) {
    ct.options.cores = String(countCpus('linux.resources.cpu.cpus', cpu.cpus));
    ct.raw('lxc.cgroup2.cpuset.cpus', cpu.cpus);
  }
  if (cpu?.mems) {
    countCpus('linux.resources.cpu.mems', cpu.mems);
    ct.raw('lxc.cgroup2.cpuset.mems', cpu.mems);
  }
  for (const k of ['realtimeRuntime', 'realtimePeriod', 'burst', 'idle'] as const) {
    if (cpu?.[k]) throw new ConfigError(`linux.resources.cpu.${k}`, rejectionReason('linux.resources.cpu (realtime, burst, idle)'));
  }
}

/** linux.resources.devices: the device cgroup's allow and deny rules, in order. */
function translateDeviceRules(rules: NonNullable<Resources['devices']>, ct: CtConfig): void {
  rules.forEach((d, i) => {
    const all = (d.type ?? 'a') === 'a' && d.major === undefined && d.minor === undefined;
    // LXC's common.conf already starts from deny-all plus the standard devices runc also keeps.
    if (i === 0 && !d.allow && all) return;
    const num = (n: number | undefined) => (n === undefined || n < 0 ? '*' : String(n));
    const rule = all ? 'a' : `${d.type ?? 'a'} ${num(d.major)}:${num(d.minor)} ${d.access ?? 'rwm'}`;
    ct.raw(d.allow ? 'lxc.cgroup2.devices.allow' : 'lxc.cgroup2.devices.deny', rule);
  });
}

function translateBlockIO(b: NonNullable<Resources['blockIO']>, ct: CtConfig): void {
  if (b.weight !== undefined) ct.raw('lxc.cgroup2.io.weight', `default ${b.weight}`);
  if (b.leafWeight !== undefined || b.weightDevice?.length) throw new ConfigError('linux.resources.blockIO.weightDevice', rejectionReason('linux.resources.blockIO (leafWeight, weightDevice)'));
  const throttles = [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']] as const;
  for (const [k, key] of throttles) for (const d of b[k] ?? []) ct.raw('lxc.cgroup2.io.max', `${d.major}:${d.minor} ${key}=${d.rate}`);
}
