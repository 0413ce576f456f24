import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Runs one of this folder's worker scripts (graph builds, filtered lists) on `job` until it posts
 * `{ ok: true }`, or `{ ok: false, error }`; `{ progress, of }` messages on the way go to `onProgress`.
 */
export function runIndexWorker(script: string, job: unknown, onProgress?: (done: number, of: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, script), { workerData: job });
    worker.on('message', (m: { ok?: boolean; error?: string; progress?: number; of?: number }) => {
      if (m.progress !== undefined) onProgress?.(m.progress, m.of!);
      else if (m.ok) resolve();
      else reject(new Error(m.error));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`${script} exited with ${code}`)));
  });
}
