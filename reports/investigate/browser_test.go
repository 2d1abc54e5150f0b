package investigate

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/entity"
)

// Attacker strings in a user agent and a finding: markup, a javascript: URL, a right-to-left override.
// Each would set window.__pwned or the title if it ran.
const (
	hostileAgent = `<script>window.__pwned=1;document.title='PWNED'</script> javascript:window.__pwned=2 ` +
		`<img src=x onerror="window.__pwned=3"> erin` + "\u202e" + `txt.exe`
	hostileTitle = `<a href="javascript:window.__pwned=4">click</a><svg onload="window.__pwned=5"></svg>`
)

// browser starts headless Chromium, as reports/html's browser test does: without it the test fails
// under CI=true and is skipped elsewhere.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("LAKEHUNT_CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("chromium not found (CI=true): install Debian's chromium (.ci/run does) or set LAKEHUNT_CHROMIUM")
			}
			t.Skip("chromium not found: apt-get install chromium, or set LAKEHUNT_CHROMIUM, to run the browser check")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1400, 900))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

type pageState struct {
	Pwned      any      `json:"pwned"`
	Title      string   `json:"title"`
	Scripts    int      `json:"scripts"`
	OnAttrs    []string `json:"onAttrs"`
	JSLinks    int      `json:"jsLinks"`
	Text       string   `json:"text"`
	Steps      []string `json:"steps"`
	Wide       []string `json:"wide"`
	CellsDrawn int      `json:"cellsDrawn"`
}

const stateJS = `(() => {
  const on = [];
  for (const el of document.querySelectorAll('*')) for (const a of el.attributes) if (a.name.toLowerCase().startsWith('on')) on.push(el.tagName + '[' + a.name + ']');
  const wide = [];
  for (const el of document.querySelectorAll('body *')) if (el.getBoundingClientRect().right > window.innerWidth + 1) wide.push(el.tagName + '.' + el.className);
  return {
    pwned: window.__pwned === undefined ? null : window.__pwned,
    title: document.title,
    scripts: document.scripts.length,
    onAttrs: on,
    jsLinks: Array.from(document.querySelectorAll('[href],[src],[action]')).filter(e => /^\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || '')).length,
    text: document.body.innerText,
    steps: Array.from(document.querySelectorAll('#steps li.step code.hunt')).map(e => e.textContent),
    wide: wide,
    cellsDrawn: document.querySelectorAll('#activity svg rect.heat').length,
  };
})()`

// The planted principal's page in a real browser: nothing from the logs or the findings runs, the
// right-to-left override shows as an escape, the steps read in order and nothing is wider than the page.
func TestChromiumEntityPage(t *testing.T) {
	ctx := browser(t)
	p := buildPlanted(t, hostileAgent)
	for i := range p.Findings {
		p.Findings[i].Title = hostileTitle + " " + p.Findings[i].Title
		p.Findings[i].Description = hostileAgent
	}
	dir := t.TempDir()
	if a := os.Getenv("LAKEHUNT_ARTIFACTS"); a != "" {
		dir = a
	}
	file, err := filepath.Abs(filepath.Join(dir, "entity-hostile.html"))
	if err != nil {
		t.Fatal(err)
	}
	if err := entity.WriteFile(file, p); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(string(raw), '\u202e') {
		t.Error("the page holds a raw right-to-left override")
	}

	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	var st pageState
	u := url.URL{Scheme: "file", Path: file}
	if err := chromedp.Do(tab, chromedp.Navigate(u.String())); err != nil {
		t.Fatalf("open %s in chromium: %v", file, err)
	}
	out, err := chromedp.Run(tab, chromedp.Evaluate[[]byte](stateJS))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	if st.Pwned != nil || strings.Contains(st.Title, "PWNED") || st.Scripts != 0 || len(st.OnAttrs) != 0 || st.JSLinks != 0 {
		t.Errorf("attacker strings acted: pwned=%v title=%q scripts=%d on-attributes=%v javascript: links=%d", st.Pwned, st.Title, st.Scripts, st.OnAttrs, st.JSLinks)
	}
	for _, s := range []string{"<script>window.__pwned=1", "javascript:window.__pwned=2", `erin\u202etxt.exe`, `<a href="javascript:window.__pwned=4">`} {
		if !strings.Contains(st.Text, s) {
			t.Errorf("the page does not show %q as text", s)
		}
	}
	if want := []string{"discovery-burst", "cloudtrail-logging-evasion", "ti-ip-cloudtrail"}; strings.Join(st.Steps, ",") != strings.Join(want, ",") {
		t.Errorf("steps %v, want %v", st.Steps, want)
	}
	if len(st.Wide) != 0 {
		t.Errorf("elements wider than the 1400 px page: %v", st.Wide)
	}
	if st.CellsDrawn == 0 {
		t.Error("the activity chart draws nothing")
	}
}

// The attacker's page over the newer tables in a real browser, every section opened: the WAF path it
// sent is text, and the wider evidence tables (GuardDuty, host alerts) fit the page.
func TestChromiumNewTablesPage(t *testing.T) {
	ctx := browser(t)
	iv := open(t, newTablesLake(t), at("2026-03-01T00:00:00Z"), at("2026-03-10T00:00:00Z"), at("2026-03-11T00:00:00Z"))
	p, err := iv.Build(context.Background(), Request{Entity: group.Link{Kind: group.KindIP, Value: attacker}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if a := os.Getenv("LAKEHUNT_ARTIFACTS"); a != "" {
		dir = a
	}
	file, err := filepath.Abs(filepath.Join(dir, "entity-new-tables.html"))
	if err != nil {
		t.Fatal(err)
	}
	if err := entity.WriteFile(file, p); err != nil {
		t.Fatal(err)
	}
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate((&url.URL{Scheme: "file", Path: file}).String())); err != nil {
		t.Fatalf("open %s in chromium: %v", file, err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { document.querySelectorAll('details').forEach(d => d.open = true); return true })()`)); err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(tab, chromedp.Evaluate[[]byte](stateJS))
	if err != nil {
		t.Fatal(err)
	}
	var st pageState
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	if st.Pwned != nil || st.Scripts != 0 || len(st.OnAttrs) != 0 {
		t.Errorf("the WAF path acted: pwned=%v scripts=%d on-attributes=%v", st.Pwned, st.Scripts, st.OnAttrs)
	}
	if want := `/search'OR'1'='1<script>window.__pwned=1</script>\u202etxt.exe`; !strings.Contains(st.Text, want) {
		t.Errorf("the page does not show the WAF path %q as text", want)
	}
	for _, s := range []string{"WAF requests by action", "GuardDuty findings by type", "Host IDS alerts by rule", "UnauthorizedAccess:EC2/SSHBruteForce (LOW)"} {
		if !strings.Contains(st.Text, s) {
			t.Errorf("the page does not show %q", s)
		}
	}
	if len(st.Wide) != 0 {
		t.Errorf("elements wider than the 1400 px page: %v", st.Wide)
	}
	if st.CellsDrawn == 0 {
		t.Error("the activity charts draw nothing")
	}
}
