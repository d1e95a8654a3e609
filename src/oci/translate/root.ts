// root → the CT's rootfs option: a bind of the bundle's rootfs, which the runtime has resolved to an
// absolute host path.
import type { OciSpec } from '../bundle.js';
import { printPropertyString } from '../../pve/config.js';
import { checkPath } from './ct-config.js';

export function rootfsOption(root: OciSpec['root'], hostPath: string): string {
  const volume = checkPath('root.path', hostPath);
  return printPropertyString('rootfs', root.readonly ? { volume, ro: '1' } : { volume });
}
