/**
 * EnvoyProxy `telemetry.metrics.enablePerEndpointStats`: HTTP requests
 * counted per upstream endpoint (`address:port`) of a Gateway's backends, by
 * status class. Endpoints come from configuration (EndpointSlices, Backend
 * resources, DNS answers for FQDN backends), so the label stays bounded;
 * ids are assigned the first time a request reaches an endpoint. Only
 * Gateways that ask for it carry an instance: for the others the request
 * path does nothing.
 */
import type { DataPlaneMetrics } from './data-plane-metrics.ts';

export class EndpointStats {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly metrics: DataPlaneMetrics,
    /** `<namespace>/<name>` of the Gateway. */
    private readonly gateway: string,
  ) {}

  record(backend: string, endpoint: string, code: number): void {
    const key = `${backend}|${endpoint}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.metrics.classSeries(['endpoint', this.gateway, backend, endpoint]);
      this.ids.set(key, id);
    }
    this.metrics.classRequest(id, code);
  }
}
