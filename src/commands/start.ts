// pxoci start ID: releases the container process that create left waiting on start.fifo.
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Context } from '../runtime/context.js';
import { cannotStartStopped } from '../runtime/errors.js';
import { checkAllowed } from '../runtime/lifecycle.js';
import { checkContainerId } from '../runtime/container-id.js';
import { containerStatus } from '../runtime/status.js';
import { afterStart } from '../runtime/hooks.js';

export async function start(ctx: Context, rawId: string): Promise<void> {
  const id = checkContainerId(rawId);
  const { store } = ctx;
  const rec = store.load(id);
  const status = containerStatus(store, rec);
  checkAllowed('start', status, id);
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
