/**
 * The poster explorer in a real browser (Debian's Chromium via playwright-core) against the shared
 * client fixture. One browser for the whole suite; the steps run in order, as a person would
 * click, and leave a screenshot each in test-artifacts/e2e/ (git-ignored).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { POSTERS_DIR, ROOT } from '../support';
import { launchChromium } from './chromium';
import { ClientFixture } from './fixture';

export const ARTIFACTS = path.join(ROOT, 'test-artifacts/e2e');
// A poster that is not in the sample: the upload is a poster the catalogue has never seen.
export const UNSEEN_POSTER = path.join(POSTERS_DIR, 'images', 'tt0120338.jpg');
// More posters outside the sample: one dropped, one pasted, one added to the catalogue by the admin.
const DROPPED_POSTER = path.join(POSTERS_DIR, 'images', 'tt0120815.jpg');
const PASTED_POSTER = path.join(POSTERS_DIR, 'images', 'tt0118799.jpg');
const ADDED_POSTER = path.join(POSTERS_DIR, 'images', 'tt0133093.jpg');

type Dropped = { how: 'drop' | 'paste'; b64: string; name: string };

/** Drops (on the drop zone) or pastes (on the document) an image file, as the browser delivers one. */
async function deliverFile(page: Page, how: Dropped['how'], file: string): Promise<void> {
  const arg: Dropped = { how, b64: fs.readFileSync(file).toString('base64'), name: path.basename(file) };
  await page.evaluate(({ how, b64, name }: Dropped) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, { type: 'image/jpeg' }));
    const init = { bubbles: true, cancelable: true };
    if (how === 'paste') {
      document.body.dispatchEvent(new ClipboardEvent('paste', { ...init, clipboardData: data }));
    } else {
      const zone = document.querySelector('.dropzone')!;
      zone.dispatchEvent(new DragEvent('dragover', { ...init, dataTransfer: data }));
      zone.dispatchEvent(new DragEvent('drop', { ...init, dataTransfer: data }));
    }
  }, arg);
}

