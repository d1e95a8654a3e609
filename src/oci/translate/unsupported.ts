// linux fields no PVE mechanism can apply, each refused by name with the reason docs/fields.md gives.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';

export function rejectUnsupportedLinuxFields(linux: NonNullable<OciSpec['linux']>): void {
  if (linux.mountLabel) throw new ConfigError('linux.mountLabel', rejectionReason('linux.mountLabel'));
  if (linux.intelRdt) throw new ConfigError('linux.intelRdt', rejectionReason('linux.intelRdt'));
  if (linux.personality) throw new ConfigError('linux.personality', rejectionReason('linux.personality'));
  if (linux.timeOffsets) throw new ConfigError('linux.timeOffsets', rejectionReason('linux.timeOffsets'));
  if (linux.memoryPolicy) throw new ConfigError('linux.memoryPolicy', rejectionReason('linux.memoryPolicy'));
  if (linux.netDevices) throw new ConfigError('linux.netDevices', rejectionReason('linux.netDevices'));
}
