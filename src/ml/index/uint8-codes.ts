/**
 * One byte per value with a per-vector offset and scale (x ≈ offset + code * scale, code 0..255): the
 * full 8 bits go to the vector's own range. Poster embeddings are non-negative (pooled ReLU6), so a
 * symmetric int8 code (x ≈ code * scale, code -127..127) left half its range unused; at a million
 * near-duplicate posters that lost precision decided the order of near-ties in the top 10.
 */
export function encodeUint8(src: Float32Array, srcOff: number, n: number, codes: Uint8Array, codesOff: number): { offset: number; scale: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    const x = src[srcOff + j];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (!(n > 0)) return { offset: 0, scale: 1 };
  const scale = (max - min) / 255 || 1;
  for (let j = 0; j < n; j++) codes[codesOff + j] = Math.round((src[srcOff + j] - min) / scale);
  return { offset: min, scale };
}

/** Decodes `n` values (offset + code * scale) into `out` at `outOff`. */
export function decodeUint8(codes: Uint8Array, codesOff: number, n: number, offset: number, scale: number, out: Float32Array, outOff: number): void {
  for (let j = 0; j < n; j++) out[outOff + j] = offset + codes[codesOff + j] * scale;
}

/**
 * q · x for the coded x: offset * sum(q) + scale * (q · codes); `qSum` is sum(q), computed once per query.
 * Its own loop rather than vectors.ts's `dot`: one typed-array kind per loop keeps V8's loads monomorphic.
 */
export function dotUint8(q: Float32Array, qSum: number, codes: Uint8Array, codesOff: number, n: number, offset: number, scale: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += q[j] * codes[codesOff + j];
    s1 += q[j + 1] * codes[codesOff + j + 1];
    s2 += q[j + 2] * codes[codesOff + j + 2];
    s3 += q[j + 3] * codes[codesOff + j + 3];
  }
  for (; j < n; j++) s0 += q[j] * codes[codesOff + j];
  return offset * qSum + scale * (s0 + s1 + s2 + s3);
}

export function sum(a: Float32Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j];
  return s;
}
