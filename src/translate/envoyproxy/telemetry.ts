/**
 * Envoy Gateway `EnvoyProxy` `spec.telemetry` → `GatewayIR.telemetry`.
 *
 * A Gateway's EnvoyProxy is the one its `spec.infrastructure.parametersRef`
 * names (same namespace), else the one of its GatewayClass's
 * `spec.parametersRef`. The Gateway's one replaces the class's one whole:
 * EnvoyProxy `mergeType` is not honoured (documented in docs/access-logs.md).
 *
 * Each part (access log, metrics, tracing) is checked on its own. A part
 * that cannot be served is left out - the Gateway keeps serving, with that
 * part at its default (access log on stdout, Prometheus on, no tracing) -
 * and the reason goes onto the EnvoyProxy's `status.ancestors` entry for the
 * referrer (the Gateway or GatewayClass) as Accepted=False, the way Envoy
 * Gateway reports telemetry problems: messages name the field
 * (`spec.telemetry.tracing.provider.type: ...`).
 *
 * OTLP endpoints: `host` + `port` give `http://host:port`; `backendRefs`
 * (or the older `backendRef`) give the first endpoint of the first
 * resolvable Service or Backend, a cross-namespace reference needing a
 * ReferenceGrant from the EnvoyProxy's namespace. The transport is gRPC, as
 * Envoy Gateway's Envoy always speaks it, unless the endpoint says OTLP/HTTP:
 * port 4318 (its well-known port, on the host, the Service or the endpoint)
 * or a Service port with appProtocol `http`.
 */
