// The record decoder before the one-pass parser (goccy/go-json behind a validator), kept as the oracle the
// new one is compared with, row for row.
package cloudtrail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/compact/logtime"

	json "github.com/goccy/go-json"
	"github.com/valyala/fastjson"

	"github.com/lakehunt/lakehunt/lake"
)

// record mirrors the CloudTrail record fields the table keeps. Free-form parts stay raw JSON text.
// A nullable column's field is a pointer: nil when the record has no such key or null, "" when it says "".
type record struct {
	EventVersion        *string      `json:"eventVersion"`
	UserIdentity        userIdentity `json:"userIdentity"`
	EventTime           string       `json:"eventTime"`
	EventSource         string       `json:"eventSource"`
	EventName           string       `json:"eventName"`
	AWSRegion           string       `json:"awsRegion"`
	SourceIPAddress     *string      `json:"sourceIPAddress"`
	UserAgent           *string      `json:"userAgent"`
	ErrorCode           *string      `json:"errorCode"`
	ErrorMessage        *string      `json:"errorMessage"`
	RequestParameters   *rawText     `json:"requestParameters"`
	ResponseElements    *rawText     `json:"responseElements"`
	AdditionalEventData *rawText     `json:"additionalEventData"`
	ServiceEventDetails *rawText     `json:"serviceEventDetails"`
	Resources           *rawText     `json:"resources"`
	RequestID           *string      `json:"requestID"`
	EventID             string       `json:"eventID"`
	EventType           *string      `json:"eventType"`
	EventCategory       *string      `json:"eventCategory"`
	ReadOnly            flexBool     `json:"readOnly"`
	ManagementEvent     flexBool     `json:"managementEvent"`
	RecipientAccountID  *string      `json:"recipientAccountId"`
	SharedEventID       *string      `json:"sharedEventID"`
	VPCEndpointID       *string      `json:"vpcEndpointId"`
	TLSDetails          struct {
		CipherSuite *string `json:"cipherSuite"`
	} `json:"tlsDetails"`
}

type userIdentity struct {
	raw    rawText
	fields struct {
		Type           *string `json:"type"`
		PrincipalID    *string `json:"principalId"`
		ARN            *string `json:"arn"`
		AccountID      *string `json:"accountId"`
		AccessKeyID    *string `json:"accessKeyId"`
		UserName       *string `json:"userName"`
		InvokedBy      *string `json:"invokedBy"`
		SessionContext struct {
			SessionIssuer struct {
				Type *string `json:"type"`
				ARN  *string `json:"arn"`
			} `json:"sessionIssuer"`
			Attributes struct {
				MFAAuthenticated flexBool `json:"mfaAuthenticated"`
			} `json:"attributes"`
		} `json:"sessionContext"`
	}
}

func (u *userIdentity) UnmarshalJSON(b []byte) error {
	if err := u.raw.UnmarshalJSON(b); err != nil || u.raw == "" {
		return err
	}
	return json.Unmarshal(b, &u.fields)
}

// rawText is a JSON value kept as compact JSON text; JSON null becomes "" (a NULL column).
type rawText string

// column is the text as a JSON column: nil (NULL) for an absent or null value (JSON text is never empty).
func (t *rawText) column() *string {
	if t == nil || *t == "" {
		return nil
	}
	return (*string)(t)
}

func (t *rawText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = ""
		return nil
	}
	if bytes.ContainsAny(b, " \t\r\n") {
		var buf bytes.Buffer
		buf.Grow(len(b))
		if err := stdjson.Compact(&buf, b); err != nil {
			return err
		}
		b = buf.Bytes()
	}
	*t = rawText(b)
	return nil
}

// flexBool accepts true/false and the strings "true"/"false" (any case); anything else is NULL.
type flexBool struct{ v *bool }

var (
	oldBoolTrue  = true
	oldBoolFalse = false
)

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	switch {
	case strings.EqualFold(s, "true"):
		f.v = &oldBoolTrue
	case strings.EqualFold(s, "false"):
		f.v = &oldBoolFalse
	default:
		f.v = nil
	}
	return nil
}

// ParseEvent turns one CloudTrail record (a JSON object) into a row. Lineage is left for the caller
// (Parse fills SourceKey and SourceLine). Invalid UTF-8 is replaced by U+FFFD. The row's bool pointers
// may be shared between rows: treat them as read-only.
func oldParseEvent(raw []byte, fallbackAccount, fallbackRegion string) (ev lake.CloudTrailEvent, err error) {
	// The validator and the decoder recurse per nesting level: bound the depth before they see the record.
	if err := jsonlimit.Check(raw); err != nil {
		return ev, err
	}
	// Every column must be valid UTF-8 (DuckDB rejects other VARCHARs); encoding/json does the same.
	if !utf8.Valid(raw) {
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	// goccy/go-json is fast on valid JSON but has open bugs on malformed input (goccy/go-json#604:
	// out-of-range reads), so only valid JSON reaches it, and recover is the last resort.
	if !oldValid(raw) {
		return ev, fmt.Errorf("invalid record: %w", stdjson.Unmarshal(raw, new(any)))
	}
	defer func() {
		if p := recover(); p != nil {
			ev, err = lake.CloudTrailEvent{}, fmt.Errorf("invalid record: JSON decoder failed: %v", p)
		}
	}()
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return ev, fmt.Errorf("invalid record: %w", simplifyJSONError(err))
	}
	return r.row(raw, fallbackAccount, fallbackRegion)
}

