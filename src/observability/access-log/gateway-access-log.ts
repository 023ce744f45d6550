/**
 * A Gateway's AccessLogger from its EnvoyProxy `telemetry.accessLog`
 * (GatewayIR.telemetry), once per configuration:
 * - no EnvoyProxy telemetry, or no `accessLog` in it: the command line's
 *   default logger (`--access-log`, stdout), possibly none;
 * - `disable: true`: none;
 * - no settings: Envoy Gateway's default, Envoy's text line on stdout;
 * - otherwise one output per setting × sink, with the setting's format
 *   (Text: its format string or Envoy's default line; JSON: its fields or
 *   Envoy Gateway's default ones), its CEL matches, and its type (Route:
 *   HTTP requests only; Listener and Upstream: also TCP/UDP sessions).
 */
import type { AccessLogIR, AccessLogSettingIR } from '../../ir/types.ts';
import {
  ENVOY_DEFAULT_TEXT_FORMAT,
  ENVOY_GATEWAY_JSON_FORMAT,
  compileJsonFormat,
  compileTextFormat,
  type Formatter,
} from './format.ts';
import { AccessLogger, type AccessLogOutput } from '../access-log.ts';
import { stdoutOutput } from './output.ts';
import { matchesModule } from '../telemetry-modules.ts';
import type { AccessLogSinks } from './sinks.ts';

export function buildAccessLogger(
  ir: AccessLogIR | undefined,
  fallback: AccessLogger | null,
  sinks: AccessLogSinks,
  used: Set<string>,
  where: string,
  errors: string[],
): AccessLogger | null {
  if (ir === undefined) return fallback;
  if (ir.disabled) return null;
  if (ir.settings.length === 0) {
    return new AccessLogger([
      { format: compileTextFormat(ENVOY_DEFAULT_TEXT_FORMAT), match: null, sessions: true, output: stdoutOutput() },
    ]);
  }
  const outputs: AccessLogOutput[] = [];
  ir.settings.forEach((s, i) => {
    try {
      const format = formatterOf(s);
      const match = s.matches.length === 0 ? null : matchesModule().compileMatches(s.matches);
      const sessions = s.type !== 'Route';
      for (const sink of s.sinks) {
        const output =
          sink.type === 'File'
            ? sinks.file(sink.path, used)
            : sinks.otlp(sink.endpoint, s.format.type === 'JSON', used);
        outputs.push({ format, match, sessions, output });
      }
    } catch (err) {
      errors.push(`${where}: access log settings[${i}]: ${(err as Error).message}; not logged`);
    }
  });
  return outputs.length === 0 ? null : new AccessLogger(outputs);
}

function formatterOf(s: AccessLogSettingIR): Formatter {
  const f = s.format;
  if (f.type === 'JSON') return compileJsonFormat(f.json ?? ENVOY_GATEWAY_JSON_FORMAT);
  if (f.text === undefined) return compileTextFormat(ENVOY_DEFAULT_TEXT_FORMAT);
  // An Envoy format string carries its own newline; one is added per line.
  return compileTextFormat(f.text.endsWith('\n') ? f.text.slice(0, -1) : f.text);
}
