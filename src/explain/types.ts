/**
 * What `sluice explain` answers for one request: plain, serialisable data
 * (printed as JSON by `--output json` and `/api/explain`), rendered for
 * people by render-text.ts. Every verdict comes from the data plane's own
 * compiled tables (see dataplane.ts); this module only names the reasons.
 */
import type { FilterIR, ObjectRef } from '../ir/types.ts';

export interface ExplainRequest {
  method: string;
  /** As given. */
  url: string;
  scheme: 'http' | 'https';
  /** Host header value as the gateway receives it (the URL's authority unless `-H 'Host: ...'`). */
  authority: string;
  /** What the router matches: lower case, without port or trailing dot. */
  host: string;
  /** The port the client connects to: `--port`, else the URL's, else the scheme's default. */
  port: number;
  /** The URL's host: where the client connects (an IP literal narrows the Gateways), and its TLS SNI. */
  connectHost: string;
  /** TLS server name a client sends (absent for http and IP literals). */
  sni?: string;
  /** Path as routed (dot segments removed), without the query. */
  path: string;
  /** `?...` or ''. */
  query: string;
  /** Request headers as given (a Host header is added first when none is given). */
  headers: Array<{ name: string; value: string }>;
}

export interface ConditionSummary {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface NamespacedName {
  namespace: string;
  name: string;
}

export interface Explanation {
  request: ExplainRequest;
  /** One per address:port of a Gateway the request can reach; empty when none listens there. */
  paths: GatewayPath[];
  /** Every listener considered (only the `--gateway` one's when given), and whether it takes the request. */
  listeners: ListenerVerdict[];
  /** Routes naming this host that the chosen listeners do not serve, with their status. */
  routesNotServed: RouteNotServed[];
  /** The data plane's compile problems that touch this request's listeners or routes. */
  problems: string[];
}

export interface ListenerVerdict {
  /** IR-style name: `<gw ns>/<gw>/<section>` (`<gw ns>/<gw>/<ls ns>/<ls>/<section>` for a ListenerSet's). */
  name: string;
  gateway: NamespacedName;
  listenerSet?: NamespacedName;
  sectionName: string;
  port: number;
  protocol: string;
  hostname?: string;
  verdict: 'accepts' | 'rejects';
  /** Why it does not take the request (every reason found); empty when it accepts. */
  reasons: string[];
}

export type OutcomeKind =
  | 'proxied'
  | 'redirect'
  | 'direct-response'
  | 'cors-preflight'
  | 'error'
  | 'not-found'
  | 'misdirected'
  | 'wrong-protocol';

export interface Outcome {
  kind: OutcomeKind;
  /** The status the gateway answers itself (absent when proxied). */
  status?: number;
  /** One line for people. */
  summary: string;
  /** Redirects. */
  location?: string;
  /** Direct responses with a body. */
  body?: string;
}

/** The request's path through one Gateway address:port. */
export interface GatewayPath {
  address: string;
  /** The port bound (the IR port plus any `--port-offset` of the running gateway). */
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  /** IR listeners served on this socket. */
  socketListeners: string[];
  /** The listener picked by Host (most specific hostname). */
  listener?: string;
  gateway?: NamespacedName;
  /** The virtual host picked by Host (most specific hostname) on that listener. */
  virtualHost?: string;
  /** The winning route entry. */
  route?: RouteEntryVerdict;
  /** Every route entry on the listener, the winner included, in the data plane's order. */
  entries: RouteEntryVerdict[];
  /** Filters of the winning entry in the order they run. */
  filters: FilterStep[];
  backends: BackendExplanation[];
  /** What the upstream request looks like after the filters (proxied requests). */
  upstream?: { host: string; path: string };
  traffic?: TrafficSettings;
  policies: PolicyExplanation[];
  outcome: Outcome;
}

export interface MatchSummary {
  path: { type: string; value: string };
  method?: string;
  headers: Array<{ name: string; type: string; value: string }>;
  queryParams: Array<{ name: string; type: string; value: string }>;
}

export interface Mismatch {
  on: 'hostname' | 'path' | 'method' | 'header' | 'query';
  /** Header or query parameter name. */
  name?: string;
  /** What the entry asks for, e.g. `PathPrefix /cart` or `Exact "beta"`. */
  want: string;
  /** What the request has (null: absent). */
  got: string | null;
}

export type EntryVerdict = 'selected' | 'no-match' | 'lower-precedence' | 'other-host' | 'not-served';

export interface RouteEntryVerdict {
  /** IR route entry name. */
  entry: string;
  route: ObjectRef;
  ruleIndex: number;
  ruleName?: string;
  matchIndex: number;
  /** The virtual host the entry belongs to. */
  hostname: string;
  match: MatchSummary;
  verdict: EntryVerdict;
  /** no-match: every criterion the request fails; other-host: the hostname. */
  mismatches: Mismatch[];
  /** lower-precedence: why the winner comes first; other-host: why that host is not the one picked. */
  reason?: string;
}

export interface FilterStep {
  type: FilterIR['type'];
  /** Where it runs: on the request, on the response, or both (CORS). Empty: the filter could not be built. */
  phases: Array<'request' | 'response'>;
  /** Key parameters, one line. */
  summary: string;
  /** `route` filters run for every request of the entry; `backend` ones only when that backend is picked. */
  scope: 'route' | 'backend';
  /** For backend filters: the backend's name. */
  backend?: string;
}

export interface BackendExplanation {
  name: string;
  ref: ObjectRef & { port?: number };
  weight: number;
  /** Share of requests, in percent (weights of all backendRefs, invalid ones included, as the spec counts them). */
  percent: number;
  protocol: string;
  endpoints: string[];
  /** Why requests picked for it get a 500 (from the route's ResolvedRefs status). */
  invalid?: string;
  /** Notes: no endpoints (503 when picked), weight 0, TLS towards it. */
  notes: string[];
  filters: FilterStep[];
}

export interface TrafficSettings {
  requestTimeoutMs?: number;
  backendRequestTimeoutMs?: number;
  retry?: { attempts: number; codes: number[]; backoffMs?: number };
  sessionPersistence?: Record<string, unknown>;
}

export interface PolicyExplanation {
  /** Where it attaches on this request's path. */
  at: 'gateway' | 'listener' | 'route' | 'backend';
  /** What it targets, e.g. `Gateway default/web` or `Service default/app`. */
  target: string;
  /** The policy object, when the setting is known to come from one. */
  policy?: ObjectRef;
  /** What the IR carries for it; a note when nothing. */
  effect: string;
  /** False: the object targets this path but Sluice does not apply its kind yet. */
  applied: boolean;
  conditions: ConditionSummary[];
}

export interface RouteNotServed {
  route: ObjectRef;
  /** `spec.hostnames` (empty: any host). */
  hostnames: string[];
  /** Why it is not in the chosen listener's table, one line. */
  summary: string;
  parents: Array<{ parentRef: string; conditions: ConditionSummary[] }>;
}
