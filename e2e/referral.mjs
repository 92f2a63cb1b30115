// Issue 17's referral: a CCAS social worker asks SOS Médecins for a visit
// from her form; the association's doctor finds it to handle, accepts it
// and records that the person was oriented to the hospital; the social
// worker reads the feedback in the case's timeline.
//
// Environment (set by cmd/passd/e2e_referrals_test.go):
//   E2E_BASE_URL, E2E_OUT_DIR, E2E_CHROMIUM  as for every scenario (lib.mjs)
//   E2E_SOCIAL_TOKEN  a social worker's token (a CCAS of the convention)
//   E2E_DOCTOR_TOKEN  a doctor's token (its SOS Médecins association)

import { assert, env, pathOf, scenario } from './lib.mjs';
import { expectPath, expectText, signIn, submitForm } from './steps.mjs';

const socialToken = env('E2E_SOCIAL_TOKEN');
const doctorToken = env('E2E_DOCTOR_TOKEN');

await scenario('demande-intervention', async (run) => {
  const social = (await signIn(run, socialToken, '/ccas')).page;
  await run.check(social, 'ccas-a-traiter');
  await social.getByRole('link', { name: "Nouvelle demande d'intervention", exact: true }).click();
  await expectPath(social, '/ccas/demandes/nouvelle');
  await social.getByRole('combobox', { name: 'Urgence', exact: true }).selectOption('within_48h');
  await social.getByRole('combobox', { name: 'Lieu de la visite', exact: true }).selectOption('address');
  await social.getByRole('combobox', { name: 'Motif', exact: true }).selectOption('loss_of_autonomy');
  await social.getByLabel('Nom', { exact: true }).fill('Lefèvre');
  await social.getByLabel('Prénom (facultatif)', { exact: true }).fill('Odette');
  await social.getByLabel('Année ou date de naissance (facultative)', { exact: true }).fill('1938');
  await social.getByLabel('Téléphone (facultatif)', { exact: true }).fill('01 60 00 11 22');
  await social.getByLabel('Adresse', { exact: true }).fill('4 rue des Tilleuls');
  await social.getByLabel('Note (facultative)', { exact: true }).fill('Ne se lève plus seule depuis une chute.');
  await run.check(social, 'nouvelle-demande');
  await submitForm(social, 'Envoyer la demande');
  await expectPath(social, /^\/ccas\/dossiers\/\d+$/);
  await expectText(social, 'Demande envoyée');
  const id = pathOf(social).split('/').pop();

  const doctor = (await signIn(run, doctorToken, '/sos')).page;
  const link = doctor.getByRole('link', { name: id, exact: true });
  assert((await link.count()) >= 1, `the doctor's list has no link to the referral ${id}`);
  await run.check(doctor, 'sos-a-traiter');
  await link.first().click();
  await expectPath(doctor, `/sos/dossiers/${id}`);
  await expectText(doctor, 'Lefèvre');
  await expectText(doctor, '4 rue des Tilleuls');
  await submitForm(doctor, 'Accepter la demande');
  await expectText(doctor, 'Réponse enregistrée');
  await doctor.getByRole('combobox', { name: 'Issue', exact: true }).selectOption('hospital');
  await doctor.getByLabel("Ce qui a été fait et vers qui la personne a été orientée (facultatif)", { exact: true })
    .fill('Adressée aux urgences pour bilan après chute.');
  await run.check(doctor, 'retour-intervention');
  await submitForm(doctor, 'Enregistrer le retour');
  await expectText(doctor, "Retour d'intervention enregistré");

  await social.reload();
  await expectText(social, "Orientée vers l'hôpital");
  await expectText(social, 'Adressée aux urgences pour bilan après chute.');
  await run.check(social, 'retour-lu-par-le-ccas');
});
