/**
 * The backbone's ONNX Runtime session in a worker thread (inference-worker.ts), so that a batch of
 * inference (~80 ms for 32 posters on a CPU) never blocks the event loop that serves cheap queries.
 * One worker runs one batch at a time with the session's intra-op threads; batches posted meanwhile
 * wait in its port. A batch goes over as a transferred buffer, or as a view of a SharedArrayBuffer
 * (BatchRunner's), so nothing is copied on the main thread. A worker that dies fails its batches and
 * is replaced; close() terminates it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, fromWireError } from '../../errors';
import type { Provider } from '../backbone/device';
import type { BackboneManifest } from '../backbone/manifest';
import type { SessionOptions, SkippedProvider } from '../backbone/onnx-session';
import { transferList } from '../transfer';
import type { InferenceReply, InferenceRequest, InferenceStarted, InferenceWorkerData } from './inference-worker';

const WORKER_FILE = path.join(__dirname, 'inference-worker.js');

interface Task {
  resolve: (rows: Float32Array) => void;
  reject: (e: Error) => void;
}

export class InferenceThread {
  private worker!: Worker;
  private readonly tasks = new Map<number, Task>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly data: InferenceWorkerData) {}

  /**
   * Starts the worker and its session (backbone/onnx-session: provider choice, manifest checks); rejects
   * with the session's AppError when it cannot start.
   */
  static async open(
    manifest: BackboneManifest,
    weightsPath: string,
    options: SessionOptions,
  ): Promise<{ thread: InferenceThread; provider: Provider; skipped: SkippedProvider[] }> {
    if (!fs.existsSync(WORKER_FILE)) {
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        `Inference worker ${WORKER_FILE} not found; run the compiled build (npx tsc -p tsconfig.json) and load dist/`,
        'INFERENCE_WORKER_MISSING',
      );
    }
    const thread = new InferenceThread({ manifest, weightsPath, options });
    const started = await thread.spawn();
    if (started.kind === 'start-failed') {
      await thread.close();
      throw fromWireError(started.error);
    }
    return { thread, provider: started.provider, skipped: started.skipped };
  }

  /**
   * n x dim L2-normalised rows of the n x 3 x H x W floats in `data`. A `data` on an ArrayBuffer is
   * transferred (the caller loses it); on a SharedArrayBuffer it is shared, and the caller must not
   * write it until this settles.
   */
  run(data: Float32Array, n: number): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'Embedder is closed', 'SHUTTING_DOWN'));
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.tasks.set(id, { resolve, reject });
      if (this.tasks.size === 1) this.worker.ref();
      this.worker.postMessage({ id, data, n } satisfies InferenceRequest, transferList(data));
    });
  }

  /** Fails the batches in flight and terminates the worker (and its session). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new AppError('SERVICE_UNAVAILABLE', 'Embedder closed', 'SHUTTING_DOWN'));
    await this.worker.terminate();
  }

  /** A fresh worker; resolves with its first message (the session started or not). */
  private spawn(): Promise<InferenceStarted> {
    const worker = new Worker(WORKER_FILE, { workerData: this.data });
    this.worker = worker;
    return new Promise<InferenceStarted>((resolveStart) => {
      // Ref'd until the session starts (a caller awaits it), then only while it holds batches.
      let started = false;
      worker.on('message', (msg: InferenceStarted | InferenceReply) => {
        if (msg.kind === 'started' || msg.kind === 'start-failed') {
          started = true;
          if (this.tasks.size === 0) worker.unref();
          resolveStart(msg);
          return;
        }
        const task = this.tasks.get(msg.id);
        if (!task) return;
        this.tasks.delete(msg.id);
        if (this.tasks.size === 0) worker.unref();
        if (msg.kind === 'rows') task.resolve(msg.rows);
        else task.reject(fromWireError(msg.error));
      });
      const onDeath = (why: string) => {
        if (this.worker !== worker || this.closed) return; // closed, or already replaced
        const error = new AppError('SERVICE_UNAVAILABLE', `Inference worker died: ${why}`, 'INFERENCE_FAILED');
        this.failAll(error);
        if (!started) resolveStart({ kind: 'start-failed', error: { message: error.message, code: error.code, reason: error.reason } });
        else void this.spawn(); // batches posted from now on wait in the new worker's port
      };
      worker.on('error', (err) => onDeath(err.message));
      worker.on('exit', (code) => onDeath(`exit code ${code}`));
    });
  }

  private failAll(err: AppError): void {
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    for (const t of tasks) t.reject(err);
  }
}
