/**
 * Backbone manifests: one small JSON file per image backbone in src/ml/backbone/manifests/. Adding a backbone
 * means writing a manifest (and putting its weights in MARQUEE_MODELS_DIR), not code.
 *
 * Where manifests are read from at run time, first hit per id wins:
 *   1. MARQUEE_BACKBONES_DIR (Config ml.backbonesDir), when set (a deployment can add a backbone
 *      without rebuilding);
 *   1b. `<MARQUEE_MODELS_DIR>/manifests/`, where `marquee tune-backbone` registers the backbones it
 *      writes next to their weights;
 *   2. src/ml/backbone/manifests/ of the checkout (found from dist/src/ml/backbone as
 *      ../../../../src/ml/backbone/manifests);
 *   3. the folder next to this module (dist/src/ml/backbone/manifests/; tsc copies the two default manifests
 *      there because they are imported below with resolveJsonModule);
 *   4. the two default manifests compiled in through those imports (so both defaults always resolve).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError, badInput } from '../../errors';
import defaultManifestJson from './manifests/mobilenetv2-fp32.json';
import serviceManifestJson from './manifests/mobilenetv2-fp32-3view.json';
import { FEATURE_POOLS, FEATURE_TRANSFORMS, featureDim, type FeaturePart } from './feature-graph';
import { RESIZE_STRATEGIES, type ResizeStrategy } from '../image/resize-strategy';

export interface BackboneManifest {
  /** Stable id, also the value stored with each embedding (poster_embedding.backbone). */
  id: string;
  description?: string;
  license?: string;
  /** Weights file, relative to MARQUEE_MODELS_DIR. */
  file: string;
  /** Lower-case hex sha256 of the weights file. */
  sha256: string;
  /** Where a real deployment fetches the weights from (see model-store downloadWeights). */
  url?: string;
  input: {
    name: string;
    layout: 'NCHW';
    width: number;
    height: number;
    /** Per RGB channel; pixels are x/255, then (x - mean) / std. */
    mean: [number, number, number];
    std: [number, number, number];
  };
  embedding: {
    /** Output tensor [N, dim]; vectors are L2-normalised by the runtime. */
    name: string;
    dim: number;
    /**
     * Multi-layer features: when set, `name` is a new output that the runtime adds to the graph on load,
     * the concatenation of these parts, each pooled and L2-normalised (backbone/feature-graph.ts);
     * `dim` is the sum of their dims.
     */
    parts?: FeaturePart[];
  };
  /**
   * How posters are resized for this backbone (default: the runtime's default). Part of the manifest
   * because embeddings are stored per manifest id: two preprocessings of one model are two backbones.
   */
  preprocess?: ResizeStrategy;
  /** Set on backbones made by `marquee tune-backbone`: what they were tuned from and on which split. */
  tuning?: { base: string; split: string } & Record<string, unknown>;
}

/** The base manifest: what a bare PosterEmbedder loads, and the one manifest that always resolves. */
export const DEFAULT_BACKBONE = 'mobilenetv2-fp32';
/**
 * What a deployment embeds with when MARQUEE_BACKBONE is unset: the base weights on the squashed poster
 * and its top and bottom crops, averaged. Chosen on both evaluation splits (docs/ml-levers.md: +0.010 test
 * and +0.013 era-split macro F1 over the squash-only base) within the 15-minute embed + train budget; it
 * is compiled in like the base manifest.
 */
export const DEFAULT_SERVICE_BACKBONE = 'mobilenetv2-fp32-3view';
/** What a manifest id looks like (it names files and is stored with every embedding). */
export const BACKBONE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const invalid = (source: string, what: string) => new AppError('INTERNAL_SERVER_ERROR', `Backbone manifest ${source}: ${what}`, 'BAD_MANIFEST', { source });

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isTriple = (x: unknown): x is [number, number, number] => Array.isArray(x) && x.length === 3 && x.every(isNum);

