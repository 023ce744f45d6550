import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ListenerIR } from '../../../src/ir/types.ts';
import { DEFAULT_TUNING } from '../../../src/proxy/http/tuning.ts';
import { TlsTermination } from '../../../src/proxy/listeners/https-listener.ts';
import { SecureContextCache } from '../../../src/proxy/tls/secure-contexts.ts';
import { SniContexts, buildTlsListener } from '../../../src/proxy/tls/sni-contexts.ts';
import { TicketKeys } from '../../../src/proxy/tls/ticket-keys.ts';
import { LOOPBACK, listener, route } from '../helpers.ts';
import { certificateIR, hasOpenssl, selfSigned, tlsRequest } from '../tls-kit.ts';

const PERIOD_MS = 60_000;

/**
 * Session tickets across a ticket key rotation, on the HTTPS termination
 * itself with a clock the test moves: a ticket of the period just ended
 * still resumes (the handshake starts with a context holding that key), one
 * two periods old does not.
 */
describe('session tickets across key rotations', { skip: !hasOpenssl && 'openssl CLI not available' }, () => {
  let now = 10 * PERIOD_MS;
  const cache = new SecureContextCache(new TicketKeys(Buffer.alloc(32, 1), PERIOD_MS, () => now));
  const ir: ListenerIR = listener('https', [route()], {
    protocol: 'HTTPS',
    tls: { mode: 'Terminate', certificates: [certificateIR(selfSigned('tickets.example'))] },
  });
  let term: TlsTermination;
  let port: number;

  /** What an apply does at each rotation: contexts rebuilt with the period's key, unused ones dropped. */
  function contexts(): SniContexts {
    const l = buildTlsListener(ir, cache, []);
    if ('error' in l) throw new Error(l.error);
    const c = new SniContexts([l], cache);
    cache.sweep();
    return c;
  }

  before(async () => {
    term = new TlsTermination(contexts(), DEFAULT_TUNING, {}, (s) => s.destroy());
    term.server.on('request', (_req, res) => res.end('ok'));
    await new Promise<void>((r) => term.server.listen(0, LOOPBACK, r));
    port = (term.server.address() as AddressInfo).port;
  });
  after(async () => {
    term.server.closeAllConnections();
    await new Promise<void>((r) => term.server.close(() => r()));
  });

  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    test(`${maxVersion}: resumed in the next period, not in the one after`, async () => {
      const opts = { servername: 'tickets.example', maxVersion };
      const first = await tlsRequest(port, opts);
      assert.ok(first.session, 'a ticket was issued');
      assert.equal((await tlsRequest(port, { ...opts, session: first.session })).reused, true, 'same period');

      now += PERIOD_MS;
      term.update(contexts());
      const next = await tlsRequest(port, { ...opts, session: first.session });
      assert.deepEqual([next.status, next.reused], [200, true], 'previous period: still resumed');
      const fresh = await tlsRequest(port, opts);
      assert.equal(
        (await tlsRequest(port, { ...opts, session: fresh.session ?? undefined })).reused,
        true,
        'current key',
      );

      now += PERIOD_MS;
      term.update(contexts());
      const late = await tlsRequest(port, { ...opts, session: first.session });
      assert.deepEqual([late.status, late.reused], [200, false], 'two periods old: full handshake');
    });
  }
});
