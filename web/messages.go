package web

import (
	"errors"
	"fmt"

	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/fault"
	"passd/ident"
	"passd/rights"
)

// The French words a form shows where the rules refused what was typed:
// one table for every page, keyed by the form, the field the domain's error
// names and, where a field fails in more than one way, what went wrong (a
// fault.Kind, or one of the causes below). The limits in the words are read
// from the domains' constants, never written again here.
type messageKey struct {
	form, field, why string
}

// Causes that are not error kinds; "" is the field's usual message.
const (
	whyConflict       = "conflict"        // the value exists already
	whyFuture         = "future"          // a date after today
	whyTooOld         = "too_old"         // care older than the submission limit
	whyBeforeApproval = "before_approval" // a payment dated before its batch's approval
	whyNotSaved       = "not_saved"       // the form's summary when one field is to blame
	whyUnread         = "unreadable"      // the form's summary when none is
)

// communeHelp says what a commune code is, where one was refused.
const communeHelp = "Ce code commune n'est pas valide : indiquez le code INSEE de la commune (5 caractères, " +
	"par exemple 56121 pour Lorient, 2A004 pour Ajaccio, 97411 pour Saint-Denis de La Réunion), pas le code postal."

// causes are the domains' errors a page tells apart, with their key in
// the table.
var causes = []struct {
	err error
	why string
}{
	{calendar.ErrFuture, whyFuture}, {billing.ErrCareTooOld, whyTooOld}, {billing.ErrPaidBeforeApproval, whyBeforeApproval},
	{claims.ErrPeriodTooOld, "period_too_old"}, {claims.ErrCSSStart, "css_start"}, {claims.ErrImmediateStart, "immediate_start"},
	{claims.ErrCSSLength, "css_length"}, {claims.ErrAMEStart, "ame_start"}, {claims.ErrAMELength, "ame_length"},
}

const (
	ibanMessage = "Cet IBAN n'est pas valide : vérifiez sa clé et sa longueur."
	bicMessage  = "Ce BIC n'est pas valide : 8 ou 11 caractères."
)

