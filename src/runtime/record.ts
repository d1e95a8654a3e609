// What create records of a container in <root>/<id>/state.json (runtime/state.ts keeps the file), and
// the check every record read back must pass.

export interface ContainerRecord {
  id: string;
  vmid?: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The keeper: the pid-file process. */
  keeperPid?: number;
  keeperStart?: string;
  /** The CT's PID 1 (our init) and the container process, as host pids. */
  initPid?: number;
  pid?: number;
  pidStart?: string;
  started?: boolean;
}

const isPid = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) > 0);
const isOptionalString = (v: unknown) => v === undefined || typeof v === 'string';

/** What pxoci wrote, field by field: a record that names a wrong VMID or pid would act on it. */
export function isContainerRecord(r: unknown, id: string): r is ContainerRecord {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const o = r as Record<string, unknown>;
  const vmidOk = o.vmid === undefined || (Number.isSafeInteger(o.vmid) && (o.vmid as number) >= 100);
  const annotationsOk =
    o.annotations === undefined ||
    (typeof o.annotations === 'object' && o.annotations !== null && Object.values(o.annotations).every((v) => typeof v === 'string'));
  return (
    o.id === id &&
    typeof o.bundle === 'string' &&
    typeof o.rootfs === 'string' &&
    typeof o.created === 'string' &&
    typeof o.owner === 'string' &&
    vmidOk &&
    annotationsOk &&
    isPid(o.keeperPid) &&
    isPid(o.initPid) &&
    isPid(o.pid) &&
    isOptionalString(o.keeperStart) &&
    isOptionalString(o.pidStart) &&
    (o.started === undefined || typeof o.started === 'boolean')
  );
}
