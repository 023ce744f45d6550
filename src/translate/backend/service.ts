/**
 * A backendRef to a core Service: the port (required), its transport and
 * appProtocol, and the ready endpoints from the Service's EndpointSlices
 * (label kubernetes.io/service-name), mapped from the Service port to the
 * target port the way kube-proxy does: by the EndpointSlice port carrying the
 * Service port's name. ExternalName Services resolve to their DNS name.
 */
import type { EndpointSlice, Service, ServicePort } from '../../api/core.ts';
import type { EndpointIR } from '../../ir/types.ts';
import type { TranslationContext } from '../context.ts';
import { serviceAppProtocol, transportFor } from './app-protocol.ts';
import type { BackendRefSpec, BackendResolution, RouteKind } from './types.ts';

export function resolveService(
  ctx: TranslationContext,
  namespace: string,
  ref: BackendRefSpec,
  kind: RouteKind,
  field: string,
): BackendResolution {
  const svc = ctx.service(namespace, ref.name);
  if (!svc) {
    return fail('BackendNotFound', `${field}: Service ${namespace}/${ref.name} not found`);
  }
  if (ref.port === undefined) {
    return fail('PortNotSpecified', `${field}: port is required for a Service backend`);
  }
  const picked = pickServicePort(svc, ref.port, kind);
  if (!picked) {
    return fail('PortNotFound', `${field}: Service ${namespace}/${ref.name} has no port ${ref.port}`);
  }
  const transport = transportFor(kind);
  if ((picked.protocol ?? 'TCP') !== transport) {
    return fail(
      'UnsupportedProtocol',
      `${field}: ${kind} needs a ${transport} port; Service ${namespace}/${ref.name} port ${ref.port} is ${picked.protocol}`,
    );
  }
  const protocol = serviceAppProtocol(picked.appProtocol, kind);
  if (!protocol) {
    return fail(
      'UnsupportedProtocol',
      `${field}: ${kind} cannot use appProtocol ${picked.appProtocol} of Service ${namespace}/${ref.name} port ${ref.port}`,
    );
  }
  const endpoints =
    svc.spec?.type === 'ExternalName' && svc.spec.externalName
      ? [{ address: svc.spec.externalName, port: ref.port, kind: 'fqdn' as const }]
      : endpointsFor(ctx.endpointSlices(namespace, ref.name), picked);
  return {
    ok: true,
    backend: {
      name: `Service/${namespace}/${ref.name}:${ref.port}`,
      ref: { kind: 'Service', namespace, name: ref.name, port: ref.port },
      protocol,
      endpoints,
    },
  };
}

/** The Service port for `port`, preferring one whose transport the route kind uses (DNS Services list 53 twice). */
export function pickServicePort(svc: Service, port: number, kind: RouteKind): ServicePort | undefined {
  const candidates = (svc.spec?.ports ?? []).filter((p) => p.port === port);
  const transport = transportFor(kind);
  return candidates.find((p) => (p.protocol ?? 'TCP') === transport) ?? candidates[0];
}

/** Ready endpoints (a missing `ready` condition counts as ready, as Kubernetes says) on the target port. */
export function endpointsFor(slices: EndpointSlice[], svcPort: ServicePort): EndpointIR[] {
  const out: EndpointIR[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    const port = targetPortIn(slice, svcPort);
    if (port === undefined) continue;
    const kind = slice.addressType === 'FQDN' ? 'fqdn' : 'ip';
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const address of ep.addresses) {
        const key = `${address}:${port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ address, port, kind });
      }
    }
  }
  return out;
}

function targetPortIn(slice: EndpointSlice, svcPort: ServicePort): number | undefined {
  const ports = slice.ports ?? [];
  const protocol = svcPort.protocol ?? 'TCP';
  const sameProtocol = ports.filter((p) => (p.protocol ?? 'TCP') === protocol);
  // The EndpointSlice controller names each slice port after its Service port.
  const byName = sameProtocol.find((p) => (p.name ?? '') === (svcPort.name ?? ''));
  if (byName?.port !== undefined) return byName.port;
  // Hand-written slices may leave names out: fall back to a numeric target port.
  const target =
    typeof svcPort.targetPort === 'number' ? svcPort.targetPort : svcPort.targetPort ? undefined : svcPort.port;
  if (target === undefined) return undefined;
  if (ports.length === 0) return target;
  return sameProtocol.find((p) => p.port === target && (p.name ?? '') === '')?.port;
}

function fail(reason: string, message: string): BackendResolution {
  return { ok: false, error: { reason, message } };
}
