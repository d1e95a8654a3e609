// pxoci pause|resume ID: the CT's freezer, through LXC's own tools (present on every PVE node).
import type { Context } from '../runtime/context.js';
import { RuntimeError } from '../runtime/errors.js';
import { checkAllowed } from '../runtime/lifecycle.js';
import { checkContainerId } from '../runtime/container-id.js';
import { containerStatus } from '../runtime/status.js';
import { toolError } from '../runtime/node-driver.js';
import { checkOwned } from '../runtime/ct-configs.js';

export async function pause(ctx: Context, rawId: string): Promise<void> {
  const id = checkContainerId(rawId);
  const rec = ctx.store.load(id);
  checkAllowed('pause', containerStatus(ctx.store, rec), id);
  checkOwned(ctx.driver.paths, rec.vmid!, id, ctx.store.token(id));
  const r = await ctx.driver.lxc('lxc-freeze', rec.vmid!);
  if (r.code !== 0) throw new RuntimeError(`lxc-freeze ${rec.vmid} failed: ${toolError(r)}`);
}

export async function resume(ctx: Context, rawId: string): Promise<void> {
  const id = checkContainerId(rawId);
  const rec = ctx.store.load(id);
  checkAllowed('resume', containerStatus(ctx.store, rec), id);
  checkOwned(ctx.driver.paths, rec.vmid!, id, ctx.store.token(id));
  const r = await ctx.driver.lxc('lxc-unfreeze', rec.vmid!);
  if (r.code !== 0) throw new RuntimeError(`lxc-unfreeze ${rec.vmid} failed: ${toolError(r)}`);
}
