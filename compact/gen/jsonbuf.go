package gen

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// JSON is built by appending to byte slices: encoding/json over maps is far too slow for
// hundreds of millions of records, and appending keeps the field order AWS uses.

// appendStr appends s as a JSON string.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// kv appends ,"key":"value".
func kv(b []byte, key, val string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendStr(b, val)
}

// kraw appends ,"key":raw where raw is already JSON.
func kraw(b []byte, key, raw string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return append(b, raw...)
}

func kbool(b []byte, key string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}

// appendTime appends t (unix seconds) as 2006-01-02T15:04:05Z, the CloudTrail form.
func appendTime(b []byte, unix int64) []byte {
	return time.Unix(unix, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
}

func isoTime(unix int64) string { return string(appendTime(nil, unix)) }

// obj builds a small JSON object from key/value string pairs (values are JSON-escaped).
func obj(pairs ...string) string {
	b := []byte{'{'}
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, pairs[i])
		b = append(b, ':')
		b = appendStr(b, pairs[i+1])
	}
	return string(append(b, '}'))
}
