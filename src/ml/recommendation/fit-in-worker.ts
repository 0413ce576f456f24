/**
 * fitTasteModel in a worker thread: an EASE fit inverts an items × items Gram matrix (seconds of CPU
 * on the full ratings), which on the API's event loop would stall every request meanwhile. The inputs
 * go over as transferred typed arrays, the fitted model comes back as its state (transferred too)
 * and is rebuilt here; it answers exactly as an in-thread fit on the same data.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { jobBuffers, packTasteFit } from './taste-fit-job';
import { tasteModelFromState, type CatalogItem, type PersonLikes, type TasteModel, type TasteModelState, type TasteOptions } from './taste-model';

type FitReply = { ok: true; state: TasteModelState } | { ok: false; error: string };

export function fitTasteModelInWorker(
  people: readonly PersonLikes[],
  catalog: readonly CatalogItem[],
  options: Partial<TasteOptions> = {},
): Promise<TasteModel> {
  const job = packTasteFit(people, catalog, options);
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'taste-fit-worker.js'), { workerData: job, transferList: jobBuffers(job) });
    let settled = false;
    worker.once('message', (m: FitReply) => {
      settled = true;
      if (m.ok) resolve(tasteModelFromState(m.state));
      else reject(new Error(m.error));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the recommender's fit worker exited with ${code} before answering`));
    });
  });
}
