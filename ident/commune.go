package ident

import "errors"

var (
	errCommuneLength = errors.New("ident: commune code must be 5 characters")
	errCommuneDept   = errors.New("ident: commune code must start with a department (01 to 95, 2A, 2B) or an overseas code (971 to 978, 984 to 988)")
	errCommuneNumber = errors.New("ident: commune code must end with the commune's number, not 0")
)

// ParseCommune validates a commune's INSEE code (code officiel
// géographique): the department's two characters (01 to 95 except 20,
// which became 2A and 2B) and three digits, or an overseas territory's
// three digits and two. A code that fits this form may still name no
// commune: the list of communes changes every year (mergers), and a file
// with last year's code is still worth counting.
func ParseCommune(s string) (string, error) {
	s = normalize(s)
	if len(s) != 5 {
		return "", errCommuneLength
	}
	dept, number := s[:2], s[2:]
	switch {
	case dept == "2A" || dept == "2B":
	case !allDigits(s):
		return "", errCommuneDept
	case dept == "97" || dept == "98":
		dept, number = s[:3], s[3:]
		if !(dept >= "971" && dept <= "978" || dept >= "984" && dept <= "988") {
			return "", errCommuneDept
		}
	case dept == "00" || dept == "20" || dept > "95":
		return "", errCommuneDept
	}
	if !allDigits(number) {
		return "", errCommuneDept
	}
	if number == "000" || number == "00" {
		return "", errCommuneNumber
	}
	return s, nil
}
