// Issue 17's alert: an SOS Médecins doctor alerts the CCAS; without the
// person's consent or an exception the form is sent back; with the
// consent, the CCAS's social worker takes it on and records her follow-up,
// which the doctor reads (the convention's retour d'information).
//
// Environment (set by cmd/passd/e2e_referrals_test.go):
//   E2E_BASE_URL, E2E_OUT_DIR, E2E_CHROMIUM  as for every scenario (lib.mjs)
//   E2E_SOCIAL_TOKEN  a social worker's token (a CCAS of the convention)
//   E2E_DOCTOR_TOKEN  a doctor's token (its SOS Médecins association)
//   E2E_TODAY         today, YYYY-MM-DD

import { env, pathOf, scenario } from './lib.mjs';
import { expectPath, expectText, signIn, submitForm } from './steps.mjs';

const socialToken = env('E2E_SOCIAL_TOKEN');
const doctorToken = env('E2E_DOCTOR_TOKEN');
const today = env('E2E_TODAY');

await scenario('alerte', async (run) => {
  const doctor = (await signIn(run, doctorToken, '/sos')).page;
  await doctor.getByRole('link', { name: 'Nouvelle alerte au CCAS', exact: true }).click();
  await expectPath(doctor, '/sos/alertes/nouvelle');
  await doctor.getByRole('combobox', { name: 'Situation', exact: true }).selectOption('precarity');
  await doctor.getByLabel('Nom', { exact: true }).fill('Haddad');
  await doctor.getByLabel('Téléphone (facultatif)', { exact: true }).fill('06 12 00 34 56');
  await submitForm(doctor, "Envoyer l'alerte");
  await expectText(doctor, "Rien n'a été enregistré");
  await run.check(doctor, 'alerte-sans-consentement');

  await doctor.getByRole('combobox', { name: "Base de l'alerte", exact: true }).selectOption('consent');
  await doctor.getByLabel('Date du consentement', { exact: true }).fill(today);
  await doctor.getByRole('combobox', { name: 'Forme du consentement', exact: true }).selectOption('oral');
  await doctor.getByRole('combobox', { name: 'Consentement donné par', exact: true }).selectOption('person');
  await submitForm(doctor, "Envoyer l'alerte");
  await expectPath(doctor, /^\/sos\/dossiers\/\d+$/);
  await expectText(doctor, 'Alerte envoyée');
  const id = pathOf(doctor).split('/').pop();

  const social = (await signIn(run, socialToken, '/ccas')).page;
  await social.getByRole('link', { name: id, exact: true }).first().click();
  await expectPath(social, `/ccas/dossiers/${id}`);
  await expectText(social, 'Consentement de la personne');
  await run.check(social, 'alerte-recue');
  await submitForm(social, 'Prendre en charge');
  await expectText(social, 'Alerte prise en charge');
  await social.getByRole('combobox', { name: 'Étape', exact: true }).selectOption('rights_started');
  await social.getByLabel('Remarque pour SOS Médecins (facultative)', { exact: true }).fill('Demande de PUMa déposée avec la personne.');
  await submitForm(social, "Enregistrer l'étape");
  await expectText(social, 'Suivi enregistré');

  await doctor.reload();
  await expectText(doctor, 'Prise en charge par le CCAS');
  await expectText(doctor, 'Demande de droits engagée');
  await expectText(doctor, 'Demande de PUMa déposée avec la personne.');
  await run.check(doctor, 'suivi-lu-par-sos-medecins');
});
