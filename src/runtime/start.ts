// Starting a container (runc start): releases the container process that create left waiting on
// start.fifo.
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Context } from './context.js';
import { cannotStartStopped } from './errors.js';
import { checkAllowed } from './lifecycle.js';
import { containerStatus } from './status.js';
import { afterStart } from './hooks.js';

export async function startContainer(ctx: Context, id: string): Promise<void> {
  const { store } = ctx;
  const rec = store.load(id);
  checkAllowed('start', containerStatus(store, rec), id);
  const fifo = `${store.ctDir(id)}/start.fifo`;
  rec.started = true;
  store.save(rec);
  let fd: number;
  try {
    // Non-blocking: with no reader waiting, the container process is gone and open fails at once.
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    rec.started = false;
    store.save(rec);
    throw cannotStartStopped();
  }
  try {
    writeSync(fd, '0');
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
  await afterStart(store.dir(id), rec);
}
