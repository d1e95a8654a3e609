// pxoci's own plumbing (docs/DESIGN.md): LXC starts pxoci's init, which it finds, with the process
// spec and the start fifo, in the runtime directory bind-mounted read-only at /.pxoci. Its run/ is
// bound again, read-write, at /.pxoci/run: the one place the init may write on the host (its socket
// for the keeper; pxoci unmounts it there once the keeper has connected).
import { checkPath, type CtConfig } from './ct-config.js';

/** Returns the checked directory, which other sections name in the config too. */
export function mountRuntimeDir(runtimeDir: string, ct: CtConfig): string {
  const dir = checkPath('runtime directory', runtimeDir);
  ct.raw('lxc.init.cmd', '/.pxoci/init');
  ct.raw('lxc.mount.entry', `${dir} .pxoci none bind,ro,create=dir 0 0`);
  ct.raw('lxc.mount.entry', `${dir}/run .pxoci/run none bind,create=dir 0 0`);
  return dir;
}
