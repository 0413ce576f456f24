import { parentPort, workerData } from 'node:worker_threads';
import { HierarchicalNSW } from 'hnswlib-node';

// Builds an HNSW graph over shared vectors and writes it to a file (see CosineIndex.buildGraph).
const job = workerData as { vectors: Float32Array; slotIds: Int32Array; dim: number; m: number; efConstruction: number; file: string };
try {
  const n = job.slotIds.length;
  const index = new HierarchicalNSW('ip', job.dim);
  index.initIndex(Math.max(n, 1), job.m, job.efConstruction, 42, true);
  for (let s = 0; s < n; s++) {
    if (job.slotIds[s] < 0) continue;
    index.addPoint(Array.from(job.vectors.subarray(s * job.dim, (s + 1) * job.dim)), s);
  }
  index.writeIndexSync(job.file);
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: (err as Error).message });
}
