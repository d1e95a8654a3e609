// Every way a conformance check may legitimately not see what the config asked for, by name. A check
// that hits one still asserts what the container does see, so the difference cannot hide a failure;
// scripts/gen-fields-doc.mjs lists these under the field table in docs/fields.md.

export interface Difference {
  /** The runtimes it applies to, as named in conformance/results/<runtime>.json. */
  runtimes: string[];
  text: string;
}

export const DIFFERENCES = {
  'ct-cgroup-above-namespace-root': {
    runtimes: ['pxoci'],
    text:
      "PVE sets a CT's limits on its cgroup lxc/<vmid>, and LXC runs the container one level below it " +
      '(lxc.cgroup.dir.container.inner = ns), which is also its cgroup namespace root. Limits that the ' +
      'kernel reports hierarchically (v1 memory.stat hierarchical_*; effective cpusets; pids and CPU ' +
      'quota by their effect) are checked from inside; relative weights and soft limits (cpu.shares / ' +
      'cpu.weight, memory.soft_limit_in_bytes / memory.low) have no such view, and the container reads ' +
      'the defaults of its own namespace root.',
  },
  'pvesim-not-enforced': {
    runtimes: ['pxoci'],
    text:
      'The simulated node runs on hybrid cgroups and has no cgroup v1 equivalent for this lxc.cgroup2 key ' +
      '(io.*, hugetlb.*): pvesim warns and does not enforce it (docs/simulator.md). A real PVE node is pure ' +
      'cgroup v2 and does.',
  },
  'pve-ct-private-namespaces': {
    runtimes: ['pxoci'],
    text:
      "A PVE CT always has private pid, ipc, uts, mount, network and cgroup namespaces: a config without " +
      "the cgroup namespace, or without a namespace list, still gets them (runc would use the host's).",
  },
  'pve-cgroup-placement': {
    runtimes: ['pxoci'],
    text:
      'PVE places every CT in lxc/<vmid> and LXC gives it a private cgroup namespace: linux.cgroupsPath is ' +
      'recorded, and the container sees its cgroup as "/".',
  },
  'pxoci-rejects-field': {
    runtimes: ['pxoci'],
    text:
      'The program uses a field that pxoci refuses by name, as the table above documents (e.g. ' +
      'linux.resources.memory.kernel, cgroup v1 only): create fails naming it, so the program\'s checks fail.',
  },
  'pve-subordinate-ids': {
    runtimes: ['pxoci'],
    text:
      "LXC maps a CT's ids through shadow's newuidmap/newgidmap (installed on PVE), which allow only root's " +
      'subordinate ids in /etc/subuid and /etc/subgid (100000-165535 on a new node); runc, as root, writes any ' +
      "map itself. pxoci refuses a map outside them at create by name; an admin who adds root's ranges there " +
      '(as PVE documents for custom idmaps) can use them.',
  },
  'host-cgroup-v1': {
    runtimes: ['runc'],
    text: 'The test host runs its controllers on cgroup v1 (hybrid layout): runc refuses linux.resources.unified there.',
  },
  'host-without-apparmor': {
    runtimes: ['pxoci', 'runc'],
    text: 'The test host has no AppArmor, so no runtime can confine a process with a profile here.',
  },
  'host-without-hugetlb': {
    runtimes: ['runc'],
    text: 'The test host has no hugetlb cgroup controller, so no runtime can limit huge pages here.',
  },
  'host-without-blkio-weight': {
    runtimes: ['pxoci', 'runc'],
    text: "The test host's block devices have no proportional-weight I/O scheduler (no blkio.weight), so no runtime can set an I/O weight here.",
  },
  'createcontainer-host-mount-namespace': {
    runtimes: ['pxoci'],
    text:
      "createContainer hooks run in the CT's user, cgroup, ipc, uts, net and pid namespaces but the host's " +
      "mount namespace: LXC has pivoted before pxoci gets control, and only there do the hook's binary and " +
      'root.path resolve as in runc\'s pre-pivot hooks; mounts LXC made inside the CT are not seen.',
  },
  'runc-1.1-rootfs-propagation': {
    runtimes: ['runc'],
    text:
      'runc 1.1 applies linux.rootfsPropagation only before its pivot_root: with "shared" the root it pivots to ' +
      'is private (a new mount does not reach a bind of /), and with "unbindable" create fails (EINVAL binding ' +
      'the rootfs onto itself). runc 1.4 applies it after its pivot_root as well.',
  },
  'runc-1.1-poststart-in-create': {
    runtimes: ['runc'],
    text: 'runc 1.1 runs poststart hooks inside create (status created), fixed in runc 1.2.',
  },
  'runc-1.1-start-before-startcontainer': {
    runtimes: ['runc'],
    text:
      'runc 1.1 returns from start before its init runs the startContainer hooks, so a failing hook does not ' +
      'fail start (the process still does not run).',
  },
  'runc-1.1-poststop-stops-at-failure': {
    runtimes: ['runc'],
    text: 'runc 1.1 stops at the first failing poststop hook; the spec (and pxoci) run the remaining ones.',
  },
} satisfies Record<string, Difference>;

export type DifferenceName = keyof typeof DIFFERENCES;

/**
 * The OCI runtime-tools validation suite (scripts/oci-validation.sh, conformance/results/oci-validation.*):
 * each of its checks that runc passes and pxoci does not, by program and the start of the check's
 * description, with the documented difference that explains it. One that matches none is listed in
 * docs/fields.md as a pxoci bug.
 */
export const VALIDATION_DIFFERENCES: Array<{ program: string; check: string; difference: DifferenceName }> = [
  // They read the cgroup at linux.cgroupsPath from the host.
  ...['delete_resources', 'linux_cgroups_cpus', 'linux_cgroups_devices', 'linux_cgroups_pids', 'linux_cgroups_relative_cpus', 'linux_cgroups_relative_devices', 'linux_cgroups_relative_pids'].flatMap(
    (program) => ['get ', 'find ', 'pids ', 'cpu ', 'cpus '].map((check) => ({ program, check, difference: 'pve-cgroup-placement' as const })),
  ),
  // Their config sets linux.resources.memory.kernel (cgroup v1 only).
  { program: 'linux_cgroups_memory', check: 'linux.resources.memory.kernel', difference: 'pxoci-rejects-field' },
  { program: 'linux_cgroups_relative_memory', check: 'linux.resources.memory.kernel', difference: 'pxoci-rejects-field' },
  { program: 'linux_ns_path', check: 'set ', difference: 'pxoci-rejects-field' },
  { program: 'linux_ns_itype', check: 'inherit namespace', difference: 'pve-ct-private-namespaces' },
  { program: 'linux_ns_nopath', check: 'linux.uidMappings', difference: 'pve-subordinate-ids' },
  { program: 'linux_uid_mappings', check: 'linux.uidMappings', difference: 'pve-subordinate-ids' },
];
