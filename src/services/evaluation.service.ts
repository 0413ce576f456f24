import path from 'node:path';
import type { NetConfig, ProgressConfig } from '../config';
import { AppError } from '../errors';
import { NUM_LABELS, multiHot } from '../ml/genre/labels';
import { PipelineItem } from '../ml/embedding/embed-pipeline';
import { imageSource, readImageSource } from '../net/image-source';
import { Progress } from '../progress';
import { EmbeddingService } from './embedding.service';
import { GenreModelService } from './genre-model.service';
import { parseRow } from './import/movie-row';
import { openScrapeCsv } from './import/scrape-csv';

/** `marquee evaluate --csv`: scores the active model on a labelled file without importing it. */
export class EvaluationService {
  constructor(
    private readonly embedding: EmbeddingService,
    private readonly models: GenreModelService,
    private readonly net: NetConfig,
    private readonly progress: ProgressConfig,
  ) {}

  async evaluateCsv(csvPath: string, opts: { limit?: number } = {}) {
    const csv = openScrapeCsv(csvPath);
    const items: Array<PipelineItem<number>> = [];
    const labels: Uint8Array[] = [];
    const skipped: Array<{ line: number; reason: string }> = [];
    for await (const rec of csv.records) {
      if (opts.limit !== undefined && items.length >= opts.limit) break;
      try {
        const row = parseRow(rec.record);
        const source = imageSource(row.imgUrl, path.dirname(csv.file));
        // Files are read by the decode workers, off the main thread; URLs are fetched here.
        items.push(
          source.kind === 'file'
            ? { key: labels.length, imagePath: source.path }
            : { key: labels.length, image: await readImageSource(source, { allowPrivateUrls: this.net.allowPrivateUrls }) },
        );
        labels.push(multiHot(row.labels));
      } catch (err) {
        skipped.push({ line: rec.info.lines, reason: (err as { reason?: string }).reason ?? 'ERROR' });
      }
    }
    const results = await this.embedding.embedItems(items, new Progress('embed', items.length, 'posters', this.progress));
    const ok = results.filter((r) => r.vector);
    for (const r of results) if (r.error) skipped.push({ line: -1, reason: r.error.reason ?? r.error.code });
    if (!ok.length) throw new AppError('BAD_USER_INPUT', 'no usable rows in the CSV', 'NO_ROWS');
    const dim = ok[0].vector!.length;
    const X = new Float32Array(ok.length * dim);
    const Y = new Uint8Array(ok.length * NUM_LABELS);
    ok.forEach((r, i) => {
      X.set(r.vector!, i * dim);
      Y.set(labels[r.key], i * NUM_LABELS);
    });
    return { ...(await this.models.evaluateOn(X, Y, ok.length)), skipped };
  }
}
