// linux.seccomp → an LXC seccomp policy file (format "2", read by lxc-start through
// `lxc.seccomp.profile`). Pure: returns the file's text, or throws a ConfigError naming the field.
//
// Facts about LXC's reader this relies on (lxc/src/lxc/seccomp.c, 5.0 and later):
// - line 1 "2"; line 2 "allowlist|denylist <default action>"; then rules, '#' comments and [arch]
//   sections. A section only filters out other architectures' rules: on a node, every rule applies to
//   every ABI LXC filters there (amd64: x86_64, x86 and x32 alike). Rules before any section are
//   dropped on architectures LXC does not name (riscv64), so the rules always follow "[all]".
// - a rule is "<syscall> <action> [index,value,op]..." with actions kill (the thread), errno N,
//   trap, allow, notify; actions are matched by prefix, so no other word may follow.
// - "[i,v,SCMP_CMP_MASKED_EQ,m]" compares (arg & m) == v; several brackets in one rule all must hold.
// - a syscall name libseccomp does not know is skipped, as runc skips it; a rule whose action is the
//   default action makes libseccomp fail the whole policy, so such rules are left out (runc too).
import type { OciSpec } from './bundle.js';
import { ConfigError } from './errors.js';
import type { JoinableNamespace } from './translate/namespaces.js';

export type OciSeccomp = NonNullable<NonNullable<OciSpec['linux']>['seccomp']>;
type OciSyscall = NonNullable<OciSeccomp['syscalls']>[number];

/** The ABIs LXC's filter covers on a node of each PVE arch: the profile must cover all of them. */
const NODE_ABIS: Record<string, string[]> = {
  amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  i386: ['SCMP_ARCH_X86'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  armhf: ['SCMP_ARCH_ARM'],
  riscv64: ['SCMP_ARCH_RISCV64'],
};

const REJECTED_ACTIONS: Record<string, string> = {
  SCMP_ACT_KILL_PROCESS: "LXC's policy format can only kill the calling thread (kill), not the whole process",
  SCMP_ACT_TRACE: "LXC's policy format has no trace action",
  SCMP_ACT_LOG: "LXC's policy format has no log action (allow would lose the audit record)",
  SCMP_ACT_NOTIFY: 'a seccomp agent needs linux.seccomp.listenerPath, which pxoci cannot serve (LXC only forwards to its own notify proxy)',
};

const REJECTED_FLAGS: Record<string, string> = {
  SECCOMP_FILTER_FLAG_LOG: 'LXC loads the policy without this flag',
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 'LXC loads the policy without this flag (the speculative store bypass mitigation stays on)',
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 'only meaningful for a seccomp agent (SCMP_ACT_NOTIFY), which pxoci rejects',
};

/** What pxoci's init (and LXC, after loading the policy) cannot do without, on every architecture:
 *  take the keeper's connection, fork the container process, wait for start, change user and
 *  capabilities, exec. */
const NEEDED_BY_INIT = [
  'read', 'write', 'close', 'openat', 'socket', 'bind', 'listen', 'accept4', 'sendmsg', 'recvmsg', 'clone', 'wait4',
  'rt_sigprocmask', 'rt_sigtimedwait', 'setsid', 'setgroups', 'setgid', 'setuid', 'prctl', 'capset', 'execve', 'exit_group',
];

/** setns's nstype for each namespace pxoci's init joins (<linux/sched.h>): it passes exactly these. */
const SETNS_NSTYPE: Record<JoinableNamespace, number> = { network: 0x40000000, ipc: 0x08000000, uts: 0x04000000 };

const MAX_ERRNO = 4095;

function errnoValue(field: string, n: number | undefined): number {
  const value = n ?? 1; // the spec's default: EPERM
  if (value > MAX_ERRNO) throw new ConfigError(field, `${value} is not an errno (the kernel allows at most ${MAX_ERRNO})`);
  return value;
}

function lxcAction(field: string, action: string, errnoRet: number | undefined, errnoField: string): string {
  const why = REJECTED_ACTIONS[action];
  if (why) throw new ConfigError(field, `${action}: ${why}`);
  if (errnoRet !== undefined && action !== 'SCMP_ACT_ERRNO') throw new ConfigError(errnoField, `only applies to SCMP_ACT_ERRNO, not ${action}`);
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return 'allow';
    case 'SCMP_ACT_ERRNO':
      return `errno ${errnoValue(errnoField, errnoRet)}`;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 'kill';
    case 'SCMP_ACT_TRAP':
      return 'trap';
  }
  throw new ConfigError(field, `unknown action ${action}`);
}