import { parse } from '@bufbuild/cel';
import { isIPv6 } from 'node:net';
import type { EnvoyProxy, Gateway, GatewayClass } from '../../api/generated/index.ts';
import type {
  AccessLogIR,
  AccessLogSettingIR,
  AccessLogSinkIR,
  MetricsTelemetryIR,
  OtlpEndpointIR,
  TelemetryIR,
  TracingIR,
  TracingTagIR,
} from '../../ir/types.ts';
import { compileJsonFormat, compileTextFormat } from '../../observability/access-log.ts';
import { resolveEnvoyBackend } from '../backend/envoy-backend.ts';
import { pickServicePort, resolveService } from '../backend/service.ts';
import type { BackendRefSpec, BackendResolution } from '../backend/types.ts';
import { ENVOY_GATEWAY_GROUP, GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import { PolicyStatuses, type AncestorRef } from '../policy/status.ts';
import type { PolicyObject } from '../policy/targets.ts';

type Telemetry = NonNullable<EnvoyProxy['spec']['telemetry']>;
type AccessLogSpec = NonNullable<Telemetry['accessLog']>;
type AccessLogSettingSpec = NonNullable<AccessLogSpec['settings']>[number];
type MetricsSpec = NonNullable<Telemetry['metrics']>;
type TracingSpec = NonNullable<Telemetry['tracing']>;

/** The OTLP destination fields every sink and provider shares. */
interface OtlpSpec {
  host?: string;
  port?: number;
  backendRef?: BackendRefSpec;
  backendRefs?: BackendRefSpec[];
  headers?: Array<{ name: string; value: string }>;
  resourceAttributes?: Record<string, string>;
  resources?: Record<string, string>;
}

const TELEMETRY = 'spec.telemetry';

/** The EnvoyProxy of a Gateway and the object whose parametersRef named it, or undefined. */
export function envoyProxyFor(
  ctx: TranslationContext,
  gateway: Gateway,
  gatewayClass: GatewayClass,
): { proxy: EnvoyProxy; ancestor: AncestorRef } | undefined {
  const own = gateway.spec.infrastructure?.parametersRef;
  const ns = gateway.metadata.namespace ?? '';
  if (own && own.group === ENVOY_GATEWAY_GROUP && own.kind === 'EnvoyProxy') {
    const proxy = findProxy(ctx, ns, own.name);
    return (
      proxy && {
        proxy,
        ancestor: { group: GATEWAY_GROUP, kind: 'Gateway', namespace: ns, name: gateway.metadata.name },
      }
    );
  }
  const cls = gatewayClass.spec.parametersRef;
  if (cls && cls.group === ENVOY_GATEWAY_GROUP && cls.kind === 'EnvoyProxy' && cls.namespace) {
    const proxy = findProxy(ctx, cls.namespace, cls.name);
    return (
      proxy && {
        proxy,
        ancestor: { group: GATEWAY_GROUP, kind: 'GatewayClass', namespace: '', name: gatewayClass.metadata.name },
      }
    );
  }
  return undefined;
}

function findProxy(ctx: TranslationContext, namespace: string, name: string): EnvoyProxy | undefined {
  return ctx.snapshot.envoyProxies.find((p) => p.metadata.name === name && (p.metadata.namespace ?? '') === namespace);
}

/**
 * Fills the telemetry of the Gateways' IR and writes the EnvoyProxies'
 * status. Called once per translation, after the Gateways are built.
 */
export class EnvoyProxyTelemetry {
  readonly #statuses: PolicyStatuses;
  readonly #problems = new Map<string, { proxy: EnvoyProxy; ancestor: AncestorRef; messages: Set<string> }>();

  constructor(private readonly ctx: TranslationContext) {
    this.#statuses = new PolicyStatuses(ctx);
  }

  /** The Gateway's TelemetryIR (undefined: no EnvoyProxy, or one without `spec.telemetry`). */
  forGateway(gateway: Gateway, gatewayClass: GatewayClass): TelemetryIR | undefined {
    const found = envoyProxyFor(this.ctx, gateway, gatewayClass);
    if (!found) return undefined;
    const { proxy, ancestor } = found;
    const key = `${proxy.metadata.namespace ?? ''}/${proxy.metadata.name}|${ancestor.kind}/${ancestor.namespace}/${ancestor.name}`;
    let entry = this.#problems.get(key);
    if (!entry) this.#problems.set(key, (entry = { proxy, ancestor, messages: new Set() }));
    const t = proxy.spec.telemetry;
    if (!t) return undefined;
    const problems: string[] = [];
    const ir = translateTelemetry(this.ctx, proxy, gateway, t, problems);
    for (const p of problems) entry.messages.add(p);
    return ir;
  }

  /** EnvoyProxy `status.ancestors`: Accepted True, or False (Invalid) with every problem found for that referrer. */
  write(): void {
    for (const { proxy, ancestor, messages } of this.#problems.values()) {
      // PolicyStatus reads only the metadata and the previous status.ancestors, which EnvoyProxy has too.
      const s = this.#statuses.of(proxy as unknown as PolicyObject);
      if (messages.size === 0) s.accept([ancestor]);
      else s.reject([ancestor], 'Invalid', [...messages].join('; '));
    }
    this.#statuses.write();
    // A GatewayClass is cluster-scoped: its ancestorRef has no namespace.
    for (const { proxy } of this.#problems.values()) {
      const st = this.ctx.status.of(proxy.apiVersion, proxy.kind, proxy.metadata.namespace, proxy.metadata.name);
      for (const a of (st.ancestors ?? []) as Array<{ ancestorRef: { kind?: string; namespace?: string } }>) {
        if (a.ancestorRef.kind === 'GatewayClass' && a.ancestorRef.namespace === '') delete a.ancestorRef.namespace;
      }
    }
  }
}

/** One EnvoyProxy's telemetry for one Gateway; problems are pushed as `spec.telemetry.<field>: why`. */
export function translateTelemetry(
  ctx: TranslationContext,
  proxy: EnvoyProxy,
  gateway: Gateway,
  t: Telemetry,
  problems: string[],
): TelemetryIR {
  const ns = proxy.metadata.namespace ?? '';
  const out: TelemetryIR = { source: `${ns}/${proxy.metadata.name}` };
  const otlp = (spec: OtlpSpec, field: string): OtlpEndpointIR | undefined =>
    otlpEndpoint(ctx, ns, spec, field, problems);
  if (t.accessLog) out.accessLog = accessLog(t.accessLog, otlp, problems);
  if (t.metrics) out.metrics = metrics(t.metrics, otlp);
  if (t.tracing) {
    const tracing = tracingIR(t.tracing, gateway, otlp, problems);
    if (tracing) out.tracing = tracing;
  }
  return out;
}

type OtlpResolver = (spec: OtlpSpec, field: string) => OtlpEndpointIR | undefined;

function accessLog(spec: AccessLogSpec, otlp: OtlpResolver, problems: string[]): AccessLogIR {
  const settings: AccessLogSettingIR[] = [];
  (spec.settings ?? []).forEach((s, i) => {
    const setting = accessLogSetting(s, `${TELEMETRY}.accessLog.settings[${i}]`, otlp, problems);
    if (setting) settings.push(setting);
  });
  return { disabled: spec.disable === true, settings };
}

function accessLogSetting(
  s: AccessLogSettingSpec,
  field: string,
  otlp: OtlpResolver,
  problems: string[],
): AccessLogSettingIR | undefined {
  let format: AccessLogSettingIR['format'];
  const f = s.format;
  const type = f?.type ?? (f?.json !== undefined && f.text === undefined ? 'JSON' : 'Text');
  try {
    if (type === 'JSON') {
      if (f?.json !== undefined) compileJsonFormat(f.json);
      format = f?.json !== undefined ? { type: 'JSON', json: f.json } : { type: 'JSON' };
    } else {
      if (f?.text !== undefined) compileTextFormat(f.text);
      format = f?.text !== undefined ? { type: 'Text', text: f.text } : { type: 'Text' };
    }
  } catch (err) {
    problems.push(`${field}.format.${type === 'JSON' ? 'json' : 'text'}: ${(err as Error).message}; setting ignored`);
    return undefined;
  }
  const matches = s.matches ?? [];
  for (let i = 0; i < matches.length; i++) {
    const why = celSyntaxError(matches[i]);
    if (why !== undefined) {
      problems.push(`${field}.matches[${i}]: invalid CEL expression: ${why}; setting ignored`);
      return undefined;
    }
  }
  const sinks: AccessLogSinkIR[] = [];
  s.sinks.forEach((sink, j) => {
    const where = `${field}.sinks[${j}]`;
    const kind = sink.type ?? (sink.openTelemetry ? 'OpenTelemetry' : sink.als ? 'ALS' : 'File');
    if (kind === 'File') {
      const path = sink.file?.path;
      if (!path) problems.push(`${where}.file.path: required for a File sink; sink ignored`);
      else sinks.push({ type: 'File', path });
    } else if (kind === 'OpenTelemetry') {
      if (!sink.openTelemetry)
        problems.push(`${where}.openTelemetry: required for an OpenTelemetry sink; sink ignored`);
      else {
        const endpoint = otlp(sink.openTelemetry, `${where}.openTelemetry`);
        if (endpoint) sinks.push({ type: 'OpenTelemetry', endpoint });
      }
    } else {
      problems.push(`${where}.type: ALS sinks are not supported; sink ignored`);
    }
  });
  if (sinks.length === 0) return undefined;
  const out: AccessLogSettingIR = { format, matches: [...matches], sinks };
  if (s.type) out.type = s.type;
  return out;
}

function metrics(spec: MetricsSpec, otlp: OtlpResolver): MetricsTelemetryIR {
  const sinks: OtlpEndpointIR[] = [];
  (spec.sinks ?? []).forEach((s, i) => {
    if (!s.openTelemetry) return;
    const e = otlp(s.openTelemetry, `${TELEMETRY}.metrics.sinks[${i}].openTelemetry`);
    if (e) sinks.push(e);
  });
  return {
    prometheusDisabled: spec.prometheus?.disable === true,
    enablePerEndpointStats: spec.enablePerEndpointStats === true,
    enableVirtualHostStats: spec.enableVirtualHostStats === true,
    enableRequestResponseSizesStats: spec.enableRequestResponseSizesStats === true,
    sinks,
  };
}

function tracingIR(spec: TracingSpec, gateway: Gateway, otlp: OtlpResolver, problems: string[]): TracingIR | undefined {
  const field = `${TELEMETRY}.tracing`;
  const p = spec.provider;
  if (p.type !== 'OpenTelemetry') {
    problems.push(`${field}.provider.type: ${p.type} is not supported, only OpenTelemetry; tracing is off`);
    return undefined;
  }
  const endpoint = otlp(
    {
      ...p,
      ...(p.openTelemetry?.headers ? { headers: p.openTelemetry.headers } : {}),
      ...attributesOf(p.openTelemetry),
    },
    `${field}.provider`,
  );
  if (!endpoint) return undefined;
  let samplingPercent = 100;
  if (spec.samplingRate !== undefined) samplingPercent = spec.samplingRate;
  else if (spec.samplingFraction !== undefined) {
    const { numerator, denominator = 100 } = spec.samplingFraction;
    samplingPercent = denominator > 0 ? (numerator / denominator) * 100 : 0;
  }
  samplingPercent = Math.min(100, Math.max(0, samplingPercent));
  const tags: Record<string, TracingTagIR> = {};
  for (const [name, tag] of Object.entries(spec.customTags ?? {})) {
    if (tag.type === 'Literal' && tag.literal) tags[name] = { type: 'Literal', value: tag.literal.value };
    else if (tag.type === 'Environment' && tag.environment) tags[name] = withDefault('Environment', tag.environment);
    else if (tag.type === 'RequestHeader' && tag.requestHeader)
      tags[name] = withDefault('RequestHeader', tag.requestHeader);
    else problems.push(`${field}.customTags.${name}: ${tag.type} needs its ${lowerFirst(tag.type)} field; tag ignored`);
  }
  for (const [name, value] of Object.entries(spec.tags ?? {})) tags[name] = tagFromOperator(value);
  return {
    samplingPercent,
    provider: {
      type: 'OpenTelemetry',
      endpoint,
      // Envoy Gateway's default service name: "<gateway name>.<gateway namespace>".
      serviceName: p.serviceName ?? `${gateway.metadata.name}.${gateway.metadata.namespace ?? ''}`,
    },
    tags,
  };
}

function withDefault(
  type: 'Environment' | 'RequestHeader',
  spec: { name: string; defaultValue?: string },
): TracingTagIR {
  return spec.defaultValue !== undefined
    ? { type, name: spec.name, defaultValue: spec.defaultValue }
    : { type, name: spec.name };
}

/** `tags` values are Envoy format strings: `%REQ(x)%` and `%ENVIRONMENT(X)%` read a header or variable, the rest is literal. */
function tagFromOperator(value: string): TracingTagIR {
  const req = /^%REQ\(([^)?:]+)\)%$/.exec(value);
  if (req) return { type: 'RequestHeader', name: req[1].toLowerCase() };
  const env = /^%ENVIRONMENT\(([^)]+)\)%$/.exec(value);
  if (env) return { type: 'Environment', name: env[1] };
  return { type: 'Literal', value };
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function attributesOf(o: { resourceAttributes?: Record<string, string> } | undefined): {
  resourceAttributes?: Record<string, string>;
} {
  return o?.resourceAttributes ? { resourceAttributes: o.resourceAttributes } : {};
}

