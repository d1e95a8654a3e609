// Host process facts read from /proc: cheap enough for `state`, which must not call pct.
import { readFileSync, readdirSync } from 'node:fs';

/** Field 22 of /proc/<pid>/stat: with the pid, it names a process uniquely across pid reuse. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 22 is fields[19].
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isSameProcessAlive(pid: number | undefined, start: string | undefined): boolean {
  if (!pid || pid <= 0) return false;
  const now = processStartTime(pid);
  return now !== undefined && (start === undefined || now === start);
}

/** The cgroup directories (one per hierarchy) a process is in, as host paths. */
export function cgroupDirs(pid: number): { unified?: string; controllers: Map<string, string> } {
  const controllers = new Map<string, string>();
  let unified: string | undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return { controllers };
  }
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , names, path] = m as unknown as [string, string, string, string];
    if (names === '') {
      unified = path;
      continue;
    }
    for (const name of names.split(',')) controllers.set(name.replace(/^name=/, ''), path);
  }
  return { unified, controllers };
}

/**
 * Keepers serving a CT dir, found by their command line: a create killed between spawning the
 * keeper and recording its pid leaves one nobody else knows about.
 */
export function findKeepers(ctDir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = argv.indexOf('--ct-dir');
    if (argv[0]?.endsWith('/pxoci-helper') && argv[1] === 'keeper' && at > 0 && argv[at + 1] === ctDir) found.push(Number(name));
  }
  return found;
}
