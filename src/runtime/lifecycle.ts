// Which operation a container allows in which status, and what it says otherwise: runc's rules and
// texts, in one table (youki's can_start/can_kill, libcontainer's state transitions). Each row names
// every status, so a new status or operation cannot be left undecided.
import {
  RuntimeError,
  cannotDeleteNotStopped,
  cannotExecPaused,
  cannotExecStopped,
  cannotStartRunning,
  cannotStartStopped,
  notPaused,
  notRunning,
} from './errors.js';
import type { Status } from './status.js';

export type Operation = 'start' | 'kill' | 'delete' | 'delete --force' | 'pause' | 'resume' | 'exec' | 'update' | 'ps';

/** `allowed`, or the refusal for that status. */
type Rule = 'allowed' | ((id: string, status: Status) => RuntimeError);

const RULES: Record<Operation, Record<Status, Rule>> = {
  // paused: runc would say `cannot start a container in the paused state`; pxoci keeps its own answer.
  start: { created: 'allowed', running: cannotStartRunning, paused: cannotStartRunning, stopped: cannotStartStopped },
  kill: { created: 'allowed', running: 'allowed', paused: 'allowed', stopped: notRunning },
  // created: as in runc, whose delete first kills the process still waiting for start.
  delete: { created: 'allowed', running: cannotDeleteNotStopped, paused: cannotDeleteNotStopped, stopped: 'allowed' },
  'delete --force': { created: 'allowed', running: 'allowed', paused: 'allowed', stopped: 'allowed' },
  // created too, as libcontainer's Pause: lxc-freeze freezes the whole CT, the waiting process with it.
  pause: { created: 'allowed', running: 'allowed', paused: notRunning, stopped: notRunning },
  resume: { created: notPaused, running: notPaused, paused: 'allowed', stopped: notPaused },
  exec: { created: 'allowed', running: 'allowed', paused: cannotExecPaused, stopped: cannotExecStopped },
  update: { created: 'allowed', running: 'allowed', paused: 'allowed', stopped: notRunning },
  // stopped: allowed, and lists no process.
  ps: { created: 'allowed', running: 'allowed', paused: 'allowed', stopped: 'allowed' },
};

/** Throws runc's refusal when `op` is not allowed in `status`. */
export function checkAllowed(op: Operation, status: Status, id: string): void {
  const rule = RULES[op][status];
  if (rule !== 'allowed') throw rule(id, status);
}
