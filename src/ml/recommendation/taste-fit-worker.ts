import { parentPort, workerData } from 'node:worker_threads';

import { unpackTasteFit, type TasteFitJob } from './taste-fit-job';
import { fitTasteModel, stateBuffers } from './taste-model';
import { BATCH_NICE, lowerThreadPriority } from '../thread-priority';

lowerThreadPriority(BATCH_NICE);

// Fits a taste model off the API's event loop and hands its state back without a copy.
const job = workerData as TasteFitJob;
try {
  const { people, catalog } = unpackTasteFit(job);
  const state = fitTasteModel(people, catalog, job.options).toState();
  parentPort!.postMessage({ ok: true, state }, stateBuffers(state));
} catch (err) {
  parentPort!.postMessage({ ok: false, error: (err as Error).message });
}
