/**
 * `GET /api/dashboard/events`: the feed as Server-Sent Events. A new client
 * gets `event: snapshot` (the view plus the retained history), then
 * `event: tick` once a second; `event: problem` when a sample fails.
 * Clients are capped (each one costs a socket and a JSON write a second),
 * and a client that stops reading is dropped rather than buffered for.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardFeed, FeedEvent } from './feed.ts';

export const DEFAULT_MAX_CLIENTS = 16;
/** Unread bytes after which a client is dropped (several minutes of ticks). */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** A comment line at least this often, so proxies and browsers see a live stream even without ticks. */
const HEARTBEAT_MS = 15_000;

export class DashboardEvents {
  readonly #feed: DashboardFeed;
  readonly #max: number;
  readonly #open = new Set<ServerResponse>();

  constructor(feed: DashboardFeed, maxClients = DEFAULT_MAX_CLIENTS) {
    this.#feed = feed;
    this.#max = maxClients;
  }

  get clients(): number {
    return this.#open.size;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.#open.size >= this.#max) {
      const text = `too many dashboard clients (${this.#max}); close one and retry\n`;
      res.writeHead(503, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'retry-after': '5',
      });
      res.end(text);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write(': sluice dashboard\nretry: 2000\n\n');
    this.#open.add(res);
    let last = Date.now();
    const send = (text: string): void => {
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        return;
      }
      last = Date.now();
      res.write(text);
    };
    const heartbeat = setInterval(() => {
      if (Date.now() - last >= HEARTBEAT_MS) send(': heartbeat\n\n');
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const unsubscribe = this.#feed.subscribe((e: FeedEvent) => {
      const { type, ...data } = e;
      send(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    });
    res.once('close', () => {
      clearInterval(heartbeat);
      this.#open.delete(res);
      unsubscribe();
    });
  }

  /** Ends every stream (the admin server is closing). */
  close(): void {
    for (const res of this.#open) res.destroy();
    this.#open.clear();
    this.#feed.close();
  }
}
