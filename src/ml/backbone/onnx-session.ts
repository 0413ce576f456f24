/**
 * The one place ONNX Runtime sessions are made: a session over a backbone's verified weights on the
 * requested device, checked against the manifest. `auto` tries cuda, then webgpu, then cpu and records
 * why it skipped the others; an explicit device that fails is AppError SERVICE_UNAVAILABLE (reason
 * PROVIDER_UNAVAILABLE) naming the provider and the cause.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AppError } from '../../errors';
import { AUTO_PROVIDER_ORDER, type Device, type Provider } from './device';
import type { BackboneManifest } from './manifest';
import { withFeatureOutput } from './feature-graph';
import { decodeModel, encodeModel } from './tuning/onnx-graph';

export interface SkippedProvider {
  provider: Provider;
  reason: string;
}

export interface SessionOptions {
  device: Device;
  /** Intra-op threads (the CPU provider's parallelism). */
  threads: number;
  /** Whether ORT's intra-op threads spin while waiting for work (see DEFAULT_SPINNING). */
  spinning: boolean;
}

export interface BackboneSession {
  session: ort.InferenceSession;
  provider: Provider;
  /** Providers `auto` tried (or ruled out) before `provider`, with why. Empty for an explicit device. */
  skipped: SkippedProvider[];
}

/** Default for SessionOptions.spinning (see bench/embedding.ts). */
export const DEFAULT_SPINNING = true;

export async function openBackboneSession(manifest: BackboneManifest, weightsPath: string, opts: SessionOptions): Promise<BackboneSession> {
  const { device } = opts;
  const candidates: readonly Provider[] = device === 'auto' ? AUTO_PROVIDER_ORDER : [device];
  const skipped: SkippedProvider[] = [];
  const model = await modelSource(manifest, weightsPath);
  for (const p of candidates) {
    if (p === 'cuda' && cudaLibraryPresent() === false) {
      const reason = 'onnxruntime-node has no CUDA provider library installed (libonnxruntime_providers_cuda missing)';
      if (device === 'cuda') throw providerError(p, reason);
      skipped.push({ provider: p, reason });
      continue;
    }
    try {
      const options = sessionOptions(p, opts.threads, opts.spinning);
      const session = await (typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options));
      try {
        checkModel(session, manifest);
        // One tiny run proves the provider works end to end (a GPU can list but fail at first run).
        const { name, width, height } = manifest.input;
        const out = await session.run({ [name]: new ort.Tensor('float32', new Float32Array(3 * width * height), [1, 3, height, width]) }, [
          manifest.embedding.name,
        ]);
        const got = out[manifest.embedding.name].data.length;
        if (got !== manifest.embedding.dim) {
          throw new AppError(
            'INTERNAL_SERVER_ERROR',
            `Backbone "${manifest.id}" does not match its manifest: output dim ${got} is not ${manifest.embedding.dim}`,
            'MODEL_MISMATCH',
          );
        }
      } catch (err) {
        await session.release().catch(() => undefined);
        throw err;
      }
      return { session, provider: p, skipped };
    } catch (err) {
      if (err instanceof AppError) throw err; // model/manifest mismatch: no provider will fix it
      if (device !== 'auto') throw providerError(p, firstLine(err));
      skipped.push({ provider: p, reason: firstLine(err) });
    }
  }
  throw new AppError(
    'SERVICE_UNAVAILABLE',
    `No execution provider could start: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`,
    'PROVIDER_UNAVAILABLE',
    { skipped },
  );
}

/** The weights file, or for multi-layer features the model with its feature output added (feature-graph.ts). */
async function modelSource(manifest: BackboneManifest, weightsPath: string): Promise<string | Uint8Array> {
  const parts = manifest.embedding.parts;
  if (!parts) return weightsPath;
  return encodeModel(withFeatureOutput(decodeModel(await fs.promises.readFile(weightsPath)), parts, manifest.embedding.name));
}