var messages = map[messageKey]string{
	{"provider", "kind", ""}: "Choisissez le type d'effecteur.",
	{"provider", "name", ""}: fmt.Sprintf("Indiquez le nom (%d caractères au plus, avec des lettres latines ou des chiffres : "+
		"il figure dans les virements SEPA).", billing.MaxProviderName),
	{"provider", "rpps", ""}:            "Le RPPS compte 11 chiffres. Indiquez au moins le RPPS ou le FINESS.",
	{"provider", "rpps", whyConflict}:   "Un effecteur porte déjà ce RPPS.",
	{"provider", "finess", ""}:          "Le FINESS compte 9 caractères.",
	{"provider", "finess", whyConflict}: "Un effecteur porte déjà ce FINESS.",
	{"provider", "iban", ""}:            ibanMessage,
	{"provider", "bic", ""}:             bicMessage,
	{"provider", "", whyUnread}:         "L'effecteur n'a pas pu être lu. Vérifiez les champs et recommencez.",
	{"provider", "", whyConflict}:       "Un effecteur porte déjà ce RPPS ou ce FINESS.",
	{"provider", "", whyNotSaved}:       "L'effecteur n'a pas été enregistré : corrigez les champs signalés.",

	{"settings", "regie_name", ""}: fmt.Sprintf("Indiquez le nom de la régie (%d caractères au plus, avec des lettres latines "+
		"ou des chiffres : il figure dans les fichiers SEPA).", billing.MaxRegieName),
	{"settings", "regie_iban", ""}: ibanMessage,
	{"settings", "regie_bic", ""}:  bicMessage,
	{"settings", "regie_ceiling", ""}: fmt.Sprintf("Indiquez un montant positif en euros, au centime près (par exemple 5000,00), "+
		"d'au plus %s.", FormatAmount(billing.MaxSettingAmount)),
	{"settings", "annual_budget", ""}: fmt.Sprintf("Indiquez un montant positif en euros, au centime près (par exemple 120000,00), "+
		"d'au plus %s.", FormatAmount(billing.MaxSettingAmount)),
	{"settings", "ame_lookback_days", ""}: fmt.Sprintf("Indiquez un nombre entier de jours entre 1 et %d, ou laissez vide pour "+
		"le délai réglementaire (%d jours).", billing.MaxAMELookbackDays, rights.DefaultAMELookbackDays),
	{"settings", "submission_limit_days", ""}: fmt.Sprintf("Indiquez un nombre entier de jours entre 1 et %d, ou laissez vide pour "+
		"le délai par défaut (%d jours).", billing.MaxSubmissionLimitDays, billing.DefaultSubmissionLimitDays),
	{"settings", "recovery_offset_days", ""}: fmt.Sprintf("Indiquez un nombre entier de jours entre 1 et %d, ou laissez vide pour "+
		"le délai par défaut (%d jours).", billing.MaxRecoveryOffsetDays, billing.DefaultRecoveryOffsetDays),
	{"settings", "referral_retention_months", ""}: fmt.Sprintf("Indiquez un nombre entier de mois entre 1 et %d, ou laissez vide "+
		"pour la durée par défaut (%d mois).", billing.MaxReferralRetentionMonths, billing.DefaultReferralRetentionMonths),
	{"settings", "deadline_days", ""}: fmt.Sprintf("Indiquez un nombre entier de jours entre 1 et %d, ou laissez vide pour le délai "+
		"par défaut.", billing.MaxDeadlineDays),
	{"settings", "invoice_ceiling", ""}: fmt.Sprintf("Indiquez un montant positif en euros, au centime près (par exemple 2 500,00), "+
		"d'au plus %s, ou laissez vide pour le plafond par défaut (%s).", FormatAmount(billing.MaxSettingAmount),
		FormatAmount(billing.DefaultInvoiceCeiling)),
	{"settings", "over_ceiling", ""}:       "Choisissez de refuser la facture ou de la mettre en revue.",
	{"settings", "default_drug_class", ""}: "Choisissez la classe par défaut d'un médicament : 100, 65, 30 ou 15 %.",
	{"settings", "", whyUnread}:            "Les paramètres n'ont pas pu être lus. Vérifiez les champs et recommencez.",
	{"settings", "", whyNotSaved}:          "Les paramètres n'ont pas été enregistrés : corrigez les champs signalés.",

	{"act", "code", ""}: "Indiquez une clé NGAP ou un code d'honoraire (lettres), un code CCAM (4 lettres et 3 chiffres), " +
		"NABM (4 chiffres) ou LPP (7 chiffres). Les médicaments (CIP13) vont dans la table des médicaments.",
	{"act", "label", ""}:          fmt.Sprintf("Indiquez le libellé de l'acte (%d caractères au plus).", billing.MaxActLabel),
	{"act", "provider_kinds", ""}: "Cochez au moins un type d'effecteur qui peut facturer cet acte.",
	{"act", "rate_class", ""}: "Choisissez un type d'effecteur, ou laissez « celle de l'effecteur qui facture ». Un honoraire de " +
		"dispensation prend le taux du médicament : laissez alors la classe vide.",
	{"act", "max_unit_price", ""}: fmt.Sprintf("Indiquez un montant positif en euros, au centime près (par exemple 30,00 ou 1 234,50), "+
		"d'au plus %s, ou laissez vide pour aucun plafond.", FormatAmount(billing.MaxUnitPrice)),
	{"act", "dispensing_fee", ""}: "Cochez la case pour un honoraire de dispensation, ou laissez-la vide.",
	{"act", "source", ""}:         fmt.Sprintf("La source compte au plus %d caractères.", billing.MaxActSource),
	{"act", "", whyUnread}:        "L'acte n'a pas pu être lu. Vérifiez les champs et recommencez.",
	{"act", "", whyNotSaved}:      "L'acte n'a pas été enregistré : corrigez les champs signalés.",

	{"drug", "cip13", ""}:     "Ce CIP13 n'est pas valide : 13 chiffres, 34009 suivi de 7 chiffres et de la clé.",
	{"drug", "label", ""}:     fmt.Sprintf("Indiquez le libellé du médicament (%d caractères au plus).", billing.MaxActLabel),
	{"drug", "class", ""}:     "Choisissez la classe de remboursement : 100, 65, 30 ou 15 %.",
	{"drug", "", whyUnread}:   "Le médicament n'a pas pu être lu. Vérifiez les champs et recommencez.",
	{"drug", "", whyNotSaved}: "Le médicament n'a pas été enregistré : corrigez les champs signalés.",

	{"rate", "regime", ""}:         "Choisissez le régime.",
	{"rate", "rate_class", ""}:     "Choisissez la classe.",
	{"rate", "effective_from", ""}: "Indiquez la date d'effet (jj/mm/aaaa) : le premier jour de soins auquel le taux s'applique.",
	{"rate", "effective_from", string(fault.KindDuplicateRate)}: "Un taux de ce régime et de cette classe commence déjà ce jour-là : " +
		"choisissez un autre jour (l'historique n'est jamais modifié).",
	{"rate", "rate", ""}:      "Indiquez un taux en pourcentage, de 0 à 100, avec au plus une décimale (par exemple 70 ou 62,5).",
	{"rate", "reason", ""}:    fmt.Sprintf("Indiquez le motif du changement (%d caractères au plus).", billing.MaxRateNote),
	{"rate", "", whyUnread}:   "Le changement de taux n'a pas pu être lu. Vérifiez les champs et recommencez.",
	{"rate", "", whyNotSaved}: "Le changement de taux n'a pas été enregistré : corrigez les champs signalés.",

	{"token", "name", ""}:          fmt.Sprintf("Indiquez le nom de l'utilisateur (%d caractères au plus).", auth.MaxUserName),
	{"token", "name", whyConflict}: "Un utilisateur porte déjà ce nom : il renouvelle lui-même son jeton (page « Mon compte »), ou vous réinitialisez ses jetons ci-dessus.",
	{"token", "role", ""}:          "Choisissez le rôle.",
	{"token", "provider_id", ""}:   "Choisissez l'effecteur pour un utilisateur effecteur, et aucun pour les autres rôles.",
	{"token", "", whyUnread}:       "Le jeton n'a pas pu être émis. Vérifiez les champs et recommencez.",
	{"token", "", whyNotSaved}:     "Le jeton n'a pas été émis : corrigez les champs signalés.",
	// A social worker's CCAS, a doctor's association (issue 17).
	{"token", "organisation_id", ""}: "Choisissez le CCAS d'un travailleur social ou l'association SOS Médecins d'un médecin, et aucun organisme pour les autres rôles.",

	{"patient", "last_name", ""}:                       fmt.Sprintf("Indiquez le nom (%d caractères au plus).", claims.MaxNameLength),
	{"patient", "first_name", ""}:                      fmt.Sprintf("Indiquez le prénom (%d caractères au plus).", claims.MaxNameLength),
	{"patient", "birth_date", ""}:                      "Indiquez une date de naissance passée et plausible.",
	{"patient", "nir", ""}:                             "Ce NIR n'est pas valide : 13 chiffres et la clé (2A et 2B acceptés pour la Corse).",
	{"patient", "nir", string(fault.KindDuplicateNIR)}: "Un dossier existe déjà pour ce NIR : recherchez-le.",
	{"patient", "commune_code", ""}:                    communeHelp,
	{"commune", "commune_code", ""}:                    communeHelp,
	{"commune", "", whyUnread}:                         "La commune n'a pas pu être lue. Vérifiez le code et recommencez.",
	{"commune", "", whyNotSaved}:                       "La commune n'a pas été enregistrée : corrigez le code.",
	{"patient", "", whyUnread}:                         "Le dossier n'a pas pu être lu. Vérifiez les champs et recommencez.",
	{"patient", "", whyNotSaved}:                       "Le dossier n'a pas été créé : corrigez les champs signalés.",

	{"rights_request", "regime", ""}:          "Choisissez le régime demandé.",
	{"rights_request", "filed_on", ""}:        "Indiquez la date de dépôt de la demande.",
	{"rights_request", "filed_on", whyFuture}: "La date de dépôt ne peut pas être dans le futur.",
	{"rights_request", "", string(fault.KindRightsAlreadyOpened)}: "Les droits de ce dossier sont déjà ouverts : une nouvelle " +
		"demande n'est possible qu'après leur fin.",
	{"rights_request", "", whyUnread}:   "La demande n'a pas pu être lue. Vérifiez les champs et recommencez.",
	{"rights_request", "", whyNotSaved}: "La demande n'a pas été enregistrée : corrigez les champs signalés.",

	{"decision", "decision", ""}:       "Choisissez d'ouvrir les droits ou de les refuser.",
	{"decision", "regime", ""}:         "Choisissez le régime ouvert.",
	{"decision", "effective_from", ""}: "Indiquez la date de début des droits.",
	{"decision", "effective_to", ""}:   "Indiquez une date de fin postérieure au début des droits, ou laissez-la vide.",
	{"decision", "reference", ""}: fmt.Sprintf("Indiquez la référence de la décision de la CPAM (%d caractères au plus).",
		claims.MaxReferenceLength),
	{"decision", "reason", ""}:            fmt.Sprintf("Indiquez le motif du refus (%d caractères au plus).", claims.MaxReasonLength),
	{"decision", "reason", "not_refusal"}: "Le motif ne s'indique que pour un refus : videz ce champ pour ouvrir les droits.",
	{"decision", "effective_from", "period_too_old"}: fmt.Sprintf("Les droits ne peuvent commencer plus de %d ans avant la décision.",
		claims.MaxPeriodAgeYears),
	{"decision", "effective_from", "css_start"}: "Une période de PUMa + CSS commence le 1er d'un mois.",
	{"decision", "effective_from", "immediate_start"}: "Avec une admission immédiate, la CSS commence le 1er du mois du dépôt " +
		"de la demande.",
	{"decision", "effective_to", "css_length"}: "Une période de PUMa + CSS dure au plus un an : indiquez une fin au plus tard " +
		"la veille du même jour de l'année suivante.",
	{"decision", "effective_from", "ame_start"}: fmt.Sprintf("Pour l'AME, les droits commencent au plus tôt %d jours (réglage de la "+
		"ville) avant le dépôt de la demande.", rights.DefaultAMELookbackDays),
	{"decision", "effective_to", "ame_length"}: "L'AME dure au plus un an à compter du dépôt de la demande : indiquez une fin " +
		"au plus tard la veille de son premier anniversaire.",
	{"decision", "caisse", ""}:              fmt.Sprintf("Le code de la caisse compte %d chiffres (par exemple 931), ou laissez-le vide.", ident.CaisseLength),
	{"decision", "immediate_admission", ""}: "L'admission immédiate ne concerne qu'une ouverture de PUMa + CSS.",
	{"decision", "", string(fault.KindNoApplication)}: "Aucune demande de droits n'est enregistrée sur ce dossier : " +
		"la coordination doit d'abord l'enregistrer.",
	{"decision", "", whyUnread}:   "La décision n'a pas pu être lue. Vérifiez les champs et recommencez.",
	{"decision", "", whyNotSaved}: "La décision n'a pas été enregistrée : corrigez les champs signalés.",

	// The correction of a decision: its decision fields read the decision
	// form's messages (borrowed), the rest are its own.
	{"correction", "correction_reason", ""}: fmt.Sprintf("Indiquez le motif de la correction (%d caractères au plus).",
		claims.MaxCorrectionReasonLength),
	{"correction", "", string(fault.KindPayoutBatched)}: "Un lot de paiement pas encore payé contient un paiement de la ville " +
		"que cette correction annulerait. " + payoutBatchedWhatToDo,
	{"correction", "", string(fault.KindAlreadySuperseded)}: "Cette décision a déjà été corrigée : c'est sa correction qui est " +
		"en vigueur. Corrigez plutôt la dernière décision, depuis le dossier.",
	{"correction", "", whyUnread}:   "La correction n'a pas pu être lue. Vérifiez les champs et recommencez.",
	{"correction", "", whyNotSaved}: "La correction n'a pas été enregistrée : corrigez les champs signalés.",

	{"invoice", "patient_file_number", ""}: fmt.Sprintf("Indiquez le numéro de dossier PASS (%d caractères au plus).",
		billing.MaxFileNumber),
	{"invoice", "patient_file_number", string(fault.KindUnknownFileNumber)}: "Aucun dossier PASS ne porte ce numéro avec cette date de naissance : " +
		"recopiez-les de l'attestation PASS du patient.",
	{"invoice", "birth_date", ""}:            "Indiquez la date de naissance du patient, telle qu'elle figure sur son attestation PASS.",
	{"invoice", "external_ref", ""}:          fmt.Sprintf("Indiquez la référence de la facture (%d caractères au plus).", billing.MaxExternalRef),
	{"invoice", "external_ref", whyConflict}: "Vous avez déjà envoyé une facture avec cette référence.",
	{"invoice", "care_date", ""}:             "Indiquez la date des soins (jj/mm/aaaa).",
	{"invoice", "care_date", whyFuture}:      "La date des soins ne peut pas être dans le futur.",
	{"invoice", "care_date", whyTooOld}:      "La date des soins dépasse le délai de dépôt des factures fixé par la ville.",
	{"invoice", "lines", ""}:                 "Ajoutez au moins une ligne.",
	{"invoice", "lines", "too_many"}:         fmt.Sprintf("Une facture compte au plus %d lignes.", billing.MaxLines),
	{"invoice", "line", ""}:                  "Une ligne n'est pas valide.",
	{"invoice", "", whyUnread}:               "La facture n'a pas pu être lue. Vérifiez les champs et recommencez.",
	{"invoice", "", whyNotSaved}:             "La facture n'a pas été enregistrée : corrigez les champs signalés.",
	{"line", "code", ""}:                     "Code inconnu : indiquez un code CCAM, NGAP, NABM, LPP ou CIP13.",
	{"line", "label", ""}:                    fmt.Sprintf("Indiquez le libellé de l'acte (%d caractères au plus).", billing.MaxLineLabel),
	{"line", "quantity", ""}:                 fmt.Sprintf("Indiquez une quantité entière de 1 à %d.", billing.MaxQuantity),
	{"line", "unit_price", ""}: fmt.Sprintf("Indiquez un prix positif d'au plus %s, avec au plus deux décimales (par exemple 25,50).",
		FormatAmount(billing.MaxUnitPrice)),
	// The tariff's refusals: a code outside the acts catalogue or its
	// kinds, a price or a total over its ceiling (settings over_ceiling =
	// refuse).
	{"line", "code", string(fault.KindActNotBillable)}: "Code inconnu ou non facturable : ce code n'est pas au catalogue des actes, " +
		"ou votre type d'effecteur ne peut pas le facturer.",
	{"line", "unit_price", string(fault.KindOverCeiling)}: "Ce prix dépasse le plafond du catalogue des actes pour ce code.",
	{"invoice", "lines", string(fault.KindOverCeiling)}:   "Le total dépasse le plafond d'une facture fixé par la convention.",

	// A payout batch's page: the refusals of its steps, told above the
	// batch (billing's kind, else any conflict), and its paid date.
	{"payout_batch", "", string(fault.KindFourEyes)}: "Vous avez préparé ce lot : un autre agent doit l'approuver.",
	{"payout_batch", "", string(fault.KindBudgetExceeded)}: "Approuver ce lot dépasserait le budget annuel du PASS : seul un " +
		"administrateur peut l'autoriser.",
	{"payout_batch", "", string(fault.KindBatchStatus)}: "Ce lot a changé d'état entre-temps : cette action n'est plus possible.",
	{"payout_batch", "", string(fault.KindSettingsIncomplete)}: "Le nom, l'IBAN et le BIC de la régie doivent d'abord être " +
		"renseignés dans les paramètres.",
	{"payout_batch", "", whyConflict}:              "Cette action n'est pas possible sur ce lot dans son état actuel.",
	{"payout_batch", "paid_on", ""}:                "Indiquez la date du paiement (jj/mm/aaaa).",
	{"payout_batch", "paid_on", whyFuture}:         "La date du paiement ne peut pas être dans le futur.",
	{"payout_batch", "paid_on", whyBeforeApproval}: "La date du paiement ne peut pas précéder l'approbation du lot.",
}

