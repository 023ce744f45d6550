/**
 * What the EndpointSlice controller would publish for a Service. The status
 * half uses fake loopback endpoints; the traffic half swaps in an
 * EndpointSource that knows the echo processes it started.
 */
import type { Endpoint, EndpointPort, Service } from '../../src/api/core.ts';
import type { KubeObject } from '../../src/api/object.ts';
import { isPlainObject } from './merge-patch.ts';

export interface SliceContent {
  addressType: 'IPv4' | 'IPv6';
  endpoints: Endpoint[];
  ports: EndpointPort[];
}

export interface EndpointSource {
  /** The EndpointSlices for a Service with a selector, given the Deployments that selector matches. */
  slicesFor(service: Service, deployments: KubeObject[]): SliceContent[];
  /** Addresses of a Deployment's processes (fillEndpointSlices). */
  addressesOf(deployment: KubeObject): string[];
  /**
   * Where a container port of the Deployment's processes really listens
   * (fillEndpointSlices keeps hand-written slice ports, which name container
   * ports); absent when processes listen on their container ports.
   */
  mapPort?(deployment: KubeObject, containerPort: number): number;
}

function podTemplate(deployment: KubeObject): Record<string, unknown> {
  const spec = isPlainObject(deployment.spec) ? deployment.spec : {};
  return isPlainObject(spec.template) ? spec.template : {};
}

export function podLabels(deployment: KubeObject): Record<string, string> {
  const meta = podTemplate(deployment).metadata;
  return isPlainObject(meta) && isPlainObject(meta.labels) ? (meta.labels as Record<string, string>) : {};
}

/** Deployments in the Service's namespace whose pod labels satisfy its selector. */
export function selectedDeployments(service: Service, deployments: KubeObject[]): KubeObject[] {
  const selector = service.spec?.selector;
  if (!selector || !Object.keys(selector).length) return [];
  return deployments.filter((d) => {
    if (d.metadata.namespace !== service.metadata.namespace) return false;
    const labels = podLabels(d);
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
  });
}

/** A named targetPort resolves against the containers' named ports, as kube-proxy would. */
function containerPort(deployments: KubeObject[], name: string): number | undefined {
  for (const d of deployments) {
    const spec = podTemplate(d).spec;
    const containers = isPlainObject(spec) && Array.isArray(spec.containers) ? spec.containers : [];
    for (const c of containers as Record<string, unknown>[]) {
      for (const p of (Array.isArray(c.ports) ? c.ports : []) as Record<string, unknown>[]) {
        if (p.name === name && typeof p.containerPort === 'number') return p.containerPort;
      }
    }
  }
  return undefined;
}

/** Slice ports: one per Service port, numbered with its targetPort. */
export function slicePorts(service: Service, deployments: KubeObject[]): EndpointPort[] {
  return (service.spec?.ports ?? []).map((p) => {
    const target =
      typeof p.targetPort === 'number'
        ? p.targetPort
        : typeof p.targetPort === 'string'
          ? (containerPort(deployments, p.targetPort) ?? p.port)
          : p.port;
    const out: EndpointPort = { name: p.name ?? '', port: target, protocol: p.protocol ?? 'TCP' };
    if (p.appProtocol !== undefined) out.appProtocol = p.appProtocol;
    return out;
  });
}

/** Every selected Service gets one loopback endpoint when some Deployment backs it, none otherwise. */
export const loopbackEndpoints: EndpointSource = {
  slicesFor(service, deployments) {
    const ready = { ready: true, serving: true, terminating: false };
    return [
      {
        addressType: 'IPv4',
        endpoints: deployments.length ? [{ addresses: ['127.0.0.1'], conditions: ready }] : [],
        ports: slicePorts(service, deployments),
      },
    ];
  },
  addressesOf() {
    return ['127.0.0.1'];
  },
};
