// Linux capability numbers (include/uapi/linux/capability.h), for the masks pxoci's init hands to capset.
const NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

export function capabilityNumber(name: string): number | undefined {
  const i = NAMES.indexOf(name.replace(/^CAP_/, ''));
  return i < 0 ? undefined : i;
}

export function capabilityName(n: number): string | undefined {
  return NAMES[n] === undefined ? undefined : `CAP_${NAMES[n]}`;
}

/** A 64-bit capability mask as hex text (one bit per capability number). */
export function capabilityMask(numbers: number[]): string {
  return numbers.reduce((mask, n) => mask | (1n << BigInt(n)), 0n).toString(16);
}
