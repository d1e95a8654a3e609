// pxoci's full command line, loaded only when the fast parser in main.ts is not certain (help, errors,
// create, exec and the other commands with valued options): yargs and its parsing cost stay off the
// hot path.
import yargs, { type Options } from 'yargs';
import { list } from '../commands/list.js';
import { exec } from '../commands/exec.js';
import { ps } from '../commands/ps.js';
import { update } from '../commands/update.js';
import { UPDATE_FLAGS } from '../runtime/update.js';
import { features } from '../commands/features.js';
import { spec } from '../commands/spec.js';
import { makeContext, type Globals } from '../runtime/context.js';
import { RuntimeError } from '../runtime/errors.js';
import { versionText } from '../version.js';
import { COMMANDS, GLOBAL_OPTIONS, announce, runCommand, toGlobals, usage, type Dispatch, type Values } from './grammar.js';

/**
 * exec's options (runc's), declared once for yargs and for the scan that finds where the command
 * begins. A repeatable one takes one word per use (`nargs: 1`): `--env A=1 ID cmd` leaves ID alone.
 */
const EXEC_OPTIONS = {
  'console-socket': { type: 'string' },
  cwd: { type: 'string', describe: 'current working directory in the container' },
  env: { alias: 'e', type: 'string', array: true, nargs: 1, describe: 'set an environment variable (repeatable)' },
  tty: { alias: 't', type: 'boolean' },
  user: { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' },
  'additional-gids': { alias: 'g', type: 'string', array: true, nargs: 1, describe: 'an additional gid (repeatable)' },
  process: { alias: 'p', type: 'string', describe: 'process.json (- for stdin)' },
  detach: { alias: 'd', type: 'boolean' },
  'pid-file': { type: 'string' },
  'process-label': { type: 'string', describe: 'refused: PVE hosts run AppArmor, not SELinux' },
  apparmor: { type: 'string', describe: "the AppArmor profile: only the CT's own" },
  'no-new-privs': { type: 'boolean' },
  cap: { alias: 'c', type: 'string', array: true, nargs: 1, describe: "add a capability (repeatable; within the CT's bounding set)" },
  'preserve-fds': { type: 'number', default: 0 },
  cgroup: { type: 'string', array: true, nargs: 1, describe: "refused: lxc-attach places the process in the CT's cgroup" },
  'ignore-paused': { type: 'boolean', describe: 'allow exec in a paused container' },
} as const satisfies Record<string, Options>;

/** runc checkpoint's options (runc 1.1 to today's), accepted so that the answer is pxoci's reason. */
const CHECKPOINT_OPTIONS = {
  'image-path': { type: 'string' },
  'work-path': { type: 'string' },
  'parent-path': { type: 'string' },
  'leave-running': { type: 'boolean' },
  'tcp-established': { type: 'boolean' },
  'tcp-skip-in-flight': { type: 'boolean' },
  'link-remap': { type: 'boolean' },
  'ext-unix-sk': { type: 'boolean' },
  'shell-job': { type: 'boolean' },
  'lazy-pages': { type: 'boolean' },
  'status-fd': { type: 'number' },
  'page-server': { type: 'string' },
  'file-locks': { type: 'boolean' },
  'pre-dump': { type: 'boolean' },
  'manage-cgroups-mode': { type: 'string' },
  'empty-ns': { type: 'string', array: true, nargs: 1 },
  'auto-dedup': { type: 'boolean' },
} as const satisfies Record<string, Options>;

/** runc restore's options, accepted likewise. */
const RESTORE_OPTIONS = {
  'console-socket': { type: 'string' },
  'image-path': { type: 'string' },
  'work-path': { type: 'string' },
  'tcp-established': { type: 'boolean' },
  'ext-unix-sk': { type: 'boolean' },
  'shell-job': { type: 'boolean' },
  'file-locks': { type: 'boolean' },
  'manage-cgroups-mode': { type: 'string' },
  bundle: { alias: 'b', type: 'string' },
  detach: { alias: 'd', type: 'boolean' },
  'pid-file': { type: 'string' },
  'no-subreaper': { type: 'boolean' },
  'no-pivot': { type: 'boolean' },
  'empty-ns': { type: 'string', array: true, nargs: 1 },
  'auto-dedup': { type: 'boolean' },
  'lazy-pages': { type: 'boolean' },
  'lsm-profile': { type: 'string' },
  'lsm-mount-context': { type: 'string' },
} as const satisfies Record<string, Options>;

/** The spellings of the options that take the next word as their value (`--pid-file F`, `-p F`). */
function valueFlags(options: Record<string, Options>): Set<string> {
  const flags = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type === 'boolean') continue;
    flags.add(`--${name}`);
    if (typeof o.alias === 'string') flags.add(`-${o.alias}`);
  }
  return flags;
}

