// OCI config.json → PVE CT config. Pure: what it needs to know about the host comes in `ctx`.
// Every value written is checked here: nothing from the bundle may add a line, a key or a property.
import type { PveConfig } from '../pve/config.js';
import {
  checkRawLxcKey,
  CPULIMIT_MAX,
  CPUUNITS_MAX_CGROUP2,
  DNS_LABEL_MAX_LENGTH,
  isValidHostname,
  MEMORY_MIN_MIB,
  NUMBERED_OPTION_COUNT,
  printPropertyString,
} from '../pve/config.js';
import type { OciProcess, OciSpec } from './bundle.js';
import { ConfigError } from './errors.js';
import { rejectionReason } from './fields.js';
import { capabilityNumber } from './capabilities.js';
import { encodeInitSpec, type CapabilitySets, type InitSpec } from './initspec.js';
import { seccompPolicy } from './seccomp.js';
import { checkHooks, hookState, stateAroundPid } from './hooks.js';

export interface TranslateContext {
  id: string;
  bundle: string;
  vmid: number;
  /** Host directory bind-mounted read-only at /.pxoci (init, process spec, socket, fifo). */
  runtimeDir: string;
  arch: string;
  /** What a host path is; mounts of files and directories need different PVE mechanisms. */
  pathKind?: (path: string) => 'dir' | 'file' | 'char' | 'block' | 'missing';
  /** major:minor of a host device node, for linux.devices. */
  deviceNumbers?: (path: string) => { major: number; minor: number } | undefined;
  rootfs: string;
}

export interface Translation {
  config: PveConfig;
  init: InitSpec;
  /** Sysctls of the CT's own network and IPC namespaces, which PVE's raw keys cannot set (net.* has
   *  no key; LXC writes lxc.sysctl.kernel.* after proc:mixed made /proc/sys read-only, and the CT fails
   *  to start): the keeper sets them from the host, inside those namespaces, before the process starts. */
  namespacedSysctls: Array<[string, string]>;
  /** Host uid/gid of the CT's root when it has a user namespace. */
  ctRoot?: { uid: number; gid: number };
  /** The LXC seccomp policy for linux.seccomp, to be written at `<runtimeDir>/seccomp`. */
  seccomp?: string;
}

const PROVIDED_BY_LXC: Record<string, string[]> = {
  '/proc': ['proc'],
  '/sys': ['sysfs'],
  '/sys/fs/cgroup': ['cgroup', 'cgroup2'],
  '/dev': ['tmpfs'],
  '/dev/pts': ['devpts'],
};

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** A host or container path that can go into a PVE value or an lxc.mount.entry field. */
function checkPath(field: string, p: string, { absolute = true } = {}): string {
  if (/[\0\n\r]/.test(p)) throw new ConfigError(field, 'contains a control character');
  if (/[\s,=;]/.test(p)) throw new ConfigError(field, `"${p}" contains whitespace, ',', '=' or ';', which a PVE config cannot carry`);
  if (absolute && !p.startsWith('/')) throw new ConfigError(field, `"${p}" must be an absolute path`);
  if (p.split('/').some((c) => c === '..' || c === '.')) throw new ConfigError(field, `"${p}" must not contain '.' or '..' components`);
  return p.replace(/\/+$/, '') || '/';
}

/** A mount target as lxc.mount.entry wants it; '/' would leave an empty field and shift the others. */
function relative(field: string, p: string): string {
  const rel = p.replace(/^\/+/, '');
  if (rel === '') throw new ConfigError(field, 'cannot be / (the rootfs is root.path)');
  return rel;
}

function entryOptions(field: string, options: string[], allowed: RegExp): string[] {
  const out: string[] = [];
  for (const o of options) {
    if (/[\s,\0]/.test(o)) throw new ConfigError(field, `option "${o}" contains whitespace or ','`);
    if (['rprivate', 'private', 'rslave', 'slave', 'rshared', 'shared', 'runbindable', 'unbindable'].includes(o)) continue;
    if (!allowed.test(o)) throw new ConfigError(field, `mount option "${o}" is not supported by pxoci`);
    out.push(o);
  }
  return out;
}

