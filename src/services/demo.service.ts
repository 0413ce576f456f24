import type { EmbeddingService, EmbedRunSummary } from './embedding.service';
import type { GenreModelService, TrainOutcome } from './genre-model.service';
import type { ImportService, ImportSummary } from './import/import.service';

export interface DemoOutcome {
  imported: ImportSummary;
  embedded: EmbedRunSummary;
  /** null when the active model already covers this catalogue (a re-run changed nothing). */
  trained: TrainOutcome | null;
  activeVersion: string;
  seconds: number;
}

/**
 * `marquee demo`: a small catalogue end to end (import, embed, train and activate), so that a
 * newcomer's `npm start` has posters, predictions, look-alikes and recommendations to show. Each
 * step shows its own progress and is safe to re-run; a re-run that changes nothing trains nothing.
 */
export class DemoService {
  constructor(
    private readonly importer: ImportService,
    private readonly embedding: EmbeddingService,
    private readonly models: GenreModelService,
  ) {}

  async run(csvPath: string, opts: { progress?: boolean; log?: (line: string) => void } = {}): Promise<DemoOutcome> {
    const started = Date.now();
    const log = opts.log ?? (() => undefined);
    const progress = opts.progress ?? true;
    log(`1/3 import ${csvPath}`);
    const imported = await this.importer.importCsv(csvPath, { progress });
    log(`2/3 embed the posters`);
    const embedded = await this.embedding.embedMissing({ progress });
    const active = await this.models.activeVersion();
    const changed = imported.imported + imported.updated + embedded.embedded > 0;
    let trained: TrainOutcome | null = null;
    if (!active || changed) {
      log('3/3 train and activate a genre model');
      trained = await this.models.train({ activate: true, progress });
    } else {
      log(`3/3 model ${active.name} is active and the catalogue is unchanged: nothing to train`);
    }
    return { imported, embedded, trained, activeVersion: trained?.name ?? active!.name, seconds: (Date.now() - started) / 1000 };
  }
}
