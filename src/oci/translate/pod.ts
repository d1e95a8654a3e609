// The Kubernetes pod a CT belongs to, from the annotations containerd's CRI plugin puts on every
// container of a pod (io.kubernetes.cri.*) → a line of the CT's notes. A pod is several CTs, its
// sandbox and one per container, and nothing else on a PVE node says which CTs go together: the line
// names the pod (namespace/name) and its sandbox id, which every CT of the pod shares.
import { shownValue } from './annotations.js';

const CRI = 'io.kubernetes.cri.';

/** The notes line naming the pod, or undefined for a container that is not part of a CRI pod. The
 *  annotations must have passed annotationLines' checks (no control character). */
export function podLine(annotations: Record<string, string> | undefined): string | undefined {
  const a = annotations ?? {};
  const type = a[`${CRI}container-type`];
  const sandboxId = a[`${CRI}sandbox-id`];
  const name = a[`${CRI}sandbox-name`];
  if (!sandboxId || !name || (type !== 'sandbox' && type !== 'container')) return undefined;
  const pod = `Kubernetes pod ${shownValue(a[`${CRI}sandbox-namespace`] ?? '')}/${shownValue(name)}`;
  if (type === 'sandbox') return `${pod}: its sandbox ${shownValue(sandboxId)}`;
  return `${pod}: container ${shownValue(a[`${CRI}container-name`] ?? '')} of sandbox ${shownValue(sandboxId)}`;
}