const FS_OPTION = /^(ro|rw|nosuid|suid|nodev|dev|noexec|exec|noatime|relatime|strictatime|nodiratime|sync|async|bind|rbind|mode=[0-7]{3,4}|size=\d+[kmg%]?|nr_inodes=\d+[kmg]?|uid=\d+|gid=\d+|newinstance|ptmxmode=[0-7]{3,4})$/;

export function processToInitSpec(p: OciProcess): InitSpec {
  if (p.selinuxLabel) throw new ConfigError('process.selinuxLabel', rejectionReason('process.selinuxLabel'));
  if (p.scheduler) throw new ConfigError('process.scheduler', rejectionReason('process.scheduler'));
  if (p.ioPriority) throw new ConfigError('process.ioPriority', rejectionReason('process.ioPriority'));
  if (p.execCPUAffinity) throw new ConfigError('process.execCPUAffinity', rejectionReason('process.execCPUAffinity'));
  if (p.user?.username !== undefined) throw new ConfigError('process.user.username', rejectionReason('process.user.username'));
  if (p.commandLine !== undefined) throw new ConfigError('process.commandLine', rejectionReason('process.commandLine'));
  if (!p.cwd.startsWith('/')) throw new ConfigError('process.cwd', 'must be an absolute path');
  p.env?.forEach((e, i) => {
    if (!/^[^=]+=/.test(e)) throw new ConfigError(`process.env[${i}]`, 'must be NAME=value');
  });
  const spec: InitSpec = {
    args: [...p.args],
    env: [...(p.env ?? [])],
    cwd: p.cwd,
    uid: p.user?.uid ?? 0,
    gid: p.user?.gid ?? 0,
    additionalGids: [...(p.user?.additionalGids ?? [])],
    umask: p.user?.umask,
    terminal: p.terminal === true,
    noNewPrivileges: p.noNewPrivileges === true,
    rlimits: (p.rlimits ?? []).map((r) => ({ type: r.type, soft: r.soft, hard: r.hard })),
    oomScoreAdj: p.oomScoreAdj,
    capabilities: p.capabilities ? capabilitySets(p.capabilities) : undefined,
  };
  if (p.terminal && p.consoleSize) {
    const { height, width } = p.consoleSize;
    if (!(height <= 0xffff && width <= 0xffff)) throw new ConfigError('process.consoleSize', 'height and width must be at most 65535');
    spec.consoleSize = { height, width };
  }
  encodeInitSpec(spec); // rejects, by field, what the init could not receive (NUL bytes)
  return spec;
}

/** What pxoci's init uses before it execs the process (setgroups/setgid/setuid, PR_CAPBSET_DROP). */
const INIT_CAPABILITIES = ['CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP'];

/** process.capabilities by number, each name checked: an unknown one would make LXC refuse the CT. */
function capabilitySets(caps: NonNullable<OciProcess['capabilities']>): CapabilitySets {
  const numbers = (set: keyof CapabilitySets) =>
    (caps[set] ?? []).map((name) => {
      const n = capabilityNumber(name);
      if (n === undefined) throw new ConfigError(`process.capabilities.${set}`, `unknown capability "${name}"`);
      return n;
    });
  return { bounding: numbers('bounding'), effective: numbers('effective'), permitted: numbers('permitted'), inheritable: numbers('inheritable'), ambient: numbers('ambient') };
}

/** How engines shorten a 64-hex id for people (docker ps). */
const SHORT_ID_LENGTH = 12;

/** An engine id is not a hostname (64 hex chars exceed a DNS label): derive a valid one. */
export function hostnameFor(spec: OciSpec, id: string): string {
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!isValidHostname(spec.hostname)) throw new ConfigError('hostname', `"${spec.hostname.replace(/[^\x20-\x7e]/g, '?')}" is not a valid DNS name`);
    return spec.hostname;
  }
  const label = id.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, /^[0-9a-f]{64}$/.test(id) ? SHORT_ID_LENGTH : DNS_LABEL_MAX_LENGTH).replace(/-+$/, '');
  return label || 'pxoci';
}

/** What of the annotations a PVE description (the CT's notes in the UI) can show: one line each. A key
 *  or value that could break that line is refused by name, so nothing reaches the config unchecked. */
const ANNOTATION_KEY = /^[A-Za-z0-9][A-Za-z0-9._\/\-]{0,252}$/;
const ANNOTATION_VALUE_SHOWN = 200;
const ANNOTATIONS_SHOWN = 32;

