/** TF.js for training only (the serving predictor is plain JS): loaded on first use, wasm backend when it starts. */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;

let tfPromise: Promise<Tf> | null = null;
/** Loads TF.js and selects the wasm backend (falls back to cpu). Idempotent. */
export function loadTf(preferred: 'wasm' | 'cpu' = 'wasm'): Promise<Tf> {
  if (!tfPromise) {
    tfPromise = (async () => {
      /* eslint-disable @typescript-eslint/no-require-imports -- TF.js is large and only training needs it: it is
         loaded on first use, and with require() so that the wasm backend registers with the same CommonJS instance */
      const tf = require('@tensorflow/tfjs') as Tf;
      if (preferred === 'wasm') {
        try {
          require('@tensorflow/tfjs-backend-wasm');
          /* eslint-enable @typescript-eslint/no-require-imports */
          if (await tf.setBackend('wasm')) {
            await tf.ready();
            return tf;
          }
        } catch {
          /* fall through to cpu */
        }
      }
      await tf.setBackend('cpu');
      await tf.ready();
      return tf;
    })();
  }
  return tfPromise;
}
