package main

// The search benchmark's files (issue 20): patient files with French
// names, some accented, birth dates over ninety years, NIRs for most, and
// file numbers as passd gives them. Their identity is copied in clear into
// patients_unsealed, the table migration 00003 left for files opened
// before identity was sealed, and passd's own claims.Store.SealPending
// seals it and writes the search terms: the sealed values, the NIR's hash
// and the blind index are exactly what passd stores, by passd's code.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/keyring"
)

// searchSurnames are common surnames in France, the most common first
// (searchWorld picks the first ones more often), among them those of
// the countries many PASS patients come from; some carry accents, some
// particles or apostrophes, a few have two letters.
var searchSurnames = []string{
	"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
	"Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
	"Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Müller", "Lefebvre", "Faure", "André",
	"Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
	"Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
	"Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
	"Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
	"Martínez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
	"Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
	"Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
	"López", "Jean", "Dupuy", "Guillot", "Hubert", "Berger", "Carpentier", "Sánchez", "Dupuis", "Moulin",
	"Louis", "Deschamps", "Huet", "Vasseur", "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet",
	"Adam", "Paris", "Poirier", "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier",
	"Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernández", "Le Gall", "Collet",
	"Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Daniel", "Le Roux", "Cousin", "Germain",
	"Breton", "Besson", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré",
	"Lebrun", "Marchal", "Weber", "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier", "Michaud", "Rodríguez",
	"Guichard", "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin", "Chauvin", "Da Silva",
	"Bouchet", "Gay", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud", "Antoine", "Hoarau", "Perret",
	"Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert", "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte",
	"N'Diaye", "Diallo", "Traoré", "Koné", "Camara", "Cissé", "Sow", "Bah", "Touré", "Keïta",
	"Diop", "Fofana", "Sylla", "Benali", "Benhamou", "Haddad", "Mansouri", "Belkacem", "Bouzid", "Chérif",
	"Saïdi", "Amrani", "Nguyễn", "Trần", "Lê", "Ly", "Popescu", "Ionescu", "Kowalski", "Nowak",
	"Ivanov", "Petrov", "Yılmaz", "Kaya", "Öztürk", "Çelik", "Pereira", "Ferreira", "Gonçalves", "Conceição",
	"Ribeiro", "Sousa", "De La Fontaine", "Ahmadi", "Hosseini", "Rahman",
}

// searchFemaleNames and searchMaleNames are first names, the sex they
// give the NIR's first digit.
var searchFemaleNames = []string{
	"Marie", "Jeanne", "Françoise", "Monique", "Catherine", "Nathalie", "Isabelle", "Sylvie", "Anne", "Christine",
	"Martine", "Nicole", "Sophie", "Valérie", "Sandrine", "Céline", "Stéphanie", "Véronique", "Chantal", "Hélène",
	"Élodie", "Émilie", "Aurélie", "Julie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Zoé",
	"Louise", "Jade", "Lina", "Léna", "Anaïs", "Maëlle", "Clémence", "Noémie", "Agnès", "Béatrice",
	"Danièle", "Geneviève", "Mélanie", "Océane", "Pauline", "Laëtitia", "Fatima", "Aïcha", "Fatoumata", "Mariam",
	"Aminata", "Khadija", "Yasmine", "Salomé", "Ana", "Elena", "Ioana", "Oksana", "Thi Lan", "Nour",
	"Leïla", "Rose", "Ève", "Joséphine", "Andrée", "Thérèse", "Odette", "Gisèle", "Solène", "Héloïse",
	"Éloïse", "Marguerite", "Bérénice", "Amélie", "Cécile", "Margaux", "Lucie", "Mathilde", "Sarah", "Marie-Claire",
}

var searchMaleNames = []string{
	"Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Bernard", "Jacques", "Daniel", "Patrick",
	"Nicolas", "Christophe", "Éric", "Frédéric", "Laurent", "Stéphane", "Sébastien", "Julien", "David", "Thomas",
	"Mathieu", "Alexandre", "Antoine", "Hugo", "Lucas", "Louis", "Gabriel", "Raphaël", "Léo", "Noé",
	"Maël", "Théo", "Jérôme", "Hervé", "Gérard", "René", "Rémi", "Benoît", "Grégoire", "Jérémy",
	"François", "Joël", "Noël", "Gaëtan", "Loïc", "Anaël", "Mohamed", "Ahmed", "Karim", "Youssef",
	"Moussa", "Mamadou", "Ibrahima", "Souleymane", "Amadou", "Omar", "Ali", "Hamza", "Mehdi", "Bilal",
	"Ion", "Andrei", "Vasile", "Mihai", "Piotr", "Oleksandr", "Dmitri", "José", "João", "Carlos",
	"Miguel", "Emre", "Mustafa", "Văn Minh", "Cédric", "Aurélien", "Yannick", "Jean-Pierre", "Jean-Luc", "Marc-André",
}

// searchFile is one seeded file: its identity in clear and its number.
type searchFile struct {
	LastName, FirstName string
	BirthDate           calendar.Date
	NIR                 string // "" for the files without one (one in four)
	FileNumber          string
	Opened              calendar.Date
}

// searchWorld is the seeded files, file q opened on or after file q-1,
// over the two years before this one and this year up to yesterday.
type searchWorld struct {
	today       calendar.Date
	first, last calendar.Date
	files       []searchFile
}

// birthSpan is the births seeded: from 1935 to 2024, every day as likely.
var birthFirst, birthLast = calendar.NewDate(1935, time.January, 1), calendar.NewDate(2024, time.December, 31)