/** Checks a parsed manifest and returns it typed; throws AppError BAD_MANIFEST naming the field. */
export function validateManifest(raw: unknown, source: string): BackboneManifest {
  const m = raw as Partial<BackboneManifest> | null;
  if (!m || typeof m !== 'object') throw invalid(source, 'not a JSON object');
  if (typeof m.id !== 'string' || !BACKBONE_ID.test(m.id)) throw invalid(source, '"id" must be a simple name');
  if (typeof m.file !== 'string' || m.file.length === 0 || path.isAbsolute(m.file) || m.file.split(/[\\/]/).includes('..')) {
    throw invalid(source, '"file" must be a path relative to the models directory');
  }
  if (typeof m.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(m.sha256)) throw invalid(source, '"sha256" must be 64 hex digits');
  if (m.url !== undefined && m.url !== null && (typeof m.url !== 'string' || !/^https:\/\//.test(m.url))) {
    throw invalid(source, '"url" must be an https URL when given');
  }
  const i = m.input;
  if (!i || typeof i.name !== 'string') throw invalid(source, '"input.name" missing');
  if (i.layout !== 'NCHW') throw invalid(source, '"input.layout" must be "NCHW"');
  if (!Number.isInteger(i.width) || !Number.isInteger(i.height) || i.width < 8 || i.height < 8 || i.width > 4096 || i.height > 4096) {
    throw invalid(source, '"input.width"/"input.height" must be integers in 8..4096');
  }
  if (!isTriple(i.mean) || !isTriple(i.std) || i.std.some((s) => s <= 0)) throw invalid(source, '"input.mean"/"input.std" must be 3 numbers (std > 0)');
  if (m.preprocess !== undefined && !RESIZE_STRATEGIES.includes(m.preprocess)) {
    throw invalid(source, `"preprocess" must be one of ${RESIZE_STRATEGIES.join(', ')}`);
  }
  const e = m.embedding;
  if (!e || typeof e.name !== 'string' || !Number.isInteger(e.dim) || e.dim <= 0) throw invalid(source, '"embedding.name"/"embedding.dim" missing');
  const parts = e.parts === undefined ? undefined : validateParts(e.parts, source);
  if (parts && featureDim(parts) !== e.dim) throw invalid(source, `"embedding.dim" is ${e.dim} but its parts sum to ${featureDim(parts)}`);
  return {
    id: m.id,
    description: typeof m.description === 'string' ? m.description : undefined,
    license: typeof m.license === 'string' ? m.license : undefined,
    file: m.file,
    sha256: m.sha256.toLowerCase(),
    url: typeof m.url === 'string' ? m.url : undefined,
    input: { name: i.name, layout: 'NCHW', width: i.width, height: i.height, mean: [i.mean[0], i.mean[1], i.mean[2]], std: [i.std[0], i.std[1], i.std[2]] },
    embedding: parts ? { name: e.name, dim: e.dim, parts } : { name: e.name, dim: e.dim },
    preprocess: m.preprocess,
    tuning: m.tuning && typeof m.tuning === 'object' && typeof m.tuning.split === 'string' && typeof m.tuning.base === 'string' ? m.tuning : undefined,
  };
}

function validateParts(raw: unknown, source: string): FeaturePart[] {
  if (!Array.isArray(raw) || raw.length === 0) throw invalid(source, '"embedding.parts" must be a non-empty array');
  return raw.map((p: Partial<FeaturePart> | null, i) => {
    const where = `"embedding.parts[${i}]"`;
    if (!p || typeof p !== 'object' || typeof p.tensor !== 'string' || p.tensor.length === 0) throw invalid(source, `${where}.tensor must name a tensor`);
    if (!FEATURE_POOLS.includes(p.pool as never)) throw invalid(source, `${where}.pool must be one of ${FEATURE_POOLS.join(', ')}`);
    if (p.transform !== undefined && (!FEATURE_TRANSFORMS.includes(p.transform) || p.pool !== 'none')) {
      throw invalid(source, `${where}.transform must be one of ${FEATURE_TRANSFORMS.join(', ')}, with pool "none"`);
    }
    if (!Number.isInteger(p.dim) || (p.dim as number) <= 0) throw invalid(source, `${where}.dim must be a positive integer`);
    return { tensor: p.tensor, pool: p.pool!, ...(p.transform ? { transform: p.transform } : {}), dim: p.dim! };
  });
}

/** Folders searched for *.json manifests, in priority order (only those that exist); `extraDir` first, then `<modelsDir>/manifests`. */
export function manifestDirs(extraDir?: string, modelsDir?: string): string[] {
  const candidates = [
    extraDir ? path.resolve(extraDir) : undefined,
    modelsDir ? path.resolve(modelsDir, 'manifests') : undefined,
    // dist/src/ml/backbone -> <repo>/src/ml/backbone/manifests (the source of truth in a checkout)
    path.resolve(__dirname, '../../../../src/ml/backbone/manifests'),
    path.join(__dirname, 'manifests'),
  ];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const dir of candidates) {
    if (!dir) continue;
    let real: string;
    try {
      if (!fs.statSync(dir).isDirectory()) continue;
      real = fs.realpathSync(dir);
    } catch {
      continue;
    }
    if (!seen.has(real)) {
      seen.add(real);
      out.push(dir);
    }
  }
  return out;
}

/** All known backbones, by id (first folder wins), default first. */
export function listBackbones(dirs: string[] = manifestDirs()): BackboneManifest[] {
  const byId = new Map<string, BackboneManifest>();
  for (const dir of dirs) {
    for (const name of fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      const file = path.join(dir, name);
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        throw invalid(file, `not valid JSON (${(err as Error).message})`);
      }
      const m = validateManifest(raw, file);
      if (!byId.has(m.id)) byId.set(m.id, m);
    }
  }
  if (!byId.has(DEFAULT_BACKBONE)) byId.set(DEFAULT_BACKBONE, validateManifest(defaultManifestJson, 'built-in default'));
  if (!byId.has(DEFAULT_SERVICE_BACKBONE)) byId.set(DEFAULT_SERVICE_BACKBONE, validateManifest(serviceManifestJson, 'built-in service default'));
  const all = [...byId.values()];
  return [...all.filter((m) => m.id === DEFAULT_BACKBONE), ...all.filter((m) => m.id !== DEFAULT_BACKBONE)];
}

/** The manifest for `id` (default backbone when omitted); unknown ids are BAD_USER_INPUT UNKNOWN_BACKBONE. */
export function loadBackbone(id: string = DEFAULT_BACKBONE, dirs?: string[]): BackboneManifest {
  const all = listBackbones(dirs);
  const m = all.find((b) => b.id === id);
  if (!m) {
    throw badInput('UNKNOWN_BACKBONE', `Unknown backbone "${id}"; known: ${all.map((b) => b.id).join(', ')}`, { backbone: id });
  }
  return m;
}
