// Shared by the tests that need a real simulated PVE node: one pvesim root per test file, a busybox
// rootfs, bundles, and a way to run pxoci exactly as an engine would (a separate process).
import { spawn, spawnSync, type ChildProcessByStdio, type SpawnSyncReturns } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync, existsSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSpec } from '../../src/commands/spec.js';

export const top = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(top, 'dist');
/** What engines run: the native front, which answers `state` and `--version` and hands the rest to pxoci.js. */
export const pxociBin = join(dist, 'pxoci');
/** The Node side alone, for the tests that compare it with the front. */
export const pxociJs = join(dist, 'pxoci.js');
export const pvesimJs = join(dist, 'pvesim.js');

/** Parses the `export NAME=value` lines pvesim prints into an env object. */
export function parseExports(text: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const line of text.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    // pvesim prints only 'quoted' pieces and "$PATH": expand exactly those.
    const value = m[2]!.replace(/"\$PATH"|\$PATH/g, base.PATH ?? '').replace(/'([^']*)'/g, '$1');
    env[m[1]!] = value;
  }
  return env;
}

export interface SimNode {
  root: string;
  env: NodeJS.ProcessEnv;
  stateRoot: string;
  down(): void;
}

/**
 * The PVE release the simulated nodes of a test run: PXOCI_TEST_PVE=8 runs a suite against PVE 8.4's
 * rules (scripts/test.mjs runs the lifecycle suite so), unset or 9 against PVE 9's.
 */
export function testPveRelease(): 8 | 9 {
  const wanted = process.env.PXOCI_TEST_PVE;
  if (wanted === undefined || wanted === '' || wanted === '9') return 9;
  if (wanted === '8') return 8;
  throw new Error(`PXOCI_TEST_PVE=${wanted}: 8 or 9`);
}

export function startSimNode(name: string, o: { pve?: 8 | 9 } = {}): SimNode {
  const root = mkdtempSync(join(tmpdir(), `pxoci-${name}-`));
  const out = spawnSync(process.execPath, [pvesimJs, 'env', '--root', root, '--pve', String(o.pve ?? testPveRelease())], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`pvesim env failed: ${out.stderr}`);
  const env = parseExports(out.stdout);
  const stateRoot = join(root, 'pxoci-state');
  return {
    root,
    env,
    stateRoot,
    down() {
      spawnSync(process.execPath, [pvesimJs, 'down', '--root', root], { encoding: 'utf8' });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

let sharedRootfs: string | undefined;
/** One busybox rootfs per test process; bundles get their own copy so they can differ. */
export function busyboxRootfs(): string {
  if (sharedRootfs && existsSync(join(sharedRootfs, 'bin/busybox'))) return sharedRootfs;
  sharedRootfs = mkdtempSync(join(tmpdir(), 'pxoci-rootfs-'));
  const r = spawnSync('sh', [join(top, 'scripts/make-busybox-rootfs.sh'), sharedRootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-busybox-rootfs failed: ${r.stderr}`);
  return sharedRootfs;
}

export interface BundleOptions {
  args?: string[];
  terminal?: boolean;
  env?: string[];
  cwd?: string;
  patch?: (spec: Record<string, any>) => void;
}

/** A minimal bundle the way an engine writes one: config.json plus rootfs/. */
export function makeBundle(parent: string, name: string, o: BundleOptions = {}): string {
  const bundle = join(parent, name);
  mkdirSync(bundle, { recursive: true });
  cpSync(busyboxRootfs(), join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  // mkdtemp made the source 0700; a container's / must be traversable by non-root users.
  chmodSync(join(bundle, 'rootfs'), 0o755);
  const spec: Record<string, any> = {
    ociVersion: '1.2.0',
    process: {
      terminal: o.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args: o.args ?? ['sh', '-c', 'echo hello'],
      env: o.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: o.cwd ?? '/',
    },
    root: { path: 'rootfs' },
    hostname: 'pxoci-test',
    // The mounts every engine sends (runc spec's set): /proc, /dev, /dev/pts, /dev/shm, /sys, ...
    mounts: (defaultSpec(false) as { mounts: unknown[] }).mounts,
    linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
  };
  o.patch?.(spec);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  return bundle;
}

export function pxoci(node: SimNode, args: string[], opts: { cwd?: string; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(pxociBin, ['--root', node.stateRoot, ...args], {
    env: node.env,
    cwd: opts.cwd,
    input: opts.input,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/** Runs `pxoci create` with its stdio on pipes we read, like conmon does; resolves when create exits. */
export function createWithPipes(node: SimNode, id: string, bundle: string, extra: string[] = []) {
  const child = spawn(pxociBin, ['--root', node.stateRoot, 'create', '--bundle', bundle, ...extra, id], {
    env: node.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return { child, ...captureStdio(child) };
}

/** What a `create` on our pipes says, when it exits, and when every holder of the container's stdio
 *  (the pipes' write ends) has gone. */
export function captureStdio(child: ChildProcessByStdio<Writable | null, Readable, Readable>) {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const closed = new Promise<void>((resolve) => {
    let n = 0;
    const one = () => ++n === 2 && resolve();
    child.stdout.on('close', one);
    child.stderr.on('close', one);
  });
  return { exited, closed, out: () => stdout, err: () => stderr };
}

let subreaperBin: string | undefined;
/** Builds test/native/subreaper.c once per test process. */
export function subreaper(): string {
  if (subreaperBin) return subreaperBin;
  const out = join(mkdtempSync(join(tmpdir(), 'pxoci-subreaper-')), 'subreaper');
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', out, join(top, 'test/native/subreaper.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build the subreaper harness: ${r.stderr}`);
  subreaperBin = out;
  return out;
}

/** Engines find the runtime by path and pass it no PVE environment: a wrapper script carries it. */
export function runtimeWrapper(node: SimNode, dir: string, globalArgs: string[] = []): string {
  const wrapper = join(dir, 'pxoci');
  const extra = globalArgs.map((a) => ` '${a}'`).join('');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nPXOCI_PVE_ROOT='${node.env.PXOCI_PVE_ROOT}' PXOCI_PVE_NODE='${node.env.PXOCI_PVE_NODE}' exec '${pxociBin}'${extra} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

let consoleRecvBin: string | undefined;
/** Builds the engine's side of --console-socket (conformance/native/console-recv.c) once per test process. */
export function consoleRecv(): string {
  if (consoleRecvBin) return consoleRecvBin;
  const out = join(mkdtempSync(join(tmpdir(), 'pxoci-console-recv-')), 'console-recv');
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', out, join(top, 'conformance/native/console-recv.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build console-recv: ${r.stderr}`);
  consoleRecvBin = out;
  return out;
}

/** A containers.conf that lets podman run these runtimes (name → binary), `defaultRuntime` without
 *  --runtime. The simulated node's limits are below podman's default ulimits, which runc then may not
 *  raise: they are set within them. */
export function writePodmanConf(path: string, runtimes: Record<string, string>, defaultRuntime?: string): string {
  writeFileSync(
    path,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      ...(defaultRuntime ? [`runtime = "${defaultRuntime}"`] : []),
      'runtime_supports_json = ["crun", "runc", "pxoci"]',
      '[engine.runtimes]',
      ...Object.entries(runtimes).map(([name, binary]) => `${name} = ["${binary}"]`),
      '',
    ].join('\n'),
  );
  return path;
}
