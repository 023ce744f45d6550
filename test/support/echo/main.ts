/**
 * An echo Deployment as one child process (forked by the conformance
 * runner with the spec in SLUICE_ECHO_SPEC): every replica is an in-process
 * echo server on its own loopback address, all on the same ports. Replies
 * `ready` with the ports, answers `count` queries about echoed request
 * targets (how mirror checks find copies), exits when the parent goes away
 * (./fleet-child.ts).
 */
import { runFleetChild } from './fleet-child.ts';
import { startEchoServer } from './server.ts';

runFleetChild((spec, r, first, hits) =>
  startEchoServer({
    identity: { pod: r.pod, namespace: spec.namespace, service: spec.service ?? '', ingress: spec.ingress ?? '' },
    host: r.address,
    ...(first ? { httpPort: first.httpPort, h2cPort: first.h2cPort } : {}),
    ...(spec.tls ? { tls: { ...spec.tls, ...(first?.httpsPort ? { port: first.httpsPort } : {}) } } : {}),
    onEcho: (target, remote) => {
      hits.add(target, r.pod);
      if (spec.log === true) process.stdout.write(`Echoing back request made to ${target} to client (${remote})\n`);
    },
  }),
);
