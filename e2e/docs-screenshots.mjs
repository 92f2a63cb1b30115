// The screenshots under docs/screenshots/: a page of each role as a user
// sees it on a fresh `make run`, at desktop and phone widths. Not a test
// (the scenarios are); run by hand when a page changes:
//
//   make run            # in one terminal
//   E2E_BASE_URL=http://127.0.0.1:8080 E2E_OUT_DIR=docs/screenshots \
//   E2E_TOKEN_OBSERVER=passd_… node e2e/docs-screenshots.mjs
//
// with the token `make run` printed for demo-observer.
import { Run, env } from './lib.mjs';
import { signIn } from './steps.mjs';

const shots = [
  { name: 'bilan', token: 'E2E_TOKEN_OBSERVER', home: '/bilan', path: '/bilan' },
];

const run = await new Run('docs').start();
try {
  for (const shot of shots) {
    const { page } = await signIn(run, env(shot.token), shot.home);
    await page.goto(shot.path);
    await page.screenshot({ path: `${run.outDir}/${shot.name}-bureau.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${run.outDir}/${shot.name}-telephone.png`, fullPage: true });
    console.log(`${shot.name}: ${run.outDir}/${shot.name}-bureau.png, ${shot.name}-telephone.png`);
  }
} finally {
  await run.browser.close();
}
