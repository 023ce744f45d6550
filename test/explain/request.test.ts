/** Reading the request as a user types it, and the text rendering. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExplainInputError, parseGatewayRef, parsePort, parseRequest, renderText } from '../../src/explain/index.ts';
import { CLASS, run, service } from './helpers.ts';

test('method, URL, port by scheme, query, headers; Host added first', () => {
  assert.deepEqual(parseRequest({ request: 'GET https://Shop.Example.com/cart?x=1', headers: ['x-user: beta'] }), {
    method: 'GET',
    url: 'https://Shop.Example.com/cart?x=1',
    scheme: 'https',
    authority: 'Shop.Example.com',
    host: 'shop.example.com',
    port: 443,
    connectHost: 'shop.example.com',
    sni: 'shop.example.com',
    path: '/cart',
    query: '?x=1',
    headers: [
      { name: 'Host', value: 'Shop.Example.com' },
      { name: 'x-user', value: 'beta' },
    ],
  });
});

test('the URL alone means GET; dot segments go as the data plane removes them; Host and --port override', () => {
  const r = parseRequest({ request: 'http://10.0.0.1:8080/a/./b/../c?', headers: ['Host: app.test:81'], port: 9090 });
  assert.equal(r.method, 'GET');
  assert.equal(r.path, '/a/c');
  assert.equal(r.query, '?');
  assert.equal(r.port, 9090);
  assert.equal(r.host, 'app.test');
  assert.equal(r.connectHost, '10.0.0.1');
  assert.equal(r.sni, undefined);
  assert.deepEqual(r.headers, [{ name: 'Host', value: 'app.test:81' }]);
  assert.equal(parseRequest({ request: 'http://h' }).path, '/');
  assert.equal(parseRequest({ request: 'http://h?q=1' }).query, '?q=1');
});

test('bad input is one clear line', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => parseRequest({ request: 'GET shop.example.com/cart' }), /^cannot parse URL "shop.example.com\/cart"/],
    [() => parseRequest({ request: 'GET ftp://x/' }), /^cannot parse URL/],
    [() => parseRequest({ request: 'GET http://a b/' }), /^cannot read request/],
    [() => parseRequest({ request: 'GET http://:80/' }), /^cannot parse URL/],
    [() => parseRequest({ request: 'G(T http://x/' }), /^bad method "G\(T"/],
    [
      () => parseRequest({ request: 'http://x/', headers: ['x-user beta'] }),
      /^bad header "x-user beta": expected "Name: value"/,
    ],
    [() => parseRequest({ request: 'http://x/', headers: ['bad name: v'] }), /^bad header/],
    [() => parsePort('0'), /^bad port "0"/],
    [() => parsePort('80x'), /^bad port/],
    [() => parseGatewayRef('web'), /^bad gateway "web": expected NAMESPACE\/NAME/],
  ];
  for (const [fn, message] of cases) {
    assert.throws(fn, (err: unknown) => err instanceof ExplainInputError && message.test(err.message));
  }
});

test('text: the chosen path first, then the losers and the other listeners', () => {
  const yaml = `${CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}, {name: alt, protocol: HTTP, port: 8080}]
${service('app', 9001)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: default}
spec:
  parentRefs: [{name: web, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{headers: [{name: x-user, value: beta}]}]
    backendRefs: [{name: app, port: 80}]
  - backendRefs: [{name: app, port: 80}]
`;
  const text = renderText(run(yaml, 'GET http://shop.example.com/cart', { headers: ['x-user: alpha'] }));
  assert.equal(
    text,
    `GET http://shop.example.com/cart
  host shop.example.com, port 80, path /cart, headers x-user: alpha

Gateway default/web on 0.0.0.0:80 (HTTP)
  listener   default/web/http (HTTP, port 80, any hostname)
  host       shop.example.com
  route      HTTPRoute default/shop rule 1 match 0
             matches PathPrefix /
  answer     proxied to Service/default/app:80
  upstream   Host shop.example.com, /cart
  backends
      100%  Service/default/app:80 weight 1, http → 127.0.0.1:9001
  policies   none
  route entries of virtual host shop.example.com, in the order the router tries them
    no match     HTTPRoute default/shop rule 0 match 0: PathPrefix /, header x-user Exact "beta"
                 header x-user: wants Exact "beta", request has "alpha"
    selected     HTTPRoute default/shop rule 1 match 0: PathPrefix /

Other listeners
  default/web/alt (HTTP 8080): port 8080, the request is for port 80
`,
  );
});
