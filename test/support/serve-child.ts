/**
 * `sluice <args>` as a forked child that ends with its parent: when the
 * IPC channel closes (the conformance runner exited, even by SIGKILL) it
 * shuts down as on SIGTERM, so no gateway outlives a crashed run.
 */
import { main } from '../../src/cli/main.ts';

process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
process.exitCode = await main(process.argv.slice(2));
// The IPC channel would keep an idle process alive after serve returned.
process.disconnect?.();
