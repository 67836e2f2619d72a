// End-to-end tests of the console in headless Chromium (Debian's chromium,
// driven by playwright-core), against the real binary with auth on: log in
// with a key, create a cache, set and get a key, watch a topic message
// arrive live, see a change in the feed tail (and resume it from its
// continuation), mint and revoke a key, see the charts and the nodes. Every page gets an
// accessibility check with axe-core (WCAG 2 A/AA rules: labels, contrast,
// landmarks, ...), and a screenshot in test-results/ (or $SETSUNA_ARTEFACTS),
// which is not committed.
//
// No sleeps: every step waits for what it expects to see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { startServer, consoleAPI } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artefacts = process.env.SETSUNA_ARTEFACTS || join(here, '..', 'test-results');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const timeout = 15_000; // per wait: a bound on a hang, not a timing assertion

let srv, context, page, profile;

before(async () => {
  mkdirSync(artefacts, { recursive: true });
  srv = await startServer();
  profile = mkdtempSync(join(tmpdir(), 'setsuna-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(timeout);
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => console.error('page error:', e));
});

after(async () => {
  if (context) await context.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (srv) await srv.stop();
});

// checkPage runs axe-core on the page and saves a screenshot.
async function checkPage(name) {
  await page.screenshot({ path: join(artefacts, `console-${name}.png`), fullPage: true });
  // Evaluated through the DevTools protocol: the page's CSP allows no
  // inline script, and the test must not weaken it.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  assert.deepEqual(violations, [], `accessibility violations on ${name}`);
}

async function go(hash, heading) {
  await page.goto(`${srv.base}/console/#/${hash}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

test('log in with a key', async () => {
  await page.goto(srv.base + '/console/');
  await page.getByLabel('API key').waitFor();
  await checkPage('login');
  await page.getByLabel('API key').fill('not-a-key');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').waitFor();
  await page.getByLabel('API key').fill(srv.key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Caches' }).waitFor();
  await page.getByText('(super user)').waitFor();
});

test('create a cache', async () => {
  await page.getByLabel('Name').fill('e2e');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('status').filter({ hasText: 'Cache e2e created' }).waitFor();
  await page.getByRole('link', { name: 'e2e', exact: true }).waitFor();
  await checkPage('caches');
});

test('set and get a key', async () => {
  await page.getByRole('link', { name: 'e2e', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
  await page.getByLabel('Key', { exact: true }).fill('greeting');
  await page.getByLabel('Value').fill('hello from the console');
  await page.getByLabel('TTL (seconds, 0: never expires)').fill('600');
  await page.getByRole('button', { name: 'Set', exact: true }).click();
  await page.getByTestId('item-value').filter({ hasText: 'hello from the console' }).waitFor();
  await page.getByText(/scalar · LSN \d+ · expires in \d+ s/).waitFor();
  // Get it back after a reload, from the key browser.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
  await page.getByLabel('Key prefix').fill('greet');
  await page.getByRole('button', { name: 'List keys' }).click();
  await page.getByRole('button', { name: 'greeting' }).click();
  await page.getByTestId('item-value').filter({ hasText: 'hello from the console' }).waitFor();
  await checkPage('keys');
});

test('watch a topic message arrive live', async () => {
  await go('topics', 'Topics');
  await page.getByLabel('Cache').selectOption('e2e');
  await page.getByLabel('Topic').fill('news');
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
  await page.getByTestId('topic-state').filter({ hasText: /^live$/ }).waitFor();
  // Another client publishes.
  const r = await consoleAPI(srv, srv.key, 'POST', '/caches/e2e/topics/news/messages', { value: { text: 'breaking news' } });
  assert.equal(r.status, 200);
  const row = page.getByTestId('topic-events').getByRole('row').filter({ hasText: 'breaking news' });
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`^${r.body.sequence}\\s+${r.body.page}\\s+breaking news$`));
  // And the page publishes too.
  await page.getByLabel('Message', { exact: true }).fill('from the page');
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.getByTestId('topic-events').getByRole('row').filter({ hasText: 'from the page' }).waitFor();
  await checkPage('topics');
});

test('see a change appear in the feed tail, pause and resume', async () => {
  await go('feed', 'Change feed');
  await page.getByLabel('Cache').selectOption('e2e');
  await page.getByRole('button', { name: 'Start' }).click();
  await page.getByTestId('feed-state').filter({ hasText: /^live$/ }).waitFor();
  let r = await consoleAPI(srv, srv.key, 'PUT', '/caches/e2e/item', { key: { text: 'order:1' }, value: { text: 'pending' } });
  assert.equal(r.status, 204);
  await page.getByTestId('feed-changes').getByRole('row').filter({ hasText: 'order:1' }).filter({ hasText: 'pending' }).waitFor();
  // Pause; a change made meanwhile shows after resuming from the token.
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByTestId('feed-state').filter({ hasText: /^paused$/ }).waitFor();
  const token = await page.getByLabel('Continuation token').inputValue();
  assert.ok(token.length > 10, 'a continuation token to copy');
  r = await consoleAPI(srv, srv.key, 'PUT', '/caches/e2e/item', { key: { text: 'order:1' }, value: { text: 'shipped' } });
  assert.equal(r.status, 204);
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await page.getByTestId('feed-changes').getByRole('row').filter({ hasText: 'shipped' }).waitFor();
  await page.getByTestId('feed-state').filter({ hasText: /^live$/ }).waitFor();
  await checkPage('feed');
});

test('mint a key with a scope and revoke it', async () => {
  await go('apikeys', 'API keys');
  await page.getByLabel('Role').selectOption('readonly');
  await page.getByLabel('Cache (empty: all)').fill('e2e');
  await page.getByRole('button', { name: 'Mint' }).click();
  const minted = page.getByTestId('minted-key').first();
  await minted.waitFor();
  const key = (await minted.innerText()).trim();
  // The key reads e2e and may not write it.
  assert.equal((await consoleAPI(srv, key, 'GET', '/caches/e2e/item?key=greeting')).status, 200);
  assert.equal((await consoleAPI(srv, key, 'PUT', '/caches/e2e/item', { key: { text: 'x' }, value: { text: 'y' } })).status, 403);
  await checkPage('apikeys');
  await page.getByRole('button', { name: /^Revoke [0-9a-f]+$/ }).click();
  await page.getByRole('status').filter({ hasText: /^Revoked / }).waitFor();
  assert.equal((await consoleAPI(srv, key, 'GET', '/caches/e2e/item?key=greeting')).status, 401);
});

test('charts of the main metrics', async () => {
  await go('metrics', 'Metrics');
  await page.getByTestId('status-line').filter({ hasText: 'Ready' }).waitFor();
  await page.locator('figure.chart canvas').nth(3).waitFor();
  await checkPage('metrics');
});

test('the nodes of the engine', async () => {
  await go('nodes', 'Nodes');
  await page.getByTestId('nodes-summary').filter({ hasText: /^1 of 1 node up; this is / }).waitFor();
  await page.getByRole('cell', { name: /\(this node\)$/ }).waitFor();
  await checkPage('nodes');
});

test('log out forgets the key', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('setsuna.key')), null);
});
