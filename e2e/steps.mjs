// Steps the scenarios 2 to 4 share: signing in with a token, waiting for a
// page, reading a flash message. Scenario 1 keeps its own copies (it came
// first); these say where the page was when they fail.

import { assert, normalise, pathOf } from './lib.mjs';

// bodyText is the page's text, white space normalised, cut for messages.
export async function bodyText(page, max = 400) {
  return normalise(await page.locator('body').textContent()).slice(0, max);
}

// expectPath waits until the page's path is path (a string) or matches it
// (a RegExp), or fails saying where the page is and what it reads.
export async function expectPath(page, path) {
  const ok = (url) => (path instanceof RegExp ? path.test(url.pathname) : url.pathname === path);
  try {
    await page.waitForURL(ok, { timeout: 5_000 });
  } catch {
    throw new Error(`the page is at ${pathOf(page)}, want ${path}; it reads: ${await bodyText(page)}`);
  }
}

// expectText waits until text is on the page, or fails with what it reads.
export async function expectText(page, text, what = text) {
  try {
    await page.getByText(text).first().waitFor({ timeout: 5_000 });
  } catch {
    throw new Error(`${pathOf(page)} does not show ${JSON.stringify(what)}; it reads: ${await bodyText(page)}`);
  }
}

// signIn opens a fresh context, pastes token on /connexion and waits for
// the role's home; it returns the context and its page.
export async function signIn(run, token, home) {
  const context = await run.context();
  const page = await context.newPage();
  await page.goto('/connexion');
  await page.getByLabel("Jeton d'accès", { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await expectPath(page, home);
  return { context, page };
}

// submitForm clicks the one button called name. The caller then waits for
// what the answer shows (expectPath, expectText): a plain form, a 303 and
// its GET, and a form htmx enhances all end there, and only the last
// fires no load event.
export async function submitForm(page, name) {
  const button = page.getByRole('button', { name, exact: true });
  const n = await button.count();
  assert(n === 1, `${pathOf(page)} has ${n} button(s) "${name}", want 1; it reads: ${await bodyText(page)}`);
  await button.click();
}

// addDays adds n days (negative: before) to an ISO date, in UTC.
export function addDays(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// fileNumberOn returns the first patient file number the page shows.
export async function fileNumberOn(page) {
  const text = await bodyText(page, 100_000);
  const m = text.match(/PASS-\d{4}-\d+/);
  assert(m, `${pathOf(page)} shows no file number; it reads: ${text.slice(0, 400)}`);
  return m[0];
}
