// The node driver: the only place pxoci runs PVE's and LXC's tools. It uses only what a real PVE
// node has (pct, lxc-info/attach/stop/freeze/unfreeze) and calls them by absolute path, because podman
// runs the runtime with no PATH at all.
import { nodePaths, type NodePaths } from '../pve/paths.js';
import { isCtRunning } from '../pve/node-facts.js';
import { logDebug } from './log.js';

export interface ToolResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function run(file: string, args: string[], input?: string): Promise<ToolResult> {
  logDebug(`exec ${file} ${args.join(' ')}`);
  // Loaded on first use: node:child_process brings net and streams, ~5 ms of every start-up, and the
  // most frequent calls (state, most kills) never run a tool.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    // Never hand the caller's stdio to a tool: a long-lived descendant holding the engine's pipes
    // would make the engine wait forever.
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PATH: process.env.PATH || DEFAULT_PATH },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => resolve({ code: 127, signal: null, stdout, stderr: stderr + e.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? 255, signal, stdout, stderr }));
    // A tool that exits without reading its input closes the pipe first: that is no error of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Loads node:child_process now, for a tool run that will surely follow a wait: it then loads during
 *  the wait instead of after it. */
export function preloadTools(): void {
  void import('node:child_process');
}

export class NodeDriver {
  constructor(readonly paths: NodePaths = nodePaths()) {}

  pct(...args: string[]): Promise<ToolResult> {
    return run(this.paths.pct, args);
  }

  lxc(tool: 'lxc-info' | 'lxc-attach' | 'lxc-stop' | 'lxc-freeze' | 'lxc-unfreeze', vmid: number, ...args: string[]) {
    return run(this.paths.lxcBin(tool), ['-P', this.paths.lxcPath, '-n', String(vmid), ...args]);
  }

  /** What `pct status` checks, without running pct. */
  isRunning(vmid: number): boolean {
    return isCtRunning(this.paths, vmid);
  }
}

/** pct's own error text: the last non-empty stderr line, which is PVE's die message. */
export function toolError(result: ToolResult): string {
  return toolErrorLines(result).join('; ') || `exit code ${result.code}`;
}

function toolErrorLines(result: ToolResult): string[] {
  // The simulator's WARN lines say what it cannot enforce; they are not the error.
  return (result.stderr || result.stdout)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('WARN: '));
}

/** What LXC says after the line that failed a start, whatever failed: `pct start` prints them all. */
const LXC_START_AFTERMATH = [
  /^wait_on_daemonized_start: \d+ /,
  /^main: \d+ (The container failed to start|To get more details|Additional information can be obtained)/,
  /^__lxc_start: \d+ Failed to (spawn|initialize) container/,
  /^lxc_abort: \d+ /,
  /^startup for container '\d+' failed$/,
];

/**
 * Why `pct start` failed: LXC's own lines, which PVE copies from /run/pve/ct-<vmid>.stderr (prefixes
 * stripped), less the generic ones that follow any failure ("Received container state ABORTING"...).
 * The first line left is the cause (e.g. `setup_resource_limits: 3321 Operation not permitted - Failed
 * to set limit nofile`); its function name and line number stay, as PVE shows them.
 */
export function startError(result: ToolResult): string {
  const all = toolErrorLines(result);
  const causes = all.filter((l) => !LXC_START_AFTERMATH.some((re) => re.test(l)));
  return (causes.length ? causes : all).join('; ') || `exit code ${result.code}`;
}
