// Scenario 3 of issue 5: an admin runs the release job by hand from
// /admin/taches; the provider then sees its invoice, for a patient whose
// rights are open, "transmise à la CPAM".
//
// Environment (set by cmd/passd/e2e_more_test.go):
//   E2E_BASE_URL, E2E_OUT_DIR, E2E_CHROMIUM  as for every scenario (lib.mjs)
//   E2E_ADMIN_TOKEN     an admin's token
//   E2E_PROVIDER_TOKEN  the provider user's token
//   E2E_INVOICE_REF     the reference of its pending invoice

import { assert, env, normalise, scenario } from './lib.mjs';
import { expectPath, signIn, submitForm } from './steps.mjs';

const adminToken = env('E2E_ADMIN_TOKEN');
const providerToken = env('E2E_PROVIDER_TOKEN');
const reference = env('E2E_INVOICE_REF');

// invoiceRow returns the text of the provider's row for reference.
async function invoiceRow(page) {
  const row = page.getByRole('row').filter({ hasText: reference });
  await row.waitFor();
  return normalise(await row.textContent());
}

await scenario('liberation', async (run) => {
  // Before: the provider's invoice waits.
  const provider = await signIn(run, providerToken, '/effecteur/factures');
  const before = await invoiceRow(provider.page);
  assert(before.includes('en attente'), `before the release, the row of ${reference} reads ${JSON.stringify(before)}, want "en attente"`);
  await run.check(provider.page, 'effecteur-en-attente');

  const admin = await signIn(run, adminToken, '/admin');
  await run.check(admin.page, 'admin');
  await admin.page.goto('/admin/taches');
  await expectPath(admin.page, '/admin/taches');
  await run.check(admin.page, 'taches');
  await submitForm(admin.page, 'Lancer maintenant : Libération des factures dont les droits sont ouverts');
  // The job ran: the page comes back with the button (and its new run).
  await admin.page.getByRole('button', { name: 'Lancer maintenant : Libération des factures dont les droits sont ouverts', exact: true }).waitFor();
  await run.check(admin.page, 'release-lancee');
  await admin.context.close();

  // After: the same invoice has gone to the CPAM.
  await provider.page.reload();
  const after = await invoiceRow(provider.page);
  assert(after.includes('transmise à la CPAM'), `after the release, the row of ${reference} reads ${JSON.stringify(after)}, want "transmise à la CPAM"`);
  // The badge, not the list's filter, which offers the same words.
  await provider.page.locator('td .badge', { hasText: 'transmise à la CPAM' }).first().waitFor({ timeout: 5_000 });
  await run.check(provider.page, 'effecteur-transmise');
  await provider.context.close();
});
