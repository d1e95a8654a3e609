// Updating a running container's resources (runc update): runc's flags or a LinuxResources JSON
// (`-r FILE|-`), checked against the OCI schema and put through create's translation, then applied as
// PVE applies a change to a running CT: its own options through `pct set`, which hot-plugs memory, swap,
// cpulimit and cpuunits; raw lxc.cgroup2.* keys, which neither pct nor PVE's API can set, into the CT's
// cgroup and into its config under PVE's lock, so that the CT starts with them again. What a running
// CT cannot change is refused by name, before anything changes.
import { validateResources } from '../oci/bundle.js';
import { ConfigError } from '../oci/errors.js';
import { CtConfig } from '../oci/translate/ct-config.js';
import { replaceRawLines, translateResources, type CurrentResources } from '../oci/translate/resources.js';
import type { PveConfig } from '../pve/config.js';
import { CgroupWriteError, setCtLimits } from '../pve/ct-cgroups.js';
import { ctCgroup } from './ct-processes.js';
import type { Context } from './context.js';
import { RuntimeError } from './errors.js';
import { checkAllowed } from './lifecycle.js';
import { containerStatus } from './status.js';
import { toolError } from './node-driver.js';
import { checkOwned, editConfLocked } from './ct-configs.js';
import { readJsonFile } from './caller-files.js';
import { logWarning } from './log.js';

type FlagValue = 'unsigned' | 'signed' | 'bytes' | 'text';

/**
 * runc update's flags (runc 1.1 and later): how each value is read, and the LinuxResources field it
 * sets. 0 (or "") leaves a field as it is, as in runc.
 */
export const UPDATE_FLAGS = {
  'blkio-weight': { value: 'unsigned', field: ['blockIO', 'weight'] },
  'cpu-period': { value: 'unsigned', field: ['cpu', 'period'] },
  'cpu-quota': { value: 'signed', field: ['cpu', 'quota'] },
  'cpu-burst': { value: 'unsigned', field: ['cpu', 'burst'] },
  'cpu-share': { value: 'unsigned', field: ['cpu', 'shares'] },
  'cpu-rt-period': { value: 'unsigned', field: ['cpu', 'realtimePeriod'] },
  'cpu-rt-runtime': { value: 'signed', field: ['cpu', 'realtimeRuntime'] },
  'cpu-idle': { value: 'signed', field: ['cpu', 'idle'] },
  'cpuset-cpus': { value: 'text', field: ['cpu', 'cpus'] },
  'cpuset-mems': { value: 'text', field: ['cpu', 'mems'] },
  memory: { value: 'bytes', field: ['memory', 'limit'] },
  'memory-swap': { value: 'bytes', field: ['memory', 'swap'] },
  'memory-reservation': { value: 'bytes', field: ['memory', 'reservation'] },
  'kernel-memory': { value: 'bytes', field: ['memory', 'kernel'] },
  'kernel-memory-tcp': { value: 'bytes', field: ['memory', 'kernelTCP'] },
  'pids-limit': { value: 'signed', field: ['pids', 'limit'] },
  'l3-cache-schema': { value: 'text', field: ['intelRdt', 'l3CacheSchema'] },
  'mem-bw-schema': { value: 'text', field: ['intelRdt', 'memBwSchema'] },
} as const satisfies Record<string, { value: FlagValue; field: readonly [string, string] }>;

export type UpdateFlag = keyof typeof UPDATE_FLAGS;

export interface UpdateOptions {
  /** The LinuxResources JSON file, `-` for stdin. */
  resources?: string;
  flags: Partial<Record<UpdateFlag, string>>;
}

const invalid = (flag: string, why: string) => new RuntimeError(`invalid value for ${flag}: ${why}`);

/** docker/go-units' RAMInBytes, as runc 1.1 reads a size: 512m, 1.5g, 100KiB, 4096 (binary units). */
function ramInBytes(flag: string, text: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m || !/^\d+(\.\d+)?$/.test(m[1]!)) throw invalid(flag, `invalid size: '${text}'`);
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.trunc(Number(m[1]) * 1024 ** power);
}

function flagNumber(flag: string, kind: FlagValue, text: string): number | string {
  switch (kind) {
    case 'text':
      return text;
    case 'bytes':
      return ramInBytes(flag, text);
    case 'unsigned':
      if (!/^\d+$/.test(text)) throw invalid(flag, `"${text}" is not an unsigned integer`);
      return Number(text);
    case 'signed':
      if (!/^[+-]?\d+$/.test(text)) throw invalid(flag, `"${text}" is not an integer`);
      return Number(text);
  }
}

