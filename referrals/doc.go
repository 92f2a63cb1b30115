// Package referrals is the UNCCAS–SOS Médecins convention declined locally:
// a CCAS/CIAS (its social workers) and its SOS Médecins association (its
// doctors) asking each other for help about a person.
//
// A referral goes from the CCAS to the association: a social worker asks
// for a doctor's visit (urgency, place, a reason from a short list and a
// short note, never a diagnosis). An alert goes the other way: a doctor
// tells the CCAS about a person in precariousness, isolation or dependency,
// with the person's consent (its date, how, by whom) or a recorded
// exception (an emergency, or informing the person is impossible, with the
// reason; the person is informed afterwards). Neither: refused, nothing
// stored.
//
//	referral: sent ──accept──► accepted ──outcome──► closed
//	            └───decline (reason)──► declined
//	alert:    sent ──acknowledge (a social worker assigned)──► acknowledged
//	                 ──follow-ups (contacted, rights started, home help)──► … ──closed──► closed
//	          (under an exception, the day its person was informed is recorded once, in any status)
//
// Invariants:
//   - each side sees only the cases of its organisation's conventions it
//     sent or received; a coordinator sees only the referrals the
//     association oriented to the PASS, to link a patient file;
//   - the person's identity and the note are one value sealed with the
//     keyring; every answer that carries them is first logged in
//     referral_access_log, in the same transaction;
//   - every change writes its audit row and, when the other side has
//     something to do or read, an outbox row naming no person, in the same
//     transaction; the notify job sends the e-mails;
//   - a closed case keeps the identity for the setting
//     referral_retention_months, then the retention job empties it;
//   - the database holds the order of the steps too (a trigger of
//     migration 00017): a case only moves forward, and an identity once
//     emptied never comes back.
package referrals
