package diff

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/internal/safetext"
)

// commentLimit keeps the comment under GitHub's 65536 characters (GitLab's limit is higher).
const commentLimit = 60000

// Markdown renders the report as a pull request comment (CommonMark with GitHub's <details>): a table of
// the hunts that differ, then per hunt a collapsed list of at most examples findings added, removed and
// with a new severity. Every value that comes from the lake or the hunt's output (titles, entities,
// errors) is shown in a code span after safetext.Line, so it can neither format the comment, link,
// mention, nor inject HTML. When the comment would be too long, fewer examples are shown.
func (r *Report) Markdown(examples int) string {
	for {
		s := r.markdown(examples)
		if len(s) <= commentLimit || examples == 0 {
			return s
		}
		examples /= 2
	}
}

func (r *Report) markdown(examples int) string {
	var b strings.Builder
	counts := map[string]int{}
	for _, h := range r.Hunts {
		counts[h.Change]++
	}
	fmt.Fprintf(&b, "### lakehunt hunt diff\n\n")
	fmt.Fprintf(&b, "Window %s to %s of lake %s (version %d): %d changed, %d new, %d deleted; %d unchanged (not run).\n\n",
		r.WindowStart.Format(time.RFC3339), r.WindowEnd.Format(time.RFC3339), code(r.Lake), r.LakeVersion,
		counts[Changed], counts[New], counts[Deleted], len(r.Unchanged))
	if r.Failed > 0 {
		fmt.Fprintf(&b, "**%d hunt runs failed or did not run**: their findings below are incomplete.\n\n", r.Failed)
	}
	if len(r.Hunts) == 0 {
		b.WriteString("No hunt's query or logic changed.\n")
		return b.String()
	}
	b.WriteString("| hunt | change | findings | added | removed | severity changed | run time | rows scanned |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|\n")
	for _, h := range r.Hunts {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %d | %d | %d | %s | %s |\n", h.ID, change(h),
			sides(h, func(s *Side) string { return sideFindings(s) }), len(h.Added), len(h.Removed), len(h.SeverityChanges),
			sides(h, func(s *Side) string { return fmt.Sprintf("%d ms", s.DurationMillis) }),
			sides(h, func(s *Side) string { return fmt.Sprint(s.RowsScanned) }))
	}
	b.WriteString("\n")
	for _, h := range r.Hunts {
		fmt.Fprintf(&b, "<details><summary>%s: %d added, %d removed, %d with a new severity</summary>\n\n",
			html.EscapeString(h.ID), len(h.Added), len(h.Removed), len(h.SeverityChanges))
		fmt.Fprintf(&b, "%s\n\n", code(h.Title))
		for _, s := range []struct {
			name string
			side *Side
		}{{"base", h.Base}, {"head", h.Head}} {
			if s.side != nil && s.side.Error != "" {
				fmt.Fprintf(&b, "- %s v%d %s: %s\n", s.name, s.side.Version, s.side.Status, code(s.side.Error))
			}
			if s.side != nil && len(s.side.NoData) > 0 {
				fmt.Fprintf(&b, "- %s v%d had no data in %s: it checked nothing there\n", s.name, s.side.Version, code(strings.Join(s.side.NoData, ", ")))
			}
		}
		list(&b, "Added", h.Added, examples, nil)
		list(&b, "Removed", h.Removed, examples, nil)
		changed := make([]Finding, len(h.SeverityChanges))
		from := map[string]string{}
		for i, c := range h.SeverityChanges {
			changed[i], from[c.ID] = c.Finding, c.From
		}
		list(&b, "Severity changed", changed, examples, from)
		fmt.Fprintf(&b, "%d unchanged.\n\n</details>\n\n", len(h.Unchanged))
	}
	return b.String()
}

func change(h Hunt) string {
	switch h.Change {
	case New:
		return fmt.Sprintf("new (v%d)", h.Head.Version)
	case Deleted:
		return fmt.Sprintf("deleted (v%d)", h.Base.Version)
	}
	if h.Head.Version <= h.Base.Version {
		return fmt.Sprintf("v%d → v%d, **version not raised** (`hunt lint` fails)", h.Base.Version, h.Head.Version)
	}
	return fmt.Sprintf("v%d → v%d", h.Base.Version, h.Head.Version)
}

// sides renders a column as "base → head", "head" for a new hunt, "base" for a deleted one.
func sides(h Hunt, f func(*Side) string) string {
	switch {
	case h.Base == nil:
		return f(h.Head)
	case h.Head == nil:
		return f(h.Base)
	}
	return f(h.Base) + " → " + f(h.Head)
}

func sideFindings(s *Side) string {
	if s.Status == "ok" {
		return fmt.Sprint(s.Findings)
	}
	return "**" + s.Status + "**"
}

func list(b *strings.Builder, name string, fs []Finding, examples int, from map[string]string) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(b, "**%s** (%d):\n\n", name, len(fs))
	for i, f := range fs {
		if i == examples {
			fmt.Fprintf(b, "- and %d more (`--json` lists them all)\n", len(fs)-examples)
			break
		}
		sev := f.Severity
		if from != nil {
			sev = from[f.ID] + " → " + f.Severity
		}
		fmt.Fprintf(b, "- %s %s, entity %s", sev, code(f.Title), code(f.Entity))
		if f.AccountID != "" {
			fmt.Fprintf(b, ", account %s", code(f.AccountID))
		}
		fmt.Fprintf(b, ", %d events, id %s\n", f.Count, code(f.ID))
	}
	b.WriteString("\n")
}

// code renders s as an inline code span, whatever it holds: line breaks and invisible characters are
// escaped by safetext, and the backtick fence is longer than any run of backticks in s.
func code(s string) string {
	s = safetext.Line(s)
	if s == "" {
		return "(empty)"
	}
	run, longest := 0, 0
	for _, c := range []byte(s) {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + s + fence
}
