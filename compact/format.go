package compact

import (
	"bytes"
	"fmt"
	"path"
)

const deliverGzip = "AWS delivers gzip; re-deliver the object as gzip"

// foreignFormats are formats AWS never delivers these logs in, by their first bytes. Compact names them
// instead of letting a parser report the first byte as a syntax error ("expected '{', found '('").
var foreignFormats = []struct {
	magic, name, fix string
	compressed       bool
}{
	{"\x1f\x8b", "gzip content", deliverGzip, true}, // foreign only inside gzip
	{"\x28\xb5\x2f\xfd", "zstd-compressed content", deliverGzip, true},
	{"BZh", "bzip2-compressed content", deliverGzip, true},
	{"\xfd7zXZ\x00", "xz-compressed content", deliverGzip, true},
	{"\x04\x22\x4d\x18", "lz4-compressed content", deliverGzip, true},
	{"PK\x03\x04", "a zip archive", "AWS delivers gzip; unzip it and deliver each log in it as gzip", true},
	{"PAR1", "Parquet data", "compact reads the text logs AWS delivers; deliver the log as gzip-compressed text", false},
	{"\xff\xfe", "UTF-16 text", "AWS delivers UTF-8; re-encode the object as UTF-8", false},
	{"\xfe\xff", "UTF-16 text", "AWS delivers UTF-8; re-encode the object as UTF-8", false},
}

// sniffBytes is how much of an object foreignFormat looks at.
const sniffBytes = 8

// foreignFormat explains why an object's content is not something compact reads, or returns "".
// head is the start of the object as stored; inner, for a gzip object, the start of its content.
func foreignFormat(key string, head, inner []byte) string {
	if !isGzip(head) {
		for _, f := range foreignFormats[1:] {
			if bytes.HasPrefix(head, []byte(f.magic)) {
				return fmt.Sprintf("%s under a %s key: %s", f.name, path.Ext(key), f.fix)
			}
		}
		return ""
	}
	for _, f := range foreignFormats {
		if bytes.HasPrefix(inner, []byte(f.magic)) {
			if f.compressed {
				f.fix = "the object was compressed twice; re-deliver it as gzip of the log text"
			}
			return fmt.Sprintf("%s inside the gzip: %s", f.name, f.fix)
		}
	}
	return ""
}

func isGzip(head []byte) bool { return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b }
