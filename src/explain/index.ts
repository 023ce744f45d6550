/**
 * `sluice explain` (issue 5). Loaded on demand by the CLI and the admin API:
 * it pulls in the data plane's compiler and router, which the control
 * process of `sluice serve` otherwise never loads.
 */
export { explain, type ExplainInput } from './explain.ts';
export { renderText } from './render-text.ts';
export { ExplainInputError, parseGatewayRef, parsePort, parseRequest, type RequestSpec } from './request.ts';
export type * from './types.ts';
