package web

import "strings"

// The words of the trade the pages show for what passd names in English:
// its scheduled jobs, and the jobs as the authors of what they did (the
// audit and the batches say "job:payout-batch"). Statuses, regimes and
// reasons have their French labels on their own types.

// jobLabels are the scheduled jobs in French.
var jobLabels = map[string]string{
	"release":      "Libération des factures dont les droits sont ouverts",
	"deadline":     "Échéance : factures à payer par la ville",
	"claim-batch":  "Lot de demandes de remboursement à la CPAM",
	"payout-batch": "Brouillon du lot de paiement des effecteurs",
	"reminders":    "Relance des dossiers proches de l'échéance",
	// The CCAS–SOS Médecins convention's.
	"referral-notify":    "Courriels aux référents de la convention",
	"referral-retention": "Effacement des personnes des orientations closes",
}

// JobLabel is a scheduled job in French; a job without one shows its name.
func JobLabel(name string) string {
	if l, ok := jobLabels[name]; ok {
		return l
	}
	return name
}

// ActorLabel is who did something, as a page says it: a user's name, or
// for a job, "tâche automatique (…)".
func ActorLabel(name string) string {
	if job, ok := strings.CutPrefix(name, "job:"); ok {
		return "tâche automatique (" + JobLabel(job) + ")"
	}
	return name
}
