// Scenario 4 of issue 5: an invoice has passed its deadline and the admin
// runs the deadline job from /admin/taches, so the city owes it. Finance
// user A drafts a payout batch and submits it; A's own approval is refused
// in French; finance user B approves it (the approved batch offers no
// cancel any more) and downloads its SEPA file (the Go test validates the
// file against the XSD), then marks it paid.
//
// Environment (set by cmd/passd/e2e_more_test.go):
//   E2E_BASE_URL, E2E_OUT_DIR, E2E_CHROMIUM  as for every scenario (lib.mjs)
//   E2E_ADMIN_TOKEN      an admin's token
//   E2E_FINANCE_A_TOKEN  finance user A's token
//   E2E_FINANCE_B_TOKEN  finance user B's token
//   E2E_PROVIDER_NAME    the provider the city owes
//   E2E_AMOUNT           what it is owed, e.g. 30.00
//   E2E_DOWNLOAD_DIR     where the SEPA file is saved, as sepa.xml
//   E2E_PAID_ON          the day the bank paid, YYYY-MM-DD

import { join } from 'node:path';
import { assert, env, frenchAmount, frenchDate, normalise, pathOf, scenario } from './lib.mjs';
import { bodyText, expectPath, expectText, signIn, submitForm } from './steps.mjs';

const adminToken = env('E2E_ADMIN_TOKEN');
const financeA = env('E2E_FINANCE_A_TOKEN');
const financeB = env('E2E_FINANCE_B_TOKEN');
const providerName = env('E2E_PROVIDER_NAME');
const amount = frenchAmount(env('E2E_AMOUNT'));
const downloadDir = env('E2E_DOWNLOAD_DIR');
const paidOn = env('E2E_PAID_ON');
const batchPath = /^\/finances\/lots\/\d+$/;
const fourEyes = "Vous avez préparé ce lot : un autre agent doit l'approuver.";

// expectNormalisedText waits until the page's text, white space folded
// (French amounts carry no-break spaces), includes want.
async function expectNormalisedText(page, want) {
  try {
    await page.waitForFunction((w) => document.body.textContent.replace(/\s+/gu, ' ').includes(w), want, { timeout: 5_000 });
  } catch {
    throw new Error(`${pathOf(page)} does not show ${JSON.stringify(want)}; it reads: ${await bodyText(page)}`);
  }
}

await scenario('lot-virements', async (run) => {
  // The admin runs the deadline job: the invoice becomes the city's to pay.
  const admin = await signIn(run, adminToken, '/admin');
  await admin.page.goto('/admin/taches');
  await submitForm(admin.page, 'Lancer maintenant : Échéance : factures à payer par la ville');
  await admin.page.getByRole('button', { name: 'Lancer maintenant : Échéance : factures à payer par la ville', exact: true }).waitFor();
  await run.check(admin.page, 'deadline-lancee');
  await admin.context.close();

  // A: the dashboard shows what is owed, then A drafts and submits a batch.
  const a = await signIn(run, financeA, '/finances');
  await expectText(a.page, providerName);
  await expectNormalisedText(a.page, amount);
  await run.check(a.page, 'tableau-de-bord');
  await a.page.goto('/finances/lots');
  await run.check(a.page, 'lots');
  await submitForm(a.page, 'Préparer un lot');
  try {
    await a.page.waitForURL((url) => batchPath.test(url.pathname), { timeout: 5_000 });
  } catch {
    // The list came back instead of the batch: open the new batch from it.
    const links = a.page.locator('a[href^="/finances/lots/"]');
    assert((await links.count()) === 1, `after "Préparer un lot", ${pathOf(a.page)} links to ${await links.count()} batch(es), want 1; it reads: ${await bodyText(a.page)}`);
    await links.click();
    await expectPath(a.page, batchPath);
  }
  const batch = pathOf(a.page);
  console.log(`the batch: ${batch}`);
  await expectText(a.page, providerName);
  await expectNormalisedText(a.page, amount);
  await run.check(a.page, 'lot-brouillon');

  await submitForm(a.page, 'Soumettre');
  await a.page.getByRole('button', { name: 'Approuver', exact: true }).waitFor();
  await run.check(a.page, 'lot-soumis');

  // A approving A's own batch: refused, in French.
  await submitForm(a.page, 'Approuver');
  await expectText(a.page, fourEyes);
  await run.check(a.page, 'approbation-refusee');
  await a.context.close();

  // B approves, then downloads the SEPA file.
  const b = await signIn(run, financeB, '/finances');
  await b.page.goto(batch);
  await submitForm(b.page, 'Approuver');
  // The confirmation says what will follow, with the figures and the two
  // people; nothing is approved before it is confirmed.
  const batchNo = batch.split('/').pop();
  await expectText(b.page, `Approuver le lot n° ${batchNo} :`);
  await run.check(b.page, 'approbation-a-confirmer');
  await submitForm(b.page, `Approuver le lot n° ${batchNo}`);
  const sepaLink = b.page.getByRole('link', { name: 'Télécharger le fichier SEPA', exact: true });
  try {
    await sepaLink.waitFor({ timeout: 5_000 });
  } catch {
    throw new Error(`after B's approval, ${pathOf(b.page)} has no link "Télécharger le fichier SEPA"; it reads: ${await bodyText(b.page)}`);
  }
  const text = normalise(await b.page.locator('body').textContent());
  assert(!text.includes(fourEyes), `B's approval was refused as if B had prepared the batch`);
  // Approved, the batch is frozen: its SEPA file may be at the bank, so
  // the page offers no cancel (billing.BatchMachine; the trigger refuses it).
  const cancel = b.page.getByRole('button', { name: 'Annuler le lot', exact: true });
  assert((await cancel.count()) === 0, `the approved batch ${pathOf(b.page)} still offers "Annuler le lot"`);
  await run.check(b.page, 'lot-approuve');

  const [download] = await Promise.all([b.page.waitForEvent('download', { timeout: 10_000 }), sepaLink.click()]);
  const failure = await download.failure();
  assert(failure === null, `the SEPA download failed: ${failure}`);
  assert(download.suggestedFilename().endsWith('.xml'), `the SEPA file is named ${download.suggestedFilename()}, want *.xml`);
  await download.saveAs(join(downloadDir, 'sepa.xml'));
  console.log(`the SEPA file: ${download.suggestedFilename()}`);
  await run.check(b.page, 'sepa-telecharge');

  // The bank has paid: B records the day.
  await b.page.getByLabel('Date du paiement', { exact: true }).fill(paidOn);
  await submitForm(b.page, 'Marquer payé');
  await expectText(b.page, `Marquer le lot n° ${batchNo} payé le ${frenchDate(paidOn)}`);
  await submitForm(b.page, `Marquer le lot n° ${batchNo} payé`);
  // Paid, the batch is closed: nothing left to mark (the Go test reads
  // the day stored).
  await b.page.getByRole('button', { name: 'Marquer payé', exact: true }).waitFor({ state: 'detached' });
  await expectText(b.page, frenchDate(paidOn));
  await run.check(b.page, 'lot-paye');
  await b.context.close();
});