// newSearchWorld makes n files; the same n and today give the same files.
func newSearchWorld(today calendar.Date, n int) (searchWorld, error) {
	if n < 1 || n > 999_999 {
		return searchWorld{}, fmt.Errorf("bench: search seed: %d files (from 1 to 999 999, the NIRs' serial numbers)", n)
	}
	w := searchWorld{today: today, first: calendar.NewDate(today.Year()-2, time.January, 1), last: today.AddDays(-1),
		files: make([]searchFile, n)}
	days := daysBetween(w.first, w.last) + 1
	births := daysBetween(birthFirst, birthLast) + 1
	counters := map[int]int{}
	for q := range w.files {
		h := mix(uint64(q))
		f := &w.files[q]
		f.LastName = searchSurnames[skewedPick(h, len(searchSurnames))]
		names, sex := searchFemaleNames, 2
		if h>>40&1 == 1 {
			names, sex = searchMaleNames, 1
		}
		f.FirstName = names[int(h>>41%uint64(len(names)))]
		f.BirthDate = birthFirst.AddDays(int(mix(h) % uint64(births)))
		f.Opened = w.first.AddDays(int(int64(q) * int64(days) / int64(n)))
		counters[f.Opened.Year()]++
		f.FileNumber = claims.FileNumber(f.Opened.Year(), counters[f.Opened.Year()])
		if q%4 != 3 {
			f.NIR = seedNIR(q, sex, f.BirthDate, h)
		}
	}
	return w, nil
}

// daysBetween is how many days from a to b.
func daysBetween(a, b calendar.Date) int { return int(b.Time().Sub(a.Time()).Hours()/24 + 0.5) }

// skewedPick is an index below n, the smaller ones more often (the
// smaller of two uniform picks: the first is about twice as common as
// the average, the last rare), as common surnames are.
func skewedPick(h uint64, n int) int {
	return int(min(h%uint64(n), (h>>20)%uint64(n)))
}

// seedNIR is file q's NIR: its sex and birth, a department (99, born
// abroad, for one in five), then q as the commune and order number, which
// keeps every NIR apart, and the key.
func seedNIR(q, sex int, birth calendar.Date, h uint64) string {
	dept := 1 + int(h>>50%95)
	if h>>8%5 == 0 {
		dept = 99
	}
	body := fmt.Sprintf("%d%02d%02d%02d%06d", sex, birth.Year()%100, int(birth.Month()), dept, q)
	n, _ := strconv.ParseUint(body, 10, 64) // 13 digits: fits
	return fmt.Sprintf("%s%02d", body, 97-n%97)
}

// seedSearch copies the world's files into the freshly migrated database
// at ownerURL, their identity in clear in patients_unsealed, has passd's
// claims store seal them and write their search terms (SealPending, as
// passd migrate does), chains the audit rows that wrote, and analyzes.
func seedSearch(ctx context.Context, ownerURL string, w searchWorld, keys *keyring.Ring) error {
	pool, err := db.Open(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("bench: search seed: %w", err)
	}
	defer pool.Close()
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w.copyFiles(ctx, tx) }); err != nil {
		return err
	}
	sealed, err := claims.NewStore(db.NewPool(pool).Bind(benchConvention), keys, time.Now).SealPending(ctx, audit.Actor{Name: "passd-bench"})
	if err != nil {
		return fmt.Errorf("bench: search seed: seal: %w", err)
	}
	if sealed != len(w.files) {
		return fmt.Errorf("bench: search seed: %d files sealed, want %d", sealed, len(w.files))
	}
	// passd's sealer would otherwise chain these while the searches run.
	if _, err := audit.SealPending(ctx, pool, audit.SealBatch); err != nil {
		return fmt.Errorf("bench: search seed: audit: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("bench: search seed: vacuum: %w", err)
	}
	return nil
}

// copyFiles writes the files, pending identity, their identity in clear
// beside them, and the counters passd numbers the next files from.
func (w searchWorld) copyFiles(ctx context.Context, tx pgx.Tx) error {
	var used bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients)`).Scan(&used); err != nil {
		return fmt.Errorf("bench: search seed: %w", err)
	}
	if used {
		return errors.New("bench: search seed: the database is not freshly migrated")
	}
	ids, err := reserveIDs(ctx, tx, "patients", len(w.files))
	if err != nil {
		return err
	}
	if err := copyRows(ctx, tx, "patients", []string{"id", "file_number", "identity_pending", "rights_status", "created_at"}, len(w.files),
		func(q int, row []any) error {
			f := w.files[q]
			row[0], row[1], row[2], row[3] = ids[q], f.FileNumber, true, "none"
			row[4] = atParisTime(f.Opened, 9+q%8).Add(time.Duration(q%60) * time.Minute)
			return nil
		}); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, "patients_unsealed", []string{"id", "last_name", "first_name", "birth_date", "nir"}, len(w.files),
		func(q int, row []any) error {
			f := w.files[q]
			row[0], row[1], row[2], row[3], row[4] = ids[q], f.LastName, f.FirstName, f.BirthDate, nullText(f.NIR)
			return nil
		}); err != nil {
		return err
	}
	last := map[int]int{}
	for _, f := range w.files {
		last[f.Opened.Year()]++
	}
	for year, n := range last {
		if _, err := tx.Exec(ctx, `INSERT INTO file_number_counters (year, last) VALUES ($1, $2)`, year, n); err != nil {
			return fmt.Errorf("bench: search seed: file numbers: %w", err)
		}
	}
	return nil
}
