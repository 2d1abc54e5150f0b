package asff

import (
	"strings"

	"github.com/lakehunt/lakehunt/reports"
)

// Namespaces are the ASFF Types namespaces Security Hub accepts.
var Namespaces = []string{"Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors", "Sensitive Data Identifications"}

// ASFF's TTPs categories follow ATT&CK tactics; the tactics without a TTPs category map to Effects or
// to the bare namespace.
var tacticType = map[string]string{
	"TA0001": "TTPs/Initial Access", "TA0002": "TTPs/Execution", "TA0003": "TTPs/Persistence",
	"TA0004": "TTPs/Privilege Escalation", "TA0005": "TTPs/Defense Evasion", "TA0006": "TTPs/Credential Access",
	"TA0007": "TTPs/Discovery", "TA0008": "TTPs/Lateral Movement", "TA0009": "TTPs/Collection",
	"TA0011": "TTPs/Command and Control", "TA0010": "Effects/Data Exfiltration", "TA0040": "Effects",
	"TA0043": "TTPs", "TA0042": "TTPs",
}

// ValidType reports whether t is namespace[/category[/classifier]] with a known namespace.
func ValidType(t string) bool {
	parts := strings.Split(t, "/")
	if len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return false
		}
	}
	for _, ns := range Namespaces {
		if parts[0] == ns {
			return true
		}
	}
	return false
}

// types are the hunt's ASFF types; invalid ones are dropped with a warning. Without any, they are
// derived from the ATT&CK tactics, else "Unusual Behaviors".
func (b *builder) types() []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] && len(out) < maxTypes {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, t := range b.f.Types {
		t = strings.TrimSpace(t)
		if !ValidType(t) {
			b.warn("Types", "dropped %q: not namespace/category/classifier with a namespace of %s; fix the hunt's asff types", t, strings.Join(Namespaces, ", "))
			continue
		}
		add(t)
	}
	if len(b.f.Types) > maxTypes {
		b.warn("Types", "kept the first %d of %d types", maxTypes, len(b.f.Types))
	}
	if len(out) == 0 {
		for _, tac := range b.f.Tactics {
			if t, ok := reports.LookupTactic(tac); ok {
				add(tacticType[t.ID])
			}
		}
	}
	if len(out) == 0 {
		add("Unusual Behaviors")
	}
	return out
}
