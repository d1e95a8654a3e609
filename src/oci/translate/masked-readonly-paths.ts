// linux.maskedPaths and linux.readonlyPaths → optional lxc.mount.entry lines, so a path the CT turns
// out not to have does not stop it; one the host does not have is left out.
import { checkPath, mountEntryTarget, type CtConfig } from './ct-config.js';
import { refuseReservedPath } from './runtime-dir.js';
import type { TranslateContext } from '../translate.js';

type PathKind = NonNullable<TranslateContext['pathKind']>;

/** A masked directory gets an empty read-only tmpfs over it, a masked file /dev/null. */
export function translateMaskedPaths(paths: string[], ct: CtConfig, pathKind: PathKind): void {
  for (const [i, p] of paths.entries()) {
    const path = checkPath(`linux.maskedPaths[${i}]`, p);
    refuseReservedPath(`linux.maskedPaths[${i}]`, path);
    const kind = pathKind(path);
    if (kind === 'missing') continue;
    const target = mountEntryTarget(`linux.maskedPaths[${i}]`, path);
    ct.raw('lxc.mount.entry', kind === 'dir' ? `tmpfs ${target} tmpfs ro,optional 0 0` : `/dev/null ${target} none bind,optional 0 0`);
  }
}

export function translateReadonlyPaths(paths: string[], ct: CtConfig, pathKind: PathKind): void {
  for (const [i, p] of paths.entries()) {
    const path = checkPath(`linux.readonlyPaths[${i}]`, p);
    refuseReservedPath(`linux.readonlyPaths[${i}]`, path);
    if (path === '/proc/sys' || path === '/proc/sysrq-trigger') continue; // proc:mixed
    if (pathKind(path) === 'missing') continue;
    ct.raw('lxc.mount.entry', `${path} ${mountEntryTarget(`linux.readonlyPaths[${i}]`, path)} none bind,ro,optional 0 0`);
  }
}
