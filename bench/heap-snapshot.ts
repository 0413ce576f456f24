/**
 * Where a process's JavaScript heap goes: a V8 heap snapshot (`.heapsnapshot`, written by
 * `node --heapsnapshot-signal=SIGUSR2` on the signal) summed by object kind, and two snapshots
 * compared. The soak takes one before its load and one after, so that what the load left behind shows
 * by constructor name. Array buffers' backing stores appear as native nodes here; memory that V8
 * never sees (ONNX Runtime's arenas, libvips, glibc's free lists) is the rest of the RSS.
 */
import fs from 'node:fs';

export interface HeapKind {
  /** `type:name`, e.g. `object:Map`, `native:system / JSArrayBufferData`, `string:(strings)`. */
  kind: string;
  count: number;
  bytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  nodes: number;
  kinds: Map<string, HeapKind>;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Strings, numbers and code are grouped by type; objects and natives by their constructor or native name. */
const GROUPED_BY_TYPE = new Set(['string', 'concatenated string', 'sliced string', 'number', 'code', 'hidden', 'array', 'regexp']);

export function summarizeHeapSnapshot(file: string): HeapSummary {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as SnapshotJson;
  const fields = json.snapshot.meta.node_fields;
  const types = json.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const kinds = new Map<string, HeapKind>();
  let totalBytes = 0;
  const { nodes, strings } = json;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + typeAt]];
    const bytes = nodes[i + sizeAt];
    totalBytes += bytes;
    const name = GROUPED_BY_TYPE.has(type) ? `(${type})` : strings[nodes[i + nameAt]].slice(0, 60);
    const kind = `${type}:${name}`;
    const k = kinds.get(kind);
    if (k) {
      k.count++;
      k.bytes += bytes;
    } else kinds.set(kind, { kind, count: 1, bytes });
  }
  return { totalBytes, nodes: nodes.length / stride, kinds };
}

/** The kinds that grew most from `before` to `after` (bytes), largest first. */
export function heapGrowth(before: HeapSummary, after: HeapSummary, top = 10): Array<HeapKind & { deltaBytes: number; deltaCount: number }> {
  const rows = [...after.kinds.values()].map((a) => {
    const b = before.kinds.get(a.kind);
    return { ...a, deltaBytes: a.bytes - (b?.bytes ?? 0), deltaCount: a.count - (b?.count ?? 0) };
  });
  return rows.sort((x, y) => y.deltaBytes - x.deltaBytes).slice(0, top);
}

/** The largest kinds of one snapshot. */
export function largestKinds(summary: HeapSummary, top = 10): HeapKind[] {
  return [...summary.kinds.values()].sort((x, y) => y.bytes - x.bytes).slice(0, top);
}
