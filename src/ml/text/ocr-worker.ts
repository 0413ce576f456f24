/**
 * Worker thread of OcrPool (compiled to dist/src/ml/text/ocr-worker.js): one PosterOcr (one ONNX
 * Runtime thread) per worker, since a session runs synchronously on the thread that calls it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { AppError } from '../../errors';
import type { OcrResult, PosterOcrOptions } from './ocr-options';
import { PosterOcr } from './poster-ocr';
import { INFERENCE_NICE, lowerThreadPriority } from '../thread-priority';

lowerThreadPriority(INFERENCE_NICE);

export interface OcrRequest {
  id: number;
  input: Uint8Array | string;
}
export type OcrReply =
  { id: number; ok: true; result: OcrResult } | { id: number; ok: false; error: { code: AppError['code']; message: string; reason?: string } };

sharp.concurrency(1);
sharp.cache(false);
const ready = PosterOcr.create({ ...(workerData as { options: PosterOcrOptions }).options, threads: 1 });

parentPort!.on('message', (msg: OcrRequest) => {
  ready
    .then((ocr) => ocr.read(msg.input))
    .then(
      (result) => parentPort!.postMessage({ id: msg.id, ok: true, result } satisfies OcrReply),
      (err: unknown) => {
        const e = err instanceof AppError ? err : new AppError('BAD_USER_INPUT', `OCR failed: ${(err as Error)?.message ?? err}`, 'IMAGE_CORRUPT');
        parentPort!.postMessage({ id: msg.id, ok: false, error: { code: e.code, message: e.message, reason: e.reason } } satisfies OcrReply);
      },
    );
});