/** A uint64 from JSON: above 2^53 JSON.parse has already rounded it, so it cannot be trusted. */
function exact(field: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(field, `${n} is above 2^53-1, which pxoci cannot read exactly from JSON`);
  return String(n);
}

function argFilters(field: string, args: NonNullable<OciSyscall['args']>): string[] {
  return args.map((a, j) => {
    const f = `${field}.args[${j}]`;
    if (a.index > 5) throw new ConfigError(`${f}.index`, `${a.index}: a system call has arguments 0 to 5`);
    // OCI (as libseccomp): `value` is the mask and `valueTwo` the value it must equal; LXC writes
    // the compared value first and the mask last.
    if (a.op === 'SCMP_CMP_MASKED_EQ') return `[${a.index},${exact(`${f}.valueTwo`, a.valueTwo ?? 0)},SCMP_CMP_MASKED_EQ,${exact(`${f}.value`, a.value)}]`;
    if (a.valueTwo) throw new ConfigError(`${f}.valueTwo`, `only SCMP_CMP_MASKED_EQ uses valueTwo, not ${a.op}`);
    return `[${a.index},${exact(`${f}.value`, a.value)},${a.op}]`;
  });
}

function checkName(field: string, name: string): string {
  // Anything else could end the line, start a section or a comment, or hit LXC's own
  // "reject_force_umount" keyword.
  if (!/^[a-z0-9_]+$/.test(name) || name.startsWith('reject_force_umount')) {
    throw new ConfigError(field, `"${name.replace(/[^\x20-\x7e]/g, '?')}" is not a system call name`);
  }
  return name;
}

/** Refuses a profile that would stop pxoci's init before the container process runs: LXC loads the
 *  policy into the CT's PID 1, whose child the container process is (runc loads it just before
 *  exec). Only unconditional denials are certain; rules with arguments are left to the kernel. */
function checkInitNeeds(seccomp: OciSeccomp, defaultAction: string): void {
  for (const name of NEEDED_BY_INIT) {
    const rules = (seccomp.syscalls ?? []).map((s, i) => ({ s, i })).filter(({ s }) => s.names.includes(name));
    if (rules.some(({ s }) => s.args?.length)) continue;
    const last = rules.at(-1);
    const action = last ? last.s.action : seccomp.defaultAction;
    const field = last ? `linux.seccomp.syscalls[${last.i}]` : 'linux.seccomp.defaultAction';
    const allowed = last ? lxcAction(field, last.s.action, last.s.errnoRet, `${field}.errnoRet`) === 'allow' : defaultAction === 'allow';
    if (!allowed) {
      throw new ConfigError(field, `denies ${name} (${action}), which pxoci's init needs: the policy applies to the whole CT from its start, including the init that starts the container process`);
    }
  }
}

/** The rules that let pxoci's init join `joins` (setns with exactly that namespace type) where the
 *  profile denies setns, and whether the profile's own setns rules must go for them to count: in
 *  libseccomp an unconditional rule for a system call overrides every conditional one. Calls with
 *  any other nstype (0, user, mount, pid, cgroup, time) get the default action. The kernel lets
 *  setns into a network, IPC or UTS namespace succeed only with CAP_SYS_ADMIN over both the caller's
 *  and the target's user namespace, so a container process without it gains nothing. */
