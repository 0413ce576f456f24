/**
 * Worker thread of InferenceThread (compiled to dist/src/ml/embedding/inference-worker.js, next to
 * inference-thread.js). It owns the backbone's ONNX Runtime session: onnxruntime-node runs a session
 * synchronously on the thread that calls it, so a batch blocks this thread and never the event loop.
 * Each request is one batch; the reply carries its L2-normalised rows as a transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { AppError, toWireError, type WireError } from '../../errors';
import type { BackboneManifest } from '../backbone/manifest';
import { firstLine, openBackboneSession, type SessionOptions, type SkippedProvider } from '../backbone/onnx-session';
import type { Provider } from '../backbone/device';
import { l2NormalizeRows } from '../math/vectors';
import { transferableCopy, transferList } from '../transfer';
import { INFERENCE_NICE, lowerThreadPriority } from '../thread-priority';

lowerThreadPriority(INFERENCE_NICE);

export interface InferenceWorkerData {
  manifest: BackboneManifest;
  weightsPath: string;
  options: SessionOptions;
}

/** The first message: the session started (on `provider`), or why it could not. */
export type InferenceStarted = { kind: 'started'; provider: Provider; skipped: SkippedProvider[] } | { kind: 'start-failed'; error: WireError };

export interface InferenceRequest {
  id: number;
  /** n x 3 x H x W floats: a transferred buffer or a view of a SharedArrayBuffer the sender leaves alone until the reply. */
  data: Float32Array;
  n: number;
}

export type InferenceReply = { kind: 'rows'; id: number; rows: Float32Array } | { kind: 'failed'; id: number; error: WireError };

const { manifest, weightsPath, options } = workerData as InferenceWorkerData;
const { height, width } = manifest.input;
const dim = manifest.embedding.dim;
const opened = openBackboneSession(manifest, weightsPath, options);
opened.then(
  ({ provider, skipped }) => parentPort!.postMessage({ kind: 'started', provider, skipped } satisfies InferenceStarted),
  (err: unknown) => parentPort!.postMessage({ kind: 'start-failed', error: toWireError(err) } satisfies InferenceStarted),
);

parentPort!.on('message', (msg: InferenceRequest) => {
  opened
    .then(({ session, provider }) => embed(session, provider, msg.data, msg.n))
    .then(
      (rows) => {
        // The output may be a view of a larger buffer (ORT's allocation): only a whole buffer moves.
        const own = transferableCopy(rows);
        parentPort!.postMessage({ kind: 'rows', id: msg.id, rows: own } satisfies InferenceReply, transferList(own));
      },
      (err: unknown) => parentPort!.postMessage({ kind: 'failed', id: msg.id, error: toWireError(err) } satisfies InferenceReply),
    );
});

// ONNX Runtime refuses a tensor over shared memory: a shared batch is copied here (off the event loop),
// into one buffer grown to the largest batch seen.
let local = new Float32Array(0);

async function embed(session: ort.InferenceSession, provider: Provider, data: Float32Array, n: number): Promise<Float32Array> {
  if (data.buffer instanceof SharedArrayBuffer) {
    if (local.length < data.length) local = new Float32Array(data.length);
    local.set(data);
    data = local.subarray(0, data.length);
  }
  const input = new ort.Tensor('float32', data, [n, 3, height, width]);
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await session.run({ [manifest.input.name]: input }, [manifest.embedding.name]);
  } catch (err) {
    throw new AppError('SERVICE_UNAVAILABLE', `Inference failed on ${provider}: ${firstLine(err)}`, 'INFERENCE_FAILED', { provider });
  }
  const t = out[manifest.embedding.name];
  if (!(t.data instanceof Float32Array) || t.data.length !== n * dim) {
    throw new AppError(
      'INTERNAL_SERVER_ERROR',
      `Backbone output ${manifest.embedding.name} has ${t.data.length} values, expected ${n}x${dim}`,
      'MODEL_MISMATCH',
    );
  }
  return l2NormalizeRows(t.data, n, dim);
}
