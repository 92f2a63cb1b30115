// What every end-to-end scenario shares: Debian's chromium driven by
// playwright-core, a screenshot per step, axe (@axe-core/playwright) on every page, and the
// few assertions the scenarios need (playwright-core has no `expect`).
//
// A scenario is run by cmd/passd/e2e_test.go against a real `passd serve`,
// with its settings in E2E_* environment variables (see README.md, "The
// pages, tested in a browser"). It prints one line per step and exits 1 on
// the first failure, or after the last step when axe found a violation of
// a WCAG 2.1 A or AA rule.

import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

// The flags the machines' chromium needs (.library/env/machines/go-svc.md):
// without the background-networking ones it keeps trying to reach Google's
// hosts through a closed network. Playwright itself adds --headless and a
// fresh temporary --user-data-dir per launch (it refuses one in args).
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// env returns the environment variable name, or fails when it is unset.
export function env(name, fallback) {
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`${name} is not set`);
}

// normalise folds every run of white space (the no-break and narrow
// no-break spaces of French numbers included) into one plain space.
export function normalise(text) {
  return (text ?? '').replace(/\s+/gu, ' ').trim();
}

// frenchDate turns 2026-11-22 into 22/11/2026.
export function frenchDate(iso) {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

// frenchAmount turns "1234.50" into "1 234,50 €" (plain spaces: compare
// with normalise).
export function frenchAmount(decimal) {
  const [int, frac = '00'] = decimal.split('.');
  return `${int.replace(/\B(?=(\d{3})+$)/g, ' ')},${frac.padEnd(2, '0')} €`;
}

export function assert(ok, message) {
  if (!ok) throw new Error(message);
}

// pathOf returns the path of the page's URL.
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

// A Run is one scenario: the browser, its output directory and what it
// found. Pages opened through run.context() fail the scenario on an
// uncaught script error or a refusal by the Content-Security-Policy.
export class Run {
  constructor(name) {
    this.name = name;
    this.baseURL = env('E2E_BASE_URL');
    this.outDir = env('E2E_OUT_DIR');
    this.step = 0;
    this.violations = []; // axe violations of WCAG 2.1 A and AA rules
    this.pageErrors = [];
    // Contexts with JavaScript off: axe cannot run there (page.evaluate
    // never returns), so their pages are only screenshotted.
    this.withoutScript = new WeakSet();
    mkdirSync(this.outDir, { recursive: true });
  }

  async start() {
    this.browser = await chromium.launch({
      executablePath: env('E2E_CHROMIUM', '/usr/bin/chromium'),
      args: CHROMIUM_ARGS,
      headless: true,
    });
    return this;
  }

  // context opens a fresh browser context (no cookies) on the base URL.
  // The pages' CSP is enforced (no bypassCSP): axe is loaded by code that
  // page.evaluate runs through the DevTools protocol, which the page's
  // script-src does not govern, so a page that breaks its own policy
  // still fails here as it would for a user.
  async context(options = {}) {
    const context = await this.browser.newContext({
      baseURL: this.baseURL,
      locale: 'fr-FR',
      timezoneId: 'Europe/Paris',
      viewport: { width: 1280, height: 800 },
      ...options,
    });
    context.setDefaultTimeout(15_000);
    if (options.javaScriptEnabled === false) this.withoutScript.add(context);
    context.on('page', (page) => this.watch(page));
    return context;
  }

  watch(page) {
    this.lastPage = page;
    page.on('pageerror', (err) => this.pageErrors.push(`${page.url()}: uncaught ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content.Security.Policy/i.test(msg.text())) {
        this.pageErrors.push(`${page.url()}: ${msg.text()}`);
      }
    });
  }

  // check records a step: it fails on a script error seen so far, saves a
  // full-page screenshot named after the step and runs axe on the page.
  async check(page, label) {
    this.step++;
    const file = `${this.name}-${String(this.step).padStart(2, '0')}-${label}.png`;
    console.log(`step ${this.step}: ${label} (${pathOf(page)})`);
    await page.screenshot({ path: join(this.outDir, file), fullPage: true });
    assert(this.pageErrors.length === 0, `script errors on the page:\n  ${this.pageErrors.join('\n  ')}`);
    if (!this.withoutScript.has(page.context())) await this.axe(page, label);
  }

  async axe(page, label) {
    // @axe-core/playwright puts axe into the page through the DevTools
    // protocol, which the page's CSP (script-src 'self') does not govern.
    // The WCAG 2.1 A and AA rules, the bar RGAA (the French public
    // services' standard) is built on; best practices are left out.
    // It gathers its results in a blank page it opens and closes: the page
    // a failure shows is still this one.
    const last = this.lastPage;
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    this.lastPage = last;
    // Every violation of those rules fails, whatever axe's impact.
    for (const v of result.violations) {
      this.violations.push({
        step: `${this.step} ${label}`,
        path: pathOf(page),
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
      });
    }
  }

  // finish closes the browser and says whether the scenario passed.
  async finish(err) {
    let failed = false;
    if (err) {
      failed = true;
      console.error(`FAIL ${this.name}, step ${this.step + 1}: ${err.stack ?? err}`);
      if (this.lastPage && !this.lastPage.isClosed()) {
        const file = join(this.outDir, `${this.name}-echec.png`);
        await this.lastPage.screenshot({ path: file, fullPage: true }).catch(() => {});
        console.error(`the page as it was: ${file}`);
      }
    }
    if (this.violations.length > 0) {
      failed = true;
      console.error(`FAIL ${this.name}: axe found ${this.violations.length} violation(s) of WCAG 2.1 A/AA rules:`);
      for (const v of this.violations) {
        console.error(`- step ${v.step} ${v.path}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
        for (const n of v.nodes) console.error(`    ${n}`);
      }
    }
    if (this.browser) await this.browser.close().catch(() => {});
    console.log(`${failed ? 'FAIL' : 'ok'} ${this.name}: ${this.step} step(s), screenshots in ${this.outDir}`);
    process.exitCode = failed ? 1 : 0;
  }
}

// scenario runs body(run) and reports; the process exits 1 on failure.
export async function scenario(name, body) {
  const run = new Run(name);
  let err;
  try {
    await run.start();
    await body(run);
  } catch (e) {
    err = e;
  }
  await run.finish(err);
}
