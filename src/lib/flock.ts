// PVE serialises every change of a CT config with flock(LOCK_EX) on
// run/lock/lxc/pve-config-<vmid>.lock. Node cannot flock, so pxoci-helper holds the lock for us for as
// long as we keep its stdin open; if we die, the pipe closes and the lock goes with us.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { helperPath } from './native-paths.js';

export class LockError extends Error {}

export async function withFileLock<T>(file: string, timeoutSeconds: number, body: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  // Loaded on first use, as in the node driver: `state` and `kill` must not pay for it.
  const { spawn } = await import('node:child_process');
  const child = spawn(helperPath('pxoci-helper'), ['lock', file, String(timeoutSeconds)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr += d;
  });
  const locked = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('locked\n')) resolve(true);
    });
    child.on('error', () => resolve(false));
    child.on('exit', () => resolve(false));
  });
  if (!locked) {
    const msg = stderr.split('\n').filter((l) => l && l !== 'trying to acquire lock...').pop();
    throw new LockError(msg ?? `can't lock file '${file}'`);
  }
  try {
    return await body();
  } finally {
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.stdin.end();
    await exited;
  }
}
