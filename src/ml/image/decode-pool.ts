/**
 * A worker_threads pool that runs preprocess off the main thread, so decoding overlaps inference
 * (which runs in its own worker, InferenceThread). Tasks are posted to a worker as soon as they arrive
 * (least-loaded first), so workers keep decoding while a batch is in session.run. Results come back as transferred buffers (no structured-clone copy). A failing image
 * rejects only its own task; a crashed worker fails its in-flight tasks and is replaced.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../errors';
import type { DecodeReply, DecodeRequest } from './decode-worker';
import type { ImageInput, PreprocessSpec } from './preprocess';
import type { ResizeStrategy } from './resize-strategy';

export interface DecodedImage {
  /** crops x 3 x H x W normalised floats (its own ArrayBuffer, transferred from the worker). */
  data: Float32Array;
  crops: number;
}

export interface DecodePoolOptions {
  spec: PreprocessSpec;
  /** Worker count; default: the number of cores. */
  size?: number;
}

interface Task {
  resolve: (d: DecodedImage) => void;
  reject: (e: AppError) => void;
}
interface Slot {
  worker: Worker;
  tasks: Map<number, Task>;
}

const WORKER_FILE = path.join(__dirname, 'decode-worker.js');

export class DecodePool {
  readonly size: number;
  readonly spec: PreprocessSpec;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: DecodePoolOptions) {
    this.spec = opts.spec;
    this.size = Math.max(1, Math.floor(opts.size ?? os.availableParallelism()));
    if (!fs.existsSync(WORKER_FILE)) {
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        `Decode worker ${WORKER_FILE} not found; run the compiled build (npx tsc -p tsconfig.json) and load dist/`,
        'DECODE_WORKER_MISSING',
      );
    }
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /** Tasks posted and not yet answered. */
  get pending(): number {
    let n = 0;
    for (const s of this.slots) n += s.tasks.size;
    return n;
  }

  /** Decodes one image (bytes or a file path) in a worker. Rejects with the image's AppError. */
  decode(input: ImageInput, opts: { strategy?: ResizeStrategy } = {}): Promise<DecodedImage> {
    if (this.closed) return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'Decode pool is closed', 'SHUTTING_DOWN'));
    let msgInput: Uint8Array | string;
    const transfer: ArrayBuffer[] = [];
    if (typeof input === 'string') msgInput = input;
    else {
      // Copy exactly the view's bytes (a Buffer may be a slice of a larger pool) and transfer the copy.
      if (input.byteLength > this.spec.maxBytes) {
        return Promise.reject(
          new AppError('BAD_USER_INPUT', `Image is ${input.byteLength} bytes; the limit is ${this.spec.maxBytes}`, 'IMAGE_TOO_LARGE', {
            bytes: input.byteLength,
            maxBytes: this.spec.maxBytes,
          }),
        );
      }
      const copy = new Uint8Array(input.byteLength);
      copy.set(input);
      msgInput = copy;
      transfer.push(copy.buffer);
    }
    const slot = this.leastLoaded();
    const id = this.nextId++;
    return new Promise<DecodedImage>((resolve, reject) => {
      slot.tasks.set(id, { resolve, reject });
      if (slot.tasks.size === 1) slot.worker.ref();
      const req: DecodeRequest = { id, input: msgInput, strategy: opts.strategy };
      slot.worker.postMessage(req, transfer);
    });
  }

  /** Decodes into `out` at `offset` (one copy of the transferred floats); resolves the crops written. */
  async decodeInto(input: ImageInput, out: Float32Array, offset: number, opts: { strategy?: ResizeStrategy } = {}): Promise<number> {
    const d = await this.decode(input, opts);
    out.set(d.data, offset);
    return d.crops;
  }

  /** Fails queued tasks and terminates the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) this.failAll(s, new AppError('SERVICE_UNAVAILABLE', 'Decode pool closed', 'SHUTTING_DOWN'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private leastLoaded(): Slot {
    let best = this.slots[0];
    for (const s of this.slots) if (s.tasks.size < best.tasks.size) best = s;
    return best;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_FILE, { workerData: { spec: this.spec } });
    const slot: Slot = { worker, tasks: new Map() };
    worker.unref(); // idle workers never keep the process alive; ref'd while they hold tasks
    worker.on('message', (msg: DecodeReply) => {
      const task = slot.tasks.get(msg.id);
      if (!task) return;
      slot.tasks.delete(msg.id);
      if (slot.tasks.size === 0) worker.unref();
      if (msg.ok) task.resolve({ data: msg.data, crops: msg.crops });
      else task.reject(new AppError(msg.error.code, msg.error.message, msg.error.reason, msg.error.details));
    });
    const onDeath = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // closed or already replaced
      this.failAll(slot, new AppError('INTERNAL_SERVER_ERROR', `Decode worker died: ${why}`, 'DECODE_WORKER_DIED'));
      if (!this.closed) this.slots[i] = this.spawn();
    };
    worker.on('error', (err) => onDeath(err.message));
    worker.on('exit', (code) => onDeath(`exit code ${code}`));
    return slot;
  }

  private failAll(slot: Slot, err: AppError): void {
    const tasks = [...slot.tasks.values()];
    slot.tasks.clear();
    for (const t of tasks) t.reject(err);
  }
}
