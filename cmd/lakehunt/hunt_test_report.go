package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"

	"github.com/lakehunt/lakehunt/hunts"
	"github.com/lakehunt/lakehunt/internal/safetext"
)

// junitSuites is the JUnit XML that GitHub Actions test reporters, GitLab (artifacts:reports:junit) and
// Jenkins read: one testcase per hunt test, classname the hunt, a failure element per failed test.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes the hunt tests' results to path as JUnit XML.
func writeJUnit(path string, sum hunts.TestSummary) error {
	suite := junitSuite{Name: "lakehunt hunt test", Tests: len(sum.Tests), Failures: sum.Failed}
	total := 0.0
	for _, r := range sum.Tests {
		total += r.Seconds
		class, name, ok := strings.Cut(r.Name, "/")
		if !ok || r.Hunt == "" {
			class, name = r.File, "load"
		}
		c := junitCase{Classname: class, Name: name, File: r.File, Line: r.Line, Time: fmt.Sprintf("%.3f", r.Seconds)}
		if !r.Passed {
			text := safetext.Text(strings.Join(r.Problems, "\n")) // problems may quote values from the test's events
			c.Failure = &junitFailure{Message: safetext.Line(firstLine(text)), Text: text}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Time = fmt.Sprintf("%.3f", total)
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{suite}}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644); err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	return nil
}
