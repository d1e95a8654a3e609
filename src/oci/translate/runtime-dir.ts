// pxoci's own plumbing (docs/DESIGN.md): LXC starts pxoci's init, which it finds, with the process
// spec, socket and fifo, in the runtime directory bind-mounted read-only at /.pxoci.
import { checkPath, type CtConfig } from './ct-config.js';

/** Returns the checked directory, which other sections name in the config too. */
export function mountRuntimeDir(runtimeDir: string, ct: CtConfig): string {
  const dir = checkPath('runtime directory', runtimeDir);
  ct.raw('lxc.init.cmd', '/.pxoci/init');
  ct.raw('lxc.mount.entry', `${dir} .pxoci none bind,ro,create=dir 0 0`);
  return dir;
}
