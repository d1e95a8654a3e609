// A small CRI client, what the kubelet is to a CRI runtime: gRPC over a unix socket, the calls that
// run a pod (test/helpers/cri-v1-subset.proto). Replies come back with camelCase fields, enums as
// their names, int64 as numbers and every field present (proto3 defaults filled in).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROTO = join(dirname(fileURLToPath(import.meta.url)), 'cri-v1-subset.proto');

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
}

export interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  logDirectory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: { cgroupParent?: string; securityContext?: { namespaceOptions?: NamespaceOption } };
}

export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  workingDir?: string;
  /** Environment as name → value; sent as the CRI's KeyValue list with bytes values. */
  env?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  logPath?: string;
  linux?: { securityContext?: { namespaceOptions?: NamespaceOption } };
}

export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number };
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: { image: string };
  imageRef: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number };
  image: { image: string };
  imageRef: string;
  state: ContainerState;
  createdAt: number;
}

export interface PodSandboxStatus {
  id: string;
  metadata: { name: string; uid: string; namespace: string; attempt: number };
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: number;
  network: { ip: string } | null;
  runtimeHandler: string;
}

type Callback<R> = (err: grpc.ServiceError | null, reply: R) => void;
type Method = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<unknown>) => void;

/** Calls one unary method and resolves with its reply; a gRPC error rejects with the server's message. */
function unary<R>(client: grpc.Client, name: string, request: object, deadlineMs: number): Promise<R> {
  const method = (client as unknown as Record<string, Method>)[name]!;
  return new Promise((resolve, reject) => {
    method.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, reply) => {
      if (err) reject(new Error(`CRI ${name}: ${err.details || err.message}`));
      else resolve(reply as R);
    });
  });
}

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;

  /** `socket`: the CRI endpoint's path (containerd's grpc.address). `deadlineMs` bounds every call. */
  constructor(socket: string, private readonly deadlineMs = 120_000) {
    const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor; ImageService: grpc.ServiceClientConstructor } };
    };
    const target = `unix://${socket}`;
    const credentials = grpc.credentials.createInsecure();
    this.runtime = new pkg.runtime.v1.RuntimeService(target, credentials);
    this.images = new pkg.runtime.v1.ImageService(target, credentials);
  }

  close(): void {
    this.runtime.close();
    this.images.close();
  }

  private call<R>(name: string, request: object): Promise<R> {
    return unary<R>(this.runtime, name, request, this.deadlineMs);
  }

  version(): Promise<{ version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    return this.call('Version', { version: 'v1' });
  }

  async imageStatus(image: string): Promise<{ id: string; repoTags: string[]; size: number } | null> {
    const reply = await unary<{ image: { id: string; repoTags: string[]; size: number } | null }>(this.images, 'ImageStatus', { image: { image } }, this.deadlineMs);
    return reply.image;
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler: string): Promise<string> {
    return (await this.call<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler })).podSandboxId;
  }

  /** `verbose` adds the runtime's own view (containerd: a JSON "info" with the pid and OCI spec). */
  podSandboxStatus(podSandboxId: string, verbose = false): Promise<{ status: PodSandboxStatus; info: Record<string, string> }> {
    return this.call('PodSandboxStatus', { podSandboxId, verbose });
  }

  async listPodSandbox(id?: string): Promise<Array<{ id: string; metadata: PodSandboxStatus['metadata']; state: PodSandboxStatus['state'] }>> {
    return (await this.call<{ items: Array<{ id: string; metadata: PodSandboxStatus['metadata']; state: PodSandboxStatus['state'] }> }>('ListPodSandbox', { filter: id ? { id } : undefined })).items;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.call('StopPodSandbox', { podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.call('RemovePodSandbox', { podSandboxId });
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const { env, ...rest } = config;
    const envs = Object.entries(env ?? {}).map(([key, value]) => ({ key, value: Buffer.from(value, 'utf8') }));
    return (await this.call<{ containerId: string }>('CreateContainer', { podSandboxId, config: { ...rest, envs }, sandboxConfig })).containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.call('StartContainer', { containerId });
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.call('StopContainer', { containerId, timeout: timeoutSeconds });
  }

  containerStatus(containerId: string, verbose = false): Promise<{ status: ContainerStatus; info: Record<string, string> }> {
    return this.call('ContainerStatus', { containerId, verbose });
  }

  async listContainers(filter: { id?: string; podSandboxId?: string; state?: ContainerState } = {}): Promise<Container[]> {
    const { state, ...rest } = filter;
    return (await this.call<{ containers: Container[] }>('ListContainers', { filter: { ...rest, state: state ? { state } : undefined } })).containers;
  }

  /** Runs `cmd` in the container and waits; output comes back as text. */
  async execSync(containerId: string, cmd: string[], timeoutSeconds = 60): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const r = await this.call<{ stdout: Buffer; stderr: Buffer; exitCode: number }>('ExecSync', { containerId, cmd, timeout: timeoutSeconds });
    return { stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), exitCode: r.exitCode };
  }
}
