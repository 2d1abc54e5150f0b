package html

import (
	"maps"
	"slices"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
)

// attackRow is one ATT&CK technique the run's hunts claim, with how each of them ended: what an
// auditor needs to see which techniques this run actually checked.
type attackRow struct {
	Technique attackRef
	Hunts     []attackHunt
	Stratus   []string
	Checked   bool // some hunt claiming it ran to completion
}

type attackHunt struct {
	ID       string
	Statuses []string // ok, failed, skipped: a period report can hold several stretches of one hunt
	NoData   []string // tables the hunt reads that had no data in the window: it saw nothing there
}

func (v *view) attack(run *lake.Run) {
	type acc struct {
		hunts   map[string]map[string]bool
		stratus map[string]bool
	}
	rows := map[string]*acc{}
	rowsIn := map[string]int64{}
	for _, c := range run.Coverage {
		rowsIn[c.Table] += c.Rows
	}
	noData := map[string][]string{}
	for _, h := range run.Hunts {
		if h.Status != "ok" || noData[h.ID] != nil {
			continue
		}
		for _, t := range h.Tables {
			if rowsIn[t] == 0 && !slices.Contains(noData[h.ID], t) {
				noData[h.ID] = append(noData[h.ID], t)
			}
		}
	}
	for _, h := range run.Hunts {
		for _, t := range h.Techniques {
			a := rows[t]
			if a == nil {
				a = &acc{hunts: map[string]map[string]bool{}, stratus: map[string]bool{}}
				rows[t] = a
			}
			if a.hunts[h.ID] == nil {
				a.hunts[h.ID] = map[string]bool{}
			}
			a.hunts[h.ID][statusClass(h.Status)] = true
			for _, s := range h.Stratus {
				a.stratus[s] = true
			}
		}
	}
	for _, t := range slices.Sorted(maps.Keys(rows)) {
		a := rows[t]
		row := attackRow{Technique: attackRef{t, reports.AttackURL(t)}, Stratus: slices.Sorted(maps.Keys(a.stratus))}
		for _, id := range slices.Sorted(maps.Keys(a.hunts)) {
			ah := attackHunt{ID: id, NoData: noData[id]}
			for _, s := range []string{"ok", "failed", "skipped"} {
				if a.hunts[id][s] {
					ah.Statuses = append(ah.Statuses, s)
				}
			}
			row.Checked = row.Checked || (a.hunts[id]["ok"] && len(ah.NoData) == 0)
			row.Hunts = append(row.Hunts, ah)
		}
		v.Attack = append(v.Attack, row)
	}
}
