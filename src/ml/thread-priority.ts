/**
 * Background computing yields the CPU to request handling. A worker thread that runs inference,
 * training or an index build lowers its own scheduling priority (Linux keeps a nice value per thread,
 * and threads it starts, such as ONNX Runtime's intra-op pool, inherit it), so on a small machine the
 * event loop that answers cheap queries gets a core first and the heavy work takes what is left. Idle
 * cores still go to the background work, so a batch job alone runs as fast as before.
 */
import os from 'node:os';

/** Inference serves requests too (predictGenres), but must not starve the cheap ones. */
export const INFERENCE_NICE = 10;
/** Training, fitting and index builds: nobody waits on them request by request. */
export const BATCH_NICE = 19;

/** Lowers the calling thread's priority to `nice` (never raises it); where that is refused it stays as it is. */
export function lowerThreadPriority(nice: number): void {
  try {
    if (os.getPriority() < nice) os.setPriority(nice);
  } catch {
    // A platform or sandbox that refuses: the work still runs, at the inherited priority.
  }
}
