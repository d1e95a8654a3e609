// linux.seccomp → an LXC policy file (src/oci/seccomp.ts), which the runtime writes into the runtime
// directory, and the lxc.seccomp.profile key that names it.
import { seccompPolicy, type OciSeccomp } from '../seccomp.js';
import type { CtConfig } from './ct-config.js';
import type { JoinableNamespace } from './namespaces.js';

/** Returns the policy file's text. */
export function translateSeccomp(seccomp: OciSeccomp, ct: CtConfig, arch: string, runtimeDir: string, joins: JoinableNamespace[] = []): string {
  const policy = seccompPolicy(seccomp, arch, joins);
  ct.raw('lxc.seccomp.profile', `${runtimeDir}/seccomp`);
  return policy;
}
