import { parentPort, workerData } from 'node:worker_threads';

import { packProjections, scanAdmitted } from './admitted-scan';
import type { FilteredListsJob } from './cosine-index';
import { BATCH_NICE, lowerThreadPriority } from '../thread-priority';

lowerThreadPriority(BATCH_NICE);

// For every live slot, its top K among the slots a filter admits (itself excluded), as a scan of the
// admitted set would rank them: a repeated filtered "like this movie" request is then a lookup.
const job = workerData as FilteredListsJob;
try {
  const { dim, d, K } = job;
  const set = {
    slots: job.admitted,
    packed: d > 0 ? packProjections({ slots: job.admitted }, job.proj, d) : undefined,
  };
  for (let s = 0; s < job.slotIds.length; s++) {
    if (job.slotIds[s] < 0) continue;
    const top = scanAdmitted(set, job.vectors, dim, { v: job.vectors, off: s * dim, qp: job.proj, qpOff: s * d, d }, K, job.candidates, (x) => x === s);
    for (let i = 0; i < top.ids.length; i++) {
      job.ids[s * K + i] = top.ids[i];
      job.scores[s * K + i] = top.scores[i];
    }
  }
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: (err as Error).message });
}
