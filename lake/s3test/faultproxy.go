package s3test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Fault is what the FaultProxy does to one request instead of passing it through.
type Fault int

const (
	FaultNone Fault = iota
	// Fault500 and Fault503 answer without forwarding: the request did not happen.
	Fault500
	Fault503
	// Fault500After forwards the request (a PUT is applied) and answers 500: the ambiguous case.
	Fault500After
	// FaultReset forwards the request and resets the connection instead of answering.
	FaultReset
	// FaultTruncate forwards the request and cuts the answer's body short, then closes the connection.
	FaultTruncate
)

func (f Fault) String() string {
	return [...]string{"none", "500", "503", "500-after-forwarding", "reset", "truncated-body"}[f]
}

// Kind is a kind of S3 request, as the FaultProxy tells them apart.
type Kind string

const (
	KindGet    Kind = "GET"    // GetObject
	KindHead   Kind = "HEAD"   // HeadObject
	KindList   Kind = "LIST"   // ListObjectsV2 (a GET on the bucket)
	KindPut    Kind = "PUT"    // PutObject, conditional or not
	KindDelete Kind = "DELETE" // DeleteObject
)

// faultsFor are the faults that make sense for a kind of request.
var faultsFor = map[Kind][]Fault{
	KindGet:    {Fault500, Fault503, Fault500After, FaultReset, FaultTruncate},
	KindList:   {Fault500, Fault503, Fault500After, FaultReset, FaultTruncate},
	KindHead:   {Fault500, Fault503, FaultReset},
	KindPut:    {Fault500, Fault503, Fault500After, FaultReset},
	KindDelete: {Fault500, Fault503, Fault500After, FaultReset},
}

// FaultProxy is an HTTP reverse proxy on loopback in front of an S3 server that injects faults: at a
// random rate per request kind (from a seeded generator), and scripted ones for exact scenarios. Point a
// store at it with lake.StoreOptions{S3Endpoint: p.URL}; requests are forwarded with their signature intact.
type FaultProxy struct {
	URL string

	target string
	client *http.Client
	mu     sync.Mutex
	rng    *rand.Rand
	rates  map[Kind]float64
	script []scripted
	counts map[Fault]int
}

type scripted struct {
	kind  Kind
	match string // substring of the request path
	fault Fault
}

// StartFaultProxy starts a proxy in front of the server srv for the test; it injects nothing until told to.
func (s *Server) StartFaultProxy(t testing.TB, seed uint64) *FaultProxy {
	t.Helper()
	p := &FaultProxy{
		target: s.Endpoint,
		client: &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}},
		rng:    rand.New(rand.NewPCG(seed, seed^0x5eed)),
		rates:  map[Kind]float64{},
		counts: map[Fault]int{},
	}
	hs := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(hs.Close)
	p.URL = hs.URL
	return p
}

// SetRate makes a random share (0..1) of the requests of kind fail with one of the faults that fit it.
func (p *FaultProxy) SetRate(kind Kind, rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rates[kind] = rate
}

// SetRates sets the same rate for every kind of request; 0 stops random faults.
func (p *FaultProxy) SetRates(rate float64) {
	for k := range faultsFor {
		p.SetRate(k, rate)
	}
}

// Script queues faults for the next requests of kind whose path contains match, one fault per request, in
// order. Scripted faults come before random ones.
func (p *FaultProxy) Script(kind Kind, match string, faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range faults {
		p.script = append(p.script, scripted{kind, match, f})
	}
}

// ClearScript drops the scripted faults not used yet.
func (p *FaultProxy) ClearScript() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.script = nil
}

// Injected is how many faults of each kind the proxy has injected so far.
func (p *FaultProxy) Injected() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.counts))
	for f, n := range p.counts {
		out[f] = n
	}
	return out
}

// InjectedTotal is how many faults the proxy has injected so far.
func (p *FaultProxy) InjectedTotal() int {
	n := 0
	for _, c := range p.Injected() {
		n += c
	}
	return n
}

func kindOf(r *http.Request) Kind {
	object := strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1 // path-style: /bucket/key
	switch {
	case r.Method == http.MethodGet && !object:
		return KindList
	case r.Method == http.MethodGet:
		return KindGet
	case r.Method == http.MethodHead:
		return KindHead
	case r.Method == http.MethodPut:
		return KindPut
	case r.Method == http.MethodDelete:
		return KindDelete
	}
	return ""
}

func (p *FaultProxy) choose(r *http.Request) Fault {
	kind := kindOf(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	f := FaultNone
	for i, s := range p.script {
		if s.kind == kind && strings.Contains(r.URL.Path, s.match) {
			f = s.fault
			p.script = append(p.script[:i], p.script[i+1:]...)
			break
		}
	}
	if f == FaultNone && p.rates[kind] > 0 && p.rng.Float64() < p.rates[kind] {
		fs := faultsFor[kind]
		f = fs[p.rng.IntN(len(fs))]
	}
	if f != FaultNone {
		p.counts[f]++
	}
	return f
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	fault := p.choose(r)
	switch fault {
	case Fault500:
		s3Error(w, http.StatusInternalServerError, "InternalError", "injected: not forwarded")
		return
	case Fault503:
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "injected: not forwarded")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		s3Error(w, http.StatusBadGateway, "InternalError", err.Error())
		return
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host // the client signed the proxy's host
	out.ContentLength = int64(len(body))
	resp, err := p.client.Do(out)
	if err != nil {
		s3Error(w, http.StatusBadGateway, "InternalError", err.Error())
		return
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		s3Error(w, http.StatusBadGateway, "InternalError", err.Error())
		return
	}
	switch fault {
	case Fault500After:
		s3Error(w, http.StatusInternalServerError, "InternalError", "injected: forwarded, answer lost")
		return
	case FaultReset:
		reset(w)
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if fault == FaultTruncate && len(respBody) > 0 && r.Method != http.MethodHead {
		w.Header().Set("Content-Length", strconv.Itoa(len(respBody)))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(respBody[:len(respBody)/2])
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// reset closes the client's connection with a TCP RST, without an answer.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}
