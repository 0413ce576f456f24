/**
 * Poster OCR on worker threads, one PosterOcr per worker: bulk reading (`marquee ocr`) uses every
 * core, and a request's OCR never blocks the event loop. Tasks go to the least-loaded worker; a
 * failing image rejects only its own task.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../errors';
import type { OcrReply, OcrRequest } from './ocr-worker';
import { ocrEngineId, type OcrResult, type PosterOcrOptions } from './ocr-options';

const WORKER_FILE = path.join(__dirname, 'ocr-worker.js');

interface Slot {
  worker: Worker;
  tasks: Map<number, { resolve: (r: OcrResult) => void; reject: (e: AppError) => void }>;
}

export class OcrPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly options: PosterOcrOptions = {},
    size?: number,
  ) {
    this.size = Math.max(1, Math.floor(size ?? os.availableParallelism()));
    if (!fs.existsSync(WORKER_FILE)) {
      throw new AppError('INTERNAL_SERVER_ERROR', `OCR worker ${WORKER_FILE} not found; run the compiled build and load dist/`, 'OCR_WORKER_MISSING');
    }
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /** The engine id of the options the workers run with (see PosterOcr.engine). */
  get engine(): string {
    return ocrEngineId(this.options);
  }

  read(input: Uint8Array | string): Promise<OcrResult> {
    if (this.closed) return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'OCR is closed', 'SHUTTING_DOWN'));
    const slot = this.slots.reduce((a, b) => (b.tasks.size < a.tasks.size ? b : a));
    const id = this.nextId++;
    return new Promise<OcrResult>((resolve, reject) => {
      slot.tasks.set(id, { resolve, reject });
      slot.worker.postMessage({ id, input } satisfies OcrRequest);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_FILE, { workerData: { options: this.options } }), tasks: new Map() };
    slot.worker.on('message', (m: OcrReply) => {
      const t = slot.tasks.get(m.id);
      if (!t) return;
      slot.tasks.delete(m.id);
      if (m.ok) t.resolve(m.result);
      else t.reject(new AppError(m.error.code, m.error.message, m.error.reason));
    });
    const fail = (err: unknown) => {
      for (const t of slot.tasks.values())
        t.reject(new AppError('INTERNAL_SERVER_ERROR', `OCR worker failed: ${(err as Error)?.message ?? err}`, 'OCR_WORKER_FAILED'));
      slot.tasks.clear();
      if (!this.closed) this.slots[this.slots.indexOf(slot)] = this.spawn();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => code !== 0 && fail(new Error(`exit ${code}`)));
    return slot;
  }
}
