/**
 * `GET /api/explain?request=GET%20http://host/path&header=name:%20value[&gateway=NS/NAME][&port=N][&output=text]`:
 * `sluice explain` against the configuration being served, with the
 * status the data plane's results produced (a listener that failed to bind
 * shows as not programmed). The request's port is the port clients use:
 * the running gateway's `--port-offset` is read from the bound sockets.
 */
import type { KubeObject } from '../api/object.ts';
import type { IR } from '../ir/types.ts';
import type { AdminSource } from './server.ts';

export async function explainRoute(source: AdminSource, query: URLSearchParams): Promise<[number, unknown]> {
  const ir = source.config() as IR | undefined;
  if (ir === undefined) return [503, { error: 'no configuration loaded yet' }];
  const request = query.get('request');
  if (request === null || request.trim() === '') {
    return [400, { error: 'request is required, e.g. /api/explain?request=GET%20http://example.com/' }];
  }
  const output = query.get('output') ?? 'json';
  if (output !== 'json' && output !== 'text') return [400, { error: `output must be json or text (got "${output}")` }];

  // Loaded on first use: the control process of a cluster otherwise never loads the data plane's code.
  const x = await import('../explain/index.ts');
  const status = (source.status() ?? {}) as { resources?: unknown; sockets?: unknown };
  try {
    const port = query.get('port');
    const gateway = query.get('gateway');
    const explanation = x.explain({
      ir,
      resources: Array.isArray(status.resources) ? (status.resources as KubeObject[]) : [],
      request: x.parseRequest({
        request,
        headers: query.getAll('header'),
        ...(port !== null ? { port: x.parsePort(port) } : {}),
      }),
      ...(gateway !== null ? { gateway: x.parseGatewayRef(gateway) } : {}),
      portOffset: portOffset(status.sockets),
    });
    return [200, output === 'text' ? x.renderText(explanation).trimEnd() : explanation];
  } catch (err) {
    if (err instanceof x.ExplainInputError) return [400, { error: err.message }];
    throw err;
  }
}

/** Every socket is bound at its IR port plus the same offset. */
function portOffset(sockets: unknown): number {
  const s = Array.isArray(sockets) ? (sockets[0] as { port?: unknown; boundPort?: unknown } | undefined) : undefined;
  return typeof s?.port === 'number' && typeof s.boundPort === 'number' ? s.boundPort - s.port : 0;
}
