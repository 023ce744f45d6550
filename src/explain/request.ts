/**
 * The request to explain, from what a user types: `[METHOD] URL` and
 * `Name: value` headers, like curl. The path and Host are normalised with
 * the data plane's own helpers, so the router sees what it would see.
 */
import { isIP } from 'node:net';
import { matchHost, removeDotSegments } from '../proxy/http/request-context.ts';
import type { ExplainRequest } from './types.ts';

/** Bad input: one line for the user (the CLI exits 2, the admin API answers 400). */
export class ExplainInputError extends Error {}

/** RFC 9110 token (method and header names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ABSOLUTE_URL = /^(https?):\/\/([^/?#]*)([^#]*)/i;

export interface RequestSpec {
  /** `GET https://shop.example.com/cart?x=1`, or just the URL (GET). */
  request: string;
  /** `Name: value` lines. */
  headers?: readonly string[];
  /** Overrides the port the client connects to. */
  port?: number;
}

export function parseRequest(spec: RequestSpec): ExplainRequest {
  const words = spec.request.trim().split(/\s+/);
  if (words.length > 2 || words[0] === '') {
    throw new ExplainInputError(`cannot read request "${spec.request}": expected "[METHOD] URL"`);
  }
  const method = words.length === 2 ? words[0] : 'GET';
  const url = words[words.length - 1];
  if (!TOKEN.test(method)) throw new ExplainInputError(`bad method "${method}"`);

  const m = ABSOLUTE_URL.exec(url);
  let parsed: URL | undefined;
  try {
    parsed = m === null ? undefined : new URL(`${m[1]}://${m[2]}/`);
  } catch {
    parsed = undefined;
  }
  if (m === null || parsed === undefined || parsed.hostname === '' || parsed.username !== '') {
    throw new ExplainInputError(`cannot parse URL "${url}": expected http(s)://host[:port]/path`);
  }
  const scheme = m[1].toLowerCase() as 'http' | 'https';
  const urlPort = parsed.port === '' ? (scheme === 'https' ? 443 : 80) : Number(parsed.port);

  const headers = (spec.headers ?? []).map(parseHeader);
  const hostHeader = headers.find((h) => h.name.toLowerCase() === 'host');
  const authority = hostHeader?.value ?? m[2];
  const connectHost = parsed.hostname;
  const bare = connectHost.replace(/^\[|\]$/g, '');

  // Origin form as the data plane builds it from a request target (request-context.ts setTarget).
  const rest = m[3];
  let target = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  const q = target.indexOf('?');
  let path = q === -1 ? target : target.slice(0, q);
  if (path.includes('/.')) path = removeDotSegments(path);
  target = q === -1 ? path : path + target.slice(q);

  return {
    method,
    url,
    scheme,
    authority,
    host: matchHost(authority),
    port: spec.port ?? urlPort,
    connectHost,
    ...(scheme === 'https' && isIP(bare) === 0 ? { sni: bare.toLowerCase() } : {}),
    path,
    query: q === -1 ? '' : target.slice(target.indexOf('?')),
    headers: hostHeader ? headers : [{ name: 'Host', value: authority }, ...headers],
  };
}

function parseHeader(line: string): { name: string; value: string } {
  const colon = line.indexOf(':');
  const name = colon === -1 ? '' : line.slice(0, colon);
  if (!TOKEN.test(name)) throw new ExplainInputError(`bad header "${line}": expected "Name: value"`);
  const value = line.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new ExplainInputError(`bad header "${line}": control characters in the value`);
  return { name, value };
}

/** Parses `--port`: an integer 1..65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new ExplainInputError(`bad port "${value}": expected 1..65535`);
  return n;
}

/** Parses `--gateway NS/NAME`. */
export function parseGatewayRef(value: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(value);
  if (m === null) throw new ExplainInputError(`bad gateway "${value}": expected NAMESPACE/NAME`);
  return { namespace: m[1], name: m[3] };
}
