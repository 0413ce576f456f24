/**
 * Worker thread of DecodePool (compiled to dist/src/ml/image/decode-worker.js, next to decode-pool.js).
 * Each message is one image; the reply carries the normalised CHW floats as a transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { asAppError, type AppError } from '../../errors';
import { cropLength, preprocessInto, type PreprocessSpec } from './preprocess';
import { cropsFor, type ResizeStrategy } from './resize-strategy';

export interface DecodeRequest {
  id: number;
  /** Image bytes (transferred) or a file path the worker reads itself. */
  input: Uint8Array | string;
  strategy?: ResizeStrategy;
}
export type DecodeReply =
  | { id: number; ok: true; data: Float32Array; crops: number }
  | { id: number; ok: false; error: { code: AppError['code']; message: string; reason?: string; details?: Record<string, unknown> } };

const base = (workerData as { spec: PreprocessSpec }).spec;
// Decodes are small (posters are ~0.05 MP); one libvips thread per image avoids oversubscribing the
// cores ONNX Runtime is using, and a cache is useless for never-repeated inputs.
sharp.concurrency(1);
sharp.cache(false);

parentPort!.on('message', (msg: DecodeRequest) => {
  const spec = msg.strategy && msg.strategy !== base.strategy ? { ...base, strategy: msg.strategy } : base;
  const data = new Float32Array(cropsFor(spec.strategy) * cropLength(spec));
  preprocessInto(msg.input, spec, data, 0).then(
    (r) => {
      const reply: DecodeReply = { id: msg.id, ok: true, data, crops: r.crops };
      parentPort!.postMessage(reply, [data.buffer]);
    },
    (err: unknown) => {
      const e = asAppError(err, 'DECODE_FAILED', 'Decoding failed');
      const reply: DecodeReply = { id: msg.id, ok: false, error: { code: e.code, message: e.message, reason: e.reason, details: e.details } };
      parentPort!.postMessage(reply);
    },
  );
});
