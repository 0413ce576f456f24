/**
 * Turns the files bench/gpu/run.sh leaves in its work folder into one markdown section (img/s per row and
 * batch size, Marquee's ratio to PyTorch fp32 at the same batch, the card, the date, the command):
 *   torch.json, marquee-<device>.json   results (bench/gpu/torch_baseline.py, bench-gpu.js)
 *   <name>.rc, <name>.log               exit status and stderr of each step (used when a result is missing)
 *   nvidia-smi.txt, vulkan.txt          what the host said about its GPU and how Vulkan was set up
 * A step that failed or never wrote its JSON still gets its row, with the reason.
 *
 *   node dist/bench/gpu/report.js --work DIR --devices "webgpu cpu cuda" [--out FILE.md]
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Cell, GpuBenchResult, PipelineCell } from './bench-gpu';

interface TorchResult {
  ok: boolean;
  error?: string;
  gpu?: string | null;
  capability?: string;
  gpu_memory_gib?: number;
  torch?: string;
  torchvision?: string;
  cuda?: string;
  cudnn?: number;
  cudnn_allow_tf32?: boolean;
  batch_sizes?: number[];
  results?: Record<string, Record<string, Cell>>;
}

const TORCH_MODES: Record<string, string> = {
  fp32: 'PyTorch fp32 | inference only, input already on the GPU',
  bf16: 'PyTorch bf16 (autocast) | inference only, input already on the GPU',
  fp32_host: 'PyTorch fp32 + copies | inference with host→GPU input and GPU→host output copies',
};

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const clean = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim().slice(0, 300);

/** Why a step left no usable JSON: its exit status and the last meaningful line of its stderr. */
function failure(work: string, name: string): string {
  const rc = readText(path.join(work, `${name}.rc`));
  const lines = (readText(path.join(work, `${name}.log`)) ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^\s*at /.test(l));
  const last = lines.length ? lines[lines.length - 1] : 'no output';
  if (rc === undefined) return 'did not run';
  if (rc === 'skipped') return 'skipped (GPU_BENCH_TORCH=0)';
  if (rc === '124' || rc === '137') return `timed out (exit ${rc}); last line: ${last}`;
  return `exit ${rc}: ${last}`;
}

/** The first distinct Vulkan loader / Dawn complaints in a step's output (why a GPU adapter was missing). */
function gpuHints(work: string, name: string): string {
  const text = ['out', 'log'].map((ext) => readText(path.join(work, `${name}.${ext}`)) ?? '').join('\n');
  const hits = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(Warning|Error|ERROR|WARNING):/.test(l) || /vkCreateInstance|Couldn't load Vulkan|libvulkan/.test(l))
    .map((l) => l.replace(/^(Warning|Error|ERROR|WARNING):\s*/, ''));
  const uniq = [...new Set(hits)].slice(0, 3);
  return uniq.length ? ` (Vulkan/Dawn said: ${uniq.join(' / ')})` : '';
}

