import { DataSource } from 'typeorm';

export interface PosterToEmbed {
  movieId: number;
  posterSha256: string;
  posterMime: string;
}

/** pgvector's binary form (vector_send): int16 dim, int16 unused, then big-endian float4s. */
export function decodeVectorBinary(buf: Buffer, out: Float32Array, offset: number): number {
  const dim = buf.readUInt16BE(0);
  for (let i = 0; i < dim; i++) out[offset + i] = buf.readFloatBE(4 + i * 4);
  return dim;
}

export interface EmbeddingPage {
  ids: Int32Array;
  vectors: Float32Array;
  dim: number;
}

function decodePage(rows: Array<{ movie_id: number; v: Buffer }>): EmbeddingPage {
  const dim = rows[0].v.readUInt16BE(0);
  const ids = Int32Array.from(rows, (r) => r.movie_id);
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => decodeVectorBinary(r.v, vectors, i * dim));
  return { ids, vectors, dim };
}

const vectorLiteral = (v: Float32Array) => `[${Array.prototype.join.call(v, ',')}]`;

/** All SQL about poster embeddings. */
export class EmbeddingRepository {
  constructor(private readonly ds: DataSource) {}

  /** Movies whose poster has no embedding for this backbone yet (or whose poster changed since). */
  async missing(backbone: string, afterId: number, limit: number): Promise<PosterToEmbed[]> {
    return this.ds.query<PosterToEmbed[]>(
      `SELECT m.id AS "movieId", m.poster_sha256 AS "posterSha256", m.poster_mime AS "posterMime"
       FROM movie m LEFT JOIN poster_embedding e ON e.movie_id = m.id AND e.backbone = $1
       WHERE m.poster_sha256 IS NOT NULL AND (e.movie_id IS NULL OR e.poster_sha256 <> m.poster_sha256) AND m.id > $2
       ORDER BY m.id LIMIT $3`,
      [backbone, afterId, limit],
    );
  }

  /** How many posters have an embedding for this backbone. */
  async count(backbone: string): Promise<number> {
    const rows = await this.ds.query<Array<{ n: string }>>(`SELECT count(*) AS n FROM poster_embedding WHERE backbone = $1`, [backbone]);
    return Number(rows[0].n);
  }

  /**
   * When `backbone` has no embeddings: how many posters each other backbone has, largest first. Empty
   * when it has some, after one primary-key probe (the uncorrelated NOT EXISTS is evaluated once), so a
   * start on a large catalogue does not count it.
   */
  async othersWhenMissing(backbone: string): Promise<Array<{ backbone: string; n: number }>> {
    return this.ds.query<Array<{ backbone: string; n: number }>>(
      `SELECT backbone, count(*)::int AS n FROM poster_embedding
       WHERE NOT EXISTS (SELECT 1 FROM poster_embedding WHERE backbone = $1)
       GROUP BY backbone ORDER BY n DESC, backbone`,
      [backbone],
    );
  }

  async countMissing(backbone: string): Promise<number> {
    const rows = await this.ds.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM movie m LEFT JOIN poster_embedding e ON e.movie_id = m.id AND e.backbone = $1
       WHERE m.poster_sha256 IS NOT NULL AND (e.movie_id IS NULL OR e.poster_sha256 <> m.poster_sha256)`,
      [backbone],
    );
    return rows[0].n;
  }

  async upsertMany(backbone: string, rows: Array<{ movieId: number; posterSha256: string; vector: Float32Array }>): Promise<void> {
    if (!rows.length) return;
    await this.ds.query(
      `INSERT INTO poster_embedding (backbone, movie_id, poster_sha256, embedding)
       SELECT $1, t.movie_id, t.sha, t.vec::vector FROM unnest($2::int[], $3::text[], $4::text[]) AS t(movie_id, sha, vec)
       JOIN movie m ON m.id = t.movie_id
       ON CONFLICT (backbone, movie_id) DO UPDATE
         SET embedding = EXCLUDED.embedding, poster_sha256 = EXCLUDED.poster_sha256, created_at = now()`,
      [backbone, rows.map((r) => r.movieId), rows.map((r) => r.posterSha256), rows.map((r) => vectorLiteral(r.vector))],
    );
  }

  /** The movies embedded for this backbone, with their current poster, in id order. */
  async embeddedPosters(backbone: string): Promise<Array<{ movieId: number; posterSha256: string; posterMime: string }>> {
    return this.ds.query(
      `SELECT m.id AS "movieId", m.poster_sha256 AS "posterSha256", m.poster_mime AS "posterMime"
       FROM poster_embedding e JOIN movie m ON m.id = e.movie_id
       WHERE e.backbone = $1 AND m.poster_sha256 IS NOT NULL ORDER BY m.id`,
      [backbone],
    );
  }

  /**
   * Streams every embedding of a backbone in id order, in pages, in pgvector's binary form
   * (text output of 1280 floats is ~4x larger and slow to parse).
   */
  async *loadAll(backbone: string, pageSize = 2000): AsyncGenerator<EmbeddingPage> {
    let after = 0;
    for (;;) {
      // The page is cut before vector_send: without statistics (PGlite never analyses) the planner sorts
      // every remaining row, and it converted each of them first (1.5 s instead of 0.1 s for 200 rows).
      const rows = await this.ds.query<Array<{ movie_id: number; v: Buffer }>>(
        `SELECT movie_id, vector_send(embedding) AS v FROM (
           SELECT movie_id, embedding FROM poster_embedding WHERE backbone = $1 AND movie_id > $2 ORDER BY movie_id LIMIT $3
         ) page ORDER BY movie_id`,
        [backbone, after, pageSize],
      );
      if (!rows.length) return;
      yield decodePage(rows);
      after = rows[rows.length - 1].movie_id;
    }
  }

  /** The stored embeddings of these movies for a backbone (those that have one). */
  async vectorsFor(backbone: string, movieIds: readonly number[]): Promise<EmbeddingPage | null> {
    if (!movieIds.length) return null;
    const rows = await this.ds.query<Array<{ movie_id: number; v: Buffer }>>(
      `SELECT movie_id, vector_send(embedding) AS v FROM poster_embedding WHERE backbone = $1 AND movie_id = ANY($2::int[]) ORDER BY movie_id`,
      [backbone, movieIds],
    );
    return rows.length ? decodePage(rows) : null;
  }

  /** Embeddings of movies that have no stored prediction under a model version yet, in pages. */
  async *withoutPrediction(backbone: string, modelVersionId: number, pageSize = 2000): AsyncGenerator<EmbeddingPage> {
    let after = 0;
    for (;;) {
      const rows = await this.ds.query<Array<{ movie_id: number; v: Buffer }>>(
        `SELECT e.movie_id, vector_send(e.embedding) AS v FROM poster_embedding e
         WHERE e.backbone = $1 AND e.movie_id > $3
           AND NOT EXISTS (SELECT 1 FROM movie_prediction p WHERE p.model_version_id = $2 AND p.movie_id = e.movie_id)
         ORDER BY e.movie_id LIMIT $4`,
        [backbone, modelVersionId, after, pageSize],
      );
      if (!rows.length) return;
      yield decodePage(rows);
      after = rows[rows.length - 1].movie_id;
    }
  }
}
