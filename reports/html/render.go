// Package html renders a run as one self-contained HTML report for an auditor: what ran, over which
// data (and where the hunts were blind), and what was found. Inline CSS and SVG only, no JavaScript; a
// Content-Security-Policy forbids scripts in case anything ever slipped through the escaping.
package html

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"strings"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
)

var (
	//go:embed report.css
	css string
	//go:embed report.tmpl
	tmplText string

	reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{"fmtTime": fmtTime, "list": func(a ...any) []any { return a }}).Parse(pageSource()))
)

// pageSource puts the stylesheet into the template and allows exactly it by hash in the CSP, so even
// an injected style element or attribute would not apply.
func pageSource() string {
	sum := sha256.Sum256([]byte(css))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	return strings.NewReplacer("STYLE_HASH", hash, "<style>STYLE</style>", "<style>"+css+"</style>").Replace(tmplText)
}

// Render writes the report of run and its findings to w.
func Render(w io.Writer, run *lake.Run, findings []lake.Finding, opts ...Option) error {
	if run == nil {
		return errors.New("html report: no run")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var buf bytes.Buffer
	if err := reportTmpl.Execute(&buf, newView(run, findings, o)); err != nil {
		return err
	}
	// The template escapes HTML but not characters that act on the text around them: a right-to-left
	// override in a user name would reorder the page. The page's own text has none, so every one left
	// came from a value (most from logs) and is shown as an escape, wherever in the page it landed.
	_, err := io.WriteString(w, safetext.Text(buf.String()))
	return err
}

// WriteFile renders the report to path atomically: readers see the old report or the new one.
func WriteFile(path string, run *lake.Run, findings []lake.Finding, opts ...Option) error {
	var buf bytes.Buffer
	if err := Render(&buf, run, findings, opts...); err != nil {
		return err
	}
	return lake.WriteFileAtomic(path, buf.Bytes())
}
