/** Peer: fastify + @fastify/http-proxy (@fastify/reply-from over undici, keep-alive by default), logger off. */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { HOST, ORIGIN, PORT } from './env.ts';

const app = Fastify({ logger: false });
await app.register(proxy, { upstream: ORIGIN });
await app.listen({ port: PORT, host: HOST });
