package main

import (
	"strings"
	"testing"
)

// TestUnknownSubcommandIsUsageError: exit 2, with cobra's suggestion.
func TestUnknownSubcommandIsUsageError(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "lakehunt"`},
		{[]string{"hunt", "frobnicate"}, `unknown command "frobnicate" for "lakehunt hunt"`},
		{[]string{"huntt"}, "Did you mean this?\n\thunt"},
		{[]string{"hunt", "lnt"}, "Did you mean this?\n\tlint"},
		{[]string{"ti", "improt"}, "Did you mean this?\n\timport"},
	} {
		_, errs, code := cli(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("lakehunt %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, errs, exitUsage, c.want)
		}
	}
	if out, _, code := cli(t, "hunt"); code != exitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("lakehunt hunt: exit %d, want its help", code)
	}
}