function setnsForInit(seccomp: OciSeccomp, defaultAction: string, joins: JoinableNamespace[]): { rules: string[]; dropProfileRules: boolean } {
  const none = { rules: [], dropProfileRules: false };
  if (!joins.length) return none;
  const rules = (seccomp.syscalls ?? []).map((s, i) => ({ s, i })).filter(({ s }) => s.names.includes('setns'));
  const last = rules.at(-1);
  const lastField = last ? `linux.seccomp.syscalls[${last.i}]` : '';
  const effective = last ? lxcAction(lastField, last.s.action, last.s.errnoRet, `${lastField}.errnoRet`) : defaultAction;
  if (effective === 'allow' && !rules.some(({ s }) => s.args?.length)) return none;
  const needed = `which pxoci's init needs to join the ${joins.join(', ')} namespace${joins.length > 1 ? 's' : ''} linux.namespaces names or leaves to the host's`;
  const conditional = rules.find(({ s }) => s.args?.length);
  if (conditional) throw new ConfigError(`linux.seccomp.syscalls[${conditional.i}]`, `a rule for setns with arguments, ${needed}: pxoci cannot combine its own setns rule with it`);
  // A denylist that names setns: "all but the init's calls" has no form in LXC's rules.
  if (defaultAction === 'allow') throw new ConfigError(lastField, `denies setns, ${needed}`);
  return { rules: [...new Set(joins)].map((t) => `setns allow [1,${SETNS_NSTYPE[t]},SCMP_CMP_EQ]`), dropProfileRules: true };
}

/** The LXC policy file for linux.seccomp on a node of PVE arch `arch`; `joins`: the namespaces
 *  pxoci's init joins under the policy (it applies to the whole CT from its start). */
export function seccompPolicy(seccomp: OciSeccomp, arch: string, joins: JoinableNamespace[] = []): string {
  if (seccomp.listenerPath) throw new ConfigError('linux.seccomp.listenerPath', REJECTED_ACTIONS.SCMP_ACT_NOTIFY!);
  if (seccomp.listenerMetadata) throw new ConfigError('linux.seccomp.listenerMetadata', REJECTED_ACTIONS.SCMP_ACT_NOTIFY!);
  // TSYNC needs nothing: LXC loads the policy while the CT's init is still single-threaded.
  (seccomp.flags ?? []).forEach((flag, i) => {
    const why = REJECTED_FLAGS[flag];
    if (why) throw new ConfigError(`linux.seccomp.flags[${i}]`, `${flag}: ${why}`);
  });
  const abis = NODE_ABIS[arch];
  if (!abis) throw new ConfigError('linux.seccomp', `pxoci does not know which ABIs LXC filters on a ${arch} node`);
  const listed: string[] = seccomp.architectures ?? [];
  const missing = abis.filter((a) => !listed.includes(a));
  if (missing.length) {
    throw new ConfigError(
      'linux.seccomp.architectures',
      `must include ${missing.join(', ')}: LXC applies the same rules to every ABI of a ${arch} node (${abis.join(', ')}), so it cannot refuse the ones a profile leaves out`,
    );
  }

  const defaultAction = lxcAction('linux.seccomp.defaultAction', seccomp.defaultAction, seccomp.defaultErrnoRet, 'linux.seccomp.defaultErrnoRet');
  const lines = ['2', `${defaultAction === 'allow' ? 'denylist' : 'allowlist'} ${defaultAction}`, '# generated by pxoci from linux.seccomp', '[all]'];
  const forInit = setnsForInit(seccomp, defaultAction, joins);
  (seccomp.syscalls ?? []).forEach((s, i) => {
    const field = `linux.seccomp.syscalls[${i}]`;
    const action = lxcAction(`${field}.action`, s.action, s.errnoRet, `${field}.errnoRet`);
    const names = s.names.map((n, j) => checkName(`${field}.names[${j}]`, n));
    const filters = argFilters(field, s.args ?? []);
    if (action === defaultAction) return;
    // Two conditions on one argument: like runc, each becomes its own rule (either may match).
    const indexes = (s.args ?? []).map((a) => a.index);
    const groups = new Set(indexes).size < indexes.length ? filters.map((f) => [f]) : [filters];
    for (const name of names) {
      if (forInit.dropProfileRules && name === 'setns') continue;
      for (const group of groups) lines.push([name, action, ...group].join(' '));
    }
  });
  if (forInit.rules.length) lines.push("# pxoci's init joins namespaces with these before the container process exists", ...forInit.rules);
  checkInitNeeds(seccomp, defaultAction);
  return lines.join('\n') + '\n';
}
