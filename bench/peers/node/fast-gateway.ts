/** Peer: fast-gateway 3.4.7 (restana + fast-proxy-lite, keep-alive by default), every path to the origin. */
import gateway from 'fast-gateway';
import { HOST, ORIGIN, PORT } from './env.ts';

const server = gateway({ routes: [{ prefix: '', target: ORIGIN }] });
await server.start(PORT, HOST);
