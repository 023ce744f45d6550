/**
 * Span attribute names: OpenTelemetry's HTTP semantic conventions, the
 * gateway's own `sluice.*` names, and Envoy's `upstream_cluster` (what
 * dashboards built on Envoy traces filter on).
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';

/** `<namespace>/<name>` of the Gateway. */
export const ATTR_SLUICE_GATEWAY = 'sluice.gateway';
/** The IR route entry (`httproute/<ns>/<name>/rule/<i>/match/<j>/<host>`). */
export const ATTR_SLUICE_ROUTE = 'sluice.route';
/** The backend picked (`Service/<ns>/<name>:<port>`, `Backend/<ns>/<name>`). */
export const ATTR_SLUICE_BACKEND = 'sluice.backend';
/** Client spans: the attempt's number, 1 for the first. */
export const ATTR_SLUICE_ATTEMPT = 'sluice.attempt';
/** Envoy's response flags (UH, UF, UT, URX, DC...), when any. */
export const ATTR_SLUICE_RESPONSE_FLAGS = 'sluice.response_flags';
/** The request's x-request-id (Envoy's `guid:x-request-id`). */
export const ATTR_SLUICE_REQUEST_ID = 'sluice.request_id';
/** Envoy's name for the backend cluster. */
export const ATTR_UPSTREAM_CLUSTER = 'upstream_cluster';
