import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { MIGRATIONS } from '../migrations';
import { Database } from '../src/db/database';
import { ModelVersionRepository } from '../src/repositories/model-version.repository';
import { cleanupAll, DB_KINDS, freshPostgresUrl, tmpDir } from './support';

after(cleanupAll);

const TABLES = ['api_key', 'interaction', 'model_version', 'movie', 'movie_prediction', 'poster_embedding', 'poster_text', 'training_job'];

async function open(kind: string, migrate: boolean): Promise<Database> {
  return Database.open({ url: kind === 'postgres' ? await freshPostgresUrl() : undefined, dataDir: tmpDir(), migrate });
}

async function tables(db: Database): Promise<string[]> {
  const rows = await db.dataSource.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`);
  return rows.map((r: { tablename: string }) => r.tablename);
}

for (const kind of DB_KINDS) {
  describe(`migrations on ${kind}`, () => {
    test('apply, revert and re-apply', async () => {
      const db = await open(kind, false);
      try {
        assert.equal(await db.pendingMigrations(), true);
        await db.dataSource.runMigrations();
        assert.equal(await db.pendingMigrations(), false);
        assert.deepEqual(await tables(db), TABLES);
        const idx = await db.dataSource.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'movie' ORDER BY 1`);
        const names = idx.map((r: { indexname: string }) => r.indexname);
        for (const want of ['movie_labels_gin', 'movie_title_trgm', 'movie_year']) assert.ok(names.includes(want), `${want} in ${names}`);
        const iidx = await db.dataSource.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'interaction' ORDER BY 1`);
        assert.ok(
          iidx.some((r: { indexname: string }) => r.indexname === 'interaction_movie'),
          'interactions are indexed by movie',
        );
        for (let i = 0; i < MIGRATIONS.length; i++) await db.dataSource.undoLastMigration();
        assert.deepEqual(await tables(db), []);
        assert.equal(await db.pendingMigrations(), true);
        await db.dataSource.runMigrations();
        assert.deepEqual(await tables(db), TABLES);
        // The vector column accepts pgvector values and computes cosine distance.
        await db.dataSource.query(`INSERT INTO movie (title) VALUES ('x')`);
        await db.dataSource.query(`INSERT INTO poster_embedding (movie_id, backbone, poster_sha256, embedding) VALUES (1, 'b', 's', '[1,0,0]')`);
        const d = await db.dataSource.query(`SELECT embedding <=> '[0,1,0]' AS d FROM poster_embedding`);
        assert.equal(Number(d[0].d), 1);
      } finally {
        await db.close();
      }
    });
  });
}

test('each backbone has its own active model version', async () => {
  const db = await open('pglite', true);
  try {
    const repo = new ModelVersionRepository(db.dataSource);
    const add = (name: string, backbone: string) =>
      repo.insert({
        name,
        backbone,
        modelKind: 'mlp',
        artifact: {},
        thresholds: [0.5],
        splitSeed: 1,
        split: { train: [], val: [], test: [] },
        metrics: {},
        trainingMs: 1,
      });
    const a1 = await add('a1', 'a');
    const a2 = await add('a2', 'a');
    const b1 = await add('b1', 'b');
    await repo.activate(a1);
    await repo.activate(b1);
    assert.equal((await repo.active('a'))?.name, 'a1');
    assert.equal((await repo.active('b'))?.name, 'b1');
    await repo.activate(a2); // switching a's version leaves b's alone
    assert.equal((await repo.active('a'))?.name, 'a2');
    assert.equal((await repo.active('b'))?.name, 'b1');
    assert.equal(await repo.active('c'), null);
  } finally {
    await db.close();
  }
});

describe('embedded database isolation', () => {
  test("concurrent transactions never see each other's uncommitted writes, and a rollback loses no one else's write", async () => {
    const db = await open('pglite', true);
    try {
      const ds = db.dataSource;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let insertedInTx!: () => void;
      const inserted = new Promise<void>((r) => (insertedInTx = r));
      const tx = ds
        .transaction(async (em) => {
          await em.query(`INSERT INTO movie (title, year) VALUES ('uncommitted', 2000)`);
          insertedInTx();
          await gate;
          throw new Error('roll back on purpose');
        })
        .catch((e: Error) => e.message);
      await inserted;
      // Other connections, meanwhile: a read that must not see the row, and a write outside any transaction.
      const read = ds.query(`SELECT count(*)::int AS n FROM movie WHERE title = 'uncommitted'`);
      const write = ds.query(`INSERT INTO movie (title, year) VALUES ('autocommit', 2001)`);
      setTimeout(release, 100);
      assert.equal(await tx, 'roll back on purpose');
      assert.equal((await read)[0].n, 0);
      await write;
      const after = await ds.query(`SELECT title FROM movie ORDER BY title`);
      assert.deepEqual(
        after.map((r: { title: string }) => r.title),
        ['autocommit'],
      );
    } finally {
      await db.close();
    }
  });

  test('the embedded database survives a restart', async () => {
    const dir = tmpDir();
    const a = await Database.open({ dataDir: dir });
    await a.dataSource.query(`INSERT INTO movie (title) VALUES ('kept')`);
    await a.close();
    const b = await Database.open({ dataDir: dir });
    try {
      assert.deepEqual(
        (await b.dataSource.query(`SELECT title FROM movie`)).map((r: { title: string }) => r.title),
        ['kept'],
      );
    } finally {
      await b.close();
    }
  });
});