/** The CEL parser's complaint, or undefined when the expression parses. */
export function celSyntaxError(expr: string): string | undefined {
  try {
    parse(expr);
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

function otlpEndpoint(
  ctx: TranslationContext,
  namespace: string,
  spec: OtlpSpec,
  field: string,
  problems: string[],
): OtlpEndpointIR | undefined {
  let url: string | undefined;
  let protocol: 'grpc' | 'http' = 'grpc';
  const refs =
    spec.backendRefs && spec.backendRefs.length > 0 ? spec.backendRefs : spec.backendRef ? [spec.backendRef] : [];
  if (refs.length > 0) {
    const errors: string[] = [];
    for (let i = 0; i < refs.length && url === undefined; i++) {
      const refField =
        spec.backendRefs && spec.backendRefs.length > 0 ? `${field}.backendRefs[${i}]` : `${field}.backendRef`;
      const r = resolveTelemetryBackend(ctx, namespace, refs[i], refField);
      if (!r.ok) errors.push(r.error.message);
      else {
        const e = r.backend.endpoints[0];
        if (e === undefined || e.kind === 'unix') errors.push(`${refField}: ${r.backend.name} has no usable endpoint`);
        else {
          url = `http://${hostPort(e.address, e.port)}`;
          protocol = refProtocol(ctx, namespace, refs[i], e.port);
        }
      }
    }
    if (url === undefined) {
      problems.push(...errors);
      return undefined;
    }
  } else if (spec.host) {
    const port = spec.port ?? 4317;
    url = `http://${hostPort(spec.host, port)}`;
    if (port === OTLP_HTTP_PORT) protocol = 'http';
  } else {
    problems.push(`${field}: host or backendRefs is required`);
    return undefined;
  }
  const out: OtlpEndpointIR = { url, protocol };
  if (spec.headers && spec.headers.length > 0)
    out.headers = spec.headers.map((h) => ({ name: h.name, value: h.value }));
  const attrs = { ...(spec.resources ?? {}), ...(spec.resourceAttributes ?? {}) };
  if (Object.keys(attrs).length > 0) out.resourceAttributes = attrs;
  return out;
}

/** The OTLP/HTTP receiver's well-known port (gRPC's is 4317). */
const OTLP_HTTP_PORT = 4318;

/**
 * A resolved backendRef's OTLP transport: HTTP when the Service port or the
 * endpoint port is 4318 or the Service port's appProtocol is `http`, gRPC
 * otherwise (Envoy Gateway's Backend `appProtocols` only name h2c and
 * WebSocket, so a Backend says HTTP by its port alone).
 */
function refProtocol(
  ctx: TranslationContext,
  from: string,
  ref: BackendRefSpec,
  endpointPort: number,
): 'grpc' | 'http' {
  if (ref.port === OTLP_HTTP_PORT || endpointPort === OTLP_HTTP_PORT) return 'http';
  if ((ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service' && ref.port !== undefined) {
    const svc = ctx.service(ref.namespace ?? from, ref.name);
    const appProtocol = svc && pickServicePort(svc, ref.port, 'TCPRoute')?.appProtocol?.toLowerCase();
    if (appProtocol === 'http') return 'http';
  }
  return 'grpc';
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A Service or Backend reference from an EnvoyProxy: a ReferenceGrant from EnvoyProxy is needed across namespaces. */
function resolveTelemetryBackend(
  ctx: TranslationContext,
  from: string,
  ref: BackendRefSpec,
  field: string,
): BackendResolution {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? from;
  const isService = group === '' && kind === 'Service';
  if (!isService && !(group === ENVOY_GATEWAY_GROUP && kind === 'Backend')) {
    return {
      ok: false,
      error: { reason: 'InvalidKind', message: `${field}: unsupported kind ${group ? `${kind}.${group}` : kind}` },
    };
  }
  if (
    !ctx.referenceAllowed(
      { group: ENVOY_GATEWAY_GROUP, kind: 'EnvoyProxy', namespace: from },
      { group, kind, namespace, name: ref.name },
    )
  ) {
    return {
      ok: false,
      error: {
        reason: 'RefNotPermitted',
        message: `${field}: reference to ${kind} ${namespace}/${ref.name} is not permitted by any ReferenceGrant in ${namespace}`,
      },
    };
  }
  return isService
    ? resolveService(ctx, namespace, ref, 'TCPRoute', field)
    : resolveEnvoyBackend(ctx, namespace, ref, 'TCPRoute', field);
}
