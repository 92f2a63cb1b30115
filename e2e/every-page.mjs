// The accessibility walk of issue 5: every page of the web package, as its
// role, at a desktop and at a phone-sized viewport, with axe-core on each
// (lib.mjs: no violation of a WCAG 2.1 A or AA rule), and the error states worth
// seeing: a form sent back with its errors (the focus on the first field
// in error, for the referent's correction), the 403 and 404 pages, and a
// refused sign-in.
//
// Environment (set by cmd/passd/e2e_pages_test.go):
//   E2E_BASE_URL, E2E_OUT_DIR, E2E_CHROMIUM  as for every scenario (lib.mjs)
//   E2E_PAGES       JSON list of {route, label, role, path, status, landing}
//                   derived from web/'s GET routes ("" role: signed out)
//   E2E_TOKENS      JSON object role → token
//   E2E_MISSING_ID  a provider's page naming an invoice that does not exist

import { assert, env, pathOf, scenario } from './lib.mjs';
import { expectPath, expectText } from './steps.mjs';

const pages = JSON.parse(env('E2E_PAGES'));
const tokens = JSON.parse(env('E2E_TOKENS'));
const missing = env('E2E_MISSING_ID');

const homes = {
  provider: '/effecteur/factures',
  coordinator: '/coordination/dossiers',
  cpam_referent: '/cpam/dossiers',
  finance: '/finances',
  admin: '/admin',
  observer: '/bilan',
  social_worker: '/ccas',
  doctor: '/sos',
  platform_admin: '/plateforme',
};

const viewports = [
  { name: 'bureau', size: { width: 1280, height: 800 } },
  { name: 'telephone', size: { width: 390, height: 844 } },
];

// The trade's words and their glossary anchors (web/glossary.go says the
// same): a page using one links it.
const glossaryTerms = [
  ['pass', /\bPASS(?![-\p{L}\p{N}])/u], ['puma', /\bPUMa\b/], ['css', /\bCSS\b/], ['ame', /\bAME\b/],
  ['ticket-moderateur', /ticket modérateur/i], ['nir', /\bNIR\b/], ['regie', /(^|[^\p{L}])régie(?![\p{L}])/iu],
  ['sepa', /\bSEPA\b/], ['titre-de-recettes', /titres? de recettes/i], ['ccas', /\bCCAS\b/],
];

// open goes to path and checks the answer's status and where it ended.
async function open(page, path, status, landing = path) {
  const response = await page.goto(path);
  assert(response, `${path}: no answer`);
  assert(response.status() === status, `${path} answered ${response.status()}, want ${status}`);
  assert(pathOf(page) === landing, `${path} ended on ${pathOf(page)}, want ${landing}`);
}

// skipBrowserChecks turns off the browser's own form checks (required
// fields), so that an empty form reaches the server and comes back with
// the server's errors.
async function skipBrowserChecks(page) {
  await page.locator('form').evaluateAll((forms) => forms.forEach((f) => f.setAttribute('novalidate', '')));
}

// session opens a context at viewport, signed in as role unless role is "".
async function session(run, role, viewport) {
  const context = await run.context({ viewport: viewport.size });
  const page = await context.newPage();
  if (role !== '') {
    assert(tokens[role], `no token for the role ${role}`);
    assert(homes[role], `no home for the role ${role}`);
    await page.goto('/connexion');
    await page.getByLabel("Jeton d'accès", { exact: true }).fill(tokens[role]);
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await expectPath(page, homes[role]);
  }
  return { context, page };
}

