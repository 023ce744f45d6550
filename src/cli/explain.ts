/**
 * `sluice explain --config DIR 'GET https://host/path?q' -H 'name: value'`:
 * the path of one request through the gateway (listener, virtual host,
 * route entry and why every other one lost, filters, backends, policies,
 * routes that were not attached). Bad input is one line and exit 2.
 */
import type { Logger } from '../observability/logger.ts';
import { formatProblem } from '../providers/snapshot.ts';
import { resourcesWithStatus, translate } from '../translate/index.ts';
import { oneOf, parseFlags, UsageError } from './args.ts';
import { loadConfigDir } from './load.ts';
import { translateFlags, translateOptionsFrom } from './translate-flags.ts';

export const explainUsage = `Usage: sluice explain --config DIR '[METHOD] URL' [-H 'Name: value']... [--port N] [--gateway NS/NAME]
                      [--output text|json] [--controller-name NAME] [--address-pool CIDR] [--bind ADDR]`;

export async function runExplain(argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...translateFlags,
      header: { type: 'string', short: 'H', multiple: true },
      port: { type: 'string' },
      gateway: { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
    true,
  );
  const output = oneOf('output', values.output, ['text', 'json'] as const, 'text');
  if (positionals.length === 0) throw new UsageError(`a request is required, e.g. 'GET http://example.com/'`);
  // Loaded here, not at startup: it brings the data plane's compiler and router (see src/explain/index.ts).
  const { explain, renderText, ExplainInputError, parseGatewayRef, parsePort, parseRequest } =
    await import('../explain/index.ts');
  let request;
  let gateway;
  try {
    request = parseRequest({
      request: positionals.join(' '),
      headers: values.header ?? [],
      ...(values.port !== undefined ? { port: parsePort(values.port) } : {}),
    });
    gateway = values.gateway !== undefined ? parseGatewayRef(values.gateway) : undefined;
  } catch (err) {
    if (err instanceof ExplainInputError) throw new UsageError(err.message);
    throw err;
  }
  const options = translateOptionsFrom(values);
  const loaded = await loadConfigDir(values.config, log);
  for (const p of loaded.problems) log.error(formatProblem(p));

  const result = translate(loaded.snapshot, options);
  const explanation = explain({
    ir: result.ir,
    resources: resourcesWithStatus(loaded.snapshot, result),
    request,
    ...(gateway ? { gateway } : {}),
  });
  process.stdout.write(output === 'json' ? JSON.stringify(explanation, null, 2) + '\n' : renderText(explanation));
  return 0;
}
