#!/usr/bin/env node
// pxoci's command line: runc's contract (global flags before the command, in `--f v` and `--f=v` forms;
// errors as one plain stderr line plus one record in --log; exit 1). This entry module stays small and
// its static imports cheap: engines call `--version`, `state` and `kill` often, and each call is a new
// Node process whose start-up is most of the cost. The per-container commands (src/cli/grammar.ts) are
// read by a small parser here; yargs, which alone costs more than Node's own start-up, is loaded only
// for help, errors and the other commands, and create's validators only for create.
import { versionText } from './version.js';
import { RuntimeError } from './runtime/errors.js';
import { flushWarnings, logError } from './runtime/log.js';
import { announce, parseFast, runCommand } from './cli/grammar.js';

async function main(argv: string[]): Promise<void> {
  const fast = parseFast(argv);
  if (fast && 'version' in fast) {
    process.stdout.write(versionText());
    return;
  }
  if (fast) {
    announce(fast.globals, argv);
    await runCommand(fast.command, fast.globals, fast.args);
    return;
  }
  const { runProgram } = await import('./cli/program.js');
  await runProgram(argv);
}

main(process.argv.slice(2)).then(
  () => {
    flushWarnings();
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
