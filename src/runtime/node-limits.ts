// What a config asks for that this node cannot grant, checked at create so that the error names the
// field and the rule. Otherwise LXC finds out half-way through `pct start`, and all the caller sees is
// `Received container state "ABORTING" instead of "RUNNING"`.
import { existsSync, readFileSync } from 'node:fs';
import type { OciSpec } from '../oci/bundle.js';
import { ConfigError } from '../oci/errors.js';

type Linux = NonNullable<OciSpec['linux']>;
type IdMap = NonNullable<Linux['uidMappings']>[number];
interface Range {
  start: number;
  size: number;
}

/** The map PVE gives an unprivileged CT without lxc.idmap lines (as src/oci/translate/namespaces.ts). */
const PVE_DEFAULT_IDMAP: IdMap = { containerID: 0, hostID: 100000, size: 65536 };

/** Where LXC finds shadow's map helpers (on PATH; PVE installs them with lxc-pve). */
const SHADOW_MAP_HELPERS = ['/usr/bin/newuidmap', '/usr/bin/newgidmap'];

/** root's lines of /etc/subuid or /etc/subgid (by name or by uid 0, as shadow's lookup). */
function subordinateRanges(file: string): Range[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => l.trim().split(':'))
    .filter((f) => f.length === 3 && (f[0] === 'root' || f[0] === '0') && /^\d+$/.test(f[1]!) && /^\d+$/.test(f[2]!))
    .map((f) => ({ start: Number(f[1]), size: Number(f[2]) }));
}

/** Whether [start, start+size) is covered by the ranges taken together (shadow's have_range). */
function covered(start: number, size: number, ranges: Range[]): boolean {
  let next = start;
  const end = start + size;
  for (let progress = true; next < end && progress; ) {
    progress = false;
    for (const r of ranges) {
      if (r.start <= next && next < r.start + r.size) {
        next = r.start + r.size;
        progress = true;
      }
    }
  }
  return next >= end;
}

const overlap = (a: Range, b: Range) => a.start < b.start + b.size && b.start < a.start + a.size;

function checkIdMaps(field: 'linux.uidMappings' | 'linux.gidMappings', maps: IdMap[], subFile: string, shadow: boolean): void {
  for (const [i, m] of maps.entries()) {
    for (const [j, other] of maps.slice(0, i).entries()) {
      if (overlap({ start: m.containerID, size: m.size }, { start: other.containerID, size: other.size })) {
        throw new ConfigError(`${field}[${i}]`, `its containerID range overlaps ${field}[${j}]'s (the kernel refuses overlapping maps)`);
      }
      if (overlap({ start: m.hostID, size: m.size }, { start: other.hostID, size: other.size })) {
        throw new ConfigError(`${field}[${i}]`, `its hostID range overlaps ${field}[${j}]'s (the kernel refuses overlapping maps)`);
      }
    }
  }
  // LXC maps ids through shadow's newuidmap/newgidmap when they are installed (as on PVE), and those
  // allow only root's subordinate ids, or root's own id alone.
  if (!shadow) return;
  const ranges = subordinateRanges(subFile);
  for (const [i, m] of maps.entries()) {
    if (m.size === 1 && m.hostID === 0) continue;
    if (!covered(m.hostID, m.size, ranges)) {
      const allowed = ranges.map((r) => `${r.start}-${r.start + r.size - 1}`).join(', ') || 'none';
      throw new ConfigError(
        `${field}[${i}]`,
        `host ids ${m.hostID}-${m.hostID + m.size - 1} are not root's subordinate ids in ${subFile} (${allowed}), which LXC's ${subFile === '/etc/subuid' ? 'newuidmap' : 'newgidmap'} requires`,
      );
    }
  }
}

/** include/uapi/asm-generic/resource.h */
const KERNEL_RLIMITS = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
];

/** A kernel CPU or node list ("0-3,8") as numbers; undefined when it is not one. */
function listMembers(list: string): number[] | undefined {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]); n++) out.push(n);
  }
  return out;
}

function checkOnline(field: string, list: string | undefined, onlineFile: string, what: string): void {
  if (!list) return;
  let online: number[] | undefined;
  try {
    online = listMembers(readFileSync(onlineFile, 'utf8'));
  } catch {
    return; // the node does not say: LXC will
  }
  const asked = listMembers(list);
  if (!online || !asked) return; // a malformed list is the translator's to refuse
  const missing = asked.filter((n) => !online!.includes(n));
  if (missing.length) throw new ConfigError(field, `${what} ${missing.join(',')} not online on this node (${onlineFile}: ${readFileSync(onlineFile, 'utf8').trim()})`);
}

export function checkNodeLimits(spec: OciSpec): void {
  const linux = spec.linux ?? {};
  if ((linux.namespaces ?? []).some((n) => n.type === 'user')) {
    const shadow = SHADOW_MAP_HELPERS.every((p) => existsSync(p));
    checkIdMaps('linux.uidMappings', linux.uidMappings?.length ? linux.uidMappings : [PVE_DEFAULT_IDMAP], '/etc/subuid', shadow);
    checkIdMaps('linux.gidMappings', linux.gidMappings?.length ? linux.gidMappings : [PVE_DEFAULT_IDMAP], '/etc/subgid', shadow);
  }
  checkOnline('linux.resources.cpu.cpus', linux.resources?.cpu?.cpus, '/sys/devices/system/cpu/online', 'CPU');
  checkOnline('linux.resources.cpu.mems', linux.resources?.cpu?.mems, '/sys/devices/system/node/online', 'memory node');
  // The CT's init (pxoci's, PID 1) and the container process both count against the CT's pids.max.
  const pids = linux.resources?.pids?.limit;
  if (pids !== undefined && pids > 0 && pids < 2) {
    throw new ConfigError('linux.resources.pids.limit', `${pids} leaves no room for the container process: the CT's init (PID 1) counts too, so at least 2`);
  }
  for (const [i, r] of (spec.process?.rlimits ?? []).entries()) {
    if (!KERNEL_RLIMITS.includes(r.type)) throw new ConfigError(`process.rlimits[${i}].type`, `${r.type} is not a Linux rlimit`);
    if (r.soft > r.hard) throw new ConfigError(`process.rlimits[${i}]`, `soft ${r.soft} is above hard ${r.hard}`);
    if (r.type !== 'RLIMIT_NOFILE') continue;
    let nrOpen: number;
    try {
      nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    } catch {
      continue;
    }
    if (r.hard > nrOpen || r.soft > nrOpen) {
      throw new ConfigError(`process.rlimits[${i}]`, `RLIMIT_NOFILE ${Math.max(r.soft, r.hard)} is above this node's fs.nr_open (${nrOpen}), the most the kernel grants`);
    }
  }
}
