import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/translate/route/duration.ts';

test('Gateway API durations (GEP-2257)', () => {
  assert.equal(parseDuration('1s'), 1000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1h2m'), 3_720_000);
  assert.equal(parseDuration('1h1m1s1ms'), 3_661_001);
  assert.equal(parseDuration('0s'), 0);
  for (const bad of ['1.5s', '1d', '', '100000s', '1h1m1s1ms1h', '-1s', '1 s']) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});
