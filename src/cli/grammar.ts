// The one description of pxoci's global flags and of the commands engines call per container, read by
// both parsers: the fast one in main.ts (engines call `state` many times a second, so it must not pay for
// loading yargs) and yargs in program.ts (help, error texts, every other command). The fast parser takes
// only input whose meaning is beyond doubt and hands anything else to yargs, so both agree by
// construction: the fast path changes how quickly an answer comes, never which answer.
import { makeContext, type Context, type Globals } from '../runtime/context.js';
import { configureLog, logDebug } from '../runtime/log.js';
import { state } from '../commands/state.js';
import { kill } from '../commands/kill.js';
import { start } from '../commands/start.js';
import { deleteContainer } from '../commands/delete.js';
import { pause, resume } from '../commands/pause.js';

export interface Option {
  type: 'string' | 'number' | 'boolean';
  alias?: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  describe?: string;
  hidden?: boolean;
}

export type Values = Record<string, string | number | boolean | undefined>;

export const GLOBAL_OPTIONS = {
  root: { type: 'string', default: '/run/pxoci', describe: 'state directory' },
  log: { type: 'string', describe: 'log file (errors as one record each)' },
  'log-format': { type: 'string', choices: ['text', 'json'], default: 'text' },
  debug: { type: 'boolean', default: false },
  'systemd-cgroup': {
    type: 'boolean',
    default: false,
    describe: 'accepted for runc compatibility: PVE places CTs in lxc/<vmid>',
  },
  rootless: { type: 'string', describe: 'accepted for runc compatibility (auto|true|false)' },
  criu: { type: 'string', hidden: true },
} as const satisfies Record<string, Option>;

/** Globals from parsed flag values, whichever parser produced them. */
export function toGlobals(values: Record<string, unknown>): Globals {
  return {
    root: String(values.root ?? GLOBAL_OPTIONS.root.default),
    log: values.log as string | undefined,
    logFormat: values['log-format'] === 'json' ? 'json' : 'text',
    debug: values.debug === true,
    systemdCgroup: values['systemd-cgroup'] === true,
    rootless: values.rootless as string | undefined,
  };
}

/** Every invocation, whichever parser read it: the log set up as the globals say, the call on record. */
export function announce(globals: Globals, argv: string[]): void {
  configureLog(globals);
  logDebug(`pxoci ${argv.join(' ')}`);
}

export interface Command {
  describe: string;
  /** Positional names in order; a trailing `?` marks an optional one. */
  positionals: string[];
  options: Record<string, Option>;
  run(ctx: Context, args: Values): Promise<void>;
}

const id = (args: Values) => String(args['container-id']);
const text = (v: Values[string]) => (v === undefined ? undefined : String(v));

/** The commands an engine runs for every container, most of them several times. */
export const COMMANDS: Record<string, Command> = {
  create: {
    describe: 'create a container (the process waits for start)',
    positionals: ['container-id'],
    options: {
      bundle: { type: 'string', alias: 'b', describe: 'bundle directory (default: cwd)' },
      'pid-file': { type: 'string' },
      'console-socket': { type: 'string' },
      'preserve-fds': { type: 'number', default: 0 },
      'no-pivot': { type: 'boolean', describe: 'accepted: LXC sets up the root' },
      'no-new-keyring': { type: 'boolean', describe: 'accepted: LXC manages the session keyring' },
    },
    async run(ctx, args) {
      // Lazily: the config validators and the translation are create's alone.
      const { create } = await import('../commands/create.js');
      await create(ctx, id(args), {
        bundle: text(args.bundle),
        pidFile: text(args['pid-file']),
        consoleSocket: text(args['console-socket']),
        preserveFds: args['preserve-fds'] as number | undefined,
      });
    },
  },
  start: {
    describe: 'start a created container',
    positionals: ['container-id'],
    options: {},
    async run(ctx, args) {
      await start(ctx, id(args));
    },
  },
  state: {
    describe: 'print the state of a container as JSON',
    positionals: ['container-id'],
    options: {},
    async run(ctx, args) {
      state(ctx, id(args));
    },
  },
  kill: {
    describe: 'send a signal (default SIGTERM) to the container process',
    positionals: ['container-id', 'signal?'],
    options: { all: { type: 'boolean', alias: 'a', describe: 'signal every process of the container' } },
    async run(ctx, args) {
      await kill(ctx, id(args), text(args.signal), { all: args.all === true });
    },
  },
  delete: {
    describe: 'delete a container and its CT',
    positionals: ['container-id'],
    options: { force: { type: 'boolean', alias: 'f', describe: 'stop a running container first' } },
    async run(ctx, args) {
      await deleteContainer(ctx, id(args), { force: args.force === true });
    },
  },
  pause: {
    describe: 'freeze all processes of a container',
    positionals: ['container-id'],
    options: {},
    async run(ctx, args) {
      await pause(ctx, id(args));
    },
  },
  resume: {
    describe: 'thaw a paused container',
    positionals: ['container-id'],
    options: {},
    async run(ctx, args) {
      await resume(ctx, id(args));
    },
  },
};

