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

export function explorerSuite(fixture: () => ClientFixture): void {
  let base: string;
  let adminKey: string;
  let gql: ClientFixture['gql'];
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let shots = 0;

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
      page.on('pageerror', (e) => pageErrors.push(e.message));
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
      const becauses = await page.locator('.for-you .grid .because').allTextContents();
      assert.ok(becauses.length > 0);
      for (const b of becauses)
        assert.ok(
          likedTitles.some((t) => b.includes(t!)),
          `${b} names a liked movie`,
        );
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

    test('a broken image shows the API error with its code, and nothing breaks', async () => {
      await page.locator('input[type=file]').setInputFiles({ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a JPEG') });
      const alert = page.locator('.upload-results [role=alert]').first();
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /BAD_USER_INPUT/);
      await shot('error');
    });

    test('admin: a retrain runs to completion and the new version is listed', async () => {
      await page.getByRole('link', { name: 'Admin' }).click();
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

    test('no uncaught error in the page', () => {
      assert.deepEqual(pageErrors, []);
    });
  });
}
