/**
 * The shape of `case.json` as FORMAT.md, cases/http/EXTRA-KINDS.md and
 * cases/other/TRANSPORT-KINDS.md define it. Only the fields the status half
 * reads are typed; traffic checks stay opaque until the data-plane half.
 */

export interface ConditionExpectation {
  type: string;
  /** `"*"` matches any status (gatewayClassStatus). */
  status: string;
  /** `"*"` matches any reason. */
  reason: string;
}

export interface ParentRefExpectation {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  sectionName?: string;
  port?: number;
}

export interface ParentExpectation {
  parentRef: ParentRefExpectation;
  /** `"*"` = the controller name of the class under test. */
  controllerName?: string;
  conditions?: ConditionExpectation[];
}

export interface AncestorExpectation {
  ancestorRef: ParentRefExpectation;
  controllerName?: string;
  conditions?: ConditionExpectation[];
}

export interface GroupKind {
  group?: string;
  kind: string;
}

export interface ListenerExpectation {
  name: string;
  attachedRoutes?: number;
  /** `[]` means the status list must be empty. */
  supportedKinds?: GroupKind[];
  conditions?: ConditionExpectation[];
}

export interface AddressesExpectation {
  exactCount?: number;
  contains?: { value: string; type?: string }[];
  notContains?: string[];
}

/** Fields every check may carry; the status half ignores the timing ones (translation is synchronous). */
interface CheckBase {
  comment?: string;
  name?: string;
  once?: boolean;
  timeoutSeconds?: number;
  pollSeconds?: number;
}

export interface RouteStatusCheck extends CheckBase {
  kind: 'routeStatus';
  route: { kind: string; namespace: string; name: string };
  parents: ParentExpectation[];
  exactParents?: boolean;
  allowNoParents?: boolean;
  namespaceRequired?: boolean;
}

export interface GatewayStatusCheck extends CheckBase {
  kind: 'gatewayStatus';
  gateway: { namespace: string; name: string };
  conditions?: ConditionExpectation[];
  listeners?: ListenerExpectation[];
  exactListeners?: boolean;
  allowEmptyListeners?: boolean;
  requireAddress?: boolean;
  addresses?: AddressesExpectation;
  attachedListenerSets?: number;
}

export interface ListenerSetStatusCheck extends CheckBase {
  kind: 'listenerSetStatus';
  listenerSet: { namespace: string; name: string };
  conditions?: ConditionExpectation[];
  listeners?: ListenerExpectation[];
  exactListeners?: boolean;
  allowEmptyListeners?: boolean;
}

export interface GatewayClassStatusCheck extends CheckBase {
  kind: 'gatewayClassStatus';
  gatewayClass: { name: string };
  conditions?: ConditionExpectation[];
}

export interface PolicyStatusCheck extends CheckBase {
  kind: 'policyStatus';
  policy: { kind: string; namespace: string; name: string };
  ancestors?: AncestorExpectation[];
  observedGenerationCurrent?: boolean;
}

export interface ObjectTarget {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface LatestConditionsCheck extends CheckBase {
  kind: 'latestConditions';
  target: ObjectTarget;
}

export type StatusCheck =
  | RouteStatusCheck
  | GatewayStatusCheck
  | ListenerSetStatusCheck
  | GatewayClassStatusCheck
  | PolicyStatusCheck
  | LatestConditionsCheck;

export interface PatchStep extends CheckBase {
  kind: 'patch';
  target: ObjectTarget;
  mergePatch: Record<string, unknown>;
  expectGenerationChange?: boolean;
}

export interface DeleteStep extends CheckBase {
  kind: 'delete';
  target: ObjectTarget;
}

export interface ApplyStep extends CheckBase {
  kind: 'apply';
  object: Record<string, unknown>;
  sleepBeforeSeconds?: number;
}

export interface SleepStep extends CheckBase {
  kind: 'sleep';
  seconds: number;
}

export interface FillEndpointSlicesStep extends CheckBase {
  kind: 'fillEndpointSlices';
  namespace: string;
  endpointSlices: string[];
  fromBackend: string;
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

export type Step = PatchStep | DeleteStep | ApplyStep | SleepStep | FillEndpointSlicesStep;

/** Anything else (traffic kinds, `note`, kinds this runner does not know). */
export interface OtherCheck extends CheckBase {
  kind: string;
  [field: string]: unknown;
}

export type Check = StatusCheck | Step | OtherCheck;

export const STATUS_KINDS: ReadonlySet<string> = new Set([
  'routeStatus',
  'gatewayStatus',
  'listenerSetStatus',
  'gatewayClassStatus',
  'policyStatus',
  'latestConditions',
]);

export const STEP_KINDS: ReadonlySet<string> = new Set(['patch', 'delete', 'apply', 'sleep', 'fillEndpointSlices']);

export const TRAFFIC_KINDS: ReadonlySet<string> = new Set([
  'http',
  'weights',
  'mirror',
  'grpc',
  'tcp',
  'tls',
  'udp',
  'websocket',
  'timing',
  'backendHeaderConsistency',
]);

export function isStatusCheck(c: Check): c is StatusCheck {
  return STATUS_KINDS.has(c.kind);
}

export function isStep(c: Check): c is Step {
  return STEP_KINDS.has(c.kind);
}

/** A generatedSecrets entry (TRANSPORT-KINDS.md 2.1). */
export interface GeneratedSecretSpec {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  namespace: string;
  type?: string;
  keys?: string[];
  isCA?: boolean;
  selfSigned?: boolean;
  signedBy?: { kind: string; namespace: string; name: string };
  hosts?: string[];
  dnsNames?: string[];
  uriSANs?: string[];
  ipSANs?: string[];
  subject?: string;
  keyUsage?: string[];
  extKeyUsage?: string[];
  key?: string;
  serial?: number;
  validity?: string;
}

export interface CaseFile {
  name: string;
  description?: string;
  source?: string;
  features: string[];
  manifests: string[];
  checks: Check[];
  provisional?: boolean;
  skipIfFeatures?: string[];
  skipUnlessFeatures?: string[];
  generatedSecrets?: GeneratedSecretSpec[];
}
