package alb

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/lakehunt/lakehunt/compact/rawkey"
)

// The package's own tests classify keys without compact's registry.
func init() { rawkey.Register(Table, Source.Layout.Services, Source.Layout.Classify) }

func gunzip(t *testing.T, body string) io.Reader {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}
