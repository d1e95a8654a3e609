// Loading node:child_process costs a pct call ~5 ms and node:crypto ~3 ms, a large share of a call that
// never spawns or hashes (list, status, config, every rejection before the lock): each is loaded on its
// first use. (A dynamic import() would not do: in the CommonJS bundle it stays a real one and sets up
// Node's ES module loader, ~2 ms more.)
import { createRequire } from 'node:module';

type ChildProcessModule = typeof import('node:child_process');
type CryptoModule = typeof import('node:crypto');

const load = createRequire(import.meta.url);
let cp: ChildProcessModule | undefined;
let crypto: CryptoModule | undefined;

const childProcess = (): ChildProcessModule => (cp ??= load('node:child_process') as ChildProcessModule);

export const spawn = ((...args: Parameters<ChildProcessModule['spawn']>) => childProcess().spawn(...args)) as ChildProcessModule['spawn'];
export const spawnSync = ((...args: Parameters<ChildProcessModule['spawnSync']>) =>
  childProcess().spawnSync(...args)) as ChildProcessModule['spawnSync'];
export const createHash: CryptoModule['createHash'] = (...args) => (crypto ??= load('node:crypto') as CryptoModule).createHash(...args);
