package publish

import "errors"

// Retryable reports whether publishing again later may succeed where err failed: it may unless every
// failure in it is a service's refusal (a 4xx other than 429).
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var walk func(error) bool // true if some leaf is retryable
	walk = func(e error) bool {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				if walk(x) {
					return true
				}
			}
			return false
		}
		var he *HTTPError
		if errors.As(e, &he) {
			return he.Transient()
		}
		return true
	}
	return walk(err)
}
