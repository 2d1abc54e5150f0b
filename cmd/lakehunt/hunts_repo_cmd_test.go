package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ciCommands returns every shell line of a CI file's run/script/before_script entries.
func ciCommands(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A yaml.Node keeps the file's order: a map would visit the jobs in random order.
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s does not parse as YAML: %v", path, err)
	}
	var lines []string
	var walk func(n *yaml.Node, key string)
	walk = func(n *yaml.Node, key string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, x := range n.Content {
				walk(x, key)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], n.Content[i].Value)
			}
		case yaml.ScalarNode:
			if key == "run" || key == "script" || key == "before_script" {
				for l := range strings.SplitSeq(n.Value, "\n") {
					if l = strings.TrimSpace(l); l != "" {
						lines = append(lines, l)
					}
				}
			}
		}
	}
	walk(&doc, "")
	return lines
}

// shellWords splits a command line the way the CI shell would for these simple lines: words, double quotes,
// $VAR and ${VAR} from env, '> FILE' (returned apart) and a trailing '|| status=$?'.
func shellWords(t *testing.T, line string, env map[string]string) (args []string, stdout string) {
	t.Helper()
	line, _, _ = strings.Cut(line, " || status=$?")
	line = os.Expand(line, func(k string) string {
		v, ok := env[k]
		if !ok {
			t.Fatalf("%q uses $%s, which the test does not set", line, k)
		}
		return v
	})
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if i := slices.Index(words, ">"); i >= 0 {
		stdout, words = words[i+1], words[:i]
	}
	return words[1:], stdout // without "lakehunt"
}

