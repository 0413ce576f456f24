import { parentPort, workerData } from 'node:worker_threads';
import { HierarchicalNSW } from 'hnswlib-node';

import { project, secondMoment, topSubspace } from '../math/subspace';
import type { CompactBuildJob } from './compact-index';
import { decodeUint8, encodeUint8 } from './uint8-codes';
import { BATCH_NICE, lowerThreadPriority } from '../thread-priority';

lowerThreadPriority(BATCH_NICE);

// Projections from a sample of the 8-bit coded vectors, the HNSW graph on the graph projection (written
// to a file), and the stored projection's 8-bit codes.
const job = workerData as CompactBuildJob;
try {
  const { dim, graphDims: gd, storeDims: sd } = job;
  const n = job.slotIds.length;
  const live: number[] = [];
  for (let s = 0; s < n; s++) if (job.slotIds[s] >= 0) live.push(s);
  const decode = (s: number, out: Float32Array, off: number) => decodeUint8(job.codes, s * dim, dim, job.offsets[s], job.scales[s], out, off);
  const m = Math.min(live.length, 2000);
  const sample = new Float32Array(m * dim);
  for (let i = 0; i < m; i++) decode(live[Math.floor((i * live.length) / m)], sample, i * dim);
  const moment = secondMoment(sample, m, dim, m);
  job.graphBasis.set(topSubspace(moment, dim, gd));
  if (sd) job.storeBasis.set(topSubspace(moment, dim, sd));
  const index = new HierarchicalNSW('ip', gd);
  index.initIndex(Math.max(n, 1), job.m, job.efConstruction, 42, true);
  const v = new Float32Array(dim);
  const g = new Float32Array(gd);
  const p = new Float32Array(Math.max(sd, 1));
  let done = 0;
  for (const s of live) {
    decode(s, v, 0);
    project(job.graphBasis, gd, dim, v, 0, g, 0);
    index.addPoint(Array.from(g), s);
    if (sd) {
      project(job.storeBasis, sd, dim, v, 0, p, 0);
      const { offset, scale } = encodeUint8(p, 0, sd, job.storeCodes, s * sd);
      job.storeScales[s] = scale;
      job.storeOffsets[s] = offset;
    }
    if (++done % 50_000 === 0) parentPort!.postMessage({ progress: done, of: live.length });
  }
  index.writeIndexSync(job.file);
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: (err as Error).message });
}