export async function runProgram(argv: string[], dispatch: Dispatch = runCommand): Promise<void> {
  // `exec ID sh -c …`: what follows the id is the command, options included; yargs must not see it.
  let execCommand: string[] = [];
  const execAt = argv.indexOf('exec');
  if (execAt >= 0) {
    const takesValue = valueFlags(EXEC_OPTIONS);
    for (let i = execAt + 1; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--') continue;
      if (a.startsWith('-')) {
        if (takesValue.has(a)) i++;
        continue;
      }
      execCommand = argv.slice(i + 1).filter((x, j) => !(j === 0 && x === '--'));
      argv = argv.slice(0, i + 1);
      break;
    }
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(versionText());
    return;
  }
  let globals: Globals | undefined;
  const ctx = () => makeContext(globals!);
  const parser = yargs(argv)
    .scriptName('pxoci')
    // runc's --no-pivot and --no-new-keyring are options of their own, not negated `pivot`/`new-keyring`.
    .parserConfiguration({ 'boolean-negation': false })
    .usage('pxoci [global options] <command> [command options] <container-id>')
    .options(GLOBAL_OPTIONS)
    // Before validation, so that a usage error reaches --log too.
    .middleware((a) => {
      globals = toGlobals(a);
      announce(globals, argv);
    }, true);
  for (const [name, command] of Object.entries(COMMANDS)) {
    parser.command(
      usage(name, command),
      command.describe,
      (y) => {
        for (const p of command.positionals) y.positional(p.replace(/\?$/, ''), { type: 'string' });
        for (const [option, spec] of Object.entries(command.options)) y.option(option, spec);
        return y;
      },
      (a) => dispatch(command, globals!, a as Values),
    );
  }
  parser
    .command(
      'list',
      'list containers',
      (y) => y.option('format', { alias: 'f', type: 'string', default: 'table' }).option('quiet', { alias: 'q', type: 'boolean' }),
      async (a) => {
        list(ctx(), { format: a.format, quiet: a.quiet });
      },
    )
    .command(
      'exec <container-id> [command...]',
      'run a process in a running container',
      (y) => y.options(EXEC_OPTIONS),
      async (a) => {
        await exec(ctx(), String(a['container-id']), {
          process: a.process,
          detach: a.detach,
          pidFile: a['pid-file'],
          tty: a.tty,
          consoleSocket: a['console-socket'],
          preserveFds: a['preserve-fds'],
          cwd: a.cwd,
          env: a.env,
          user: a.user,
          additionalGids: a['additional-gids'],
          cap: a.cap,
          noNewPrivs: a['no-new-privs'],
          apparmor: a.apparmor,
          processLabel: a['process-label'],
          cgroup: a.cgroup,
          ignorePaused: a['ignore-paused'],
          args: execCommand,
        });
      },
    )
    .command(
      'ps <container-id> [ps-args..]',
      'list the processes of a container (host pids)',
      (y) => y.option('format', { alias: 'f', type: 'string', default: 'table' }),
      async (a) => {
        await ps(ctx(), String(a['container-id']), { format: a.format, psArgs: ((a['ps-args'] as unknown[]) ?? []).map(String) });
      },
    )
    .command(
      'update <container-id>',
      'change the resources of a running container',
      (y) => {
        y.option('resources', { alias: 'r', type: 'string', describe: 'LinuxResources JSON file, - for stdin' });
        // runc's name is --cpu-share; docker's and podman's --cpu-shares is what people type.
        for (const flag of Object.keys(UPDATE_FLAGS)) y.option(flag, { type: 'string', ...(flag === 'cpu-share' ? { alias: 'cpu-shares' } : {}) });
        return y;
      },
      async (a) => {
        const flags = Object.fromEntries(Object.keys(UPDATE_FLAGS).map((flag) => [flag, a[flag] === undefined ? undefined : String(a[flag])]));
        await update(ctx(), String(a['container-id']), { resources: a.resources === undefined ? undefined : String(a.resources), flags });
      },
    )
    .command(
      'checkpoint <container-id>',
      'refused: a PVE CT cannot be checkpointed (the container keeps running)',
      (y) => y.options(CHECKPOINT_OPTIONS),
      async (a) => {
        const { checkpoint } = await import('../commands/checkpoint.js');
        checkpoint(ctx(), String(a['container-id']));
      },
    )
    .command(
      'restore <container-id>',
      'refused: a PVE CT cannot be restored from a checkpoint',
      (y) => y.options(RESTORE_OPTIONS),
      async (a) => {
        const { restore } = await import('../commands/checkpoint.js');
        restore(String(a['container-id']));
      },
    )
    .command('features', 'print the features this runtime supports as JSON', {}, async () => {
      features();
    })
    .command(
      'spec',
      'write a default config.json',
      (y) => y.option('bundle', { alias: 'b', type: 'string' }).option('rootless', { type: 'boolean' }),
      async (a) => {
        spec({ bundle: a.bundle, rootless: a.rootless === true });
      },
    );
  await parser
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .demandCommand(1, 'a command is required')
    .strict()
    .help()
    .wrap(null)
    .fail((msg, err) => {
      if (err) throw err;
      throw new RuntimeError(msg);
    })
    .parseAsync();
}
