import { parentPort, workerData } from 'node:worker_threads';
import { HierarchicalNSW } from 'hnswlib-node';

import { dominantSubspace, project } from '../math/subspace';
import type { BuildJob } from './cosine-index';
import { BATCH_NICE, lowerThreadPriority } from '../thread-priority';

lowerThreadPriority(BATCH_NICE);

// Builds an HNSW graph over shared vectors, writes it to a file, and fills the shared neighbour lists.
const job = workerData as BuildJob;
try {
  const n = job.slotIds.length;
  const index = new HierarchicalNSW('ip', job.dim);
  index.initIndex(Math.max(n, 1), job.m, job.efConstruction, 42, true);
  for (let s = 0; s < n; s++) {
    if (job.slotIds[s] < 0) continue;
    index.addPoint(Array.from(job.vectors.subarray(s * job.dim, (s + 1) * job.dim)), s);
  }
  index.writeIndexSync(job.file);
  // Neighbour lists at a high ef: they answer the hot "like this movie" path without a search.
  const K = job.neighbours;
  index.setEf(Math.max(200, 2 * K));
  for (let s = 0; s < n; s++) {
    if (job.slotIds[s] < 0) continue;
    const res = index.searchKnn(Array.from(job.vectors.subarray(s * job.dim, (s + 1) * job.dim)), Math.min(K + 1, n));
    let j = 0;
    for (let i = 0; i < res.neighbors.length && j < K; i++) {
      if (res.neighbors[i] === s) continue;
      job.nbIds[s * K + j] = res.neighbors[i];
      job.nbScores[s * K + j] = 1 - res.distances[i];
      j++;
    }
  }
  // The projected copy that filtered scans rank candidates by (then reranked at full precision).
  if (job.projDims > 0) {
    const d = job.projDims;
    const live = Int32Array.from({ length: n }, (_, s) => s).filter((s) => job.slotIds[s] >= 0);
    const m = Math.min(live.length, 2000);
    const sample = new Float32Array(m * job.dim);
    for (let i = 0; i < m; i++) {
      const s = live[Math.floor((i * live.length) / m)];
      sample.set(job.vectors.subarray(s * job.dim, (s + 1) * job.dim), i * job.dim);
    }
    job.basis.set(dominantSubspace(sample, m, job.dim, d));
    for (let s = 0; s < n; s++) if (job.slotIds[s] >= 0) project(job.basis, d, job.dim, job.vectors, s * job.dim, job.proj, s * d);
  }
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: (err as Error).message });
}
