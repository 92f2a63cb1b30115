// The screenshots under docs/screenshots/: each role's main page as a user
// sees it on a fresh `make run`, at desktop (1280 px) and phone (390 px)
// widths. Not a test (the scenarios are); run by hand when a page changes:
//
//   make run            # in one terminal, then in another:
//   E2E_BASE_URL=http://127.0.0.1:8080 E2E_OUT_DIR=docs/screenshots \
//   E2E_TOKENS_FILE=.data/demo-tokens node e2e/docs-screenshots.mjs
//
// .data/demo-tokens is where `make run` keeps the demo users' tokens.
import { readFileSync } from 'node:fs';
import { Run, env } from './lib.mjs';
import { signIn } from './steps.mjs';

const shots = [
  { name: 'bilan', user: 'demo-observer', home: '/bilan', path: '/bilan' },
  { name: 'effecteur-factures', user: 'demo-provider', home: '/effecteur/factures', path: '/effecteur/factures' },
  { name: 'coordination-dossiers', user: 'demo-coordinator', home: '/coordination/dossiers', path: '/coordination/dossiers' },
  { name: 'cpam-dossiers', user: 'demo-cpam-referent', home: '/cpam/dossiers', path: '/cpam/dossiers' },
  { name: 'finances', user: 'demo-finance', home: '/finances', path: '/finances' },
  { name: 'admin-utilisateurs', user: 'demo-admin', home: '/admin', path: '/admin/utilisateurs' },
  { name: 'admin-effecteurs', user: 'demo-admin', home: '/admin', path: '/admin/effecteurs?tri=nom' },
  { name: 'admin-taches', user: 'demo-admin', home: '/admin', path: '/admin/taches' },
  { name: 'coordination-factures', user: 'demo-coordinator', home: '/coordination/dossiers', path: '/coordination/factures' },
  { name: 'cpam-lots', user: 'demo-cpam-referent', home: '/cpam/dossiers', path: '/cpam/lots' },
  { name: 'cpam-demandes', user: 'demo-cpam-referent', home: '/cpam/dossiers', path: '/cpam/demandes' },
  { name: 'finances-lots', user: 'demo-finance', home: '/finances', path: '/finances/lots?tri=anciens' },
  { name: 'plateforme', user: 'demo-platform-admin', home: '/plateforme', path: '/plateforme' },
  { name: 'cpam-decision', user: 'demo-cpam-referent', home: '/cpam/dossiers', path: '/cpam/dossiers', open: /^\/cpam\/dossiers\/\d+$/ },
  // The convention's two sides: what waits for each, and a case opened.
  { name: 'ccas-a-traiter', user: 'demo-social-worker', home: '/ccas', path: '/ccas' },
  { name: 'ccas-alerte', user: 'demo-social-worker', home: '/ccas', path: '/ccas', open: /^\/ccas\/dossiers\/\d+$/ },
  { name: 'sos-a-traiter', user: 'demo-doctor', home: '/sos', path: '/sos' },
  { name: 'sos-demande', user: 'demo-doctor', home: '/sos', path: '/sos', open: /^\/sos\/dossiers\/\d+$/ },
  { name: 'sos-nouvelle-alerte', user: 'demo-doctor', home: '/sos', path: '/sos/alertes/nouvelle' },
  // A finance officer filters the payouts, then the other one approves the
  // batch through its confirmation (the first submits the draft the
  // payout-batch job made at start-up).
  { name: 'finances-paiements-filtres', user: 'demo-finance', home: '/finances', path: '/finances/paiements?statut=batched' },
  { name: 'finances-lot-soumis', user: 'demo-finance', home: '/finances', path: '/finances/lots', open: /^\/finances\/lots\/\d+$/,
    click: 'Soumettre' },
  { name: 'finances-approbation-a-confirmer', user: 'demo-finance-approver', home: '/finances', path: '/finances/lots',
    open: /^\/finances\/lots\/\d+$/, click: 'Approuver' },
  // …and confirms it: the batch is approved, its SEPA file can be downloaded.
  { name: 'finances-lot-approuve', user: 'demo-finance-approver', home: '/finances', path: '/finances/lots',
    open: /^\/finances\/lots\/\d+$/, click: 'Approuver', confirm: /^Approuver le lot n° \d+$/ },
  // A coordinator finds a file by part of a name, without its accent.
  { name: 'coordination-recherche', user: 'demo-coordinator', home: '/coordination/dossiers', path: '/coordination/dossiers', search: 'popes' },
];

const tokens = Object.fromEntries(
  readFileSync(env('E2E_TOKENS_FILE'), 'utf8').split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)),
);

const run = await new Run('docs').start();
try {
  for (const shot of shots) {
    const { page, context } = await signIn(run, tokens[shot.user], shot.home);
    await page.goto(shot.path);
    if (shot.open) {
      // The first link to a case on the list.
      const hrefs = await page.locator('main a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      const href = hrefs.find((h) => shot.open.test(h || ''));
      if (!href) throw new Error(`${shot.path} links to no case: ${hrefs.join(' ')}`);
      await page.goto(href);
    }
    if (shot.click) {
      const button = page.getByRole('button', { name: shot.click, exact: true });
      if ((await button.count()) === 1) {
        await button.click();
        await page.waitForLoadState('load');
      }
    }
    if (shot.confirm) {
      // The confirmation page's own button; nothing is done before it.
      await page.getByRole('button', { name: shot.confirm }).click();
      await page.waitForLoadState('load');
    }
    if (shot.search) {
      await page.getByLabel('Rechercher un dossier', { exact: true }).fill(shot.search);
      await page.getByRole('button', { name: 'Rechercher', exact: true }).click();
      await page.waitForLoadState('load');
    }
    await page.screenshot({ path: `${run.outDir}/${shot.name}-bureau.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${run.outDir}/${shot.name}-telephone.png`, fullPage: true });
    console.log(`${shot.name}: ${run.outDir}/${shot.name}-bureau.png, ${shot.name}-telephone.png`);
    await context.close();
  }
} finally {
  await run.browser.close();
}
