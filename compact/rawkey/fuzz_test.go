package rawkey

import (
	"strings"
	"testing"
)

// FuzzClassify: any key classifies without panicking. A key of a known source names the AWSLogs/ folder
// it was read from (Info.Key, a suffix of the key), says why when it is not events, and classifies the
// same from Info.Key alone, so the lake records an object under one name however it was listed.
// Seeds: testdata/fuzz/FuzzClassify, the keys of TestClassify.
func FuzzClassify(f *testing.F) {
	f.Add("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/07/111122223333_CloudTrail_us-east-1_20240307T1205Z_aBcD1234eFgH5678.json.gz")
	f.Fuzz(func(t *testing.T, key string) {
		info := Classify(key)
		if info.Source == "" {
			if info != (Info{}) {
				t.Fatalf("no source, yet %+v", info)
			}
			return
		}
		if !strings.HasPrefix(info.Key, "AWSLogs/") || !strings.HasSuffix(key, info.Key) {
			t.Fatalf("Key %q is not the key from an AWSLogs/ folder on", info.Key)
		}
		if info.Kind == Unknown && info.Reason == "" {
			t.Fatalf("not events, and no reason: %+v", info)
		}
		if info.Kind != Unknown && (!isAccountID(info.AccountID) || info.Day.IsZero() || info.Reason != "") {
			t.Fatalf("events without an account or a day, or with a reason: %+v", info)
		}
		if again := Classify(info.Key); again != info {
			t.Fatalf("Classify(%q) = %+v, from the whole key %+v", info.Key, again, info)
		}
	})
}
