package rpc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/parley-negotiation/parley/server/workflow"
)

// pageToken is where a list left off. It is bound to the list it came from
// (kind) and to the request's parent and filters (scope), so that it cannot be
// used to continue another list.
type pageToken struct {
	Kind    string `json:"k"`
	Scope   string `json:"s"`
	After   int64  `json:"a,omitempty"` // sequence or offset
	AfterID string `json:"i,omitempty"`
	Version string `json:"v,omitempty"` // document hash, for GetDocument
}

func encodePageToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken returns the token, or the zero token for "", checking that
// it belongs to this kind of list and scope.
func decodePageToken(s, kind, scope string) (pageToken, error) {
	if s == "" {
		return pageToken{}, nil
	}
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Kind != kind || t.Scope != scope || t.After < 0 {
		return pageToken{}, workflow.Errorf(workflow.EINVALID, "PAGE_TOKEN_INVALID",
			"page_token does not come from this list with these filters; start again without it")
	}
	return t, nil
}

// scopeOf digests a request's parent and filters.
func scopeOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// pageSize applies a list's default and maximum to a requested page size.
func pageSize(requested int32, def, max int) (int, error) {
	switch {
	case requested < 0:
		return 0, workflow.Errorf(workflow.EINVALID, "PAGE_SIZE_INVALID", "page_size must not be negative")
	case requested == 0:
		return def, nil
	case int(requested) > max:
		return max, nil
	}
	return int(requested), nil
}
