// process → what pxoci's init applies before it execs the process (the init spec), and what LXC must
// set up for it while it still has the privileges: rlimits, the capability bounding set, AppArmor.
import type { OciProcess } from '../bundle.js';
import { capabilityNumber } from '../capabilities.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';
import { encodeInitSpec, type CapabilitySets, type InitSpec } from '../initspec.js';
import type { CtConfig } from './ct-config.js';

/** The init spec alone: `pxoci exec` sends one for each process it starts in a running CT. */
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

/** The init spec of the CT's process, with what LXC applies taken out of it into the CT config. */
/** `joinsNamespaces`: the init must keep CAP_SYS_ADMIN until it has joined them (setns needs it). */
export function translateProcess(p: OciProcess, ct: CtConfig, joinsNamespaces = false): InitSpec {
  const init = processToInitSpec(p);
  // LXC sets lxc.prlimit.* on the init while it still has CAP_SYS_RESOURCE (lxc.cap.keep may drop
  // it); the container process inherits them.
  for (const r of init.rlimits) {
    const limit = (n: number) => (n >= Number.MAX_SAFE_INTEGER ? 'unlimited' : String(n));
    ct.raw(`lxc.prlimit.${r.type.replace(/^RLIMIT_/, '').toLowerCase()}`, `${limit(r.soft)}:${limit(r.hard)}`);
  }
  init.rlimits = [];
  if (p.capabilities) {
    // The CT keeps the process's bounding set plus what pxoci's init needs to change uid and to drop
    // those extras from the bounding set itself before exec; it then lays down the other sets after
    // the uid change. LXC refuses keep and drop together: an empty drop clears common.conf's list.
    // Joining namespaces needs CAP_SYS_ADMIN; the init drops it again once joined, unless the
    // process's own bounding set has it.
    const keep = [...new Set([...(p.capabilities.bounding ?? []), ...INIT_CAPABILITIES, ...(joinsNamespaces ? ['CAP_SYS_ADMIN'] : [])])];
    ct.raw('lxc.cap.drop', '');
    ct.raw('lxc.cap.keep', keep.map((c) => c.replace(/^CAP_/, '').toLowerCase()).join(' '));
  }
  if (p.apparmorProfile) {
    if (!/^[\w.\-/]+$/.test(p.apparmorProfile)) throw new ConfigError('process.apparmorProfile', 'not a profile name');
    ct.raw('lxc.apparmor.profile', p.apparmorProfile);
  }
  return init;
}
