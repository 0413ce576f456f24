import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { NetConfig, ProgressConfig } from '../config';
import { AppError } from '../errors';
import { NUM_LABELS, multiHot } from '../ml/genre/labels';
import { PipelineItem } from '../ml/embedding/embed-pipeline';
import { fetchImage } from '../net/safe-fetch';
import { Progress } from '../progress';
import { EmbeddingService } from './embedding.service';
import { GenreModelService } from './genre-model.service';
import { parseRow, ScrapeRow } from './import/movie-row';

/** `marquee evaluate --csv`: scores the active model on a labelled file without importing it. */
export class EvaluationService {
  constructor(
    private readonly embedding: EmbeddingService,
    private readonly models: GenreModelService,
    private readonly net: NetConfig,
    private readonly progress: ProgressConfig,
  ) {}

  async evaluateCsv(csvPath: string, opts: { limit?: number } = {}) {
    const file = path.resolve(csvPath);
    if (!fs.existsSync(file)) throw new AppError('BAD_USER_INPUT', `no such CSV file: ${file}`, 'FILE_NOT_FOUND');
    const items: Array<PipelineItem<number>> = [];
    const labels: Uint8Array[] = [];
    const skipped: Array<{ line: number; reason: string }> = [];
    const parser = fs.createReadStream(file).pipe(parse({ columns: (h: string[]) => h.map((x) => x.trim().toLowerCase()), bom: true, info: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true }));
    for await (const rec of parser as AsyncIterable<{ record: ScrapeRow; info: { lines: number } }>) {
      if (opts.limit !== undefined && items.length >= opts.limit) break;
      try {
        const row = parseRow(rec.record);
        const image = /^https?:\/\//i.test(row.imgUrl) ? (await fetchImage(row.imgUrl, { allowPrivate: this.net.allowPrivateUrls })).bytes : undefined;
        items.push({ key: labels.length, image, imagePath: image ? undefined : path.resolve(path.dirname(file), row.imgUrl) });
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
