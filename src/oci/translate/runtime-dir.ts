// pxoci's own plumbing (docs/DESIGN.md): LXC starts pxoci's init, which it finds, with the process
// spec and the start fifo, in the runtime directory bind-mounted read-only at /.pxoci. Its run/ is
// bound again, read-write, at /.pxoci/run: the one place the init may write on the host (its socket
// for the keeper; pxoci unmounts it there once the keeper has connected).
import { ConfigError } from '../errors.js';
import { checkPath, type CtConfig } from './ct-config.js';

/** Where the runtime directory appears in the CT: pxoci's, so no config path may name it or below it. */
export const RUNTIME_DIR_IN_CT = '/.pxoci';

/** Refuses a container path that is, or is below, pxoci's runtime directory (a mount there would hide
 *  or shadow the init LXC starts, and the CT would abort or never report ready). */
export function refuseReservedPath(field: string, path: string): void {
  const p = path.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  if (p === RUNTIME_DIR_IN_CT || p.startsWith(`${RUNTIME_DIR_IN_CT}/`)) {
    throw new ConfigError(field, `"${path}" is pxoci's own runtime directory (${RUNTIME_DIR_IN_CT}), reserved in every container`);
  }
}

/** Returns the checked directory, which other sections name in the config too. */
export function mountRuntimeDir(runtimeDir: string, ct: CtConfig): string {
  const dir = checkPath('runtime directory', runtimeDir);
  ct.raw('lxc.init.cmd', `${RUNTIME_DIR_IN_CT}/init`);
  ct.raw('lxc.mount.entry', `${dir} ${RUNTIME_DIR_IN_CT.slice(1)} none bind,ro,create=dir 0 0`);
  ct.raw('lxc.mount.entry', `${dir}/run ${RUNTIME_DIR_IN_CT.slice(1)}/run none bind,create=dir 0 0`);
  return dir;
}
