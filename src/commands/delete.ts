// pxoci delete [--force] ID: runc's semantics and texts.
import type { Context } from '../runtime/context.js';
import { RuntimeError, checkContainerId, notExist } from '../runtime/errors.js';
import { containerStatus } from '../runtime/container.js';
import { toolError } from '../runtime/node.js';
import { ownedBy, readConf } from '../runtime/pveconf.js';
import type { ContainerRecord } from '../runtime/state.js';
import { signalContainer } from './kill.js';
import { loadHooks, runPoststopHooks } from '../runtime/hooks.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Stops and destroys the CT of a record, if it is ours. */
export async function destroyCt(ctx: Context, rec: ContainerRecord): Promise<void> {
  const { driver } = ctx;
  const vmid = rec.vmid;
  if (vmid === undefined) return;
  const conf = readConf(driver.paths, vmid);
  if (!conf) return;
  if (!ownedBy(conf, rec.id)) {
    throw new RuntimeError(`CT ${vmid} is not a pxoci container of ${rec.id}: refusing to touch it`);
  }
  // Our init leaves with the container process, which ends the CT by itself; give it a moment.
  if (!(await waitFor(() => !driver.isRunning(vmid), 2000))) {
    const stop = await driver.pct('stop', String(vmid));
    if (stop.code !== 0 && driver.isRunning(vmid)) {
      throw new RuntimeError(`pct stop ${vmid} failed: ${toolError(stop)}`);
    }
    await waitFor(() => !driver.isRunning(vmid), 10_000);
  }
  const destroy = await driver.pct('destroy', String(vmid));
  if (destroy.code !== 0 && readConf(driver.paths, vmid)) {
    throw new RuntimeError(`pct destroy ${vmid} failed: ${toolError(destroy)}`);
  }
}

export async function deleteContainer(ctx: Context, rawId: string, o: { force?: boolean }): Promise<void> {
  const id = checkContainerId(rawId);
  const { store } = ctx;
  if (!store.exists(id)) {
    if (o.force) return;
    throw notExist();
  }
  let rec: ContainerRecord;
  try {
    rec = store.load(id);
  } catch (e) {
    // A create killed before its first record, or a corrupt one: --force clears what is there.
    if (!o.force) throw e;
    store.remove(id);
    return;
  }
  const status = containerStatus(store, rec);
  if ((status === 'running' || status === 'paused') && !o.force) {
    throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  if (status !== 'stopped') {
    await signalContainer(ctx, rec, status, 9, true);
    await waitFor(() => containerStatus(store, rec) === 'stopped', 10_000);
  }
  const hooks = loadHooks(store.dir(id));
  await destroyCt(ctx, rec);
  store.remove(id);
  await runPoststopHooks(hooks, rec);
}