// Valid reports whether b is one valid JSON text, accepting exactly what encoding/json's Valid accepts
// at about three times its speed (it was 15% of compaction time): fastjson's validator, which also
// accepts raw control characters inside strings, plus a check for those.
func oldValid(b []byte) bool {
	return fastjson.ValidateBytes(b) == nil && !controlInString(b)
}

func controlInString(b []byte) bool {
	in, esc := false, false
	for _, c := range b {
		switch {
		case !in:
			in = c == '"'
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '"':
			in = false
		case c < 0x20:
			return true
		}
	}
	return false
}

func (r *record) row(raw []byte, fallbackAccount, fallbackRegion string) (lake.CloudTrailEvent, error) {
	if r.EventID == "" {
		if v := oldDeref(r.EventVersion); v != "1.0" && v != "1.00" {
			return lake.CloudTrailEvent{}, errors.New("record has no eventID")
		}
		r.EventID = oldDerivedEventID(raw)
	}
	if r.EventTime == "" {
		return lake.CloudTrailEvent{}, errors.New("record has no eventTime")
	}
	t, err := logtime.Parse(r.EventTime)
	if err != nil {
		return lake.CloudTrailEvent{}, fmt.Errorf("eventTime %q is not an ISO 8601 UTC time", oldTruncate(r.EventTime, 64))
	}
	ui := &r.UserIdentity.fields
	principal := ui.ARN
	if a := ui.SessionContext.SessionIssuer.ARN; a != nil && *a != "" {
		principal = a
	}
	ev := lake.CloudTrailEvent{
		EventTime:               t,
		AccountID:               oldDeref(r.RecipientAccountID),
		Region:                  r.AWSRegion,
		EventID:                 r.EventID,
		EventVersion:            r.EventVersion,
		EventName:               r.EventName,
		EventSource:             r.EventSource,
		EventType:               r.EventType,
		EventCategory:           r.EventCategory,
		ReadOnly:                r.ReadOnly.v,
		ManagementEvent:         r.ManagementEvent.v,
		SourceIPAddress:         r.SourceIPAddress,
		UserAgent:               r.UserAgent,
		ErrorCode:               r.ErrorCode,
		ErrorMessage:            r.ErrorMessage,
		UserIdentityType:        ui.Type,
		UserIdentityARN:         ui.ARN,
		UserIdentityAccountID:   ui.AccountID,
		UserIdentityPrincipalID: ui.PrincipalID,
		UserIdentityUserName:    ui.UserName,
		UserIdentityInvokedBy:   ui.InvokedBy,
		PrincipalARN:            principal,
		AccessKeyID:             ui.AccessKeyID,
		SessionIssuerARN:        ui.SessionContext.SessionIssuer.ARN,
		SessionIssuerType:       ui.SessionContext.SessionIssuer.Type,
		SessionMFAAuthenticated: ui.SessionContext.Attributes.MFAAuthenticated.v,
		RequestID:               r.RequestID,
		SharedEventID:           r.SharedEventID,
		RecipientAccountID:      r.RecipientAccountID,
		VPCEndpointID:           r.VPCEndpointID,
		TLSCipherSuite:          r.TLSDetails.CipherSuite,
		RequestParameters:       r.RequestParameters.column(),
		ResponseElements:        r.ResponseElements.column(),
		AdditionalEventData:     r.AdditionalEventData.column(),
		ServiceEventDetails:     r.ServiceEventDetails.column(),
		Resources:               r.Resources.column(),
		UserIdentity:            r.UserIdentity.raw.column(),
	}
	if ev.AccountID == "" {
		ev.AccountID = fallbackAccount
	}
	if ev.Region == "" {
		ev.Region = fallbackRegion
	}
	return ev, nil
}

func oldDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// derivedEventID names an event of eventVersion 1.0, which predates the eventID field, by a hash of
// its compact JSON, so copies delivered by several trails still deduplicate.
func oldDerivedEventID(raw []byte) string {
	var buf bytes.Buffer
	if stdjson.Compact(&buf, raw) != nil {
		buf.Reset()
		buf.Write(raw)
	}
	sum := sha256.Sum256(buf.Bytes())
	return "derived-" + hex.EncodeToString(sum[:16])
}

func oldTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// simplifyJSONError keeps decoder messages short: they end up in quarantine reports.
func simplifyJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		name := te.Field
		if f, ok := reflect.TypeFor[record]().FieldByName(name); ok {
			name, _, _ = strings.Cut(f.Tag.Get("json"), ",")
		}
		return fmt.Errorf("field %s: JSON %s where CloudTrail has %s", name, te.Value, te.Type)
	}
	return err
}
