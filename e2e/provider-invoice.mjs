// Scenario 1 of issue 5: a provider signs in, enters a two-line invoice
// (lines added and removed on the page, live total), sees it listed as
// "en attente", and signs out; then, without JavaScript, the same form
// still adds a line and answers a mistake with 422, values kept.
//
// Environment (set by cmd/passd/e2e_test.go):
//   E2E_BASE_URL        passd's address, http://127.0.0.1:PORT
//   E2E_OUT_DIR         where the screenshots go
//   E2E_PROVIDER_TOKEN  a provider user's token
//   E2E_PROVIDER_USER   that user's name, shown in every page's header
//   E2E_FILE_NUMBER     a patient file's number
//   E2E_BIRTH_DATE      its patient's birth date, YYYY-MM-DD (the attestation's)
//   E2E_CARE_DATE       the care date to enter, YYYY-MM-DD
//   E2E_CHROMIUM        the browser (default /usr/bin/chromium)

import { assert, env, frenchAmount, frenchDate, normalise, pathOf, scenario } from './lib.mjs';

const token = env('E2E_PROVIDER_TOKEN');
const userName = env('E2E_PROVIDER_USER');
const fileNumber = env('E2E_FILE_NUMBER');
const birthDate = env('E2E_BIRTH_DATE');
const careDate = env('E2E_CARE_DATE');
const reference = `E2E-${Date.now()}`;

// lineLabel is the label of a line's field: "Code de l'acte (ligne 2)".
const lineLabel = (field, n) => `${field} (ligne ${n})`;

async function fillLine(page, n, { code, label, quantity, price }) {
  await page.getByLabel(lineLabel("Code de l'acte", n), { exact: true }).fill(code);
  await page.getByLabel(lineLabel('Libellé', n), { exact: true }).fill(label);
  await page.getByLabel(lineLabel('Quantité', n), { exact: true }).fill(quantity);
  await page.getByLabel(lineLabel('Prix unitaire (€)', n), { exact: true }).fill(price);
}

// expectTotal waits until #total reads want (white space normalised).
async function expectTotal(page, want) {
  const total = page.locator('#total');
  try {
    await page.waitForFunction(
      (w) => (document.getElementById('total')?.textContent ?? '').replace(/\s+/gu, ' ').trim() === w,
      want,
      { timeout: 5_000 },
    );
  } catch {
    throw new Error(`#total reads ${JSON.stringify(normalise(await total.textContent()))}, want ${JSON.stringify(want)}`);
  }
}

// expectPath waits until the page is at path, or fails saying where it is.
async function expectPath(page, path) {
  try {
    await page.waitForURL((url) => url.pathname === path, { timeout: 5_000 });
  } catch {
    throw new Error(`the page is at ${pathOf(page)}, want ${path}; it reads: ${normalise(await page.locator('body').textContent()).slice(0, 300)}`);
  }
}

// signIn pastes the token on /connexion and returns the answer to the POST.
async function signIn(page, value) {
  await page.getByLabel("Jeton d'accès", { exact: true }).fill(value);
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/connexion');
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  return answer;
}

