package main

import "testing"

func TestCountWording(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{plural(0, "finding"), "0 findings"},
		{plural(1, "finding"), "1 finding"},
		{plural(2, "hunt"), "2 hunts"},
		{countsList(map[string]int{"ipv4": 11, "domain": 3}), "domain 3, ipv4 11"},
		{countsList(nil), "none"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
