/**
 * `node cluster.ts WORKER_MODULE`: WORKERS (default 2) copies of a peer
 * under node:cluster, the way the baseline ran every "cluster 2" row. The
 * primary only accepts and hands connections round-robin, as in Sluice.
 * A worker that dies ends the whole peer: the bench sees it and fails.
 */
import cluster from 'node:cluster';

const workerModule = process.argv[2];
const workers = Number(process.env.WORKERS ?? 2);
if (!cluster.isPrimary || workerModule === undefined) throw new Error('usage: cluster.ts WORKER_MODULE');

cluster.setupPrimary({ exec: workerModule, args: [] });
for (let i = 0; i < workers; i++) cluster.fork();
let stopping = false;
cluster.on('exit', (w, code, signal) => {
  if (stopping) return;
  process.stderr.write(`worker ${w.process.pid} exited (${signal ?? code})\n`);
  process.exit(1);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    stopping = true;
    const live = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
    let left = live.length;
    if (left === 0) process.exit(0);
    for (const w of live) {
      w?.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      w?.process.kill('SIGTERM');
    }
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
