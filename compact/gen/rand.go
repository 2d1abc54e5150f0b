package gen

import (
	"math/bits"
	"strconv"
)

// rng is SplitMix64. We keep our own generator (and integer-only distributions) rather than
// math/rand so that the bytes produced for a seed do not depend on the Go version.
type rng struct{ s uint64 }

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// seedOf mixes the parts into one 64-bit seed. Every unit of work (one hour of one stream, one
// scenario, ...) draws from its own generator seeded by its identity, so units can run in any order
// and in parallel and still produce the same bytes.
func seedOf(parts ...uint64) uint64 {
	h := uint64(0x6a09e667f3bcc909)
	for _, p := range parts {
		h = splitmix(h ^ p)
	}
	return h
}

func newRNG(parts ...uint64) rng { return rng{s: seedOf(parts...)} }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n); 0 when n <= 0.
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

func (r *rng) pick(xs []string) string { return xs[r.intn(len(xs))] }

// heavy returns a value in [lo, hi] that is small most of the time and occasionally 10x or 100x larger.
func (r *rng) heavy(lo, hi int) int {
	v := r.between(lo, hi)
	switch x := r.intn(100); {
	case x < 2:
		v *= 100
	case x < 10:
		v *= 10
	}
	return v
}

const hexDigits = "0123456789abcdef"

func (r *rng) appendHex(b []byte, n int) []byte {
	for n > 0 {
		v := r.u64()
		for i := 0; i < 16 && n > 0; i++ {
			b = append(b, hexDigits[v&15])
			v >>= 4
			n--
		}
	}
	return b
}

func (r *rng) hex(n int) string { return string(r.appendHex(make([]byte, 0, n), n)) }

// appendUUID appends a random (version 4) UUID.
func (r *rng) appendUUID(b []byte) []byte {
	hi, lo := r.u64(), r.u64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	var raw [32]byte
	for i := 0; i < 16; i++ {
		raw[15-i] = hexDigits[hi&15]
		hi >>= 4
		raw[31-i] = hexDigits[lo&15]
		lo >>= 4
	}
	b = append(b, raw[0:8]...)
	b = append(b, '-')
	b = append(b, raw[8:12]...)
	b = append(b, '-')
	b = append(b, raw[12:16]...)
	b = append(b, '-')
	b = append(b, raw[16:20]...)
	b = append(b, '-')
	return append(b, raw[20:32]...)
}

func (r *rng) uuid() string { return string(r.appendUUID(make([]byte, 0, 36))) }

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
const mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (r *rng) appendFrom(b []byte, alphabet string, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, alphabet[r.intn(len(alphabet))])
	}
	return b
}

func (r *rng) from(alphabet string, n int) string {
	return string(r.appendFrom(make([]byte, 0, n), alphabet, n))
}

// awsID returns an AWS-style id such as AKIA + 16 base32 characters.
func awsID(prefix string, seed uint64) string {
	r := rng{s: seed}
	return prefix + r.from(upperAlnum, 16)
}

// hashStr is FNV-1a: stable identities for seeding.
func hashStr(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// sampler picks an index with probability proportional to its weight.
type sampler struct{ cum []float64 }

func (s *sampler) add(w float64) {
	last := 0.0
	if n := len(s.cum); n > 0 {
		last = s.cum[n-1]
	}
	s.cum = append(s.cum, last+w)
}

func (s *sampler) total() float64 {
	if len(s.cum) == 0 {
		return 0
	}
	return s.cum[len(s.cum)-1]
}

// pick returns -1 when the sampler is empty or all weights are zero.
func (s *sampler) pick(r *rng) int {
	t := s.total()
	if t <= 0 {
		return -1
	}
	x := r.float() * t
	lo, hi := 0, len(s.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if s.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// zipf returns n weights 1, 1/2^s, 1/3^s ... with s = 1 (a long tail with a few favourites).
func zipf(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(i+1)
	}
	return w
}

// IPv4 helpers: addresses are uint32 internally and rendered once.
func ip4(a, b, c, d int) uint32 { return uint32(a)<<24 | uint32(b)<<16 | uint32(c)<<8 | uint32(d) }

func appendIP(b []byte, ip uint32) []byte {
	b = strconv.AppendUint(b, uint64(ip>>24), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(ip>>16&255), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(ip>>8&255), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(ip&255), 10)
}

func ipString(ip uint32) string { return string(appendIP(nil, ip)) }

// block is an IPv4 range [base, base+size).
type block struct {
	base uint32
	size uint32
}

func cidr(a, b, c, d, bits int) block {
	return block{base: ip4(a, b, c, d), size: 1 << (32 - bits)}
}

// host returns a host address in the block that is not the network or broadcast address.
func (bl block) host(r *rng) uint32 {
	if bl.size <= 2 {
		return bl.base
	}
	return bl.base + 1 + uint32(r.intn(int(bl.size-2)))
}

func (bl block) contains(ip uint32) bool { return ip-bl.base < bl.size }

// hostOf is host() for a value derived from a hash (stable per name).
func (bl block) hostOf(h uint64) uint32 {
	r := rng{s: h}
	return bl.host(&r)
}
