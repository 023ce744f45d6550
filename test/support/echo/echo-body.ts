/**
 * The echo's JSON body (ECHO.md section 4): the fields in Go's struct
 * order, pretty-printed with one space like json.MarshalIndent, header
 * keys sorted (Go sorts map keys), and Go's HTML-safe escaping.
 */

/** What a process reports about itself (the pod's environment). */
export interface EchoIdentity {
  pod: string;
  namespace: string;
  service?: string;
  ingress?: string;
  /** The HTTP_PORT setting as a string (reported on every listener). */
  httpPort: string;
}

/** The `tls` object of an echo over TLS (ECHO.md section 7). */
export interface TlsInfo {
  version: string;
  peerCertificates?: string[];
  serverName: string;
  negotiatedProtocol?: string;
  cipherSuite: string;
}

export interface EchoedRequest {
  path: string;
  host: string;
  method: string;
  proto: string;
  headers: Record<string, string[]>;
  tls?: TlsInfo;
}

/** Go's encoding/json escapes <, > and & (and U+2028/2029) inside strings. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function echoBody(req: EchoedRequest, id: EchoIdentity): string {
  const headers: Record<string, string[]> = {};
  for (const k of Object.keys(req.headers).sort()) headers[k] = req.headers[k];
  const body: Record<string, unknown> = {
    path: req.path,
    host: req.host,
    method: req.method,
    proto: req.proto,
    headers,
    httpPort: id.httpPort,
    namespace: id.namespace,
    ingress: id.ingress ?? '',
    service: id.service ?? '',
    pod: id.pod,
  };
  if (req.tls) {
    const t = req.tls;
    body.tls = {
      version: t.version,
      ...(t.peerCertificates?.length ? { peerCertificates: t.peerCertificates } : {}),
      serverName: t.serverName,
      ...(t.negotiatedProtocol ? { negotiatedProtocol: t.negotiatedProtocol } : {}),
      cipherSuite: t.cipherSuite,
    };
  }
  return goEscape(JSON.stringify(body, null, 1));
}

/** The `{"message": ...}` body of a 500 (Go's json.Marshal, no indentation). */
export function errorBody(message: string): string {
  return goEscape(JSON.stringify({ message }));
}
