// Updating a container's resources (runc update --resources F|-): the LinuxResources PVE can change on
// a running CT (memory, swap, cpulimit, cpuunits) go through `pct set`, which PVE applies live;
// anything else is refused by name.
import { resourcesToOptions } from '../oci/translate.js';
import { ConfigError } from '../oci/errors.js';
import type { Context } from './context.js';
import { RuntimeError } from './errors.js';
import { readJsonFile } from './caller-files.js';
import { checkAllowed } from './lifecycle.js';
import { containerStatus } from './status.js';
import { toolError } from './node-driver.js';
import { checkOwned } from './ct-configs.js';

const HOT_PLUGGABLE = new Set(['memory.limit', 'memory.swap', 'cpu.shares', 'cpu.quota', 'cpu.period']);

/** `resources` names the LinuxResources JSON file, `-` for stdin. */
export async function updateContainer(ctx: Context, id: string, o: { resources?: string }): Promise<void> {
  const rec = ctx.store.load(id);
  checkAllowed('update', containerStatus(ctx.store, rec), id);
  if (!o.resources) throw new RuntimeError('update: --resources FILE (or - for stdin) is required');
  const resources = readJsonFile(o.resources);
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new RuntimeError(`update: ${o.resources}: not a JSON object (LinuxResources)`);
  }
  for (const [group, value] of Object.entries(resources)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (group === 'devices' && Array.isArray(value)) continue; // engines resend the create-time rules
      throw new RuntimeError(`update: linux.resources.${group} cannot be changed on a running PVE CT`);
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === null || v === undefined || v === 0 || v === '') continue;
      if (group === 'pids' || HOT_PLUGGABLE.has(`${group}.${k}`)) continue;
      throw new RuntimeError(`update: linux.resources.${group}.${k} cannot be changed on a running PVE CT`);
    }
  }
  let options: Record<string, string>;
  try {
    options = resourcesToOptions(resources as Parameters<typeof resourcesToOptions>[0]);
  } catch (e) {
    if (e instanceof ConfigError) throw new RuntimeError(e.message);
    throw e;
  }
  if (Object.keys(options).length === 0) return;
  checkOwned(ctx.driver.paths, rec.vmid!, id, ctx.store.token(id));
  const args = Object.entries(options).flatMap(([k, v]) => [`--${k}`, v]);
  const r = await ctx.driver.pct('set', String(rec.vmid), ...args);
  if (r.code !== 0) throw new RuntimeError(`pct set ${rec.vmid} failed: ${toolError(r)}`);
}
