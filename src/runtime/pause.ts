// Pausing and resuming a container (runc pause|resume): the CT's freezer, through LXC's own tools
// (present on every PVE node).
import type { Context } from './context.js';
import { RuntimeError } from './errors.js';
import { checkAllowed } from './lifecycle.js';
import { containerStatus } from './status.js';
import { toolError } from './node-driver.js';
import { checkOwned } from './ct-configs.js';

export async function pauseContainer(ctx: Context, id: string): Promise<void> {
  const rec = ctx.store.load(id);
  checkAllowed('pause', containerStatus(ctx.store, rec), id);
  checkOwned(ctx.driver.paths, rec.vmid!, id, ctx.store.ownerKey());
  const r = await ctx.driver.lxc('lxc-freeze', rec.vmid!);
  if (r.code !== 0) throw new RuntimeError(`lxc-freeze ${rec.vmid} failed: ${toolError(r)}`);
}

export async function resumeContainer(ctx: Context, id: string): Promise<void> {
  const rec = ctx.store.load(id);
  checkAllowed('resume', containerStatus(ctx.store, rec), id);
  checkOwned(ctx.driver.paths, rec.vmid!, id, ctx.store.ownerKey());
  const r = await ctx.driver.lxc('lxc-unfreeze', rec.vmid!);
  if (r.code !== 0) throw new RuntimeError(`lxc-unfreeze ${rec.vmid} failed: ${toolError(r)}`);
}
