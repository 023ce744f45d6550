/**
 * The dashboard's routes on the admin server:
 *
 *   GET /                         302 to /dashboard/
 *   GET /dashboard/               the page (index.html, app.js, style.css, vendor/uPlot.*)
 *   GET /api/dashboard/events     the live feed (Server-Sent Events, ./events.ts)
 *
 * One feed per admin server, shared by every page that listens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardEvents } from './events.ts';
import { DashboardFeed, type FeedOptions, type FeedSource } from './feed.ts';
import { staticFile } from './static.ts';

export const DASHBOARD_PATH = '/dashboard/';
export const EVENTS_PATH = '/api/dashboard/events';

export class Dashboard {
  readonly feed: DashboardFeed;
  readonly events: DashboardEvents;

  constructor(source: FeedSource, opts: FeedOptions & { maxClients?: number } = {}) {
    this.feed = new DashboardFeed(source, opts);
    this.events = new DashboardEvents(this.feed, opts.maxClients);
  }

  /** Answers `path` if it is one of the dashboard's; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const redirect = path === '/' || path === '/dashboard';
    if (!redirect && path !== EVENTS_PATH && !path.startsWith(DASHBOARD_PATH)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`method ${req.method} not allowed\n`);
      return true;
    }
    if (path === EVENTS_PATH) {
      this.events.handle(req, res);
      return true;
    }
    if (redirect) {
      res.writeHead(302, { location: DASHBOARD_PATH, 'content-length': 0 });
      res.end();
      return true;
    }
    const name = path.slice(DASHBOARD_PATH.length);
    const file = staticFile(name === 'index.html' ? '' : name);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`not found: ${path}\n`);
      return true;
    }
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  }

  close(): void {
    this.events.close();
  }
}
