// root → the CT's rootfs option: a bind of the bundle's rootfs, which the runtime has resolved to its
// real host path (PVE's prestart hook refuses a symlink anywhere in it). root.readonly is the mount
// hook's last step, once every mount point exists: PVE's ro=1 would make the root read-only before
// the mount hook could make one.
import type { OciSpec } from '../bundle.js';
import { printPropertyString } from '../../pve/config.js';
import { ConfigError } from '../errors.js';
import { PROPAGATION } from '../mount-plan.js';
import { checkPath } from './ct-config.js';
import type { MountPlans } from './mount-plans.js';

export function rootfsOption(hostPath: string): string {
  return printPropertyString('rootfs', { volume: checkPath('root.path', hostPath) });
}

export function translateRootMounts(root: OciSpec['root'], propagation: string | undefined, plans: MountPlans): void {
  if (propagation !== undefined) {
    const flags = PROPAGATION[propagation];
    if (flags === undefined) throw new ConfigError('linux.rootfsPropagation', `"${propagation}" is not a propagation (${Object.keys(PROPAGATION).join(', ')})`);
    plans.rootPropagation = flags;
  }
  if (root.readonly) plans.hook.push({ op: 'root-readonly' });
}
