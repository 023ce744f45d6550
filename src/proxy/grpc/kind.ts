/**
 * Which gRPC flavour a request speaks, from its content-type (the test
 * Envoy applies, `Grpc::Common::hasGrpcContentType`): `application/grpc`
 * optionally followed by `+format` or parameters; grpc-web adds `-web` and,
 * for base64 bodies, `-web-text`.
 */

export const GrpcKind = {
  None: 0,
  Grpc: 1,
  /** grpc-web, binary bodies (`application/grpc-web`, `application/grpc-web+proto`). */
  Web: 2,
  /** grpc-web, base64 bodies (`application/grpc-web-text`, `...-text+proto`). */
  WebText: 3,
} as const;
export type GrpcKind = (typeof GrpcKind)[keyof typeof GrpcKind];

const GRPC = 'application/grpc';

export function grpcKindOf(contentType: string): GrpcKind {
  if (contentType.length < GRPC.length) return GrpcKind.None;
  const ct = contentType.toLowerCase();
  if (!ct.startsWith(GRPC)) return GrpcKind.None;
  const rest = ct.slice(GRPC.length);
  if (rest === '' || rest[0] === '+' || rest[0] === ';') return GrpcKind.Grpc;
  if (!rest.startsWith('-web')) return GrpcKind.None;
  const web = rest.slice(4);
  if (web === '' || web[0] === '+' || web[0] === ';') return GrpcKind.Web;
  if (!web.startsWith('-text')) return GrpcKind.None;
  const text = web.slice(5);
  return text === '' || text[0] === '+' || text[0] === ';' ? GrpcKind.WebText : GrpcKind.None;
}

/** The `+format` suffix of a gRPC content-type (`+proto`, `+json`), or ''. */
export function grpcFormat(contentType: string): string {
  const plus = contentType.indexOf('+');
  if (plus === -1) return '';
  const semi = contentType.indexOf(';', plus);
  return contentType
    .slice(plus, semi === -1 ? undefined : semi)
    .trim()
    .toLowerCase();
}