/** Runs one of COMMANDS; the parsers call it alike (tests pass one that records instead). */
export type Dispatch = (command: Command, globals: Globals, args: Values) => Promise<void>;

export const runCommand: Dispatch = (command, globals, args) => command.run(makeContext(globals), args);

export type FastParse = { version: true } | { globals: Globals; command: Command; args: Values };

/**
 * Reads the option at argv[i] into values; returns the index of its last token, or undefined when the
 * fast parser is not certain what yargs would make of it (unknown, repeated, `--flag=value` on a
 * switch, a value that looks like a flag, a number that is not a plain count, a value not among the
 * choices).
 */
function readOption(argv: string[], i: number, options: Record<string, Option>, values: Values): number | undefined {
  const arg = argv[i]!;
  let name: string | undefined;
  let inline: string | undefined;
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (!Object.hasOwn(options, name)) return undefined;
  } else {
    name = Object.keys(options).find((long) => options[long]!.alias !== undefined && arg === `-${options[long]!.alias}`);
  }
  if (name === undefined || values[name] !== undefined) return undefined;
  const option = options[name]!;
  if (option.type === 'boolean') {
    if (inline !== undefined) return undefined;
    values[name] = true;
    return i;
  }
  const value = inline ?? argv[i + 1];
  if (value === undefined || (inline === undefined && value.startsWith('-'))) return undefined;
  if (option.choices && !option.choices.includes(value)) return undefined;
  if (option.type === 'number' && !/^(0|[1-9][0-9]{0,8})$/.test(value)) return undefined;
  values[name] = option.type === 'number' ? Number(value) : value;
  return inline === undefined ? i + 1 : i;
}

/**
 * The fast parser: global options up to the command word (`--version` among them wins, as in yargs),
 * then one of COMMANDS with its options and positionals. undefined means "not certain": yargs decides
 * (help, errors, `--`, any other command).
 */
export function parseFast(argv: string[]): FastParse | undefined {
  const globalValues: Values = {};
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    if (argv[i] === '--version' || argv[i] === '-v') return { version: true };
    if (!argv[i]!.startsWith('--')) return undefined;
    const last = readOption(argv, i, GLOBAL_OPTIONS, globalValues);
    if (last === undefined) return undefined;
    i = last;
  }
  const name = argv[i];
  const command = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
  if (!command) return undefined;
  const args: Values = {};
  const positionals: string[] = [];
  for (let k = i + 1; k < argv.length; k++) {
    if (argv[k]!.startsWith('-')) {
      const last = readOption(argv, k, command.options, args);
      if (last === undefined) return undefined;
      k = last;
    } else {
      positionals.push(argv[k]!);
    }
  }
  const required = command.positionals.filter((p) => !p.endsWith('?')).length;
  if (positionals.length < required || positionals.length > command.positionals.length) return undefined;
  command.positionals.forEach((p, k) => (args[p.replace(/\?$/, '')] = positionals[k]));
  for (const [option, { default: fallback }] of Object.entries(command.options)) {
    if (args[option] === undefined && fallback !== undefined) args[option] = fallback;
  }
  return { globals: toGlobals(globalValues), command, args };
}

/** yargs' command string: `kill <container-id> [signal]`. */
export function usage(name: string, command: Command): string {
  return [name, ...command.positionals.map((p) => (p.endsWith('?') ? `[${p.slice(0, -1)}]` : `<${p}>`))].join(' ');
}
