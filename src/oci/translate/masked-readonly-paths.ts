// linux.readonlyPaths and linux.maskedPaths → pxoci's mount hook, which acts on the container's own
// paths after its mounts (never a host path): a read-only path is bound onto itself read-only, a masked
// one gets an empty read-only tmpfs (directory) or the null device (anything else). A path the
// container lacks is left alone, as runc leaves it.
import { checkPath, mountEntryTarget } from './ct-config.js';
import type { MountPlans } from './mount-plans.js';
import { refuseReservedPath } from './runtime-dir.js';

export function translateReadonlyPaths(paths: string[], plans: MountPlans): void {
  for (const [i, p] of paths.entries()) {
    const field = `linux.readonlyPaths[${i}]`;
    const path = checkPath(field, p);
    refuseReservedPath(field, path);
    mountEntryTarget(field, path);
    plans.hook.push({ op: 'readonly', field, path });
  }
}

export function translateMaskedPaths(paths: string[], plans: MountPlans): void {
  for (const [i, p] of paths.entries()) {
    const field = `linux.maskedPaths[${i}]`;
    const path = checkPath(field, p);
    refuseReservedPath(field, path);
    mountEntryTarget(field, path);
    plans.hook.push({ op: 'mask', field, path });
  }
}
