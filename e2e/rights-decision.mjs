// Scenario 2 of issue 5: the coordinator creates a patient file and
// records its AME rights application; the CPAM referent opens the file
// from the queue, finds the period start pre-filled 30 days (the AME
// look-back) before the filing date, and opens the rights.
//
// Environment (set by cmd/passd/e2e_more_test.go):
//   E2E_BASE_URL, E2E_OUT_DIR, E2E_CHROMIUM  as for every scenario (lib.mjs)
//   E2E_COORDINATOR_TOKEN  a coordinator's token
//   E2E_REFERENT_TOKEN     a CPAM referent's token
//   E2E_FILING_DATE        the application's filing date, YYYY-MM-DD
//   E2E_RIGHTS_TO          the end of the rights period to enter, YYYY-MM-DD

import { assert, env, frenchDate, normalise, pathOf, scenario } from './lib.mjs';
import { addDays, expectPath, expectText, fileNumberOn, signIn, submitForm } from './steps.mjs';

const coordinatorToken = env('E2E_COORDINATOR_TOKEN');
const referentToken = env('E2E_REFERENT_TOKEN');
const filedOn = env('E2E_FILING_DATE');
const rightsTo = env('E2E_RIGHTS_TO');
// What the AME rule gives: the period starts 90 days before filing.
const ameStart = addDays(filedOn, -30);

await scenario('droits', async (run) => {
  // The coordinator: a new file, then its rights application.
  const coord = await signIn(run, coordinatorToken, '/coordination/dossiers');
  const page = coord.page;
  await page.getByLabel('Rechercher un dossier', { exact: true }).waitFor();
  await run.check(page, 'coordination-dossiers');

  await page.getByRole('link', { name: 'Nouveau dossier', exact: true }).click();
  await expectPath(page, '/coordination/dossiers/nouveau');
  await page.getByLabel('Nom', { exact: true }).fill('Nguyen');
  await page.getByLabel('Prénom', { exact: true }).fill('Thi Lan');
  await page.getByLabel('Date de naissance', { exact: true }).fill('1985-03-14');
  await page.getByLabel('NIR (facultatif)', { exact: true }).waitFor();
  await run.check(page, 'nouveau-dossier');
  await submitForm(page, 'Créer le dossier');
  await expectPath(page, /^\/coordination\/dossiers\/\d+$/);
  await expectText(page, 'Dossier créé.');
  const filePath = pathOf(page);
  const fileNumber = await fileNumberOn(page);
  console.log(`the file: ${fileNumber} at ${filePath}`);
  await expectText(page, 'Nguyen');
  await expectText(page, frenchDate('1985-03-14'));
  await expectText(page, 'aucune demande');
  await run.check(page, 'dossier-cree');

  await page.getByRole('combobox', { name: 'Régime', exact: true }).selectOption('ame');
  await page.getByLabel('Date de dépôt', { exact: true }).fill(filedOn);
  await submitForm(page, 'Enregistrer la demande');
  await expectText(page, 'Demande de droits enregistrée.');
  await expectText(page, 'demande déposée');
  await run.check(page, 'demande-enregistree');

  // The search finds the file by its number.
  await page.goto('/coordination/dossiers');
  await page.getByLabel('Rechercher un dossier', { exact: true }).fill(fileNumber);
  await submitForm(page, 'Rechercher');
  await expectText(page, fileNumber);
  await run.check(page, 'recherche');
  // And by part of the name, typed without its capital, then with an
  // accent and capitals the name does not have: neither counts.
  for (const typed of ['guye', 'NGUYÊN']) {
    await page.goto('/coordination/dossiers');
    await page.getByLabel('Rechercher un dossier', { exact: true }).fill(typed);
    await submitForm(page, 'Rechercher');
    const found = page.getByRole('link', { name: fileNumber, exact: true });
    assert((await found.count()) === 1, `the search for ${JSON.stringify(typed)} links ${await found.count()} time(s) ${fileNumber}, want 1; it reads: ${normalise(await page.locator('body').textContent()).slice(0, 400)}`);
    await expectText(page, 'Nguyen');
  }
  await run.check(page, 'recherche-nom');

  // The referent: the file is in the queue, its decision form pre-filled.
  const cpam = await signIn(run, referentToken, '/cpam/dossiers');
  const queue = cpam.page;
  const link = queue.getByRole('link', { name: fileNumber, exact: true });
  assert((await link.count()) === 1, `the referent's queue has ${await link.count()} link(s) ${fileNumber}, want 1; it reads: ${normalise(await queue.locator('body').textContent()).slice(0, 400)}`);
  await run.check(queue, 'cpam-file-attente');
  await link.click();
  await expectPath(queue, /^\/cpam\/dossiers\/\d+$/);
  const id = filePath.split('/').pop();
  assert(pathOf(queue) === `/cpam/dossiers/${id}`, `the queue's link leads to ${pathOf(queue)}, want /cpam/dossiers/${id}`);
  const start = await queue.getByLabel('Début des droits', { exact: true }).inputValue();
  assert(start === ameStart, `"Début des droits" reads ${JSON.stringify(start)} for an AME application filed on ${filedOn}, want ${ameStart} (30 days before)`);
  await run.check(queue, 'cpam-decision');

  await queue.getByRole('combobox', { name: 'Régime', exact: true }).selectOption('ame');
  await queue.getByLabel('Fin des droits', { exact: true }).fill(rightsTo);
  await queue.getByLabel('Référence de la décision', { exact: true }).fill(`AME-${fileNumber}`);
  await submitForm(queue, 'Ouvrir les droits');
  // The decision is confirmed on a page that says what follows.
  await expectText(queue, 'Ouvrir les droits AME de ce dossier');
  await run.check(queue, 'decision-a-confirmer');
  await submitForm(queue, 'Enregistrer la décision');
  await expectText(queue, 'Décision enregistrée.');
  await run.check(queue, 'decision-enregistree');

  // Decided: the file has left the queue.
  await queue.goto('/cpam/dossiers');
  const left = await queue.getByRole('link', { name: fileNumber, exact: true }).count();
  assert(left === 0, `${fileNumber} is still in the referent's queue after the decision`);
  await run.check(queue, 'cpam-file-vide');
  await cpam.context.close();

  // Back to the coordinator: rights open, and the printable attestation.
  await page.goto(filePath);
  await expectText(page, 'droits ouverts');
  await page.getByRole('link', { name: 'Attestation PASS', exact: true }).click();
  await expectPath(page, `${filePath}/attestation`);
  for (const want of [fileNumber, 'Nguyen', 'Thi Lan', frenchDate('1985-03-14')]) await expectText(page, want);
  await run.check(page, 'attestation');
  // Printed, the page keeps the attestation and drops the navigation.
  await page.emulateMedia({ media: 'print' });
  const nav = page.getByRole('navigation');
  for (let i = 0; i < (await nav.count()); i++) {
    assert(!(await nav.nth(i).isVisible()), `printed, the attestation still shows a navigation: ${normalise(await nav.nth(i).textContent())}`);
  }
  assert(await page.getByText(fileNumber).first().isVisible(), 'printed, the attestation hides its file number');
  await run.check(page, 'attestation-imprimee');
  await coord.context.close();
});
