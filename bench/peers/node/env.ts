/** What every Node peer reads from its environment: where to listen and where the origin is. */
export const PORT = Number(process.env.PORT);
export const ORIGIN_PORT = Number(process.env.ORIGIN_PORT);
export const HOST = '127.0.0.1';
export const ORIGIN = `http://${HOST}:${ORIGIN_PORT}`;

if (!Number.isInteger(PORT) || !Number.isInteger(ORIGIN_PORT)) {
  throw new Error('PORT and ORIGIN_PORT must be set');
}

// A clean exit on TERM, so that `--cpu-prof` (bench --profile) writes the worker's profile.
process.on('SIGTERM', () => process.exit(0));
