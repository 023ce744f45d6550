/**
 * What the conformance runner and an echo Deployment process (./main.ts)
 * say to each other over the fork IPC channel. One process serves all
 * replicas of one Deployment, each replica on its own loopback address and
 * all of them on the same ports (so one EndpointSlice port list fits them).
 */

export interface ReplicaSpec {
  /** `<Deployment>-<x>-<y>`, reported as `pod`. */
  pod: string;
  /** The replica's own loopback address ("pod IP"). */
  address: string;
}

export interface DeploymentSpec {
  namespace: string;
  deployment: string;
  replicas: ReplicaSpec[];
  /** SERVICE_NAME / INGRESS_NAME of the manifest, when set. */
  service?: string;
  ingress?: string;
  /** PEM texts for the TLS listener (TLS_SERVER_CERT, TLS_SERVER_PRIVKEY, TLS_CLIENT_CACERTS). */
  tls?: { cert: string; key: string; clientCa?: string };
  /** Print upstream's `Echoing back request made to ...` line per echo. */
  log?: boolean;
}

/** Environment variable carrying the JSON DeploymentSpec to the child. */
export const SPEC_ENV = 'SLUICE_ECHO_SPEC';

export interface BoundReplica extends ReplicaSpec {
  httpPort: number;
  h2cPort: number;
  httpsPort?: number;
}

export type ChildMessage =
  | { type: 'ready'; replicas: BoundReplica[] }
  | { type: 'failed'; message: string }
  | { type: 'count'; id: number; counts: Record<string, number> };

export type ParentMessage = { type: 'count'; id: number; target: string };
