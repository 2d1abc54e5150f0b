package tifeed

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// eachLine calls fn with every line (1-based number, without the line ending). A UTF-8 BOM is dropped.
// Lines over maxTextLine are reported as malformed and skipped without being buffered whole.
func eachLine(r *bufio.Reader, s *sink, fn func(n int, line string) error) error {
	n := 0
	for {
		b, err := r.ReadSlice('\n')
		long := false
		for err == bufio.ErrBufferFull {
			if !long {
				n++
				long = true
				s.bad(n, fmt.Sprintf("line longer than %d KiB", maxTextLine>>10), string(b))
			}
			b, err = r.ReadSlice('\n')
		}
		if long {
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if len(b) == 0 && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return err
		}
		n++
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		line := strings.TrimRight(string(b), "\r\n")
		if ferr := fn(n, line); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

// isComment is true for a whole-line comment in any of the list formats.
func isComment(l string) bool {
	return strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") || strings.HasPrefix(l, "//")
}

// commentText strips a leading comment marker.
func commentText(l string) (string, bool) {
	for _, m := range []string{"#", ";", "//"} {
		if strings.HasPrefix(l, m) {
			return strings.TrimSpace(l[len(m):]), true
		}
	}
	return "", false
}

// hostsSinks are the addresses hosts-file blocklists point listed names at ("0.0.0.0 evil.example").
var hostsSinks = map[string]bool{"0.0.0.0": true, "127.0.0.1": true, "::": true, "::1": true}

// parseText reads one-indicator-per-line lists: plain lists (IPs, CIDRs, domains, URLs, hashes; '#', ';'
// and '//' comments; a trailing comment becomes the description; hosts-file lines), FireHOL netsets and
// Spamhaus DROP ("CIDR ; SBL123", the SBL id becomes the description). ipOnly rejects anything but IPs/CIDRs.
func parseText(r *bufio.Reader, s *sink, ipOnly, spamhaus bool) error {
	return eachLine(r, s, func(n int, raw string) error {
		line := strings.TrimSpace(raw)
		if line == "" || isComment(line) {
			return nil
		}
		s.st.Records++
		tok, rest := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			tok, rest = line[:i], strings.TrimSpace(line[i:])
		}
		if spamhaus {
			// "1.10.16.0/20 ; SBL256894" and, in old files, "1.10.16.0/20;SBL256894".
			if i := strings.IndexByte(tok, ';'); i >= 0 {
				tok, rest = tok[:i], strings.TrimSpace(";"+tok[i+1:]+" "+rest)
			}
		}
		desc, isDesc := commentText(rest)
		if rest != "" && !isDesc && !ipOnly && hostsSinks[tok] {
			// hosts-file blocklist: the listed name follows the sink address.
			name := rest
			if i := strings.IndexAny(rest, " \t"); i >= 0 {
				name, rest = rest[:i], strings.TrimSpace(rest[i:])
				desc, _ = commentText(rest)
			} else {
				desc = ""
			}
			ind, err := domainIndicator(name)
			if err != nil {
				s.bad(n, "hosts-file line: "+err.Error(), raw)
				return nil
			}
			ind.Line, ind.Description = n, desc
			return s.indicator(ind)
		}
		var ind Indicator
		var err error
		if ipOnly {
			ind, err = ipIndicator(tok)
		} else {
			ind, err = classify(tok)
		}
		if err != nil {
			s.bad(n, err.Error(), raw)
			return nil
		}
		if rest != "" && !isDesc {
			if _, err := classify(strings.Fields(rest)[0]); err == nil {
				s.bad(n, "more than one indicator on the line: put one per line", raw)
				return nil
			}
			desc = rest
		}
		ind.Line, ind.Description = n, desc
		return s.indicator(ind)
	})
}
