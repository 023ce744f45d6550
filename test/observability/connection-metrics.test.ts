/** Connection-level counters: per listener and per backend, summed across workers, rendered, pushed as OTLP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsAggregate, renderPrometheus, type ControlMetrics } from '../../src/observability/metrics/aggregate.ts';
import {
  ConnCounter,
  DataPlaneMetrics,
  ProcessSampler,
  TlsFailure,
  tlsFailureReason,
} from '../../src/observability/metrics/data-plane-metrics.ts';
import { otlpMetricsRequest } from '../../src/observability/metrics/otlp-push.ts';
import { metricValue } from '../support/metrics.ts';

function control(): ControlMetrics {
  const sampler = new ProcessSampler();
  const sample = sampler.sample();
  sampler.close();
  return {
    reloads: 1,
    reloadErrors: 0,
    lastReloadSeconds: 0,
    lastReloadSuccess: true,
    configVersion: 1,
    workers: [],
    control: sample,
  };
}

/** A worker with traffic on one HTTPS listener, one HTTP socket and one backend (pending sampled at snapshot). */
function worker(pending: number): DataPlaneMetrics {
  const m = new DataPlaneMetrics();
  const https = m.connSeries(['default/web', 'https', 'https']);
  const http = m.connSeries(['default/web', '', 'http']);
  m.connAdd(https, ConnCounter.Connections, 3);
  m.connAdd(https, ConnCounter.Handshakes, 2);
  m.connAdd(https, ConnCounter.Resumed);
  m.connAdd(https, ConnCounter.Active, 2);
  m.tlsFailed(https, TlsFailure.Protocol);
  m.connAdd(http, ConnCounter.Connections);
  m.connAdd(http, ConnCounter.Active);
  const b = m.backend('Service/default/a:80');
  m.upstreamConnected(b);
  m.sampleUpstream = () => m.upstreamSample(b, 1, pending);
  return m;
}

test('two workers summed; gauges of a retired worker are dropped, its counters kept', () => {
  const w0 = worker(2);
  const w1 = worker(1);
  const agg = new MetricsAggregate();
  agg.add(w0.snapshot(), { worker: '0' });
  agg.add(w1.snapshot(), { worker: '1' });
  let text = renderPrometheus(agg, control());
  const https = { gateway: 'default/web', listener: 'https' };
  assert.equal(metricValue(text, 'sluice_downstream_connections_total', https), 6);
  assert.equal(metricValue(text, 'sluice_downstream_connections_active', https), 4);
  assert.equal(metricValue(text, 'sluice_downstream_connections_total', { listener: '' }), 2);
  assert.equal(metricValue(text, 'sluice_tls_handshakes_total', https), 4);
  assert.equal(metricValue(text, 'sluice_tls_resumed_total', https), 2);
  assert.equal(metricValue(text, 'sluice_tls_handshake_failures_total', { ...https, reason: 'protocol' }), 2);
  assert.equal(metricValue(text, 'sluice_tls_handshake_failures_total', { ...https, reason: 'timeout' }), 0);
  // A cleartext socket has no TLS series.
  assert.equal(metricValue(text, 'sluice_tls_handshakes_total', { listener: '' }), undefined);
  const be = { backend: 'Service/default/a:80' };
  assert.equal(metricValue(text, 'sluice_upstream_connections_created_total', be), 2);
  assert.equal(metricValue(text, 'sluice_upstream_connections_active', be), 2);
  assert.equal(metricValue(text, 'sluice_upstream_requests_pending', be), 3);

  const retired = new MetricsAggregate();
  retired.add(w0.snapshot(), { gauges: false });
  const next = new MetricsAggregate();
  next.addAggregate(retired);
  next.add(w1.snapshot(), { worker: '1' });
  text = renderPrometheus(next, control());
  assert.equal(metricValue(text, 'sluice_downstream_connections_total', https), 6);
  assert.equal(metricValue(text, 'sluice_downstream_connections_active', https), 2);
  assert.equal(metricValue(text, 'sluice_upstream_connections_created_total', be), 2);
  assert.equal(metricValue(text, 'sluice_upstream_requests_pending', be), 1);

  const otlp = JSON.stringify(otlpMetricsRequest(agg, new Set(['default/web']), {}, 0, 1));
  for (const name of [
    'sluice_downstream_connections_total',
    'sluice_downstream_connections_active',
    'sluice_tls_handshakes_total',
    'sluice_tls_resumed_total',
    'sluice_tls_handshake_failures_total',
    'sluice_upstream_connections_created_total',
    'sluice_upstream_connections_active',
    'sluice_upstream_requests_pending',
  ])
    assert.ok(otlp.includes(`"${name}"`), name);
  const none = JSON.stringify(otlpMetricsRequest(agg, new Set(['other/gw']), {}, 0, 1));
  assert.ok(!none.includes('sluice_tls_handshakes_total'), "another Gateway's sink does not get these listeners");
  w0.close();
  w1.close();
});

test('disabled metrics count no connection either', () => {
  const m = new DataPlaneMetrics(false);
  const s = m.connSeries(['default/web', 'https', 'https']);
  m.connAdd(s, ConnCounter.Connections);
  m.tlsFailed(s, TlsFailure.Other);
  m.upstreamConnected(m.backend('x'));
  const snap = m.snapshot();
  assert.ok(snap.conn!.every((v) => v === 0));
  assert.ok(snap.upstreamConn!.every((v) => v === 0));
});

test('handshake errors map to a few reasons', () => {
  const e = (code: string): Error => Object.assign(new Error(code), { code });
  assert.equal(tlsFailureReason(e('ERR_TLS_HANDSHAKE_TIMEOUT')), TlsFailure.Timeout);
  assert.equal(tlsFailureReason(e('ERR_SSL_UNSUPPORTED_PROTOCOL')), TlsFailure.Protocol);
  assert.equal(tlsFailureReason(e('ERR_SSL_NO_SHARED_CIPHER')), TlsFailure.Protocol);
  assert.equal(tlsFailureReason(e('ERR_SSL_HTTP_REQUEST')), TlsFailure.Protocol);
  assert.equal(tlsFailureReason(e('ERR_SSL_NO_APPLICATION_PROTOCOL')), TlsFailure.Protocol);
  assert.equal(tlsFailureReason(e('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE')), TlsFailure.ClientCertificate);
  assert.equal(tlsFailureReason(e('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA')), TlsFailure.ServerCertificate);
  assert.equal(tlsFailureReason(e('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')), TlsFailure.ServerCertificate);
  assert.equal(tlsFailureReason(e('ECONNRESET')), TlsFailure.Closed);
  // node refused the client certificate itself: it sets authorizationError and closes the socket.
  assert.equal(tlsFailureReason(e('ECONNRESET'), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), TlsFailure.ClientCertificate);
  assert.equal(tlsFailureReason(new Error('?')), TlsFailure.Other);
});