/**
 * A CPU session over any ONNX model (a file or its bytes): the OCR models, and a backbone with an
 * inner tensor exposed for tuning. Same settings as a backbone's CPU session, without spinning
 * (these run beside other work).
 */
export function openCpuSession(model: string | Uint8Array, threads: number): Promise<ort.InferenceSession> {
  const options = sessionOptions('cpu', threads, false);
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** The first meaningful line of an ONNX Runtime error (its messages start with a source location). */
export const firstLine = (err: unknown): string =>
  String((err as Error)?.message ?? err)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    // ORT prefixes "<source path>:<line> <function>::<lambda()> <condition> was false. <message>"
    .map((l) => l.replace(/^\/onnxruntime_src\/\S+\s+/, '').replace(/^.*\swas false\.\s+/, ''))[0] ?? 'unknown error';

/** Whether the installed onnxruntime-node ships the CUDA provider library (probing without it only logs noise). */
function cudaLibraryPresent(): boolean | undefined {
  try {
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const binDir = path.join(root, 'bin');
    for (const napi of fs.readdirSync(binDir)) {
      const dir = path.join(binDir, napi, process.platform, process.arch);
      if (fs.existsSync(dir)) return fs.readdirSync(dir).some((f) => /onnxruntime_providers_cuda\.(so|dll)/.test(f));
    }
    return false;
  } catch {
    return undefined; // unknown layout: just try
  }
}

function sessionOptions(provider: Provider, threads: number, spinning: boolean): ort.InferenceSession.SessionOptions {
  const ep: ort.InferenceSession.ExecutionProviderConfig =
    provider === 'cuda' ? { name: 'cuda', deviceId: 0 } : provider === 'webgpu' ? { name: 'webgpu' } : { name: 'cpu' };
  return {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Batches vary in size (request coalescing): a memory pattern per shape would only accumulate.
    enableMemPattern: false,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

function providerError(provider: Provider, cause: string): AppError {
  return new AppError(
    'SERVICE_UNAVAILABLE',
    `The ${provider} execution provider failed to start (MARQUEE_DEVICE=${provider}): ${cause}. Use MARQUEE_DEVICE=auto to fall back to cpu.`,
    'PROVIDER_UNAVAILABLE',
    { provider, cause },
  );
}

/** Inputs and outputs of the model against its manifest; a mismatch is final (AppError MODEL_MISMATCH). */
function checkModel(s: ort.InferenceSession, m: BackboneManifest): void {
  const bad = (what: string) => new AppError('INTERNAL_SERVER_ERROR', `Backbone "${m.id}" does not match its manifest: ${what}`, 'MODEL_MISMATCH');
  if (!s.inputNames.includes(m.input.name)) throw bad(`no input "${m.input.name}" (model has ${s.inputNames.join(', ')})`);
  if (!s.outputNames.includes(m.embedding.name)) throw bad(`no output "${m.embedding.name}" (model has ${s.outputNames.join(', ')})`);
  const inMeta = s.inputMetadata.find((x) => x.name === m.input.name);
  if (inMeta?.isTensor) {
    const [, c, h, w] = inMeta.shape;
    if (
      inMeta.shape.length !== 4 ||
      (typeof c === 'number' && c !== 3) ||
      (typeof h === 'number' && h !== m.input.height) ||
      (typeof w === 'number' && w !== m.input.width)
    ) {
      throw bad(`input shape [${inMeta.shape.join(',')}] is not [N,3,${m.input.height},${m.input.width}]`);
    }
  }
  const outMeta = s.outputMetadata.find((x) => x.name === m.embedding.name);
  if (outMeta?.isTensor) {
    const d = outMeta.shape[outMeta.shape.length - 1];
    if (typeof d === 'number' && d !== m.embedding.dim) throw bad(`output dim ${d} is not ${m.embedding.dim}`);
  }
}
