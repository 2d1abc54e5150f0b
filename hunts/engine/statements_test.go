package engine

import (
	"errors"
	"testing"
)

func TestOneStatement(t *testing.T) {
	for _, c := range []struct {
		sql   string
		multi int // statements found, if more than one
		err   bool
	}{
		{sql: "SELECT 1"},
		{sql: "SELECT 1;"},
		{sql: "SELECT ';'"},
		{sql: "SELECT 'a;b' AS x -- trailing; comment"},
		{sql: "SELECT \"col;umn\" FROM (SELECT 1 AS \"col;umn\")"},
		{sql: "SELECT 1; SELECT 2", multi: 2},
		{sql: "CREATE VIEW v AS SELECT 1; DROP VIEW v; SELECT 3", multi: 3},
		{sql: "SELECT 1 FROM", err: true},
		{sql: "  ", err: true},
	} {
		err := OneStatement(c.sql)
		var me *MultipleStatementsError
		switch {
		case c.multi > 0:
			if !errors.As(err, &me) || me.N != c.multi {
				t.Errorf("%q: %v, want %d statements", c.sql, err, c.multi)
			}
		case c.err:
			if err == nil || errors.As(err, &me) {
				t.Errorf("%q: %v, want a syntax error", c.sql, err)
			}
		case err != nil:
			t.Errorf("%q: %v, want one statement", c.sql, err)
		}
	}
}
