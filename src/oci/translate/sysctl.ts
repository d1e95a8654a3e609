// linux.sysctl: only sysctls of the CT's own network and IPC namespaces. PVE's raw keys cannot set
// them (net.* has no key; LXC writes lxc.sysctl.kernel.* after proc:mixed made /proc/sys read-only, and
// the CT fails to start), so they go to the keeper, which sets them inside those namespaces.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function namespacedSysctls(sysctl: NonNullable<NonNullable<OciSpec['linux']>['sysctl']>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(sysctl)) {
    const inNetns = /^net\.[a-z0-9_.\-]+$/.test(k) && !k.includes('..');
    if (!inNetns && !IPC_SYSCTLS.has(k)) throw new ConfigError(`linux.sysctl["${k}"]`, rejectionReason('linux.sysctl (other keys)'));
    if (/[\0\n]/.test(v)) throw new ConfigError(`linux.sysctl["${k}"]`, 'value contains a control character');
    out.push([k, v]);
  }
  return out;
}
