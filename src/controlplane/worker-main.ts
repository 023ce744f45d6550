/** Entry point of a data-plane worker process (forked by the cluster runner). */
import { createDataPlane } from '../proxy/index.ts';
import { runWorker } from './worker.ts';

runWorker(createDataPlane);
