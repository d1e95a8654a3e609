// TEST-ONLY crash injection. PXOCI_TEST_CRASH_AT=<command>:<step> makes pxoci SIGKILL itself when
// it reaches that step, so test/crash.test.ts can prove that every partial state `create` or
// `delete` can leave behind is recovered by `delete --force`. Unset (always, outside tests) it does
// nothing: one environment lookup per step.

/** Every point of `create` after which a SIGKILL leaves something new behind, in order (the keeper's
 *  start runs alongside the config write: keeper-spawned falls anywhere among the conf steps). */
export const CREATE_STEPS = [
  'claimed', // state dir (and the root's owner key) exist, no state.json
  'vmid-reserved', // placeholder conf exists, no state.json
  'runtime-written', // ct/process; ct/init is copied alongside the conf steps
  'conf-locked', // inside PVE's config lock, before the full config is written
  'conf-written',
  'keeper-spawned', // keeper alive, no state.json
  'keeper-recorded', // the first state.json: VMID and keeper
  'ct-started', // CT running, container process not recorded
  'ready-recorded',
] as const;

/** Every point of `delete` after which a SIGKILL leaves something behind, in order. */
export const DELETE_STEPS = [
  'loaded',
  'signalled', // container process killed, CT not yet stopped
  'ct-stopped',
  'ct-destroyed', // CT gone, state entry still there
] as const;

export type CrashStep = `create:${(typeof CREATE_STEPS)[number]}` | `delete:${(typeof DELETE_STEPS)[number]}`;

export function crashPoint(step: CrashStep): void {
  if (process.env.PXOCI_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}