const fmtRate = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const fmtRatio = (x: number) => (x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

export function report(work: string, devices: string[]): string {
  const torch = readJson<TorchResult>(path.join(work, 'torch.json'));
  const marquee = new Map(devices.map((d) => [d, readJson<GpuBenchResult>(path.join(work, `marquee-${d}.json`))]));
  const batches = [...new Set([...(torch?.batch_sizes ?? []), ...[...marquee.values()].flatMap((m) => m?.batch_sizes ?? [])])].sort((a, b) => a - b);
  const torchFp32 = (b: number): number | undefined => {
    const c = torch?.results?.fp32?.[String(b)];
    return c && 'img_s' in c ? c.img_s : undefined;
  };

  const rows: string[] = [];
  const row = (label: string, cells: string[], notes: string) => rows.push(`| ${label} | ${cells.join(' | ')} | ${clean(notes)} |`);
  const dash = () => batches.map(() => '—');
  const cellsOf = (rec: Record<string, Cell | PipelineCell> | undefined, ratio: boolean): { cells: string[]; errors: string[] } => {
    const errors: string[] = [];
    const skipped: number[] = [];
    const cells = batches.map((b) => {
      const c = rec?.[String(b)];
      if (!c) return '—';
      if ('error' in c) {
        if (c.error.startsWith('skipped')) {
          skipped.push(b);
          return 'skipped';
        }
        errors.push(`batch ${b}: ${c.error}`);
        return 'error';
      }
      const ref = torchFp32(b);
      return ratio && ref ? `${fmtRate(c.img_s)} (${fmtRatio(c.img_s / ref)}×)` : fmtRate(c.img_s);
    });
    if (skipped.length) errors.push(`batch ${skipped.join(', ')} skipped: the step's time budget was spent`);
    return { cells, errors: [...new Set(errors)] };
  };

  const notes: string[] = [];
  for (const d of devices) {
    const m = marquee.get(d);
    const name = `Marquee ${d}`;
    if (!m) {
      row(`${name} | —`, dash(), failure(work, `marquee-${d}`));
      continue;
    }
    if (!m.ok) {
      row(`${name} | provider did not start`, dash(), (m.error ?? failure(work, `marquee-${d}`)) + (d === 'webgpu' ? gpuHints(work, `marquee-${d}`) : ''));
      continue;
    }
    const cut = m.partial ? `cut short: ${failure(work, `marquee-${d}`)}` : '';
    const threads = m.provider === 'cpu' ? ` (${m.ort_threads} threads)` : '';
    const inf = cellsOf(m.inference, true);
    row(`${name}${threads} | inference only (embedTensor: copy in, run, copy out, normalise)`, inf.cells, [cut, ...inf.errors].filter(Boolean).join('; '));
    const e2e = cellsOf(m.pipeline, true);
    const imgs = Object.values(m.pipeline).find((c): c is Extract<PipelineCell, { images: number }> => 'images' in c);
    const cores = Object.values(m.pipeline)
      .filter((c): c is Extract<PipelineCell, { cpu_cores: number }> => 'cpu_cores' in c)
      .map((c) => c.cpu_cores);
    row(
      `${name}${threads} | end to end (embedPipeline: read + decode + resize in ${m.decode_workers} workers, inference, normalise)`,
      e2e.cells,
      [
        cut,
        ...e2e.errors,
        imgs ? `${m.posters} real posters cycled to about ${imgs.images} per run (whole batches)` : '',
        cores.length ? `process used ${Math.min(...cores)}–${Math.max(...cores)} cores` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
    if (m.decode_img_s !== undefined)
      notes.push(
        `Marquee decode pool alone (${m.decode_workers} workers, during the ${d} run): ${fmtRate(m.decode_img_s)} img/s — the ceiling for end to end.`,
      );
    if (m.cosine_vs_cpu_min !== undefined)
      notes.push(`${d} embeddings vs the cpu provider on ${m.check_posters} posters: cosine min ${m.cosine_vs_cpu_min}, mean ${m.cosine_vs_cpu_mean}.`);
    if (m.check_error) notes.push(`${d} vs cpu check failed: ${m.check_error}`);
    if (m.setup_s !== undefined) notes.push(`${d}: session create + first run ${m.setup_s} s.`);
  }
  if (!torch) {
    row('PyTorch | —', dash(), failure(work, 'torch'));
  } else if (!torch.ok) {
    row('PyTorch | did not run', dash(), torch.error ?? failure(work, 'torch'));
  } else {
    for (const [mode, label] of Object.entries(TORCH_MODES)) {
      if (!torch.results?.[mode]) continue;
      const c = cellsOf(torch.results[mode], false);
      row(label, c.cells, c.errors.join('; '));
    }
  }

  const first = [...marquee.values()].find((m) => m?.ok) ?? [...marquee.values()].find(Boolean);
  const smi = readText(path.join(work, 'nvidia-smi.txt'));
  const card = torch?.gpu ?? (smi ? smi.split('\n')[0].split(',')[0].trim() : undefined) ?? 'unknown GPU';
  const vulkan = readText(path.join(work, 'vulkan.txt'));
  const head = [
    `## GPU feature extraction: MobileNetV2 fp32 on ${card}`,
    '',
    `Card: ${card}${smi ? ` (nvidia-smi: ${clean(smi.split('\n')[0])})` : ''}.`,
    `Host: ${first?.cpu_model ?? 'unknown CPU'}, ${first?.cores ?? '?'} cores. Node ${first?.node ?? '?'}, onnxruntime-node ${first?.onnxruntime ?? '?'}` +
      (torch?.torch
        ? `, PyTorch ${torch.torch} (torchvision ${torch.torchvision}, CUDA ${torch.cuda}, cuDNN ${torch.cudnn}, cudnn.benchmark on, cuDNN TF32 ${torch.cudnn_allow_tf32 ? 'allowed (default)' : 'off'})`
        : '') +
      '.',
    `Date: ${new Date().toISOString().slice(0, 10)} (UTC). Command: device \`run\` with carry \`[".gpu", ".gl"]\` and \`bash bench/gpu/run.sh\` after \`bash bench/gpu/pack.sh\` (bench/gpu/README.md).`,
    '',
    `img/s, higher is better; in brackets Marquee's ratio to PyTorch fp32 at the same batch size. Marquee times the backbone's \`embedding\` output (MobileNetV2 fp32 ONNX, real posters); PyTorch times torchvision \`mobilenet_v2(weights=None)\` features + pool + L2 normalise on random input.`,
    '',
    `| row | what is timed | ${batches.map((b) => `batch ${b}`).join(' | ')} | notes |`,
    `| --- | --- | ${batches.map(() => '---:').join(' | ')} | --- |`,
  ];
  const tail = [...notes];
  if (vulkan) tail.push(`Vulkan setup: ${clean(vulkan)}`);
  return [...head, ...rows, '', ...tail.map((n) => `- ${n}`), ''].join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const get = (name: string, fallback?: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
  };
  const work = path.resolve(get('work', '.')!);
  const md = report(work, (get('devices', 'webgpu cpu cuda') ?? '').split(/[\s,]+/).filter(Boolean));
  const out = get('out');
  if (out) fs.writeFileSync(out, md);
  process.stdout.write(md);
}