await scenario('effecteur', async (run) => {
  const context = await run.context();
  const page = await context.newPage();

  // Not signed in: / leads to the sign-in page.
  await page.goto('/');
  await expectPath(page, '/connexion');
  await page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
  await run.check(page, 'connexion');

  const refused = await signIn(page, 'not-a-token');
  assert(refused.status() === 401, `a wrong token answers ${refused.status()}, want 401`);
  await page.getByText('Jeton invalide ou expiré.').waitFor();
  await run.check(page, 'jeton-invalide');

  await signIn(page, token);
  await expectPath(page, '/effecteur/factures');
  await page.getByText(userName).first().waitFor();
  await page.getByRole('button', { name: 'Se déconnecter', exact: true }).waitFor();
  const session = (await context.cookies()).find((c) => c.name === 'passd_session');
  assert(session, 'no passd_session cookie after signing in');
  assert(session.httpOnly, 'the passd_session cookie is not HttpOnly');
  assert(session.sameSite === 'Strict', `the passd_session cookie is SameSite=${session.sameSite}, want Strict`);
  assert(session.path === '/', `the passd_session cookie has Path=${session.path}, want /`);
  await run.check(page, 'factures');

  await page.getByRole('link', { name: 'Nouvelle facture', exact: true }).click();
  await expectPath(page, '/effecteur/factures/nouvelle');
  await page.getByLabel('Numéro de dossier PASS', { exact: true }).fill(fileNumber);
  await page.getByLabel('Date de naissance du patient', { exact: true }).fill(birthDate);
  await page.getByLabel('Référence de la facture', { exact: true }).fill(reference);
  await page.getByLabel('Date des soins', { exact: true }).fill(careDate);
  await fillLine(page, 1, { code: 'G', label: 'Consultation', quantity: '2', price: '15' });
  await expectTotal(page, 'Total : 30,00 €');
  await run.check(page, 'nouvelle-facture');

  await page.getByRole('button', { name: 'Ajouter une ligne', exact: true }).click();
  await page.getByLabel(lineLabel("Code de l'acte", 2), { exact: true }).waitFor();
  const kept = await page.getByLabel(lineLabel('Libellé', 1), { exact: true }).inputValue();
  assert(kept === 'Consultation', `line 1's label reads ${JSON.stringify(kept)} after adding a line`);
  await fillLine(page, 2, { code: 'V', label: 'Visite à domicile', quantity: '1', price: '25' });
  await expectTotal(page, 'Total : 55,00 €');

  // A third line, then removed: the total goes back.
  await page.getByRole('button', { name: 'Ajouter une ligne', exact: true }).click();
  await fillLine(page, 3, { code: 'K', label: 'Pansement', quantity: '1', price: '10' });
  await expectTotal(page, 'Total : 65,00 €');
  await page.getByRole('button', { name: 'Retirer la ligne' }).last().click();
  await page.getByLabel(lineLabel("Code de l'acte", 3), { exact: true }).waitFor({ state: 'detached' });
  await expectTotal(page, 'Total : 55,00 €');
  await run.check(page, 'deux-lignes');

  await page.getByRole('button', { name: 'Envoyer la facture', exact: true }).click();
  await expectPath(page, '/effecteur/factures');
  await page.getByText('Facture enregistrée.').waitFor();
  // The row as the API has it: the page must show the same dates and total.
  const api = await context.request.get('/api/v1/invoices', { headers: { Authorization: `Bearer ${token}` } });
  assert(api.ok(), `GET /api/v1/invoices answered ${api.status()}`);
  const invoice = (await api.json()).items.find((i) => i.external_ref === reference);
  assert(invoice, `the API has no invoice ${reference}`);
  assert(invoice.total === '55.00' && invoice.lines.length === 2, `the API has ${invoice.total} in ${invoice.lines.length} lines, want 55.00 in 2`);
  const row = page.getByRole('row').filter({ hasText: reference });
  await row.waitFor();
  const rowText = normalise(await row.textContent());
  for (const want of [fileNumber, frenchDate(careDate), frenchAmount('55.00'), 'en attente', frenchDate(invoice.deadline)]) {
    assert(rowText.includes(want), `the row of ${reference} reads ${JSON.stringify(rowText)}, which lacks ${JSON.stringify(want)}`);
  }
  await run.check(page, 'facture-enregistree');

  // Signing out ends the session on the server, not only in the browser.
  await page.getByRole('button', { name: 'Se déconnecter', exact: true }).click();
  await page.waitForURL((url) => url.pathname !== '/effecteur/factures');
  await page.goto('/');
  await expectPath(page, '/connexion');
  await run.check(page, 'deconnecte');
  const replay = await run.context();
  await replay.addCookies([{ name: session.name, value: session.value, url: run.baseURL }]);
  const again = await replay.newPage();
  await again.goto('/');
  assert(pathOf(again) === '/connexion', `the session cookie still opens ${pathOf(again)} after signing out`);
  await replay.close();
  await context.close();

  // Without JavaScript: "Ajouter une ligne" is a submit button that
  // re-renders the form, and a mistake is answered with the form again.
  const plain = await run.context({ javaScriptEnabled: false });
  const form = await plain.newPage();
  await form.goto('/connexion');
  await signIn(form, token);
  await expectPath(form, '/effecteur/factures');
  await form.goto('/effecteur/factures/nouvelle');
  // A file number no file has: the server's refusal, not the browser's
  // own checks (which run without JavaScript too), is what is tested.
  await form.getByLabel('Numéro de dossier PASS', { exact: true }).fill('PASS-1999-999999');
  await form.getByLabel('Date de naissance du patient', { exact: true }).fill(birthDate);
  await form.getByLabel('Référence de la facture', { exact: true }).fill(`${reference}-sans-js`);
  await form.getByLabel('Date des soins', { exact: true }).fill(careDate);
  await fillLine(form, 1, { code: 'G', label: 'Consultation', quantity: '1', price: '30' });
  await form.getByRole('button', { name: 'Ajouter une ligne', exact: true }).click();
  await form.getByLabel(lineLabel("Code de l'acte", 2), { exact: true }).waitFor();
  const keptPlain = await form.getByLabel(lineLabel("Code de l'acte", 1), { exact: true }).inputValue();
  assert(keptPlain === 'G', `without JavaScript, line 1's code reads ${JSON.stringify(keptPlain)} after adding a line`);
  await run.check(form, 'sans-js-ligne-ajoutee');
  await fillLine(form, 2, { code: 'V', label: 'Visite à domicile', quantity: '1', price: '25' });
  // The unknown file number: the form comes back with 422, values kept.
  const invalid = form.waitForResponse((r) => r.request().method() === 'POST');
  await form.getByRole('button', { name: 'Envoyer la facture', exact: true }).click();
  const answer = await invalid;
  assert(answer.status() === 422, `a form with an unknown file number answers ${answer.status()}, want 422`);
  await form.getByLabel(lineLabel('Libellé', 2), { exact: true }).waitFor();
  const keptRef = await form.getByLabel('Référence de la facture', { exact: true }).inputValue();
  assert(keptRef === `${reference}-sans-js`, `the reference reads ${JSON.stringify(keptRef)} after a refusal`);
  const keptLine = await form.getByLabel(lineLabel('Libellé', 2), { exact: true }).inputValue();
  assert(keptLine === 'Visite à domicile', `line 2's label reads ${JSON.stringify(keptLine)} after a refusal`);
  await run.check(form, 'sans-js-erreur');
  await plain.close();
});
