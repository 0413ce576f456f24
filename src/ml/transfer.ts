/**
 * Moving typed arrays between threads without a copy: postMessage can transfer an ArrayBuffer (the
 * sender loses it), but only a whole one, so a view of part of a larger buffer is copied first.
 */

/** Whether `a` is the whole of a plain (non-shared) ArrayBuffer, so that transferring it moves just `a`. */
export function ownsBuffer(a: ArrayBufferView): boolean {
  return a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

/** `a` itself when it owns its buffer, else a copy that does: ready to transfer. */
export function transferableCopy(a: Float32Array): Float32Array {
  return ownsBuffer(a) ? a : a.slice();
}

/** The buffers of those `arrays` that own theirs (the rest are copied by the structured clone). */
export function transferList(...arrays: ArrayBufferView[]): ArrayBuffer[] {
  return arrays.filter(ownsBuffer).map((a) => a.buffer as ArrayBuffer);
}