// The CI files init writes parse, call only lakehunt commands that exist and a few standard tools, and
// their lakehunt command lines work as written against the repository init wrote: lint and test pass, and
// the hunt diff of a threshold raised on a branch removes the finding the lake holds.
func TestInitHuntsRepoCICommandsRun(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed (the CI files run hunt diff against a git ref): %v", err)
	}
	base := t.TempDir()
	repo := filepath.Join(base, "repo")
	if _, errs, code := cli(t, "init", "hunts-repo", "--lakehunt-version", "v0.4.1", repo); code != exitOK {
		t.Fatalf("init hunts-repo: exit %d\n%s", code, errs)
	}
	if _, errs, code := cli(t, "init", "hunts-repo", "--lakehunt-version", "v0.4.1", repo); code != exitUsage || !strings.Contains(errs, "not empty") {
		t.Errorf("init hunts-repo into a non-empty directory: exit %d, %s", code, errs)
	}
	ci := map[string][]string{}
	for _, f := range []string{".github/workflows/hunts.yml", ".gitlab-ci.yml"} {
		b, _ := os.ReadFile(filepath.Join(repo, f))
		if !strings.Contains(string(b), "cmd/lakehunt@${LAKEHUNT_VERSION}") || !strings.Contains(string(b), "LAKEHUNT_VERSION: v0.4.1") {
			t.Errorf("%s does not install the pinned release v0.4.1", f)
		}
		var subcommands []string
		for _, l := range ciCommands(t, filepath.Join(repo, f)) {
			first := strings.Fields(l)[0]
			if strings.Contains(first, "=") { // an assignment: CGO_ENABLED=1 go ..., status=0
				if len(strings.Fields(l)) == 1 {
					continue
				}
				first = strings.Fields(l)[1]
			}
			if !slices.Contains([]string{"lakehunt", "go", "echo", "export", "gh", "git", "curl", "exit"}, first) {
				t.Errorf("%s runs %q: not a command the runner image has", f, l)
			}
			if first == "lakehunt" {
				ci[f] = append(ci[f], l)
				w := strings.Fields(l)
				subcommands = append(subcommands, w[1]+" "+w[2])
			}
		}
		if !slices.Equal(subcommands, []string{"hunt lint", "hunt test", "hunt diff"}) {
			t.Errorf("%s runs lakehunt %v; want hunt lint, hunt test, hunt diff", f, subcommands)
		}
	}

	// The pull request: the example hunt's threshold goes up (two sign-ins), version bumped and pinned.
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "hunts")
	git("update-ref", "refs/remotes/origin/main", "main") // what the CI's fetch leaves
	hunt := filepath.Join(repo, "hunts", "example-root-sign-in.yaml")
	b, _ := os.ReadFile(hunt)
	changed := strings.Replace(strings.Replace(string(b), "  GROUP BY 1\n", "  GROUP BY 1\n  HAVING count(*) >= 2\n", 1), "version: 1\n", "version: 2\n", 1)
	changed = strings.Replace(changed, "  - name: root signs in\n", "  - name: root signs in twice\n", 1)
	changed = strings.Replace(changed, "    expect:\n      count: 1\n", "      - <<: *login\n        eventID: 7c1e0000-0000-4000-8000-000000000003\n    expect:\n      count: 1\n", 1)
	changed = strings.Replace(changed, "fields: {attempts: 1, failed: 0}", "fields: {attempts: 2, failed: 0}", 1)
	if err := os.WriteFile(hunt, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli(t, "hunt", "lint", "--hunts", filepath.Join(repo, "hunts"), "--write-lock"); code != exitOK {
		t.Fatalf("the changed example hunt does not lint: exit %d\n%s", code, errs)
	}

	// The lake: one root console sign-in two hours ago.
	raw, lakeDir := filepath.Join(base, "raw"), filepath.Join(base, "lake")
	at := time.Now().UTC().Add(-2 * time.Hour)
	writeTrailObject(t, raw, at, "root", []map[string]any{{
		"eventVersion": "1.08", "eventTime": at.Format(time.RFC3339), "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
		"awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "eventID": "hunts-repo-root-1", "eventType": "AwsConsoleSignIn",
		"recipientAccountId": "111122223333", "responseElements": map[string]any{"ConsoleLogin": "Success"},
		"userIdentity": map[string]any{"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
	}})
	if _, errs, code := cli(t, "compact", "--from", raw, "--lake", lakeDir); code != exitOK {
		t.Fatalf("compact: exit %d\n%s", code, errs)
	}

	env := map[string]string{"LAKEHUNT_LAKE": lakeDir, "BASE_REF": "origin/main", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
	t.Chdir(repo)
	for f, lines := range ci {
		for _, l := range lines {
			args, stdout := shellWords(t, l, env)
			out, errs, code := cli(t, args...)
			if code != exitOK {
				t.Errorf("%s: %q: exit %d\n%s%s", f, l, code, out, errs)
				continue
			}
			if stdout != "" {
				if err := os.WriteFile(stdout, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			switch args[1] {
			case "test":
				var suites junitSuites
				b, err := os.ReadFile("hunt-tests.xml")
				if err == nil {
					err = xml.Unmarshal(b, &suites)
				}
				if err != nil || len(suites.Suites) != 1 || suites.Suites[0].Tests != 2 || suites.Suites[0].Failures != 0 {
					t.Errorf("%s: %q: JUnit report %+v, %v; want 2 tests, no failure", f, l, suites, err)
				}
			case "diff":
				if !strings.Contains(out, "example-root-sign-in: 0 added, 1 removed, 0 with a new severity") ||
					!strings.Contains(out, "`arn:aws:iam::111122223333:root`") {
					t.Errorf("%s: %q: the comment does not show the removed finding:\n%s", f, l, out)
				}
			}
		}
	}
}

// hunt test --json lists each test with its problems; a failing expectation is a failed test there and
// in the JUnit report, with its message.
func TestHuntTestJSONAndJUnit(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("huntsrepo", "hunts", "example-root-sign-in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "severity: HIGH\n          fields", "severity: LOW\n          fields", 1)
	if err := os.WriteFile(filepath.Join(dir, "example.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(t.TempDir(), "junit.xml")
	out, _, code := cli(t, "hunt", "test", "--no-library", "--hunts", dir, "--json", "--junit", junit)
	var sum struct {
		Passed, Failed int
		Tests          []struct {
			Name     string
			Passed   bool
			Problems []string
		}
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json output is not JSON (%v):\n%s", err, out)
	}
	if code != exitError || sum.Passed != 1 || sum.Failed != 1 || len(sum.Tests) != 2 || sum.Tests[0].Passed ||
		sum.Tests[0].Name != "example-root-sign-in/root_signs_in" || !strings.Contains(strings.Join(sum.Tests[0].Problems, ";"), "severity HIGH, want LOW") {
		t.Errorf("exit %d, %+v", code, sum)
	}
	var suites junitSuites
	b, err = os.ReadFile(junit)
	if err == nil {
		err = xml.Unmarshal(b, &suites)
	}
	if err != nil || suites.Suites[0].Tests != 2 || suites.Suites[0].Failures != 1 || suites.Suites[0].Cases[0].Failure == nil ||
		!strings.Contains(suites.Suites[0].Cases[0].Failure.Text, "severity HIGH, want LOW") || suites.Suites[0].Cases[1].Failure != nil {
		t.Errorf("JUnit report (%v):\n%s", err, b)
	}
}

// hunt diff: usage errors exit 2; a changed hunt file that does not load is listed and exits 3, while the
// hunts that load are still compared (--json).
func TestHuntDiffCLI(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("huntsrepo", "hunts", "example-root-sign-in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base, head := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(base, "example.yaml"), example, 0o644)
	os.WriteFile(filepath.Join(head, "example.yaml"), []byte(strings.Replace(string(example), "  GROUP BY 1\n", "  GROUP BY 1\n  HAVING count(*) >= 2\n", 1)), 0o644)
	os.WriteFile(filepath.Join(head, "broken.yaml"), []byte("id: broken\nversion: one\n"), 0o644)
	raw, lakeDir := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	at := time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)
	writeTrailObject(t, raw, at, "root", []map[string]any{{
		"eventVersion": "1.08", "eventTime": at.Format(time.RFC3339), "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
		"awsRegion": "us-east-1", "eventID": "diff-cli-1", "eventType": "AwsConsoleSignIn", "recipientAccountId": "111122223333",
		"responseElements": map[string]any{"ConsoleLogin": "Success"},
		"userIdentity":     map[string]any{"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
	}})
	if _, errs, code := cli(t, "compact", "--from", raw, "--lake", lakeDir); code != exitOK {
		t.Fatalf("compact: exit %d\n%s", code, errs)
	}
	args := []string{"hunt", "diff", "--lake", lakeDir, "--base", base, "--hunts", head, "--from", "2026-06-10", "--to", "2026-06-11"}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"no --base", []string{"hunt", "diff", "--lake", lakeDir, "--hunts", head}},
		{"--json and --format", append(slices.Clone(args), "--json", "--format", "markdown")},
		{"--from and --last", append(slices.Clone(args), "--last", "7d")},
		{"unknown format", append(slices.Clone(args), "--format", "html")},
	} {
		if _, errs, code := cli(t, c.args...); code != exitUsage {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, code, exitUsage, errs)
		}
	}
	out, errs, code := cli(t, append(args, "--json")...)
	var rep struct {
		Hunts []struct {
			ID, Change string
			Removed    []struct{ Entity string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if code != exitBadInput || !strings.Contains(errs, "broken.yaml") || len(rep.Hunts) != 1 || rep.Hunts[0].Change != "changed" ||
		len(rep.Hunts[0].Removed) != 1 || rep.Hunts[0].Removed[0].Entity != "arn:aws:iam::111122223333:root" {
		t.Errorf("exit %d, %+v\n%s", code, rep, errs)
	}
	if out, _, _ := cli(t, args...); !strings.Contains(out, "changed (version not raised)") {
		t.Errorf("text output does not point out the missing version bump:\n%s", out)
	}
}
