/**
 * The SANs of a certificate from node's `subjectAltName` text
 * (`DNS:a.example, IP Address:127.0.0.1, othername:UPN:u@x, …`), the only
 * form node gives. Values holding separators or quotes are JSON strings
 * there (node ≥ 17.3.1), so the text splits without ambiguity. IPv6
 * addresses come out in their short form (`::1`), as Envoy prints them.
 */
import { isIPv6 } from 'node:net';

export interface SanEntry {
  type: 'DNS' | 'Email' | 'IPAddress' | 'URI' | 'OtherName';
  /** OtherName only: node's name for its OID (UPN, XmppAddr, SRVName). */
  oidName?: string;
  value: string;
}

const TYPES: Readonly<Record<string, SanEntry['type']>> = {
  DNS: 'DNS',
  email: 'Email',
  'IP Address': 'IPAddress',
  URI: 'URI',
  othername: 'OtherName',
};

export function subjectAltNames(text: string | undefined): SanEntry[] {
  const out: SanEntry[] = [];
  if (text === undefined || text === '') return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = TYPES[text.slice(i, colon)];
    let rest = colon + 1;
    let oidName: string | undefined;
    if (type === 'OtherName') {
      const c = text.indexOf(':', rest);
      const comma = text.indexOf(', ', rest);
      if (c > 0 && (comma < 0 || c < comma)) {
        oidName = text.slice(rest, c);
        rest = c + 1;
      }
    }
    let value: string;
    if (text[rest] === '"') {
      const end = closingQuote(text, rest);
      if (end < 0) break;
      value = JSON.parse(text.slice(rest, end + 1)) as string;
      i = end + 1;
    } else {
      const comma = text.indexOf(', ', rest);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(rest, end);
      i = end;
    }
    if (text.startsWith(', ', i)) i += 2;
    if (type === undefined) continue;
    if (type === 'IPAddress') value = canonicalIp(value);
    out.push(oidName === undefined ? { type, value } : { type, oidName, value });
  }
  return out;
}

/** IPv6 in its short form (RFC 5952, as inet_ntop); IPv4 and anything else unchanged. */
export function canonicalIp(ip: string): string {
  if (!isIPv6(ip)) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function closingQuote(text: string, open: number): number {
  for (let j = open + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j;
  }
  return -1;
}
