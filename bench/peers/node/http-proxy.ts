/** Peer: http-proxy (node-http-proxy) with a keep-alive agent (without one it sends `Connection: close` upstream). */
import http from 'node:http';
import httpProxy from 'http-proxy';
import { HOST, ORIGIN, PORT } from './env.ts';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: ORIGIN, agent });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502).end();
  else res.destroy();
});
http.createServer((req, res) => proxy.web(req, res)).listen(PORT, HOST);
