/**
 * Background computing yields the CPU to request handling. A worker thread that runs inference,
 * training or an index build lowers its own scheduling priority (Linux keeps a nice value and a
 * scheduling policy per thread, and threads it starts, such as ONNX Runtime's intra-op pool, inherit
 * them), so on a small machine the event loop that answers cheap queries gets a core first and the heavy
 * work takes what is left. Idle cores still go to the background work, so a batch job alone runs as fast
 * as before.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** Inference serves requests too (predictGenres), but must not starve the cheap ones. */
export const INFERENCE_NICE = 10;
/** Training, fitting and index builds: nobody waits on them request by request (and they run SCHED_IDLE). */
export const BATCH_NICE = 19;

/** Linux's scheduling policy numbers (sched.h), as /proc/<pid>/task/<tid>/stat reports them (field 41). */
export const SCHED_IDLE = 5;

/**
 * Lowers the calling thread's priority to `nice` (never raises it); at BATCH_NICE the thread also takes
 * the SCHED_IDLE policy. Where either is refused it stays as it is.
 */
export function lowerThreadPriority(nice: number): void {
  try {
    if (os.getPriority() < nice) os.setPriority(nice);
  } catch {
    // A platform or sandbox that refuses: the work still runs, at the inherited priority.
  }
  if (nice >= BATCH_NICE) idleSchedulingPolicy();
}

/**
 * Nice 19 alone was not enough: a nice-19 training thread still took 70 % of a core beside an event
 * loop serving 2,500 req/s, and under EEVDF a running thread keeps the core for up to its slice (ms) when
 * the event loop wakes, which added to every queued request (similarPosters p99 during a retrain 1.6x
 * alone, bench/isolation.ts). A waking normal thread preempts a SCHED_IDLE one at once. Node has no call
 * for it: util-linux's `chrt` sets it on this thread's id (from /proc/thread-self), which an unprivileged
 * user may do to its own threads.
 */
function idleSchedulingPolicy(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = fs.readlinkSync('/proc/thread-self').split('/').pop()!;
    execFileSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // No chrt (or refused): nice 19 still applies.
  }
}
