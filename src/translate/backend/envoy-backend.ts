/**
 * A backendRef to an Envoy Gateway Backend (gateway.envoyproxy.io): its
 * endpoints are written in the resource (IP, FQDN or unix socket), so no
 * EndpointSlice is involved, and `appProtocols` may upgrade HTTP to h2c or
 * WebSocket.
 */
import { isIP } from 'node:net';
import type { EndpointIR } from '../../ir/types.ts';
import type { TranslationContext } from '../context.ts';
import { envoyBackendAppProtocol } from './app-protocol.ts';
import type { BackendRefSpec, BackendResolution, RouteKind } from './types.ts';

export function resolveEnvoyBackend(
  ctx: TranslationContext,
  namespace: string,
  ref: BackendRefSpec,
  kind: RouteKind,
  field: string,
): BackendResolution {
  const backend = ctx.backend(namespace, ref.name);
  if (!backend) {
    return {
      ok: false,
      error: { reason: 'BackendNotFound', message: `${field}: Backend ${namespace}/${ref.name} not found` },
    };
  }
  if (backend.spec.type === 'DynamicResolver') {
    // Resolving the request's own host needs a DNS-driven data plane Sluice does not have.
    return {
      ok: false,
      error: {
        reason: 'UnsupportedValue',
        message: `${field}: Backend ${namespace}/${ref.name}: type DynamicResolver is not supported`,
      },
    };
  }
  const endpoints: EndpointIR[] = [];
  for (const ep of backend.spec.endpoints ?? []) {
    if (ep.ip && isIP(ep.ip.address) !== 0) endpoints.push({ address: ep.ip.address, port: ep.ip.port, kind: 'ip' });
    else if (ep.fqdn) endpoints.push({ address: ep.fqdn.hostname, port: ep.fqdn.port, kind: 'fqdn' });
    else if (ep.unix) endpoints.push({ address: ep.unix.path, port: 0, kind: 'unix' });
  }
  return {
    ok: true,
    backend: {
      name: `Backend/${namespace}/${ref.name}`,
      ref: { kind: 'Backend', namespace, name: ref.name, ...(ref.port !== undefined ? { port: ref.port } : {}) },
      protocol: envoyBackendAppProtocol(backend.spec.appProtocols, kind),
      endpoints,
    },
  };
}
