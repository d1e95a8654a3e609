// What pxoci's init applies to the container process before exec (read by native/init-spec.c, applied by native/init-process.c): the OCI `process`.
// Wire format, binary-safe and trivial to read in C: records "<tag>\0<value>\0", tags:
//   arg, env (repeated, in order), cwd, uid, gid, group (one per additional gid), umask (octal),
//   terminal (1|0), nnp (1|0), rlimit ("RLIMIT_X:soft:hard", "unlimited" for RLIM_INFINITY), oom,
//   cap.bounding, cap.effective, cap.permitted, cap.inheritable, cap.ambient (hex masks by capability
//   number; all five or none: none leaves the process the capabilities its uid gets in the CT),
//   statehead + statetail (the startContainer hooks' state JSON before and after the pid), then per
//   startContainer hook: hook (its path), hookarg, hookenv (repeated), hooktimeout (seconds),
//   winsize ("rows:cols", the size of the pty of a terminal process), join (repeated: net, ipc, uts;
//   the namespaces the container PID 1 joins, in the order of the fds the keeper sends), hostname (to
//   set in a joined UTS namespace where it differs).
import { capabilityMask } from './capabilities.js';
import { ConfigError } from './errors.js';
import type { Hook } from './hooks.js';
import type { JoinableNamespace } from './translate/namespaces.js';

/** The init's names for the namespaces it joins: those of /proc/<pid>/ns/. */
const INIT_NS_NAME: Record<JoinableNamespace, string> = { network: 'net', ipc: 'ipc', uts: 'uts' };

export interface CapabilitySets {
  bounding: number[];
  effective: number[];
  permitted: number[];
  inheritable: number[];
  ambient: number[];
}

export interface InitSpec {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  terminal: boolean;
  noNewPrivileges: boolean;
  rlimits: Array<{ type: string; soft: number; hard: number }>;
  oomScoreAdj?: number;
  capabilities?: CapabilitySets;
  /** startContainer hooks, run by the init in the CT right before exec, and their state JSON. */
  startHooks?: { hooks: Hook[]; state: [string, string] };
  consoleSize?: { height: number; width: number };
  /** Namespaces the CT's init joins before it forks the container process (container PID 1 only). */
  joinNamespaces?: JoinableNamespace[];
  /** The hostname to set in a joined UTS namespace. */
  hostname?: string;
}

const UNLIMITED = 2 ** 64 - 1;

function limitText(n: number): string {
  return n >= UNLIMITED || n >= Number.MAX_SAFE_INTEGER ? 'unlimited' : String(n);
}

export function encodeInitSpec(spec: InitSpec): Buffer {
  const records: Array<[string, string, string]> = [];
  spec.args.forEach((a, i) => records.push(['arg', a, `process.args[${i}]`]));
  spec.env.forEach((e, i) => records.push(['env', e, `process.env[${i}]`]));
  records.push(['cwd', spec.cwd, 'process.cwd']);
  records.push(['uid', String(spec.uid), 'process.user.uid']);
  records.push(['gid', String(spec.gid), 'process.user.gid']);
  for (const g of spec.additionalGids) records.push(['group', String(g), 'process.user.additionalGids']);
  if (spec.umask !== undefined) records.push(['umask', spec.umask.toString(8), 'process.user.umask']);
  records.push(['terminal', spec.terminal ? '1' : '0', 'process.terminal']);
  records.push(['nnp', spec.noNewPrivileges ? '1' : '0', 'process.noNewPrivileges']);
  for (const r of spec.rlimits) records.push(['rlimit', `${r.type}:${limitText(r.soft)}:${limitText(r.hard)}`, 'process.rlimits']);
  if (spec.oomScoreAdj !== undefined) records.push(['oom', String(spec.oomScoreAdj), 'process.oomScoreAdj']);
  if (spec.capabilities) {
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      records.push([`cap.${set}`, capabilityMask(spec.capabilities[set]), `process.capabilities.${set}`]);
    }
  }
  if (spec.startHooks) {
    records.push(['statehead', spec.startHooks.state[0], 'hooks.startContainer'], ['statetail', spec.startHooks.state[1], 'hooks.startContainer']);
    spec.startHooks.hooks.forEach((h, i) => {
      const field = `hooks.startContainer[${i}]`;
      records.push(['hook', h.path, `${field}.path`]);
      (h.args?.length ? h.args : [h.path]).forEach((a, j) => records.push(['hookarg', a, `${field}.args[${j}]`]));
      (h.env ?? []).forEach((e, j) => records.push(['hookenv', e, `${field}.env[${j}]`]));
      if (h.timeout !== undefined) records.push(['hooktimeout', String(h.timeout), `${field}.timeout`]);
    });
  }
  for (const ns of spec.joinNamespaces ?? []) records.push(['join', INIT_NS_NAME[ns], 'linux.namespaces']);
  if (spec.hostname !== undefined) records.push(['hostname', spec.hostname, 'hostname']);
  if (spec.consoleSize) records.push(['winsize', `${spec.consoleSize.height}:${spec.consoleSize.width}`, 'process.consoleSize']);
  const parts: Buffer[] = [];
  for (const [tag, value, field] of records) {
    if (value.includes('\0')) throw new ConfigError(field, 'contains a NUL byte');
    parts.push(Buffer.from(`${tag}\0${value}\0`, 'utf8'));
  }
  return Buffer.concat(parts);
}
