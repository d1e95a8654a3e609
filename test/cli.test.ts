// The command line's two parsers: the fast one (main.ts, no yargs) must read every argv it accepts
// exactly as yargs does, and hand everything else over; the built CLI keeps runc's error contract on
// both paths.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, GLOBAL_OPTIONS, parseFast, type Command, type Values } from '../src/cli/grammar.js';
import { runProgram } from '../src/cli/program.js';
import type { Globals } from '../src/runtime/context.js';
import { pxociBin, pxociJs } from './helpers/env.js';

const work = mkdtempSync(join(tmpdir(), 'pxoci-cli-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** What yargs hands to a command for argv, without running it. */
async function viaYargs(argv: string[]) {
  let seen: { command: Command; globals: Globals; args: Values } | undefined;
  await runProgram(argv, async (command, globals, args) => {
    seen = { command, globals, args };
  });
  return seen;
}

/** The declared names only: yargs adds aliases, camelCase twins, `_` and `$0`. */
function declared(command: Command, args: Values): Values {
  const names = [...command.positionals.map((p) => p.replace(/\?$/, '')), ...Object.keys(command.options)];
  return Object.fromEntries(names.map((n) => [n, args[n]]));
}

async function agree(t: Test, argv: string[]) {
  const fast = parseFast(argv);
  if (!fast || 'version' in fast) return t.fail(`fast parser refused ${JSON.stringify(argv)}`);
  const slow = await viaYargs(argv);
  t.ok(slow, `yargs ran a command for ${JSON.stringify(argv)}`);
  t.equal(fast.command, slow!.command, 'same command');
  t.same(fast.globals, slow!.globals, 'same globals');
  t.same(declared(fast.command, fast.args), declared(slow!.command, slow!.args), 'same arguments');
}

t.test('global options in both forms reach the fast path, read as yargs reads them', async (t) => {
  const log = join(work, 'log.json');
  await agree(t, ['--root', '/tmp/r1', 'state', 'c1']);
  await agree(t, ['--root=/tmp/r2', 'state', 'c1']);
  await agree(t, ['--log', log, '--log-format', 'json', '--root', '/tmp/r', 'kill', 'c1', 'KILL']);
  await agree(t, [`--log=${log}`, '--log-format=json', '--systemd-cgroup', '--rootless', 'false', 'kill', '-a', 'c1']);
  await agree(t, ['--root', '/tmp/r', 'create', '--bundle', '/b', '--pid-file=/p', '--preserve-fds', '2', 'c1']);
  await agree(t, ['create', '-b', '/b', '--no-pivot', '--no-new-keyring', '--console-socket', '/s', 'c1']);
  await agree(t, ['delete', '--force', 'c1']);
  await agree(t, ['delete', 'c1', '-f']);
  await agree(t, ['--root', '/tmp/r', 'start', '1e3']);
  const fast = parseFast(['--root=/x', '--debug', 'state', 'c']);
  t.match(fast, { globals: { root: '/x', debug: true, logFormat: 'text' }, args: { 'container-id': 'c' } });
  t.same(parseFast(['--root', '/x', '--version']), { version: true });
  t.same(parseFast(['-v']), { version: true });
});

t.test('argv the fast parser is not sure of goes to yargs', async (t) => {
  const refused = [
    [],
    ['--help'],
    ['state', '--help'],
    ['state'],
    ['state', 'a', 'b'],
    ['--log-format', 'xml', 'state', 'a'],
    ['--root'],
    ['--root', '/a', '--root', '/b', 'state', 'a'],
    ['--debug=false', 'state', 'a'],
    ['-root', '/a', 'state', 'a'],
    ['kill', '--all=true', 'a'],
    ['kill', 'a', '-9'],
    ['create', '--preserve-fds', 'x', 'a'],
    ['create', '--bundle', 'a'],
    ['create', '--bundle', '-x', 'a'],
    ['state', '--', 'a'],
    ['list'],
    ['exec', 'a', 'true'],
    ['bogus', 'a'],
  ];
  for (const argv of refused) t.equal(parseFast(argv), undefined, JSON.stringify(argv));
});

t.test('any argv built from the grammar reads the same on both paths', async (t) => {
  const value = fc.stringMatching(/^[a-z0-9/._]{1,12}$/);
  const globalArg = fc.oneof(
    ...Object.entries(GLOBAL_OPTIONS).map(([name, o]) =>
      o.type === 'boolean'
        ? fc.constant([`--${name}`])
        : fc
            // --debug writes to --log: only ever inside the work dir.
            .tuple('choices' in o ? fc.constantFrom(...o.choices) : name === 'log' ? value.map((v) => join(work, v)) : value, fc.boolean())
            .map(([v, inline]) => (inline ? [`--${name}=${v}`] : [`--${name}`, v])),
    ),
  );
  const commandArgs = fc.constantFrom(...Object.keys(COMMANDS)).chain((name) => {
    const command = COMMANDS[name]!;
    const optionArgs = Object.entries(command.options).map(([opt, o]) => {
      const spelled = o.alias ? fc.constantFrom(`--${opt}`, `-${o.alias}`) : fc.constant(`--${opt}`);
      if (o.type === 'boolean') return spelled.map((s) => [s]);
      const v = o.type === 'number' ? fc.nat(64).map(String) : value;
      return fc.tuple(spelled, v).map(([s, x]) => [s, x]);
    });
    const positionals = fc.tuple(
      ...command.positionals.map((p) => (p.endsWith('?') ? fc.option(value, { nil: undefined }) : value)),
    );
    return fc
      .tuple(fc.subarray(optionArgs.map((_, i) => i)), fc.tuple(...optionArgs.map((a) => a)), positionals)
      .map(([picked, options, pos]) => [name, ...picked.flatMap((i) => options[i]!), ...pos.filter((p) => p !== undefined)]);
  });
  const argvs = fc
    .tuple(fc.uniqueArray(globalArg, { selector: (a) => a[0]!.replace(/=.*/, ''), maxLength: 4 }), commandArgs)
    .map(([globals, rest]) => [...globals.flat(), ...rest]);
  for (const argv of fc.sample(argvs, { numRuns: 150, seed: 6 })) {
    await t.test(argv.join(' '), async (t) => agree(t, argv));
  }
});

for (const [side, argv0] of [
  ['the native front', [pxociBin]],
  ['the Node side', [process.execPath, pxociJs]],
] as const) {
  t.test(`${side}: fast path and yargs path keep the error contract`, async (t) => {
    const call = (args: string[]) => spawnSync(argv0[0], [...argv0.slice(1), ...args], { encoding: 'utf8' });
    const root = join(work, 'state');
    const cases: [string, string[], RegExp][] = [
      ['fast: unknown id, --root X', ['--root', root], /^container does not exist\n$/],
      ['fast: unknown id, --root=X', [`--root=${root}`], /^container does not exist\n$/],
    ];
    for (const [k, [name, globals, stderr]] of cases.entries()) {
      const log = join(work, `fast-${argv0.length}-${k}.log`);
      const r = call([...globals, '--log', log, '--log-format=json', 'state', 'nope']);
      t.equal(r.status, 1, `${name}: exit 1`);
      t.match(r.stderr, stderr, `${name}: one plain stderr line`);
      t.equal(r.stdout, '', `${name}: nothing on stdout`);
      const records = readFileSync(log, 'utf8').trim().split('\n');
      t.equal(records.length, 1, `${name}: one log record`);
      t.match(JSON.parse(records[0]!), { level: 'error', msg: 'container does not exist', time: String });
    }
    const log = join(work, `yargs-${argv0.length}.log`);
    const r = call(['--root', root, '--log', log, '--log-format', 'json', 'state', 'a', 'b']);
    t.equal(r.status, 1, 'yargs path: exit 1');
    t.equal(r.stderr, 'Unknown argument: b\n', 'yargs path: its message, no stack');
    t.match(JSON.parse(readFileSync(log, 'utf8')), { level: 'error', msg: 'Unknown argument: b' });
    const bad = call(['--root', root, 'state', '../x']);
    t.equal(bad.status, 1);
    t.equal(bad.stderr, 'invalid container ID format\n');
    const version = call(['--root', root, '--version']);
    t.match(version.stdout, /^pxoci version \S+\ncommit: \S+\nspec: 1\.2\.0\n$/);
  });
}

t.test('the longest id is said at the id check, before anything is made, on both sides', async (t) => {
  const root = join(work, 'long-ids');
  const bundle = join(work, 'no-bundle');
  for (const argv0 of [[pxociBin], [process.execPath, pxociJs]]) {
    for (const length of [256, 300, 1024]) {
      const id = 'a'.repeat(length);
      for (const args of [['create', '--bundle', bundle, id], ['state', id], ['delete', '--force', id]]) {
        const r = spawnSync(argv0[0]!, [...argv0.slice(1), '--root', root, ...args], { encoding: 'utf8' });
        t.equal(r.status, 1, `${args[0]} with a ${length}-character id`);
        t.equal(r.stderr, 'invalid container ID format: an id has at most 255 characters (it names a directory, and a file name has at most 255 bytes)\n');
      }
    }
    const longest = spawnSync(argv0[0]!, [...argv0.slice(1), '--root', root, 'state', 'a'.repeat(255)], { encoding: 'utf8' });
    t.equal(longest.stderr, 'container does not exist\n', 'a 255-character id passes the check');
  }
  t.notOk(existsSync(root), 'nothing was made, not even the state root');
});

t.test("update takes runc's flags and -r; its values are read as runc reads them", async (t) => {
  const root = join(work, 'update');
  const call = (...args: string[]) => spawnSync(pxociBin, ['--root', root, 'update', ...args], { encoding: 'utf8' });
  for (const args of [['--pids-limit', '7'], ['--memory', '512m'], ['--memory=-1'], ['--memory-swap', '-1'], ['--cpu-share', '512'], ['--cpu-shares', '512'], ['-r', '-'], ['--resources', 'r.json'], ['--cpuset-cpus', '0-1', '--cpu-quota', '-1', '--cpu-period', '100000']]) {
    const r = call(...args, 'nope');
    t.equal(r.stderr, 'container does not exist\n', `${args.join(' ')}: parsed, then the id looked up`);
  }
  t.match(call('--bogus', '1', 'nope').stderr, /^Unknown arguments?: bogus/);
});

t.test("exec's repeatable flags take one word each: the id after them is the id (runc's grammar)", async (t) => {
  const root = join(work, 'state');
  for (const flags of [['--env', 'A=1'], ['-e', 'A=1', '-e', 'B=2'], ['--cap', 'CAP_KILL'], ['-c', 'CAP_KILL'], ['-g', '5'], ['--additional-gids', '5', '-g', '6'], ['--cgroup', 'x']]) {
    const r = spawnSync(pxociBin, ['--root', root, 'exec', ...flags, 'no-such-id', 'sh', '-c', 'true'], { encoding: 'utf8' });
    t.equal(r.stderr, 'container does not exist\n', `${flags.join(' ')}: read as flags, then the id`);
    t.equal(r.status, 1);
  }
  const all = ['--console-socket', '/s', '--cwd', '/', '-t', '-u', '0:0', '-p', '/p', '-d', '--pid-file', '/f', '--process-label', 'l'];
  const more = ['--apparmor', 'a', '--no-new-privs', '--preserve-fds', '0', '--ignore-paused'];
  const r = spawnSync(pxociBin, ['--root', root, 'exec', ...all, ...more, 'no-such-id'], { encoding: 'utf8' });
  t.equal(r.stderr, 'container does not exist\n', "every flag of runc's exec is known");
});

t.test('checkpoint and restore take runc\'s flags and say, in one line, why a PVE CT has neither', async (t) => {
  const root = join(work, 'state');
  const checkpoint = ['checkpoint', '--image-path', '/i', '--work-path', '/w', '--leave-running', '--tcp-established', '--ext-unix-sk',
    '--shell-job', '--file-locks', '--pre-dump', '--manage-cgroups-mode', 'soft', '--page-server', 'h:1', '--auto-dedup', '--lazy-pages',
    '--status-fd', '3', '--empty-ns', 'network', '--parent-path', '/p'];
  const unknown = spawnSync(pxociBin, ['--root', root, ...checkpoint, 'no-such-id'], { encoding: 'utf8' });
  t.equal(unknown.stderr, 'container does not exist\n', "an unknown id gets runc's answer");
  t.equal(unknown.status, 1);
  const restore = spawnSync(pxociBin, ['--root', root, 'restore', '--image-path', '/i', '--work-path', '/w', '-b', '/b', '-d',
    '--pid-file', '/f', '--console-socket', '/s', '--no-subreaper', '--no-pivot', '--lsm-profile', 'apparmor:x', 'c1'], { encoding: 'utf8' });
  t.equal(restore.status, 1);
  t.match(restore.stderr, /^restore: pxoci cannot restore a container from a checkpoint, as it runs containers as Proxmox VE CTs: PVE's only CRIU path for a CT \(`pct suspend`\/`pct resume`\) is experimental/);
  t.equal(restore.stderr.split('\n').length, 2, 'one line');
  // podman asks `checkpoint --help` before it checkpoints: it must succeed.
  t.equal(spawnSync(pxociBin, ['checkpoint', '--help'], { encoding: 'utf8' }).status, 0);
});

t.test('features says checkpoint/restore is not supported, in runc\'s annotation', async (t) => {
  const r = spawnSync(pxociBin, ['features'], { encoding: 'utf8' });
  t.equal(r.status, 0);
  t.equal(JSON.parse(r.stdout).annotations['org.opencontainers.runc.checkpoint.enabled'], 'false');
  const runc = JSON.parse(spawnSync('/usr/sbin/runc', ['features'], { encoding: 'utf8' }).stdout);
  t.equal(runc.annotations['org.opencontainers.runc.checkpoint.enabled'], 'true', 'runc says where it does');
});
