// linux.sysctl: only sysctls of the CT's own network and IPC namespaces. PVE's raw keys cannot set
// them (net.* has no key; LXC writes lxc.sysctl.kernel.* after proc:mixed made /proc/sys read-only, and
// the CT fails to start), so they go to the keeper, which sets them inside those namespaces.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';
import type { NamespaceJoin } from './namespaces.js';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** `joins`: a sysctl of a namespace that is the host's would change the host (runc refuses it too). */
export function namespacedSysctls(sysctl: NonNullable<NonNullable<OciSpec['linux']>['sysctl']>, joins: NamespaceJoin[] = []): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const hostNs = (type: string) => joins.some((j) => j.type === type && !j.path);
  for (const [k, v] of Object.entries(sysctl)) {
    const inNetns = /^net\.[a-z0-9_.\-]+$/.test(k) && !k.includes('..');
    if (!inNetns && !IPC_SYSCTLS.has(k)) throw new ConfigError(`linux.sysctl["${k}"]`, rejectionReason('linux.sysctl (other keys)'));
    const type = inNetns ? 'network' : 'ipc';
    if (hostNs(type)) throw new ConfigError(`linux.sysctl["${k}"]`, `is not allowed in the host's ${type} namespace (linux.namespaces has no "${type}")`);
    if (/[\0\n]/.test(v)) throw new ConfigError(`linux.sysctl["${k}"]`, 'value contains a control character');
    out.push([k, v]);
  }
  return out;
}
