package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// lakehunt runs the CLI in-process as main does: stdout, stderr (with the error main prints) and the
// exit code.
func lakehunt(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code := exitCode(root.ExecuteContext(context.Background()), &errb)
	return out.String(), errb.String(), code
}

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
		_, errs, code := lakehunt(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("lakehunt %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, errs, exitUsage, c.want)
		}
	}
	if out, _, code := lakehunt(t, "hunt"); code != exitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("lakehunt hunt: exit %d, want its help", code)
	}
}