// payoutBatchedWhatToDo ends the refusal of a correction that would undo
// a payout in a payout batch not yet paid.
const payoutBatchedWhatToDo = "Les finances doivent d'abord retirer ce paiement du lot en préparation (en annulant le lot), " +
	"ou attendre que le lot soit payé ; corrigez ensuite la décision. Rien n'a été modifié."

// payoutBatchedMessage refuses a correction for a payout in a batch not
// yet paid, naming the batch and the invoice the error's details give
// (the table's general message when they are missing).
func payoutBatchedMessage(fe *fault.Error) string {
	batch, invoice := fe.Details["batch_id"], fe.Details["invoice_id"]
	if batch == "" || invoice == "" {
		return messages[messageKey{"correction", "", string(fault.KindPayoutBatched)}]
	}
	return fmt.Sprintf("Le lot de paiement n° %s, pas encore payé, contient un paiement de la ville pour la facture n° %s, "+
		"que cette correction annulerait. ", batch, invoice) + payoutBatchedWhatToDo
}

// borrowed names the forms whose fields are another form's: the table's
// messages of that form answer for them where they have none of their own.
var borrowed = map[string]string{"correction": "decision"}

// message is what form shows for field when fe refused it: the message of
// the first of fe's kind, its cause and a conflict that the table has for
// that field, else the field's usual one ("" when the table has none); a
// form that borrows another's fields falls back on that form's messages.
func message(form, field string, fe *fault.Error) string {
	forms := []string{form}
	if other, ok := borrowed[form]; ok {
		forms = append(forms, other)
	}
	for _, why := range whys(fe) {
		for _, f := range forms {
			if m, ok := messages[messageKey{f, field, why}]; ok {
				return m
			}
		}
	}
	for _, f := range forms {
		if m, ok := messages[messageKey{f, field, ""}]; ok {
			return m
		}
	}
	return ""
}

// whys lists what went wrong in fe, most precise first.
func whys(fe *fault.Error) []string {
	var out []string
	if fe.Kind != "" {
		out = append(out, string(fe.Kind))
	}
	for _, c := range causes {
		if errors.Is(fe, c.err) {
			out = append(out, c.why)
			break
		}
	}
	if fe.Code == fault.Conflict {
		out = append(out, whyConflict)
	}
	return out
}

// explainFields puts form's French message for the field err names into
// that field's slot, and the summary above the form; false when err is not
// the client's (it is then a 500 or 503 page). An error naming no slot is
// told in the summary alone.
func explainFields(err error, form string, slots map[string]*string, summary *string) bool {
	fe, ok := clientFault(err)
	if !ok {
		return false
	}
	slot, named := slots[fe.Field]
	if !named {
		*summary = message(form, "", fe)
		if *summary == "" {
			*summary = messages[messageKey{form, "", whyUnread}]
		}
		return true
	}
	*slot = message(form, fe.Field, fe)
	*summary = messages[messageKey{form, "", whyNotSaved}]
	return true
}
