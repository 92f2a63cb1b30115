// Issue 20's pages, as a browser uses them: an invoice form sent empty
// shows every error at once (each field marked, a summary linking to it);
// the régie's budget typed "50 000,00" is saved (the Go test reads it as
// 50000.00) and shown again in the French form; the provider's list is
// filtered, sorted by care date and paged with the filter kept.
//
// Environment (set by cmd/passd/e2e_more_test.go):
//   E2E_BASE_URL, E2E_OUT_DIR, E2E_CHROMIUM  as for every scenario (lib.mjs)
//   E2E_ADMIN_TOKEN     an admin's token
//   E2E_PROVIDER_TOKEN  a provider user's token; its invoices are L-1 (care
//                       date the oldest) to L-3 (the newest), all pending

import { assert, env, normalise, pathOf, scenario } from './lib.mjs';
import { expectText, signIn, submitForm } from './steps.mjs';

const adminToken = env('E2E_ADMIN_TOKEN');
const providerToken = env('E2E_PROVIDER_TOKEN');

await scenario('pages-de-travail', async (run) => {
  const provider = await signIn(run, providerToken, '/effecteur/factures');
  const page = provider.page;

  // Sent empty, the invoice form shows every mistake at once. The
  // browser's own checks (required) are lifted so that the server answers.
  await page.goto('/effecteur/factures/nouvelle');
  await page.evaluate(() => document.querySelectorAll('form').forEach((f) => { f.noValidate = true; }));
  await submitForm(page, 'Envoyer la facture');
  await page.locator('.error-summary').waitFor();
  const invalid = await page.locator('[aria-invalid="true"]').count();
  const links = await page.locator('.error-summary a').count();
  // One link per invalid field, and one for the lines (none sent).
  assert(invalid >= 4 && links === invalid + 1, `an empty invoice marks ${invalid} field(s) invalid and links ${links} in the summary, want at least 4 and one more link`);
  for (const link of await page.locator('.error-summary a').all()) {
    const target = (await link.getAttribute('href')).slice(1);
    assert((await page.locator(`[id="${target}"]`).count()) === 1, `the summary links to #${target}, which is not on the page`);
  }
  for (const field of await page.locator('[aria-invalid="true"]').all()) {
    const described = await field.getAttribute('aria-describedby');
    assert(described && (await page.locator(`#${described.split(' ').pop()}`).count()) === 1,
      `the invalid field #${await field.getAttribute('id')} is tied to no message`);
  }
  await run.check(page, 'facture-vide');

  // The list: a filter, a sort by care date (oldest first) and a second
  // page of one, the filter kept.
  await page.goto('/effecteur/factures');
  await page.getByLabel('Statut', { exact: true }).selectOption('pending');
  await submitForm(page, 'Filtrer');
  await expectText(page, '3 factures correspondant aux filtres');
  await page.getByRole('link', { name: 'Date des soins', exact: true }).click();
  await page.getByRole('link', { name: /Date des soins ↓/ }).waitFor();
  await page.getByRole('link', { name: /Date des soins ↓/ }).click();
  await page.getByRole('link', { name: /Date des soins ↑/ }).waitFor();
  // A page of one, so that there is a second.
  await page.goto(`${page.url()}&limit=1`);
  const first = normalise(await page.locator('tbody').textContent());
  assert(first.includes('L-1'), `sorted oldest first, the first page reads ${first}`);
  await run.check(page, 'liste-triee');
  await page.getByRole('link', { name: 'Page suivante', exact: true }).click();
  await page.waitForLoadState('load');
  const second = normalise(await page.locator('tbody').textContent());
  const url = new URL(page.url());
  assert(second.includes('L-2') && url.searchParams.get('statut') === 'pending' && url.searchParams.get('tri') === 'soins-asc',
    `the second page (${pathOf(page)}${url.search}) reads ${second}, want L-2 with the filter and the order kept`);
  await run.check(page, 'liste-page-2');
  await provider.context.close();

  // The budget as French people type it.
  const admin = await signIn(run, adminToken, '/admin');
  await admin.page.goto('/admin/parametres');
  await admin.page.getByLabel('Budget annuel (€)', { exact: true }).fill('50 000,00');
  await submitForm(admin.page, 'Enregistrer les paramètres');
  await expectText(admin.page, 'Paramètres enregistrés.');
  const shown = await admin.page.getByLabel('Budget annuel (€)', { exact: true }).inputValue();
  assert(shown === '50\u202f000,00', `the budget is shown again as ${JSON.stringify(shown)}, want "50 000,00" (narrow no-break space)`);
  await run.check(admin.page, 'budget-en-francais');
  await admin.context.close();
});
