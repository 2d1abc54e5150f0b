package hunts

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Coverage is what a set of hunts claims to detect: per ATT&CK technique and per Stratus Red Team
// technique, which hunts and the tables they read. `lakehunt hunt coverage` prints it and the matrix in
// hunts/README.md is generated from it.
type Coverage struct {
	// Techniques are sorted by their first tactic along the kill chain, then by id.
	Techniques []TechniqueCoverage `json:"techniques"`
	// Stratus are sorted by id.
	Stratus []StratusCoverage `json:"stratus"`
	// Lake is set by CheckLake.
	Lake *LakeCheck `json:"lake,omitempty"`
}

// TechniqueCoverage is one ATT&CK technique and the hunts that claim it.
type TechniqueCoverage struct {
	ID string `json:"id"`
	// Name is ATT&CK's name, "" when the technique is not in lakehunt's table (hunts/attack.go).
	Name string `json:"name"`
	// Tactics are ATT&CK's tactics for the technique, or, when it is not in the table, the tactics its
	// hunts declare.
	Tactics []string  `json:"tactics"`
	Hunts   []HuntRef `json:"hunts"`
	// Stratus are the Stratus Red Team ids the hunts claim (a hunt's ids count under each of its techniques).
	Stratus []string `json:"stratus"`
}

// StratusCoverage is one Stratus Red Team technique and the hunts that claim to detect it.
type StratusCoverage struct {
	ID    string    `json:"id"`
	Hunts []HuntRef `json:"hunts"`
}

// HuntRef is a hunt in a coverage row, with the tables it reads.
type HuntRef struct {
	ID     string   `json:"id"`
	Tables []string `json:"tables"`
	// Missing are the tables the checked lake has no files for (set by CheckLake).
	Missing []string `json:"missing_tables,omitempty"`
}

// LakeCheck is what a lake offers the hunts: which tables have files, which hunts read a table that
// has none (they can find nothing there), and which techniques are left with no hunt that can see.
type LakeCheck struct {
	Tables    []string  `json:"tables"`
	Blind     []HuntRef `json:"blind_hunts"`
	Uncovered []string  `json:"uncovered_techniques"`
}

// NewCoverage builds the coverage matrix of hunts (one row per technique and per Stratus id; a hunt
// with two techniques and two Stratus ids is listed in all four rows).
func NewCoverage(hunts []*Hunt) Coverage {
	techniques := map[string]*TechniqueCoverage{}
	stratus := map[string]*StratusCoverage{}
	declared := map[string]map[string]bool{} // technique -> tactics its hunts declare
	for _, h := range hunts {
		ref := HuntRef{ID: h.ID, Tables: slices.Clone(h.Tables)}
		for _, id := range h.Attack.Techniques {
			t := techniques[id]
			if t == nil {
				t = &TechniqueCoverage{ID: id}
				t.Name, t.Tactics, _ = lookupTechnique(id)
				techniques[id] = t
				declared[id] = map[string]bool{}
			}
			t.Hunts = append(t.Hunts, ref)
			t.Stratus = append(t.Stratus, h.Attack.Stratus...)
			for _, tac := range h.Attack.Tactics {
				declared[id][tac] = true
			}
		}
		for _, id := range h.Attack.Stratus {
			s := stratus[id]
			if s == nil {
				s = &StratusCoverage{ID: id}
				stratus[id] = s
			}
			s.Hunts = append(s.Hunts, ref)
		}
	}
	c := Coverage{Techniques: []TechniqueCoverage{}, Stratus: []StratusCoverage{}}
	for id, t := range techniques {
		if t.Tactics == nil {
			t.Tactics = slices.SortedFunc(maps.Keys(declared[id]), func(a, b string) int { return tacticRank(a) - tacticRank(b) })
		}
		t.Tactics = slices.Clone(t.Tactics)
		sortRefs(t.Hunts)
		slices.Sort(t.Stratus)
		t.Stratus = slices.Compact(t.Stratus)
		if t.Stratus == nil {
			t.Stratus = []string{}
		}
		c.Techniques = append(c.Techniques, *t)
	}
	slices.SortFunc(c.Techniques, func(a, b TechniqueCoverage) int {
		if ra, rb := firstTacticRank(a), firstTacticRank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, id := range slices.Sorted(maps.Keys(stratus)) {
		sortRefs(stratus[id].Hunts)
		c.Stratus = append(c.Stratus, *stratus[id])
	}
	return c
}

func firstTacticRank(t TechniqueCoverage) int {
	if len(t.Tactics) == 0 {
		return len(tacticOrder)
	}
	return tacticRank(t.Tactics[0])
}

// sortRefs sorts by hunt id.
func sortRefs(refs []HuntRef) {
	slices.SortFunc(refs, func(a, b HuntRef) int { return strings.Compare(a.ID, b.ID) })
}

// CheckLake marks, against the tables a lake has files for, each hunt that reads a table the lake
// lacks, and the techniques whose every hunt does.
func (c *Coverage) CheckLake(tables []string) {
	have := map[string]bool{}
	for _, t := range tables {
		have[t] = true
	}
	check := &LakeCheck{Tables: slices.Sorted(maps.Keys(have)), Blind: []HuntRef{}, Uncovered: []string{}}
	blind := map[string]bool{}
	mark := func(refs []HuntRef) (seeing int) {
		for i := range refs {
			refs[i].Missing = nil
			for _, t := range refs[i].Tables {
				if !have[t] {
					refs[i].Missing = append(refs[i].Missing, t)
				}
			}
			if refs[i].Missing == nil {
				seeing++
			} else if !blind[refs[i].ID] {
				blind[refs[i].ID] = true
				check.Blind = append(check.Blind, refs[i])
			}
		}
		return seeing
	}
	for i := range c.Techniques {
		if mark(c.Techniques[i].Hunts) == 0 {
			check.Uncovered = append(check.Uncovered, c.Techniques[i].ID)
		}
	}
	for i := range c.Stratus {
		mark(c.Stratus[i].Hunts)
	}
	sortRefs(check.Blind)
	c.Lake = check
}

// Markdown renders the matrix as the two tables kept in hunts/README.md.
func (c Coverage) Markdown() string {
	var b strings.Builder
	b.WriteString("| technique | tactics | hunts | Stratus Red Team |\n|---|---|---|---|\n")
	for _, t := range c.Techniques {
		name := t.ID
		if t.Name != "" {
			name += " " + t.Name
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdEscape(name), mdEscape(strings.Join(t.Tactics, ", ")), mdRefs(t.Hunts), mdCodes(t.Stratus))
	}
	b.WriteString("\n| Stratus Red Team technique | hunts |\n|---|---|\n")
	for _, s := range c.Stratus {
		fmt.Fprintf(&b, "| `%s` | %s |\n", s.ID, mdRefs(s.Hunts))
	}
	return b.String()
}

func mdRefs(refs []HuntRef) string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return mdCodes(ids)
}

func mdCodes(s []string) string {
	if len(s) == 0 {
		return "—"
	}
	return "`" + strings.Join(s, "`, `") + "`"
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
