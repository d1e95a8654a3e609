// A running CT's limits, written where PVE's hot-plug writes them (PVE::CGroup, PVE::LXC::CGroup): the
// CT's cgroup lxc/<vmid>, the parent of the `ns` cgroup LXC runs the container in
// (lxc.cgroup.dir.container.inner = ns), so the container cannot raise them. (`lxc-cgroup` writes that
// inner cgroup instead, where a raised limit stays capped by the old one above it.) Keys are cgroup v2
// files, as in PVE's lxc.cgroup2.* keys; on a hybrid layout (cgroup v1 controllers, which PVE::CGroup
// also handles) a controller that is not on the unified hierarchy takes the v1 file that does the same,
// and what v1 cannot express is returned by name.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A cgroup file and the value to write into it. */
export type CgroupSetting = [file: string, value: string];

/** Where the node's cgroup file systems are mounted (a test passes a directory of its own). */
const CGROUP_ROOT = '/sys/fs/cgroup';

/** The inverse of runc's shares→weight conversion, for cgroup v1's cpu.shares. */
function weightToShares(weight: number): number {
  return Math.max(2, Math.round(2 + ((weight - 1) * 262142) / 9999));
}

/**
 * A cgroup v2 file and value as cgroup v1 carries them, or undefined when v1 has no equivalent.
 * `memoryBytes` is the memory limit that a v1 memory+swap limit adds the swap to.
 */
export function cgroupV1Equivalents(file: string, value: string, memoryBytes: () => number, cgroupRoot = CGROUP_ROOT): CgroupSetting[] | undefined {
  switch (file) {
    case 'memory.max':
      return [['memory.limit_in_bytes', value === 'max' ? '-1' : value]];
    case 'memory.low':
      return [['memory.soft_limit_in_bytes', value === 'max' ? '-1' : value]];
    case 'memory.swap.max':
      // v1 has no separate swap limit, only memory+swap (memsw, present with swapaccount=1).
      if (!existsSync(join(cgroupRoot, 'memory', 'memory.memsw.limit_in_bytes'))) return undefined;
      return [['memory.memsw.limit_in_bytes', value === 'max' ? '-1' : String(Number(value) + memoryBytes())]];
    case 'cpu.max': {
      const [quota, period] = value.split(' ');
      return [
        ['cpu.cfs_period_us', period ?? '100000'],
        ['cpu.cfs_quota_us', quota === 'max' ? '-1' : (quota ?? '-1')],
      ];
    }
    case 'cpu.weight':
      return [['cpu.shares', String(weightToShares(Number(value)))]];
    case 'pids.max':
    case 'cpuset.cpus':
    case 'cpuset.mems':
    case 'devices.allow':
    case 'devices.deny':
      return [[file, value]];
    default:
      return undefined;
  }
}

/** Where cgroup v2 is mounted and which controllers it has (PVE::CGroup's find_cgroup_controller). */
function unifiedHierarchy(cgroupRoot: string): { root: string; controllers: Set<string> } {
  const root = existsSync(join(cgroupRoot, 'cgroup.controllers')) ? cgroupRoot : join(cgroupRoot, 'unified');
  let controllers: string[] = [];
  try {
    controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    controllers = [];
  }
  return { root, controllers: new Set(controllers) };
}

const controllerOf = (file: string) => file.slice(0, file.indexOf('.'));

/** The kernel refused settings[index]. */
export class CgroupWriteError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Writes `settings` (cgroup v2 files) into the CT's limit cgroup `cgroup`. Returns the files this
 * node's layout has no equivalent for (left unwritten); throws CgroupWriteError when the kernel
 * refuses one.
 */
export function setCtLimits(cgroup: string, settings: CgroupSetting[], cgroupRoot = CGROUP_ROOT): string[] {
  const unified = unifiedHierarchy(cgroupRoot);
  const newMemory = settings.filter(([file]) => file === 'memory.max').pop()?.[1];
  const memoryBytes = () => {
    if (newMemory !== undefined && newMemory !== 'max') return Number(newMemory);
    return Number(readFileSync(join(cgroupRoot, 'memory', cgroup, 'memory.limit_in_bytes'), 'utf8'));
  };
  // `index`, `file` and `value` as asked (for messages), `path` and `text` what is written.
  const writes: Array<{ index: number; file: string; value: string; path: string; text: string }> = [];
  const unapplied: string[] = [];
  for (const [index, [file, value]] of settings.entries()) {
    if (unified.controllers.has(controllerOf(file))) {
      writes.push({ index, file, value, path: join(unified.root, cgroup, file), text: value });
      continue;
    }
    const v1 = cgroupV1Equivalents(file, value, memoryBytes, cgroupRoot);
    if (!v1 || !existsSync(join(cgroupRoot, controllerOf(file)))) {
      unapplied.push(file);
      continue;
    }
    for (const [v1File, v1Value] of v1) {
      const dir = join(cgroupRoot, controllerOf(v1File), cgroup);
      writes.push({ index, file, value, path: join(dir, v1File), text: v1Value });
      // A v1 cpuset does not follow its parent's: the inner cgroup, where the container runs, gets the same.
      if (v1File.startsWith('cpuset.')) writes.push({ index, file, value, path: join(dir, 'ns', v1File), text: v1Value });
    }
  }
  // Some limits must be changed in an order that depends on old and new values (v1's memory+swap ≥
  // memory; a v1 cpuset's children within their parent): what the first pass refused is tried again.
  let failed: Array<{ write: (typeof writes)[number]; error: NodeJS.ErrnoException }> = [];
  for (let pass = 0; pass < 2; pass++) {
    const todo = pass === 0 ? writes : failed.map((f) => f.write);
    failed = [];
    for (const write of todo) {
      try {
        // r+: a cgroup file is never created, only written, in one write as the kernel wants it.
        writeFileSync(write.path, write.text, { flag: 'r+' });
      } catch (e) {
        failed.push({ write, error: e as NodeJS.ErrnoException });
      }
    }
    if (!failed.length) return unapplied;
  }
  const { write, error } = failed[0]!;
  throw new CgroupWriteError(write.index, `the kernel refused ${write.file} = ${write.value} (${write.path}: ${error.code ?? error.message})`);
}
