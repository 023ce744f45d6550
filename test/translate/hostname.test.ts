import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareHostnames,
  hostnameMatches,
  hostnamesOverlap,
  intersectHostnames,
} from '../../src/translate/hostname.ts';

test('hostnameMatches: wildcards need at least one more label', () => {
  assert.equal(hostnameMatches('*.example.com', 'a.example.com'), true);
  assert.equal(hostnameMatches('*.example.com', 'a.b.example.com'), true);
  assert.equal(hostnameMatches('*.example.com', 'example.com'), false);
  assert.equal(hostnameMatches('*.example.com', '*.a.example.com'), true);
  assert.equal(hostnameMatches('*.example.com', '*.example.com'), false);
  assert.equal(hostnameMatches('example.com', 'EXAMPLE.com'), true);
  assert.equal(hostnameMatches('*', 'anything.test'), true);
});

test('intersectHostnames: no hostnames on either side', () => {
  assert.deepEqual(intersectHostnames(undefined, undefined), ['*']);
  assert.deepEqual(intersectHostnames(undefined, []), ['*']);
  assert.deepEqual(intersectHostnames('foo.com', []), ['foo.com']);
  assert.deepEqual(intersectHostnames('*.foo.com', undefined), ['*.foo.com']);
  assert.deepEqual(intersectHostnames(undefined, ['a.com', '*.b.com']), ['a.com', '*.b.com']);
});

test('intersectHostnames: keeps the more specific side and ignores non-matching route hostnames', () => {
  // The spec's examples (HTTPRouteSpec.hostnames).
  assert.deepEqual(intersectHostnames('test.example.com', ['test.example.com']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('test.example.com', ['*.example.com']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('*.example.com', ['*.example.com', 'test.example.com', 'foo.test.example.com']), [
    '*.example.com',
    'test.example.com',
    'foo.test.example.com',
  ]);
  assert.deepEqual(intersectHostnames('*.example.com', ['example.com', 'test.example.net']), []);
  assert.deepEqual(intersectHostnames('*.example.com', ['test.example.com', 'test.example.net']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('*.foo.example.com', ['*.example.com']), ['*.foo.example.com']);
  assert.deepEqual(intersectHostnames('foo.com', ['bar.com']), []);
});

test('intersectHostnames: duplicates collapse', () => {
  assert.deepEqual(intersectHostnames('a.example.com', ['*.example.com', 'a.example.com']), ['a.example.com']);
});

test('hostnamesOverlap: any request host matching both', () => {
  assert.equal(hostnamesOverlap('*', 'a.com'), true);
  assert.equal(hostnamesOverlap('*.example.com', 'a.example.com'), true);
  assert.equal(hostnamesOverlap('*.example.com', '*.a.example.com'), true);
  assert.equal(hostnamesOverlap('*.example.com', '*.example.com'), true);
  assert.equal(hostnamesOverlap('a.example.com', 'b.example.com'), false);
  assert.equal(hostnamesOverlap('*.example.com', 'example.com'), false);
});

test('compareHostnames: exact, then wildcards longest first, then *', () => {
  const hosts = ['*', '*.example.com', 'b.example.com', '*.a.example.com', 'a.example.com'];
  assert.deepEqual([...hosts].sort(compareHostnames), [
    'a.example.com',
    'b.example.com',
    '*.a.example.com',
    '*.example.com',
    '*',
  ]);
});
