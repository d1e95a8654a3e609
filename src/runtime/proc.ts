// Host process facts read from /proc (native/procfacts.c): cheap enough for `state`, which must not call pct.
import { readFileSync, readdirSync } from 'node:fs';
import { helperPath } from '../lib/native-paths.js';

/** native/procfacts.h, through Node-API: the native `state` front reads processes with the same code. */
interface ProcFacts {
  status(exitFile: string, pid: number, pidStart: string, started: boolean): 'created' | 'running' | 'paused' | 'stopped';
  startTime(pid: number): string | undefined;
  sameAlive(pid: number, start: string): boolean;
  cgroups(pid: number): [string, string][] | undefined;
}

let procFacts: ProcFacts | undefined;

export function nativeProcFacts(): ProcFacts {
  if (!procFacts) {
    const addon = { exports: {} as ProcFacts };
    process.dlopen(addon, helperPath('pxoci-procfacts.node'));
    procFacts = addon.exports;
  }
  return procFacts;
}

/** Field 22 of /proc/<pid>/stat: with the pid, it names a process uniquely across pid reuse. */
export function processStartTime(pid: number): string | undefined {
  return nativeProcFacts().startTime(pid);
}

export function isSameProcessAlive(pid: number | undefined, start: string | undefined): boolean {
  if (!pid || pid <= 0) return false;
  return nativeProcFacts().sameAlive(pid, start ?? '');
}

/** The CT dir a keeper serves, read from its command line; undefined for any other process. */
function keeperCtDir(pid: number): string | undefined {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
  const at = argv.indexOf('--ct-dir');
  return argv[0]?.endsWith('/pxoci-helper') && argv[1] === 'keeper' && at > 0 ? argv[at + 1] : undefined;
}

/** Whether `pid` (with the recorded start time) is the keeper of `ctDir`: a record alone does not say. */
export function isKeeperOf(pid: number | undefined, start: string | undefined, ctDir: string): boolean {
  return isSameProcessAlive(pid, start) && keeperCtDir(pid!) === ctDir;
}

/**
 * Keepers serving a CT dir, found by their command line: a create killed between spawning the
 * keeper and recording its pid leaves one nobody else knows about.
 */
export function findKeepers(ctDir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name) && keeperCtDir(Number(name)) === ctDir) found.push(Number(name));
  }
  return found;
}
