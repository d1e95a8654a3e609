// pxoci's command line: runc's contract (global flags before the command, in `--f v` and `--f=v` forms;
// errors as one plain stderr line plus one record in --log; exit 1).
import { VERSION, COMMIT, SPEC_VERSION } from './version.js';
import { RuntimeError } from './runtime/errors.js';
import { configureLog, logError, logDebug } from './runtime/log.js';
import type { Globals } from './runtime/context.js';

function versionText(): string {
  return `pxoci version ${VERSION}\ncommit: ${COMMIT}\nspec: ${SPEC_VERSION}\n`;
}

async function main(argv: string[]): Promise<void> {
  // `--version` is called at every engine start-up: answer it before loading the CLI parser.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    process.stdout.write(versionText());
    return;
  }
  // `exec ID sh -c …`: what follows the id is the command, options included; yargs must not see it.
  let execCommand: string[] = [];
  const execAt = argv.indexOf('exec');
  if (execAt >= 0) {
    const takesValue = /^(--process|-p|--pid-file|--console-socket|--cwd|--env|-e|--user|-u|--preserve-fds|--process-label|--apparmor|--cap|-c|--additional-gids|-g)$/;
    for (let i = execAt + 1; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--') continue;
      if (a.startsWith('-')) {
        if (takesValue.test(a)) i++;
        continue;
      }
      execCommand = argv.slice(i + 1).filter((x, j) => !(j === 0 && x === '--'));
      argv = argv.slice(0, i + 1);
      break;
    }
  }
  const { default: yargs } = await import('yargs');
  const { makeContext } = await import('./runtime/context.js');
  let globals: Globals | undefined;
  const ctx = () => makeContext(globals!);
  const parser = yargs(argv)
    .scriptName('pxoci')
    .usage('pxoci [global options] <command> [command options] <container-id>')
    .option('root', { type: 'string', default: '/run/pxoci', describe: 'state directory' })
    .option('log', { type: 'string', describe: 'log file (errors as one record each)' })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text' })
    .option('debug', { type: 'boolean', default: false })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'accepted for runc compatibility: PVE places CTs in lxc/<vmid>' })
    .option('rootless', { type: 'string', describe: 'accepted for runc compatibility (auto|true|false)' })
    .option('criu', { type: 'string', hidden: true })
    .middleware((a) => {
      globals = {
        root: String(a.root),
        log: a.log as string | undefined,
        logFormat: a['log-format'] === 'json' ? 'json' : 'text',
        debug: a.debug === true,
        systemdCgroup: a['systemd-cgroup'] === true,
        rootless: a.rootless as string | undefined,
      };
      configureLog(globals);
      logDebug(`pxoci ${argv.join(' ')}`);
    })
    .command(
      'create <container-id>',
      'create a container (the process waits for start)',
      (y) =>
        y
          .option('bundle', { alias: 'b', type: 'string', describe: 'bundle directory (default: cwd)' })
          .option('pid-file', { type: 'string' })
          .option('console-socket', { type: 'string' })
          .option('preserve-fds', { type: 'number', default: 0 })
          .option('no-pivot', { type: 'boolean', describe: 'accepted: LXC sets up the root' })
          .option('no-new-keyring', { type: 'boolean', describe: 'accepted: LXC manages the session keyring' }),
      async (a) => {
        const { create } = await import('./commands/create.js');
        await create(ctx(), String(a['container-id']), {
          bundle: a.bundle,
          pidFile: a['pid-file'],
          consoleSocket: a['console-socket'],
          preserveFds: a['preserve-fds'],
        });
      },
    )
    .command('start <container-id>', 'start a created container', {}, async (a) => {
      const { start } = await import('./commands/start.js');
      await start(ctx(), String(a['container-id']));
    })
    .command('state <container-id>', 'print the state of a container as JSON', {}, async (a) => {
      const { state } = await import('./commands/state.js');
      state(ctx(), String(a['container-id']));
    })
    .command(
      'kill <container-id> [signal]',
      'send a signal (default SIGTERM) to the container process',
      (y) => y.option('all', { alias: 'a', type: 'boolean' }).positional('signal', { type: 'string' }),
      async (a) => {
        const { kill } = await import('./commands/kill.js');
        await kill(ctx(), String(a['container-id']), a.signal, { all: a.all });
      },
    )
    .command(
      'delete <container-id>',
      'delete a container and its CT',
      (y) => y.option('force', { alias: 'f', type: 'boolean' }),
      async (a) => {
        const { deleteContainer } = await import('./commands/delete.js');
        await deleteContainer(ctx(), String(a['container-id']), { force: a.force });
      },
    )
    .command(
      'list',
      'list containers',
      (y) => y.option('format', { alias: 'f', type: 'string', default: 'table' }).option('quiet', { alias: 'q', type: 'boolean' }),
      async (a) => {
        const { list } = await import('./commands/list.js');
        list(ctx(), { format: a.format, quiet: a.quiet });
      },
    )
    .command(
      'exec <container-id> [command...]',
      'run a process in a running container',
      (y) =>
        y
          .option('process', { alias: 'p', type: 'string', describe: 'process.json (- for stdin)' })
          .option('detach', { alias: 'd', type: 'boolean' })
          .option('pid-file', { type: 'string' })
          .option('tty', { alias: 't', type: 'boolean' })
          .option('console-socket', { type: 'string' })
          .option('preserve-fds', { type: 'number', default: 0 })
          .option('cwd', { type: 'string' })
          .option('env', { alias: 'e', type: 'string', array: true })
          .option('user', { alias: 'u', type: 'string' }),
      async (a) => {
        const { exec } = await import('./commands/exec.js');
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
          args: execCommand,
        });
      },
    )
    .command('pause <container-id>', 'freeze all processes of a container', {}, async (a) => {
      const { pause } = await import('./commands/pause.js');
      await pause(ctx(), String(a['container-id']));
    })
    .command('resume <container-id>', 'thaw a paused container', {}, async (a) => {
      const { resume } = await import('./commands/pause.js');
      await resume(ctx(), String(a['container-id']));
    })
    .command(
      'ps <container-id> [ps-args..]',
      'list the processes of a container (host pids)',
      (y) => y.option('format', { alias: 'f', type: 'string', default: 'table' }),
      async (a) => {
        const { ps } = await import('./commands/ps.js');
        await ps(ctx(), String(a['container-id']), { format: a.format, psArgs: ((a['ps-args'] as unknown[]) ?? []).map(String) });
      },
    )
    .command(
      'update <container-id>',
      'change the resources of a running container (what PVE hot-plugs)',
      (y) => y.option('resources', { alias: 'r', type: 'string', describe: 'LinuxResources JSON file, - for stdin' }),
      async (a) => {
        const { update } = await import('./commands/update.js');
        await update(ctx(), String(a['container-id']), { resources: a.resources });
      },
    )
    .command('features', 'print the features this runtime supports as JSON', {}, async () => {
      const { features } = await import('./commands/features.js');
      features();
    })
    .command(
      'spec',
      'write a default config.json',
      (y) => y.option('bundle', { alias: 'b', type: 'string' }).option('rootless', { type: 'boolean' }),
      async (a) => {
        const { spec } = await import('./commands/spec.js');
        spec({ bundle: a.bundle, rootless: a.rootless === true });
      },
    )
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .demandCommand(1, 'a command is required')
    .strict()
    .help()
    .wrap(null)
    .fail((msg, err) => {
      if (err) throw err;
      throw new RuntimeError(msg);
    });
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(versionText());
    return;
  }
  await parser.parseAsync();
}

main(process.argv.slice(2)).then(
  () => {
    process.exitCode = process.exitCode ?? 0;
  },
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    logError(msg);
    if (!(e instanceof RuntimeError) && process.argv.includes('--debug') && e instanceof Error && e.stack) {
      process.stderr.write(e.stack + '\n');
    }
    process.exitCode = e instanceof RuntimeError ? e.exitCode : 1;
  },
);
