package rights

import "passd/lifecycle"

// Status is where a file's rights stand.
type Status string

// Rights statuses.
const (
	None      Status = "none"      // no application filed
	Requested Status = "requested" // an application is with the CPAM
	Opened    Status = "opened"    // the CPAM opened rights for a period
	Refused   Status = "refused"   // the CPAM refused
)

// Action moves a file's rights.
type Action string

// Rights actions.
const (
	Request Action = "request" // an application is filed
	Open    Action = "open"    // the CPAM opens rights
	Refuse  Action = "refuse"  // the CPAM refuses
)

// Machine is the life of a file's rights; the trigger
// patients_rights_transition holds the same table. A decision may come
// without a recorded application, and may follow another one. A new
// application on opened rights is allowed by the table, but the store also
// requires those rights to have ended (Rights.Current).
var Machine = lifecycle.New([]Status{None, Requested, Opened, Refused},
	lifecycle.Edge[Status, Action]{Action: Request, From: []Status{None, Requested, Opened, Refused}, To: Requested},
	lifecycle.Edge[Status, Action]{Action: Open, From: []Status{None, Requested, Opened, Refused}, To: Opened},
	lifecycle.Edge[Status, Action]{Action: Refuse, From: []Status{None, Requested, Opened, Refused}, To: Refused},
)

// Statuses lists every rights status, for filters.
var Statuses = Machine.States()

// Allowed reports whether rights in s may take action a.
func (s Status) Allowed(a Action) bool { return Machine.Allowed(s, a) }

// Next is where action a takes rights in s.
func (s Status) Next(a Action) (Status, bool) { return Machine.Next(s, a) }

// Decided reports whether the CPAM has answered.
func (s Status) Decided() bool { return s == Opened || s == Refused }

var statusFR = lifecycle.Labels[Status]{None: "aucune demande", Requested: "demande déposée", Opened: "droits ouverts", Refused: "droits refusés"}

// Label is the status in French.
func (s Status) Label() string { return statusFR.Of(s) }

// Regime is what coverage an opened decision gives.
type Regime string

// Regimes a decision can open (DOMAIN.md).
const (
	PUMa    Regime = "puma"     // protection universelle maladie: the AMO rate of each act
	PUMaCSS Regime = "puma_css" // PUMa with the complémentaire santé solidaire: 100 %
	AME     Regime = "ame"      // aide médicale de l'État: 100 %
)

// Regimes lists every regime, for checks and filters.
var Regimes = []Regime{PUMa, PUMaCSS, AME}

var regimeFR = lifecycle.Labels[Regime]{PUMa: "PUMa", PUMaCSS: "PUMa + C2S", AME: "AME"}

// Label is the regime as French staff name it.
func (r Regime) Label() string { return regimeFR.Of(r) }