export function explorerSuite(fixture: () => ClientFixture): void {
  let base: string;
  let adminKey: string;
  let gql: ClientFixture['gql'];
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  // Every request any page sends: the explorer needs nothing but its own server (loopback).
  const offSite: string[] = [];
  let shots = 0;

  function watch(p: Page): void {
    p.on('pageerror', (e) => pageErrors.push(e.message));
    p.on('request', (r) => {
      const u = new URL(r.url());
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '127.0.0.1') offSite.push(r.url());
    });
  }

  /** The predicted genres the upload page shows, and the API's for the same poster. */
  async function expectUploadPrediction(poster: Record<string, string>): Promise<void> {
    await page.locator('.upload-results .genre-bars').waitFor();
    const truth = (await gql('query($p: PosterInput!) { predictGenres(poster: $p) { genres { genre predicted } } }', { p: poster })).data.predictGenres;
    const want = truth.genres.filter((g: { predicted: boolean }) => g.predicted).length;
    assert.equal(await page.locator('.upload-results .bar.predicted').count(), want);
    await page.locator('.upload-results .grid .card').first().waitFor();
  }

  async function shot(name: string): Promise<void> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `${String(++shots).padStart(2, '0')}-${name}.png`), fullPage: true });
  }

  /** Waits until the posters rendered in `scope` have loaded (or failed), so screenshots show them. */
  async function postersLoaded(scope = 'main'): Promise<void> {
    await page.waitForFunction((sel) => Array.from(document.querySelectorAll<HTMLImageElement>(`${sel} img`)).every((img) => img.complete), scope, {
      timeout: 15_000,
    });
  }

  describe('poster explorer in Chromium', () => {
    before(async () => {
      ({ base, adminKey, gql } = fixture());
      fs.rmSync(ARTIFACTS, { recursive: true, force: true });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(20_000);
      watch(page);
    });
    after(() => browser?.close());

    test('the first page shows the poster grid, every poster with alt text', async () => {
      await page.goto(`${base}/`);
      await page.locator('.grid img').first().waitFor();
      await postersLoaded();
      const total = (await gql('{ movies(first: 1) { totalCount } }')).data.movies.totalCount as number;
      assert.equal(await page.locator('.result-count').textContent(), `${total} movies`);
      assert.equal(await page.locator('.grid .card').count(), 30);
      const alts = await page.locator('.grid img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt') ?? ''));
      assert.ok(
        alts.every((a) => a.startsWith('Poster of ')),
        'every poster has alt text',
      );
      await shot('grid');
    });

    test('search narrows the grid to matching titles, and the URL keeps the filter', async () => {
      await page.getByLabel('Search titles').fill('love');
      const expected = (await gql('{ movies(first: 30, filter: {search: "love"}) { totalCount edges { node { id } } } }')).data.movies;
      await page.locator('.result-count', { hasText: `${expected.totalCount} movie` }).waitFor();
      const titles = await page.locator('.grid .card-title').allTextContents();
      assert.equal(titles.length, expected.edges.length);
      for (const t of titles) assert.match(t, /love/i);
      assert.match(page.url(), /[?&]q=love/);
      await postersLoaded();
      await shot('search');
    });

    test('genre chips and a year range filter the grid, kept in the URL; more posters load by cursor', async () => {
      await page.goto(`${base}/`);
      await page.locator('.grid .card').first().waitFor();
      const filters = page.locator('form.filters');
      await filters.getByRole('button', { name: /^Drama/ }).click();
      await filters.getByLabel('From').fill('2000');
      await filters.getByLabel('to', { exact: true }).fill('2009');
      const pageOf = async (after: string | null) =>
        (
          await gql(
            'query($after: String) { movies(first: 30, after: $after, filter: {genres: [DRAMA], yearFrom: 2000, yearTo: 2009}) { totalCount edges { node { id year genres } } pageInfo { endCursor hasNextPage } } }',
            { after },
          )
        ).data.movies;
      const first = await pageOf(null);
      assert.ok(first.pageInfo.hasNextPage, 'the sample has more than 30 dramas of the 2000s');
      const second = await pageOf(first.pageInfo.endCursor);
      await page.waitForURL(/genre=DRAMA/);
      await page.waitForURL(/from=2000&to=2009/);
      await page.locator('.result-count', { hasText: new RegExp(`^${first.totalCount} movies$`) }).waitFor();
      const hrefs = () => page.locator('.grid .card-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      const ids = (p: { edges: Array<{ node: { id: string } }> }) => p.edges.map((e) => `/movie/${e.node.id}`);
      assert.deepEqual(await hrefs(), ids(first));
      await postersLoaded();
      await shot('grid-filtered');
      // Scrolling "More posters" into view asks for the page after the last cursor (infinite scroll;
      // the button itself is there for keyboards).
      await page.getByRole('button', { name: 'More posters' }).evaluate((b) => b.scrollIntoView());
      await page.waitForFunction(() => document.querySelectorAll('.grid .card').length >= 60);
      assert.deepEqual((await hrefs()).slice(0, 60), [...ids(first), ...ids(second)]);
      for (const e of [...first.edges, ...second.edges]) {
        assert.ok(e.node.genres.includes('DRAMA') && e.node.year >= 2000 && e.node.year <= 2009, JSON.stringify(e.node));
      }
      // A reload keeps the filter (it lives in the URL).
      await page.reload();
      await page.locator('.result-count', { hasText: new RegExp(`^${first.totalCount} movies$`) }).waitFor();
      assert.equal(await filters.getByRole('button', { name: /^Drama/ }).getAttribute('aria-pressed'), 'true');
      assert.equal(await filters.getByLabel('From').inputValue(), '2000');
    });

    test('keyboard only: skip link, search field, open a movie with Enter, like it with Space', async () => {
      await page.goto(`${base}/`);
      await page.locator('.grid img').first().waitFor();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('type')), 'search');
      await page.keyboard.type('patient');
      await page.locator('.result-count', { hasText: /^\d+ movies?$/ }).waitFor();
      await page.waitForFunction(
        () =>
          document.querySelectorAll('.grid .card').length > 0 &&
          Array.from(document.querySelectorAll('.grid .card-title')).every((t) => /patient/i.test(t.textContent ?? '')),
      );
      await page.locator('.grid .card-link').first().focus();
      await page.keyboard.press('Enter');
      await page.locator('#movie-title').waitFor();
      const like = page.locator('.movie-facts').getByRole('button', { name: /^Like / });
      await like.focus();
      await page.keyboard.press('Space');
      assert.equal(await like.getAttribute('aria-pressed'), 'true');
      await page.keyboard.press('Space');
      assert.equal(await like.getAttribute('aria-pressed'), 'false');
    });

    test('a movie page shows its poster, predicted genres as bars and the nearest labelled posters', async () => {
      await page.goto(`${base}/?q=love`);
      await page.locator('.grid .card-link').first().click();
      await page.locator('.genre-bars').waitFor();
      const id = /\/movie\/(\d+)$/.exec(page.url())?.[1];
      assert.ok(id, page.url());
      const truth = (await gql(`{ movie(id: "${id}") { title predictedGenres { genre probability predicted threshold } genreEvidence { k } } }`)).data.movie;
      assert.equal(await page.locator('.genre-bars .bar').count(), 13);
      const shown = await page.locator('.genre-bars .bar-track').evaluateAll((els) => els.map((e) => Number(e.getAttribute('aria-valuenow'))));
      const sorted = [...truth.predictedGenres].sort((a: { probability: number }, b: { probability: number }) => b.probability - a.probability);
      assert.deepEqual(
        shown,
        sorted.map((g: { probability: number }) => Math.round(g.probability * 100)),
      );
      const predicted = truth.predictedGenres.filter((g: { predicted: boolean }) => g.predicted).length;
      assert.equal(await page.locator('.genre-bars .bar.predicted').count(), predicted);
      // Each bar is marked at its genre's threshold, at the API's value.
      const marks = await page.locator('.genre-bars .bar-threshold').evaluateAll((els) => els.map((e) => parseFloat((e as HTMLElement).style.left) / 100));
      assert.equal(marks.length, 13);
      marks.forEach((m, i) => assert.ok(Math.abs(m - sorted[i].threshold) < 1e-6, `${sorted[i].genre}: mark at ${m}, threshold ${sorted[i].threshold}`));
      assert.equal(await page.locator('.evidence .neighbours li').count(), truth.genreEvidence.k);
      await postersLoaded();
      await shot('movie');
    });

    test('similar posters follow a genre filter', async () => {
      const id = /\/movie\/(\d+)$/.exec(page.url())![1];
      const section = page.locator('section.similar');
      await section.getByRole('button', { name: /^Drama/ }).click();
      const expected = (await gql(`{ similarPosters(poster: {movieId: "${id}"}, k: 12, filter: {genres: [DRAMA]}) { movie { id } } }`)).data.similarPosters;
      const hrefs = expected.map((s: { movie: { id: string } }) => `/movie/${s.movie.id}`);
      await page.waitForFunction(
        (want) =>
          JSON.stringify(Array.from(document.querySelectorAll('section.similar .card-link')).map((a) => a.getAttribute('href'))) === JSON.stringify(want),
        hrefs,
      );
      for (const meta of await section.locator('.card-meta').allTextContents()) assert.match(meta, /Drama/);
      await postersLoaded('section.similar');
      await shot('similar-filtered');
    });

    test('liking two movies gives live recommendations that say which like led to them', async () => {
      await page.goto(`${base}/`);
      const cards = page.locator('.grid .card');
      await cards.first().waitFor();
      const likedTitles = [await cards.nth(0).locator('.card-title').textContent(), await cards.nth(2).locator('.card-title').textContent()];
      await cards
        .nth(0)
        .getByRole('button', { name: /^Like / })
        .click();
      await cards
        .nth(2)
        .getByRole('button', { name: /^Like / })
        .click();
      assert.equal(
        await cards
          .nth(0)
          .getByRole('button', { name: /^Like / })
          .getAttribute('aria-pressed'),
        'true',
      );
      // The strip above the grid follows the likes at once.
      await page.locator('.strip .card').first().waitFor();
      await page.getByRole('link', { name: /For you/ }).click();
      await page.locator('.for-you .grid .card').first().waitFor();
      // Each card says why: the liked movies behind it, or (POPULAR) that most people liked it.
      const becauses = await page
        .locator('.for-you .grid .because')
        .evaluateAll((ps) => ps.map((p) => ({ reason: p.getAttribute('data-reason'), text: p.textContent ?? '' })));
      assert.ok(becauses.some((b) => b.reason !== 'POPULAR'));
      for (const b of becauses) {
        assert.ok(['COLLABORATIVE', 'POSTER', 'GENRE', 'POPULAR'].includes(b.reason!), JSON.stringify(b));
        if (b.reason === 'POPULAR') assert.equal(b.text, 'Popular with everyone');
        else
          assert.ok(
            likedTitles.some((t) => b.text.includes(t!)),
            `${b.text} names a liked movie`,
          );
      }
      await postersLoaded();
      await shot('recommendations');
    });

    test('a poster file picked on the upload page gets predicted genres and look-alikes', async () => {
      await page.getByRole('link', { name: 'Upload a poster' }).click();
      const file = UNSEEN_POSTER;
      await page.locator('input[type=file]').setInputFiles(file);
      await page.locator('.upload-results .genre-bars').waitFor();
      const truth = (
        await gql('query($b: String!) { predictGenres(poster: {imageBase64: $b}) { genres { genre predicted } } }', {
          b: fs.readFileSync(file).toString('base64'),
        })
      ).data.predictGenres;
      const predictedShown = await page.locator('.upload-results .bar.predicted .bar-label').allTextContents();
      assert.equal(predictedShown.length, truth.genres.filter((g: { predicted: boolean }) => g.predicted).length);
      await page.locator('.upload-results .grid .card').first().waitFor();
      await postersLoaded();
      await shot('upload');
    });

    test('dropping a poster, pasting one, or giving an image URL gets predicted genres and look-alikes too', async () => {
      await deliverFile(page, 'drop', DROPPED_POSTER);
      await page.locator('.query-poster figcaption', { hasText: path.basename(DROPPED_POSTER) }).waitFor();
      await expectUploadPrediction({ imageBase64: fs.readFileSync(DROPPED_POSTER).toString('base64') });
      await deliverFile(page, 'paste', PASTED_POSTER);
      await page.locator('.query-poster figcaption', { hasText: path.basename(PASTED_POSTER) }).waitFor();
      await expectUploadPrediction({ imageBase64: fs.readFileSync(PASTED_POSTER).toString('base64') });
      await postersLoaded();
      await shot('upload-pasted');
      // An image URL: one of the server's own posters (the fixture allows loopback URLs).
      const movie = (await gql('{ movie(imdbId: "tt0116209") { posterUrl } }')).data.movie;
      const url = new URL(movie.posterUrl as string, base).toString();
      await page.getByLabel('or an image URL').fill(url);
      await page.getByRole('button', { name: 'Predict' }).click();
      await page.locator('.query-poster figcaption', { hasText: url }).waitFor();
      await expectUploadPrediction({ imageUrl: url });
      await postersLoaded();
      await shot('upload-url');
    });

    test('a broken image shows the API error with its code, and nothing breaks', async () => {
      await page.locator('input[type=file]').setInputFiles({ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a JPEG') });
      const alert = page.locator('.upload-results [role=alert]').first();
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /BAD_USER_INPUT/);
      await shot('error');
    });

    test('on a phone-sized screen every page fits the width (nothing scrolls sideways)', async () => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true });
      const phone = await context.newPage();
      watch(phone);
      try {
        const id = (await gql('{ movie(imdbId: "tt0116209") { id } }')).data.movie.id as string;
        for (const [route, ready] of [
          ['/', '.grid img'],
          [`/movie/${id}`, '.genre-bars'],
          ['/upload', '.dropzone'],
          ['/for-you', '.for-you'],
          ['/admin', '.key-form'],
        ]) {
          await phone.goto(`${base}${route}`);
          await phone.locator(ready).first().waitFor();
          const [scrollWidth, clientWidth] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
          assert.ok(scrollWidth <= clientWidth, `${route}: ${scrollWidth} px wide in a ${clientWidth} px window`);
          if (route.startsWith('/movie/')) {
            await phone.waitForFunction(() => document.querySelector<HTMLImageElement>('.poster-large')?.complete === true);
            fs.mkdirSync(ARTIFACTS, { recursive: true });
            await phone.screenshot({ path: path.join(ARTIFACTS, `${String(++shots).padStart(2, '0')}-phone-movie.png`) });
          }
        }
      } finally {
        await context.close();
      }
    });

    test('admin: a retrain runs to completion and the new version is listed', async () => {
      await page.goto(`${base}/admin`);
      await page.getByLabel('Admin API key').fill(adminKey);
      await page.getByRole('button', { name: 'Use this key' }).click();
      await page.locator('.versions table').waitFor();
      const before = await page.locator('.versions tbody tr').count();
      await page.getByLabel('Epochs').fill('5');
      await page.getByRole('button', { name: 'Start retraining' }).click();
      await page.locator('.job-status', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 180_000 });
      await page.locator('.versions tbody tr').nth(before).waitFor();
      assert.equal(await page.locator('.versions tbody tr').count(), before + 1);
      assert.equal(await page.locator('.versions tbody tr.active').count(), 1);
      await shot('admin-retrained');
    });

    test('admin: versions compared to the active one, and a roll back to the first', async () => {
      const versions = (await gql('{ modelVersions { id name active createdAt metrics { f1Macro hamming } } }', {}, adminKey)).data.modelVersions as Array<{
        name: string;
        active: boolean;
        createdAt: string;
        metrics: { f1Macro: number; hamming: number };
      }>;
      assert.ok(versions.length >= 2);
      const active = versions.find((v) => v.active)!;
      const oldest = [...versions].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
      assert.notEqual(oldest.name, active.name, 'the retrain activated its new version');
      const row = page.locator('.versions tbody tr', { has: page.locator('th', { hasText: oldest.name }) });
      // Each metric of another version shows its difference to the active version's.
      const cells = await row.locator('td').allTextContents();
      const delta = (x: number) => `(${x >= 0 ? '+' : ''}${x.toFixed(3)})`;
      assert.ok(
        cells.some((c) => c.replace(/\s+/g, ' ').includes(`${oldest.metrics.f1Macro.toFixed(3)} ${delta(oldest.metrics.f1Macro - active.metrics.f1Macro)}`)),
        cells.join(' | '),
      );
      assert.ok(
        cells.some((c) => c.replace(/\s+/g, ' ').includes(`${oldest.metrics.hamming.toFixed(3)} ${delta(oldest.metrics.hamming - active.metrics.hamming)}`)),
        cells.join(' | '),
      );
      await row.getByRole('button', { name: `Roll back to this ${oldest.name}` }).click();
      await page.locator('.versions tbody tr.active th', { hasText: oldest.name }).waitFor();
      await page.locator('.server-info strong', { hasText: oldest.name }).waitFor();
      assert.equal((await gql('{ serverInfo { activeModelVersion } }')).data.serverInfo.activeModelVersion, oldest.name);
      await shot('admin-rolled-back');
    });

    test('admin: add a movie with a poster file, see its prediction, then delete it', async () => {
      const form = page.locator('section.add-movie');
      await form.getByLabel('Title').fill('The Matrix');
      await form.getByLabel('Year').fill('1999');
      await form.getByLabel('IMDb id').fill('tt0133093');
      await form.getByLabel(/^Genres/).fill('Action, Sci-Fi, Thriller');
      await form.getByLabel('Poster file').setInputFiles(ADDED_POSTER);
      await form.getByRole('button', { name: 'Add movie' }).click();
      const added = form.locator('.success');
      await added.waitFor({ timeout: 60_000 });
      const movie = (await gql('{ movie(imdbId: "tt0133093") { id title predictedGenres { genre predicted } } }')).data.movie;
      assert.ok(movie, 'the API has the new movie');
      assert.match((await added.textContent()) ?? '', new RegExp(`Added The Matrix \\(id ${movie.id}\\)`));
      await shot('admin-added');
      await added.getByRole('link', { name: 'The Matrix' }).click();
      await page.locator('#movie-title', { hasText: 'The Matrix' }).waitFor();
      await page.locator('.genre-bars').waitFor();
      assert.equal(await page.locator('.genre-bars .bar.predicted').count(), movie.predictedGenres.filter((g: { predicted: boolean }) => g.predicted).length);
      // Delete it from the admin view; the browser asks first.
      await page.getByRole('link', { name: 'Admin' }).click();
      const del = page.locator('section.delete-movie');
      await del.getByLabel('Movie id').fill(movie.id as string);
      page.once('dialog', (d) => void d.accept());
      await del.getByRole('button', { name: 'Delete' }).click();
      await del
        .getByRole('status')
        .filter({ hasText: `Deleted movie ${movie.id}.` })
        .waitFor();
      assert.equal((await gql(`{ movie(id: "${movie.id}") { id } }`)).data.movie, null);
      await shot('admin-deleted');
    });

    test('no uncaught error in the page, and no request left the machine', () => {
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(offSite, []);
    });
  });
}