await scenario('toutes-les-pages', async (run) => {
  const roles = [...new Set(pages.map((p) => p.role))];
  const sideways = []; // pages wider than their window
  const internal = []; // pages showing one of passd's own names (a job's actor name)
  const aimless = []; // pages that do not open with a sentence saying what they are for
  const unexplained = []; // a word of the glossary on a page that does not link it
  for (const viewport of viewports) {
    for (const role of roles) {
      const { context, page } = await session(run, role, viewport);
      for (const visit of pages.filter((p) => p.role === role)) {
        await open(page, visit.path, visit.status, visit.landing || visit.path);
        await run.check(page, `${viewport.name}-${visit.label}`);
        // No page scrolls sideways: a table too wide scrolls in its own box.
        const [wide, room] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        if (wide > room) sideways.push(`${visit.path} at ${viewport.name} is ${wide} px wide in a ${room} px window`);
        // A job acts as "job:NAME" in the audit; a page names it in French.
        const shown = (await page.locator('body').innerText()).match(/\bjob:[a-z-]+/g);
        if (shown) internal.push(`${visit.path} shows ${[...new Set(shown)].join(', ')}`);
        // Each page opens with one sentence on what it is for (its lead).
        if (visit.status === 200 && (await page.locator('main h1 ~ p.lead').count()) === 0) aimless.push(visit.path);
        if (visit.status === 200 && visit.path !== '/aide/glossaire') {
          const text = await page.locator('main').innerText();
          for (const [id, word] of glossaryTerms) {
            if (word.test(text) && (await page.locator(`a[href="/aide/glossaire#${id}"]`).count()) === 0) {
              unexplained.push(`${visit.path} uses ${id} without linking /aide/glossaire#${id}`);
            }
          }
        }
      }

      // The error states, once per viewport, each as a role that meets it.
      if (role === '') {
        await page.goto('/connexion');
        await page.getByLabel("Jeton d'accès", { exact: true }).fill('pas-un-jeton');
        await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
        await expectText(page, 'Jeton invalide ou expiré.');
        await run.check(page, `${viewport.name}-connexion-refusee`);
      }
      if (role === 'provider') {
        await open(page, '/admin', 403);
        await run.check(page, `${viewport.name}-erreur-403`);
        await open(page, missing, 404);
        await run.check(page, `${viewport.name}-erreur-404`);
        // An empty invoice: the form comes back with its errors. The
        // browser's own checks (required fields) are lifted so that the
        // server's answer is the one seen.
        await open(page, '/effecteur/factures/nouvelle', 200);
        await skipBrowserChecks(page);
        await page.getByRole('button', { name: 'Envoyer la facture', exact: true }).click();
        await page.locator('[aria-invalid="true"], .error, [role="alert"]').first().waitFor();
        await run.check(page, `${viewport.name}-facture-invalide`);
      }
      if (role === 'cpam_referent') {
        // A correction without its reason, in each of the page's two
        // forms (an opening's, a refusal's): the form comes back with the
        // error, and the focus on the field to fix.
        const correction = pages.find((p) => p.route === '/cpam/dossiers/:id/decisions/:did/corriger');
        assert(correction, 'no correction page among the pages walked');
        for (const { form, field, label, shot } of [
          { form: 'Corriger en ouverture des droits', field: 'correction_reason', label: 'Motif de la correction', shot: 'correction-invalide' },
          { form: 'Corriger en refus', field: 'reason', label: 'Motif du refus', shot: 'correction-refus-invalide' },
        ]) {
          await open(page, correction.path, 200);
          await skipBrowserChecks(page);
          const sent = page.getByRole('form', { name: form, exact: true });
          await sent.getByLabel(label, { exact: true }).fill('');
          await sent.getByRole('button', { name: form, exact: true }).click();
          await page.locator(`#${field}-error`).waitFor();
          // The message is in the page as soon as it is parsed; the focus
          // moves at DOMContentLoaded (passd.js), a moment later: give it
          // that moment, then check where it is.
          await page.waitForFunction((id) => document.activeElement && document.activeElement.id === id,
            field, { timeout: 5000 }).catch(() => {});
          const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
          assert(focused === field, `after a refused correction (${form}) the focus is on #${focused}, want #${field}`);
          await run.check(page, `${viewport.name}-${shot}`);
        }
      }
      if (role === 'platform_admin') {
        // A convention without a name comes back with its error; with one,
        // the confirmation page (not confirmed: nothing is created).
        await open(page, '/plateforme', 200);
        await skipBrowserChecks(page);
        await page.getByRole('button', { name: 'Créer la convention', exact: true }).click();
        await page.locator('#name-error').waitFor();
        await run.check(page, `${viewport.name}-convention-invalide`);
        await page.getByLabel('Nom de la convention', { exact: true }).fill('Ville de Corbeil-Essonnes');
        await page.getByRole('button', { name: 'Créer la convention', exact: true }).click();
        await expectText(page, 'une copie du barème de la convention n° 1');
        await run.check(page, `${viewport.name}-convention-confirmation`);
      }
      if (role === 'coordinator') {
        await open(page, '/coordination/dossiers/nouveau', 200);
        await skipBrowserChecks(page);
        await page.locator('main form[method="post"] button[type="submit"]').last().click();
        await page.locator('[aria-invalid="true"], .error, [role="alert"]').first().waitFor();
        await run.check(page, `${viewport.name}-dossier-invalide`);
      }
      await context.close();
    }
  }
  assert(sideways.length === 0, `pages that scroll sideways:\n${sideways.join('\n')}`);
  // All said at once: one walk is long enough.
  const unsaid = [...new Set(aimless)].map((path) => `${path} has no sentence under its title saying what it is for`);
  const problems = [...unsaid, ...new Set(unexplained), ...internal];
  assert(problems.length === 0, `pages that fail their reader:\n${problems.join('\n')}`);
  console.log(`${pages.length} page(s) of web/ walked at ${viewports.length} viewports`);
});
