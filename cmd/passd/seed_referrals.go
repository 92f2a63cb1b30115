package main

import (
	"context"
	"fmt"

	"passd/audit"
	"passd/auth"
	"passd/calendar"
	"passd/db"
	"passd/httpapi"
	"passd/referrals"
)

// The demo's CCAS–SOS Médecins convention: the city's CCAS and its local
// association, a referent on each side, a referral waiting for the doctor
// and an alert waiting for the social worker. Found again by name, so that
// seeding twice adds nothing.
const (
	demoCCAS        = "CCAS de la Ville"
	demoAssociation = "SOS Médecins de l'agglomération"
)

// seedConvention makes the demo's organisations and convention, or finds
// them, and returns the organisation each of the two roles acts for.
func (a *app) seedConvention(ctx context.Context, seeder audit.Actor) (map[auth.Role]int64, error) {
	ids := map[string]int64{}
	orgs, err := a.referrals.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		ids[o.Name] = o.ID
	}
	for name, kind := range map[string]string{demoCCAS: "ccas", demoAssociation: "sos_medecins"} {
		if ids[name] != 0 {
			continue
		}
		o, err := a.referrals.CreateOrganisation(ctx, seeder, kind, name)
		if err != nil {
			return nil, fmt.Errorf("seed organisation: %w", err)
		}
		ids[name] = o.ID
	}
	conventions, err := a.referrals.Conventions(ctx, referrals.SideCCAS, ids[demoCCAS])
	if err != nil {
		return nil, err
	}
	if len(conventions) == 0 {
		cv, err := a.referrals.CreateConvention(ctx, seeder, ids[demoCCAS], ids[demoAssociation], calendar.NewDate(2025, 9, 1))
		if err != nil {
			return nil, fmt.Errorf("seed convention: %w", err)
		}
		for _, r := range []referrals.NewReferent{
			{Side: "ccas", Name: "Sophie Lambert", Title: "Responsable du pôle action sociale", Phone: "01 60 91 00 00", Email: "ccas@ville.example"},
			{Side: "sos_medecins", Name: "Dr Julien Morel", Title: "Médecin référent de la convention", Phone: "3624", Email: "referent@sos-medecins.example"},
		} {
			if _, err := a.referrals.AddReferent(ctx, seeder, cv.ID, r); err != nil {
				return nil, fmt.Errorf("seed referent: %w", err)
			}
		}
	}
	return map[auth.Role]int64{auth.SocialWorker: ids[demoCCAS], auth.Doctor: ids[demoAssociation]}, nil
}

// seedCases sends, once, a referral from the demo social worker and an
// alert with consent from the demo doctor.
func (a *app) seedCases(ctx context.Context, social, doctor auth.Principal) error {
	sw, dr := httpapi.ViewerOf(social), httpapi.ViewerOf(doctor)
	sent, err := a.referrals.Cases(ctx, sw, referrals.Filter{}, db.PageRequest{Limit: 1})
	if err != nil || len(sent) > 0 {
		return err
	}
	if _, err := a.referrals.CreateReferral(ctx, sw, referrals.NewReferral{Urgency: "within_48h", Place: "address", Reason: "isolation",
		Person: referrals.Identity{LastName: "Lefèvre", FirstName: "Odette", Birth: "1938", Phone: "01 60 00 11 22",
			Address: "4 rue des Tilleuls", Note: "Vit seule, ne sort plus depuis l'hiver ; son médecin traitant est parti à la retraite."}}); err != nil {
		return fmt.Errorf("seed referral: %w", err)
	}
	if _, err := a.referrals.CreateAlert(ctx, dr, referrals.NewAlert{Reason: "precarity", Basis: "consent",
		ConsentOn: calendar.Today(a.now()), ConsentHow: "oral", ConsentBy: "person",
		Person: referrals.Identity{LastName: "Haddad", FirstName: "Samir", Birth: "1961", Phone: "06 12 00 34 56",
			Note: "Logement sans chauffage, pas de couverture maladie."}}); err != nil {
		return fmt.Errorf("seed alert: %w", err)
	}
	return nil
}
