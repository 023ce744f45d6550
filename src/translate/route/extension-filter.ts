/**
 * ExtensionRef filters: Envoy Gateway's HTTPRouteFilter
 * (gateway.envoyproxy.io), looked up in the route's namespace. Supported:
 * `directResponse` (inline body or a ConfigMap's `response.body`, content
 * type, response headers) and `urlRewrite` (regex path rewrite; Host from a
 * header or from the selected backend). Anything else the resource asks for
 * (cookie matches, credential injection, Host from a path regex) cannot be
 * honoured and makes the rule invalid rather than silently ignored.
 */
import type { DirectResponseIR, FilterIR, URLRewriteIR } from '../../ir/types.ts';
import type { RouteKind } from '../backend/index.ts';
import { ENVOY_GATEWAY_GROUP } from '../context.ts';
import type { RouteScope } from './backends.ts';
import { regexError } from './regex.ts';
import type { RouteIssue } from './types.ts';

export interface ExtensionFilterBuild {
  filters: FilterIR[];
  terminal: boolean;
  /** Invalid configuration (the rule is invalid). */
  invalid?: string;
  /** The reference does not resolve (ResolvedRefs=False, requests answered with 500). */
  unresolved?: RouteIssue;
}

/** Key of a ConfigMap holding a direct response body, as Envoy Gateway reads it. */
const BODY_KEY = 'response.body';

export function extensionRefFilter(
  scope: RouteScope,
  ref: { group: string; kind: string; name: string },
  at: string,
  routeKind: RouteKind,
): ExtensionFilterBuild {
  const out: ExtensionFilterBuild = { filters: [], terminal: false };
  const namespace = scope.referrer.namespace;
  if (ref.group !== ENVOY_GATEWAY_GROUP || ref.kind !== 'HTTPRouteFilter') {
    out.unresolved = {
      reason: 'UnsupportedValue',
      message: `${at}: unsupported filter kind ${ref.kind}.${ref.group || 'core'}; ${ENVOY_GATEWAY_GROUP}/HTTPRouteFilter is supported`,
    };
    return out;
  }
  const hrf = scope.ctx.snapshot.httpRouteFilters.find(
    (f) => f.metadata.name === ref.name && (f.metadata.namespace ?? '') === namespace,
  );
  if (!hrf) {
    out.unresolved = {
      reason: 'UnsupportedValue',
      message: `${at}: HTTPRouteFilter ${namespace}/${ref.name} not found`,
    };
    return out;
  }
  const spec = hrf.spec ?? {};
  const name = `HTTPRouteFilter ${namespace}/${ref.name}`;
  if (spec.matches?.length) return invalid(out, `${name}: spec.matches is not supported`);
  if (spec.credentialInjection) return invalid(out, `${name}: spec.credentialInjection is not supported`);

  if (spec.urlRewrite) {
    const rewrite: URLRewriteIR = {};
    const path = spec.urlRewrite.path;
    if (path) {
      const rm = path.replaceRegexMatch;
      if (path.type !== 'ReplaceRegexMatch' || !rm || rm.pattern === '') {
        return invalid(out, `${name}: spec.urlRewrite.path needs type ReplaceRegexMatch with a pattern`);
      }
      const err = regexError(rm.pattern);
      if (err) return invalid(out, `${name}: spec.urlRewrite.path.replaceRegexMatch.pattern: ${err}`);
      rewrite.path = { type: 'RegexReplace', pattern: rm.pattern, substitution: rm.substitution };
    }
    const host = spec.urlRewrite.hostname;
    if (host) {
      if (host.type === 'Header') {
        if (!host.header) return invalid(out, `${name}: spec.urlRewrite.hostname.header is required for type Header`);
        rewrite.hostFromHeader = host.header;
      } else if (host.type === 'Backend') {
        rewrite.hostFromBackend = true;
      } else {
        return invalid(out, `${name}: spec.urlRewrite.hostname.type ${host.type} is not supported`);
      }
    }
    if (rewrite.path || rewrite.hostFromHeader || rewrite.hostFromBackend) {
      out.filters.push({ type: 'URLRewrite', rewrite });
    }
  }

  const dr = spec.directResponse;
  if (dr) {
    const statusCode = dr.statusCode ?? 200;
    if (routeKind === 'GRPCRoute' && statusCode >= 200 && statusCode < 300) {
      // A 2xx without gRPC framing would look like success to a gRPC client.
      return invalid(out, `${name}: spec.directResponse.statusCode must not be 2xx for a GRPCRoute`);
    }
    const response: DirectResponseIR = { statusCode };
    if (dr.body) {
      const body = directResponseBody(scope, namespace, dr.body);
      if (typeof body !== 'string') return invalid(out, `${name}: spec.directResponse.body: ${body.error}`);
      response.body = body;
    }
    if (dr.contentType) response.contentType = dr.contentType;
    const h = dr.header;
    if (h && (h.add?.length || h.set?.length || h.remove?.length)) {
      // Placed before the direct response so its response phase sees the local answer.
      out.filters.push({
        type: 'ResponseHeaderModifier',
        modifier: {
          ...(h.set?.length ? { set: h.set.map((x) => ({ name: x.name, value: x.value })) } : {}),
          ...(h.add?.length ? { add: h.add.map((x) => ({ name: x.name, value: x.value })) } : {}),
          ...(h.remove?.length ? { remove: [...h.remove] } : {}),
        },
      });
    }
    out.filters.push({ type: 'DirectResponse', response });
    out.terminal = true;
  }
  return out;
}

function directResponseBody(
  scope: RouteScope,
  namespace: string,
  body: { type: string; inline?: string; valueRef?: { group: string; kind: string; name: string } },
): string | { error: string } {
  if (body.type === 'ValueRef') {
    const ref = body.valueRef;
    if (!ref || (ref.group ?? '') !== '' || ref.kind !== 'ConfigMap')
      return { error: 'valueRef must name a ConfigMap' };
    const cm = scope.ctx.configMap(namespace, ref.name);
    const value = cm?.data?.[BODY_KEY];
    if (value === undefined) return { error: `ConfigMap ${namespace}/${ref.name} has no key ${BODY_KEY}` };
    return value;
  }
  return body.inline ?? '';
}

function invalid(out: ExtensionFilterBuild, message: string): ExtensionFilterBuild {
  out.invalid = message;
  return out;
}
