/** Small dense-vector helpers shared by the index, the embedder and the genre models. */

export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += a[aOff + j] * b[bOff + j];
    s1 += a[aOff + j + 1] * b[bOff + j + 1];
    s2 += a[aOff + j + 2] * b[bOff + j + 2];
    s3 += a[aOff + j + 3] * b[bOff + j + 3];
  }
  for (; j < dim; j++) s0 += a[aOff + j] * b[bOff + j];
  return s0 + s1 + s2 + s3;
}

/** L2-normalises `rows` rows of `dim` floats of `a` in place (zero rows stay zero); returns `a`. */
export function l2NormalizeRows(a: Float32Array, rows: number, dim: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += a[o + j] * a[o + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) a[o + j] *= inv;
  }
  return a;
}

/** L2-normalises one vector in place; returns it. */
export function normalize(v: Float32Array): Float32Array {
  return l2NormalizeRows(v, 1, v.length);
}