export function annotationLines(annotations: Record<string, string> | undefined): string[] {
  const entries = Object.entries(annotations ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of entries) {
    if (!ANNOTATION_KEY.test(k)) throw new ConfigError(`annotations["${k.replace(/[^\x20-\x7e]/g, '?')}"]`, 'an annotation key is letters, digits and . _ / - (at most 253)');
    if (/[\x00-\x1f\x7f]/.test(v)) throw new ConfigError(`annotations["${k}"]`, 'the value contains a control character');
  }
  const lines = entries.slice(0, ANNOTATIONS_SHOWN).map(([k, v]) => {
    const shown = [...v].length > ANNOTATION_VALUE_SHOWN ? [...v].slice(0, ANNOTATION_VALUE_SHOWN).join('') + '…' : v;
    return `annotation ${k}=${shown}`;
  });
  if (entries.length > ANNOTATIONS_SHOWN) lines.push(`(${entries.length - ANNOTATIONS_SHOWN} more annotations: see pxoci state)`);
  return lines;
}

function mib(bytes: number): number {
  return Math.ceil(bytes / (1024 * 1024));
}

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
export function resourcesToOptions(r: NonNullable<NonNullable<OciSpec['linux']>['resources']>): Record<string, string> {
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

interface IdMap {
  containerID: number;
  hostID: number;
  size: number;
}

/** The map PVE writes for an unprivileged CT whose config has no lxc.idmap lines. */
const PVE_DEFAULT_IDMAP: IdMap = { containerID: 0, hostID: 100000, size: 65536 };

export function translate(spec: OciSpec, ctx: TranslateContext): Translation {
  if (!spec.process) throw new ConfigError('process', 'is required to create a container');
  const pathKind = ctx.pathKind ?? (() => 'dir' as const);
  const options: Record<string, string> = {};
  const lxc: Array<[string, string]> = [];
  const raw = (key: string, value: string) => {
    const check = checkRawLxcKey(key);
    if (!check.ok) throw new ConfigError(key, `PVE does not accept this raw key (${check.msg})`);
    if (/[\n\r\0]/.test(value)) throw new ConfigError(key, 'value contains a control character');
    // PVE's parser drops it, so the CT would get another value than the one asked for.
    if (value !== value.trim()) throw new ConfigError(key, `value "${value}" has leading or trailing white space`);
    lxc.push([key, value]);
  };

  if (spec.domainname) throw new ConfigError('domainname', rejectionReason('domainname'));
  checkHooks(spec.hooks);

  options.arch = ctx.arch;
  options.ostype = 'unmanaged';
  options.hostname = hostnameFor(spec, ctx.id);
  const rootfs = checkPath('root.path', ctx.rootfs);
  options.rootfs = printPropertyString('rootfs', spec.root.readonly ? { volume: rootfs, ro: '1' } : { volume: rootfs });

  const init = processToInitSpec(spec.process);
  // LXC sets lxc.prlimit.* on the init while it still has CAP_SYS_RESOURCE (lxc.cap.keep may drop
  // it); the container process inherits them.
  for (const r of init.rlimits) {
    const limit = (n: number) => (n >= Number.MAX_SAFE_INTEGER ? 'unlimited' : String(n));
    raw(`lxc.prlimit.${r.type.replace(/^RLIMIT_/, '').toLowerCase()}`, `${limit(r.soft)}:${limit(r.hard)}`);
  }
  init.rlimits = [];
  if (spec.hooks?.startContainer?.length) {
    const state = hookState({ id: ctx.id, bundle: ctx.bundle, annotations: spec.annotations as Record<string, string> | undefined }, 'created', 1);
    init.startHooks = { hooks: spec.hooks.startContainer, state: stateAroundPid(state) };
  }
  const namespacedSysctls: Array<[string, string]> = [];
  const caps = spec.process.capabilities;
  if (caps) {
    // The CT keeps the process's bounding set plus what pxoci's init needs to change uid and to drop
    // those extras from the bounding set itself before exec; it then lays down the other sets after
    // the uid change. LXC refuses keep and drop together: an empty drop clears common.conf's list.
    const keep = [...new Set([...(caps.bounding ?? []), ...INIT_CAPABILITIES])];
    raw('lxc.cap.drop', '');
    raw('lxc.cap.keep', keep.map((c) => c.replace(/^CAP_/, '').toLowerCase()).join(' '));
  }
  if (spec.process.apparmorProfile) {
    if (!/^[\w.\-/]+$/.test(spec.process.apparmorProfile)) throw new ConfigError('process.apparmorProfile', 'not a profile name');
    raw('lxc.apparmor.profile', spec.process.apparmorProfile);
  }

  // pxoci's own plumbing (docs/DESIGN.md): the init and its runtime directory.
  const runtimeDir = checkPath('runtime directory', ctx.runtimeDir);
  raw('lxc.init.cmd', '/.pxoci/init');
  raw('lxc.mount.entry', `${runtimeDir} .pxoci none bind,ro,create=dir 0 0`);

  let mp = 0;
  let cgroupMount: 'ro' | 'mixed' | undefined;
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const dest = checkPath(`${field}.destination`, m.destination);
    const opts = m.options ?? [];
    const isBind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (m.uidMappings || m.gidMappings) throw new ConfigError(`${field}.uidMappings`, 'idmapped mounts are not supported by pxoci');
    if (!isBind && PROVIDED_BY_LXC[dest]?.includes(m.type ?? '')) {
      if (dest === '/sys/fs/cgroup') cgroupMount = opts.includes('ro') ? 'ro' : 'mixed';
      return;
    }
    const target = relative(`${field}.destination`, dest);
    if (isBind) {
      const src = checkPath(`${field}.source`, m.source ?? '');
      const kind = pathKind(src);
      if (kind === 'missing') throw new ConfigError(`${field}.source`, `${src}: no such file or directory`);
      const flags = entryOptions(field, opts, /^(ro|rw|bind|rbind|nosuid|nodev|noexec|noatime|relatime|suid|dev|exec)$/);
      const ro = flags.includes('ro');
      if (kind === 'dir' && !dest.startsWith('/dev/') && dest !== '/dev') {
        const mpCount = NUMBERED_OPTION_COUNT.mp;
        if (mp >= mpCount) throw new ConfigError(field, `more than ${mpCount} bind mounts (mp0…mp${mpCount - 1})`);
        const mountoptions = flags.filter((f) => ['nosuid', 'nodev', 'noexec', 'noatime'].includes(f) && (!ro || f !== 'noatime'));
        const props: Record<string, string> = { volume: src, mp: dest };
        if (ro) props.ro = '1';
        if (mountoptions.length) props.mountoptions = mountoptions.join(';');
        options[`mp${mp++}`] = printPropertyString('mp', props);
        return;
      }
      const bind = flags.includes('rbind') ? 'rbind' : 'bind';
      const rest = flags.filter((f) => f !== 'bind' && f !== 'rbind');
      raw('lxc.mount.entry', `${src} ${target} none ${[bind, ...rest, kind === 'dir' ? 'create=dir' : 'create=file'].join(',')} 0 0`);
      return;
    }
    const type = m.type ?? '';
    if (!['tmpfs', 'mqueue', 'devpts', 'proc', 'sysfs'].includes(type)) {
      throw new ConfigError(`${field}.type`, `mount type "${type}" is not supported by pxoci`);
    }
    const source = m.source && /^[\w-]+$/.test(m.source) ? m.source : type;
    const flags = entryOptions(field, opts, FS_OPTION);
    raw('lxc.mount.entry', `${source} ${target} ${type} ${[...flags, 'create=dir'].join(',')} 0 0`);
  });

  // LXC leaves /sys/fs/cgroup empty when the CT keeps CAP_SYS_ADMIN (it expects the CT's init to
  // mount it); an OCI config that lists the mount gets it regardless.
  if (cgroupMount) raw('lxc.mount.auto', `cgroup:${cgroupMount}:force`);

  const linux = spec.linux ?? {};
  for (const [i, ns] of (linux.namespaces ?? []).entries()) {
    if (ns.path) throw new ConfigError(`linux.namespaces[${i}].path`, rejectionReason('linux.namespaces[].path'));
    if (ns.type === 'time') throw new ConfigError(`linux.namespaces[${i}]`, rejectionReason('linux.namespaces[] time'));
  }
  if (linux.namespaces) {
    // An explicit list without one of these asks for the host's namespace (e.g. --net=host).
    for (const type of ['pid', 'ipc', 'uts', 'mount', 'network']) {
      if (!linux.namespaces.some((n) => n.type === type)) {
        throw new ConfigError('linux.namespaces', `no "${type}" namespace: ${rejectionReason('linux.namespaces[] pid, ipc, uts, mount, network (absent from a given list)')}`);
      }
    }
  }
  const userns = (linux.namespaces ?? []).some((n) => n.type === 'user');
  let ctRoot: Translation['ctRoot'];
  if (userns) {
    const hostOf = (maps?: IdMap[]) => (maps ?? [PVE_DEFAULT_IDMAP]).find((m) => m.containerID === 0)?.hostID;
    const uid = hostOf(linux.uidMappings);
    const gid = hostOf(linux.gidMappings);
    if (uid === undefined || gid === undefined) throw new ConfigError('linux.uidMappings', 'must map the container root (containerID 0)');
    ctRoot = { uid, gid };
    options.unprivileged = '1';
    const isDefault = (maps?: IdMap[]) =>
      maps?.length === 1 && maps[0]!.containerID === PVE_DEFAULT_IDMAP.containerID && maps[0]!.hostID === PVE_DEFAULT_IDMAP.hostID && maps[0]!.size === PVE_DEFAULT_IDMAP.size;
    if (!isDefault(linux.uidMappings) || !isDefault(linux.gidMappings)) {
      for (const m of linux.uidMappings ?? []) raw('lxc.idmap', `u ${m.containerID} ${m.hostID} ${m.size}`);
      for (const m of linux.gidMappings ?? []) raw('lxc.idmap', `g ${m.containerID} ${m.hostID} ${m.size}`);
    }
  } else if (linux.uidMappings?.length || linux.gidMappings?.length) {
    throw new ConfigError('linux.uidMappings', 'needs a user namespace in linux.namespaces');
  }

  const r = linux.resources;
  if (r) {
    Object.assign(options, resourcesToOptions(r));
    if (r.memory?.reservation !== undefined && r.memory.reservation > 0) raw('lxc.cgroup2.memory.low', String(r.memory.reservation));
    if (r.memory?.checkBeforeUpdate) throw new ConfigError('linux.resources.memory.checkBeforeUpdate', rejectionReason('linux.resources.memory.checkBeforeUpdate'));
    for (const k of ['kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller'] as const) {
      if (r.memory?.[k] !== undefined) throw new ConfigError(`linux.resources.memory.${k}`, rejectionReason('linux.resources.memory (other)'));
    }
    if (r.cpu?.cpus) {
      options.cores = String(countCpus('linux.resources.cpu.cpus', r.cpu.cpus));
      raw('lxc.cgroup2.cpuset.cpus', r.cpu.cpus);
    }
    if (r.cpu?.mems) {
      countCpus('linux.resources.cpu.mems', r.cpu.mems);
      raw('lxc.cgroup2.cpuset.mems', r.cpu.mems);
    }
    for (const k of ['realtimeRuntime', 'realtimePeriod', 'burst', 'idle'] as const) {
      if (r.cpu?.[k]) throw new ConfigError(`linux.resources.cpu.${k}`, rejectionReason('linux.resources.cpu (realtime, burst, idle)'));
    }
    if (r.pids?.limit !== undefined && r.pids.limit > 0) raw('lxc.cgroup2.pids.max', String(r.pids.limit));
    (r.devices ?? []).forEach((d, i) => {
      const all = (d.type ?? 'a') === 'a' && d.major === undefined && d.minor === undefined;
      // LXC's common.conf already starts from deny-all plus the standard devices runc also keeps.
      if (i === 0 && !d.allow && all) return;
      const num = (n: number | undefined) => (n === undefined || n < 0 ? '*' : String(n));
      const rule = all ? 'a' : `${d.type ?? 'a'} ${num(d.major)}:${num(d.minor)} ${d.access ?? 'rwm'}`;
      raw(d.allow ? 'lxc.cgroup2.devices.allow' : 'lxc.cgroup2.devices.deny', rule);
    });
    if (r.hugepageLimits?.length) throw new ConfigError('linux.resources.hugepageLimits', rejectionReason('linux.resources.hugepageLimits'));
    const b = r.blockIO;
    if (b) {
      if (b.weight !== undefined) raw('lxc.cgroup2.io.weight', `default ${b.weight}`);
      if (b.leafWeight !== undefined || b.weightDevice?.length) throw new ConfigError('linux.resources.blockIO.weightDevice', rejectionReason('linux.resources.blockIO (leafWeight, weightDevice)'));
      const throttles = [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']] as const;
      for (const [k, key] of throttles) for (const d of b[k] ?? []) raw('lxc.cgroup2.io.max', `${d.major}:${d.minor} ${key}=${d.rate}`);
    }
    for (const [k, v] of Object.entries(r.unified ?? {})) {
      if (!/^[a-z]+\.[a-z0-9_.]+$/.test(k)) throw new ConfigError(`linux.resources.unified["${k}"]`, 'not a cgroup v2 file name');
      raw(`lxc.cgroup2.${k}`, v);
    }
    if (r.network) throw new ConfigError('linux.resources.network', rejectionReason('linux.resources.network, rdma'));
    if (r.rdma) throw new ConfigError('linux.resources.rdma', rejectionReason('linux.resources.network, rdma'));
  }

  (linux.devices ?? []).forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const path = checkPath(`${field}.path`, d.path);
    if (!path.startsWith('/dev/')) throw new ConfigError(`${field}.path`, 'PVE passes through device nodes below /dev only');
    const host = ctx.deviceNumbers?.(path);
    if (!host || host.major !== d.major || host.minor !== d.minor) {
      throw new ConfigError(field, `PVE passes through host device nodes: the host has no ${path} with ${d.major}:${d.minor}`);
    }
    const props: Record<string, string> = { path };
    if (d.fileMode !== undefined) props.mode = '0' + (d.fileMode & 0o777).toString(8).padStart(3, '0');
    if (d.uid !== undefined) props.uid = String(d.uid);
    if (d.gid !== undefined) props.gid = String(d.gid);
    options[`dev${i}`] = printPropertyString('dev', props);
  });

  for (const [k, v] of Object.entries(linux.sysctl ?? {})) {
    const inNetns = /^net\.[a-z0-9_.\-]+$/.test(k) && !k.includes('..');
    if (!inNetns && !IPC_SYSCTLS.has(k)) throw new ConfigError(`linux.sysctl["${k}"]`, rejectionReason('linux.sysctl (other keys)'));
    if (/[\0\n]/.test(v)) throw new ConfigError(`linux.sysctl["${k}"]`, 'value contains a control character');
    namespacedSysctls.push([k, v]);
  }

  for (const [i, p] of (linux.maskedPaths ?? []).entries()) {
    const path = checkPath(`linux.maskedPaths[${i}]`, p);
    const kind = pathKind(path);
    if (kind === 'missing') continue;
    const target = relative(`linux.maskedPaths[${i}]`, path);
    raw('lxc.mount.entry', kind === 'dir' ? `tmpfs ${target} tmpfs ro,optional 0 0` : `/dev/null ${target} none bind,optional 0 0`);
  }
  for (const [i, p] of (linux.readonlyPaths ?? []).entries()) {
    const path = checkPath(`linux.readonlyPaths[${i}]`, p);
    if (path === '/proc/sys' || path === '/proc/sysrq-trigger') continue; // proc:mixed
    if (pathKind(path) === 'missing') continue;
    raw('lxc.mount.entry', `${path} ${relative(`linux.readonlyPaths[${i}]`, path)} none bind,ro,optional 0 0`);
  }
  let seccomp: string | undefined;
  if (linux.seccomp) {
    seccomp = seccompPolicy(linux.seccomp, ctx.arch);
    raw('lxc.seccomp.profile', `${runtimeDir}/seccomp`);
  }
  if (linux.mountLabel) throw new ConfigError('linux.mountLabel', rejectionReason('linux.mountLabel'));
  if (linux.intelRdt) throw new ConfigError('linux.intelRdt', rejectionReason('linux.intelRdt'));
  if (linux.personality) throw new ConfigError('linux.personality', rejectionReason('linux.personality'));
  if (linux.timeOffsets) throw new ConfigError('linux.timeOffsets', rejectionReason('linux.timeOffsets'));

  const notes = annotationLines(spec.annotations as Record<string, string> | undefined);
  const config: PveConfig = { options, lxc };
  if (notes.length) config.description = notes.join('\n');
  return { config, init, namespacedSysctls, ctRoot, seccomp };
}