/** The LinuxResources runc's flags ask for (runc update without -r). */
function resourcesFromFlags(flags: UpdateOptions['flags']): Record<string, Record<string, unknown>> {
  const r: Record<string, Record<string, unknown>> = {};
  for (const [flag, text] of Object.entries(flags) as Array<[UpdateFlag, string | undefined]>) {
    if (text === undefined || text === '') continue;
    const { value, field } = UPDATE_FLAGS[flag];
    // Intel RDT is linux.intelRdt, not a resource: no PVE CT has it (runc: "not enabled").
    if (field[0] === 'intelRdt') throw new RuntimeError(`--${flag}: Intel RDT (linux.intelRdt) is not available to a PVE CT`);
    (r[field[0]] ??= {})[field[1]] = flagNumber(flag, value, text);
  }
  return r;
}

/** What the CT has now, from its PVE config, for the fields update reads relative to it. */
function currentResources(conf: PveConfig): CurrentResources {
  return { memoryMiB: Number(conf.options.memory || 512), cpulimit: Number(conf.options.cpulimit || 0), lxc: conf.lxc };
}

export async function updateContainer(ctx: Context, id: string, o: UpdateOptions): Promise<void> {
  const rec = ctx.store.load(id);
  checkAllowed('update', containerStatus(ctx.store, rec), id);
  const flagsGiven = Object.entries(o.flags).filter(([, v]) => v !== undefined).map(([k]) => `--${k}`);
  // runc ignores the flags when -r is given; pxoci says so instead of dropping them.
  if (o.resources !== undefined && flagsGiven.length) {
    throw new RuntimeError(`${flagsGiven.join(', ')}: not taken together with --resources (runc would ignore them): put them in the resources JSON`);
  }
  const paths = ctx.driver.paths;
  const vmid = rec.vmid!;
  const owner = { id, key: ctx.store.ownerKey() };
  const conf = checkOwned(paths, vmid, id, owner.key);
  const change = new CtConfig();
  try {
    const resources = validateResources(o.resources !== undefined ? readJsonFile(o.resources, 'resources') : resourcesFromFlags(o.flags));
    translateResources(resources, change, currentResources(conf));
  } catch (e) {
    if (e instanceof ConfigError) throw new RuntimeError(e.message);
    throw e;
  }
  const options = Object.entries(change.options);
  if (!options.length && !change.lxc.length) return;
  // As pct set: a CT in a backup, migration, … is left alone.
  if (conf.options.lock) throw new RuntimeError(`CT is locked (${conf.options.lock})`);

  // The kernel is the likeliest to refuse (a CPU the node lacks, a unified file it does not have): its
  // cgroup goes first, so that a refusal leaves PVE's options and the config as they were.
  if (change.lxc.length) applyLive(ctCgroup(paths, vmid), change);
  if (options.length) {
    // PVE hot-plugs a removed cpulimit as "no quota"; a cpulimit of 0 it would write as quota 0.
    const removed = options.filter(([k, v]) => k === 'cpulimit' && v === '0').map(([k]) => k);
    const args = options.filter(([k]) => !removed.includes(k)).flatMap(([k, v]) => [`--${k}`, v]);
    if (removed.length) args.push('--delete', removed.join(','));
    const r = await ctx.driver.pct('set', String(vmid), ...args);
    if (r.code !== 0) throw new RuntimeError(`pct set ${vmid} failed: ${toolError(r)}`);
  }
  if (change.lxc.length) {
    await editConfLocked(paths, vmid, owner, (c) => {
      c.lxc = replaceRawLines(c.lxc, change.lxc);
    });
  }
}

/** The raw lxc.cgroup2.* keys of `change`, written into the running CT's cgroup (where PVE sets its
 *  limits: above the container's own, which LXC puts below it). */
function applyLive(cgroup: string, change: CtConfig): void {
  let unapplied: string[];
  try {
    unapplied = setCtLimits(cgroup, change.lxc.map(([key, value]) => [key.slice('lxc.cgroup2.'.length), value]));
  } catch (e) {
    if (!(e instanceof CgroupWriteError)) throw e;
    throw new RuntimeError(`${change.lxcFields[e.index] ?? change.lxc[e.index]![0]}: ${e.message}`);
  }
  for (const file of unapplied) {
    const msg = `warning: ${file} is not applied to the running CT: this node's ${file.split('.')[0]} controller is not on cgroup v2 (it is kept in the CT's config)`;
    logWarning(msg);
    process.stderr.write(msg + '\n');
  }
}
