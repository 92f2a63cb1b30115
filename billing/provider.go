package billing

import "time"

// Provider kinds.
const (
	KindHealthCentre = "health_centre"
	KindGP           = "general_practitioner"
	KindNurse        = "nurse"
	KindPharmacy     = "pharmacy"
	KindRadiology    = "radiology"
	KindLaboratory   = "laboratory"
)

// ProviderKinds lists every kind of partner provider.
var ProviderKinds = []string{KindHealthCentre, KindGP, KindNurse, KindPharmacy, KindRadiology, KindLaboratory}

// Provider is a partner provider the city may have to pay.
type Provider struct {
	ID        int64
	Kind      string
	Name      string
	RPPS      string // practitioner id, or empty
	FINESS    string // facility id, or empty
	IBAN      string
	BIC       string
	CreatedAt time.Time
}
