package lake_test

import (
	"testing"

	"github.com/lakehunt/lakehunt/lake"
)

// NullEmptyStrings nils the *string columns that point to "" (JSON columns and those of embedded structs
// too) and leaves the rest: non-empty strings, zero numbers and booleans, required strings, and the
// strings themselves, which parsers share between rows.
func TestNullEmptyStrings(t *testing.T) {
	empty, value, zero, no := "", "AccessDenied", int32(0), false
	rows := []lake.CloudTrailEvent{
		{EventID: "", ErrorCode: &empty, ErrorMessage: &value, UserIdentity: &empty, ReadOnly: &no},
		{EventID: "e2", ErrorCode: &value, ErrorMessage: &empty, Resources: &empty},
	}
	lake.NullEmptyStrings(rows)
	if rows[0].ErrorCode != nil || rows[0].UserIdentity != nil || rows[1].ErrorMessage != nil || rows[1].Resources != nil {
		t.Errorf("a *string pointing to \"\" was kept: %+v", rows)
	}
	if rows[0].ErrorMessage != &value || rows[1].ErrorCode != &value || rows[0].ReadOnly != &no {
		t.Errorf("a value was dropped: %+v", rows)
	}
	if rows[1].EventID != "e2" || empty != "" || value != "AccessDenied" {
		t.Errorf("strings changed: %+v", rows)
	}
	flows := []lake.VPCFlowRecord{{Action: &empty, SrcPort: &zero, Lineage: lake.Lineage{SourceKey: ""}}}
	lake.NullEmptyStrings(flows)
	if flows[0].Action != nil || flows[0].SrcPort != &zero {
		t.Errorf("vpc_flow row: action %v, srcport %v", flows[0].Action, flows[0].SrcPort)
	}
}
