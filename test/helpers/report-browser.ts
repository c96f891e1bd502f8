/**
 * The HTML reports in a real browser: headless Chromium (/usr/bin/chromium, driven by puppeteer-core), one for the
 * whole test file, and a page check every report test makes. Without Chromium the browser tests skip (CI installs it).
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';

const CHROMIUM = '/usr/bin/chromium';
export const SKIP_BROWSER = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: skipping the browser tests of the HTML reports (apt-get install chromium)`;
const SHOTS = fileURLToPath(new URL('../../bench/out/report-shots/', import.meta.url));
const WIDTH = 1280;

let browser: Promise<Browser> | undefined;
function chromium(): Promise<Browser> {
  browser ??= import('puppeteer-core').then((p) =>
    p.default.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'nnshrink-chromium-'))}`],
    }),
  );
  return browser;
}
after(async () => {
  if (browser) await (await browser).close();
});

/**
 * Opens a report at 1280 px with every request but the file's own refused, checks the page is clean (no console
 * error, no page error, no failed or foreign request, nothing wider than the window), writes its screenshot, and
 * hands the page to `inspect`.
 */
export async function openReport(t: { diagnostic: (s: string) => void }, file: string, name: string, inspect: (p: Page) => Promise<void>): Promise<void> {
  const page = await (await chromium()).newPage();
  const url = pathToFileURL(file).href;
  const problems: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url() === url) void r.continue();
    else {
      problems.push(`request ${r.url()}`);
      void r.abort();
    }
  });
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('requestfailed', (r) => r.url() === url && problems.push(`failed: ${r.url()}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  try {
    await page.setViewport({ width: WIDTH, height: 900 });
    await page.goto(url, { waitUntil: 'load' });
    const wide = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, widest: Math.max(...[...document.querySelectorAll('main *')].map((e) => e.getBoundingClientRect().right)) }));
    assert.ok(wide.doc <= WIDTH, `${name}: the page is ${wide.doc} px wide at ${WIDTH}`);
    assert.ok(wide.widest <= WIDTH, `${name}: an element reaches ${wide.widest} px at ${WIDTH}`);
    mkdirSync(SHOTS, { recursive: true });
    const shot = join(SHOTS, `${name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    // hover a mark (after the screenshot, which stays clean): the script's tooltip must show it, with no error
    const mark = await page.$('svg [data-tip]');
    if (mark) {
      await mark.hover();
      assert.equal(await page.$eval('#tip', (e) => (e as HTMLElement).style.display), 'block', `${name}: hover text`);
    }
    await inspect(page);
    assert.deepEqual(problems, [], `${name}: ${problems.join('; ')}`);
  } finally {
    await page.close();
  }
}

/** data-NAME of every element matching a selector, as numbers. */
export const dataOf = (p: Page, sel: string, name: string): Promise<number[]> => p.$$eval(sel, (es, n) => es.map((e) => Number(e.getAttribute(`data-${n}`))), name);
export const textsOf = (p: Page, sel: string): Promise<string[]> => p.$$eval(sel, (es) => es.map((e) => e.textContent ?? ''));

