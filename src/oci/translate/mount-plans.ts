// What the translation's sections hand pxoci's mount hook and ct-setup (src/oci/mount-plan.ts), in
// the order the two programs must do it.
import { MS, type HookOp, type SetupOp } from '../mount-plan.js';

export class MountPlans {
  /** Lines of LXC's fstab (`<runtime dir>/fstab`): the config's /dev. */
  readonly fstab: string[] = [];
  /** mounts, device placeholders, readonlyPaths, maskedPaths, root.readonly: as each section adds them. */
  readonly hook: HookOp[] = [];
  readonly devices: SetupOp[] = [];
  readonly mountPropagation: SetupOp[] = [];
  rootPropagation?: number;

  /** ct-setup's instructions: devices, /dev/ptmx, then propagation as runc (1.4) sets it: the root's
   *  before the mounts' (its prepareRoot) and, unless private or slave, again after them (after its
   *  pivot_root). */
  setup(): SetupOp[] {
    const root = this.rootPropagation;
    const before: SetupOp[] = root === undefined ? [] : [{ op: 'root-propagation', flags: root }];
    const after: SetupOp[] = root === undefined || root & (MS.PRIVATE | MS.SLAVE) ? [] : [{ op: 'root-propagation', flags: root }];
    return [...this.devices, { op: 'ptmx' }, ...before, ...this.mountPropagation, ...after];
  }
}
