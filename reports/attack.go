package reports

import (
	"regexp"
	"strings"
)

// Tactic is a MITRE ATT&CK Enterprise tactic.
type Tactic struct {
	ID   string // TA0005
	Name string // Defense Evasion
}

var tactics = []Tactic{
	{"TA0043", "Reconnaissance"}, {"TA0042", "Resource Development"}, {"TA0001", "Initial Access"},
	{"TA0002", "Execution"}, {"TA0003", "Persistence"}, {"TA0004", "Privilege Escalation"},
	{"TA0005", "Defense Evasion"}, {"TA0006", "Credential Access"}, {"TA0007", "Discovery"},
	{"TA0008", "Lateral Movement"}, {"TA0009", "Collection"}, {"TA0011", "Command and Control"},
	{"TA0010", "Exfiltration"}, {"TA0040", "Impact"},
}

func tacticKey(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// LookupTactic finds a tactic by id (TA0005) or name in any spelling ("Defense Evasion",
// "defense-evasion", "defense_evasion").
func LookupTactic(s string) (Tactic, bool) {
	k := tacticKey(s)
	for _, t := range tactics {
		if k == strings.ToLower(t.ID) || k == tacticKey(t.Name) {
			return t, true
		}
	}
	return Tactic{}, false
}

var techniqueRe = regexp.MustCompile(`^T(\d{4})(?:\.(\d{3}))?$`)

// AttackURL is the attack.mitre.org page of a tactic (id or name) or technique id (T1098, T1098.001);
// "" when s is neither, so hunt text never becomes a link by accident.
func AttackURL(s string) string {
	s = strings.TrimSpace(s)
	if m := techniqueRe.FindStringSubmatch(strings.ToUpper(s)); m != nil {
		if m[2] != "" {
			return "https://attack.mitre.org/techniques/T" + m[1] + "/" + m[2] + "/"
		}
		return "https://attack.mitre.org/techniques/T" + m[1] + "/"
	}
	if t, ok := LookupTactic(s); ok {
		return "https://attack.mitre.org/tactics/" + t.ID + "/"
	}
	return ""
}
