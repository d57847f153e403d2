package sigstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	rekortilespb "github.com/sigstore/rekor-tiles/v2/pkg/generated/protobuf"
	rekorclient "github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

// rekorFor builds a sign.Rekor whose HTTP requests go through the retrying transport: sigstore-go
// would otherwise build its own clients (v1: go-retryablehttp; v2: no retries, no transport hook).
func (k *Keyless) rekorFor(ctx context.Context, s keyless.Log) (sign.Transparency, error) {
	hc := &http.Client{Transport: k.transportFor(ctx, "rekor")}
	switch s.Version {
	case 1:
		u, err := url.Parse(s.URL)
		if err != nil {
			return nil, fmt.Errorf("parse url: %w", err)
		}
		if u.Path == "" {
			u.Path = rekorclient.DefaultBasePath
		}
		rt := httptransport.NewWithClient(u.Host, u.Path, []string{u.Scheme}, hc)
		rt.Consumers["application/json"] = runtime.JSONConsumer()
		rt.Consumers["application/x-pem-file"] = runtime.TextConsumer()
		rt.Producers["application/json"] = runtime.JSONProducer()
		c := rekorclient.New(rt, strfmt.Default)
		return sign.NewRekor(&sign.RekorOptions{
			BaseURL: s.URL,
			Version: 1,
			Timeout: k.retry.Budget(), // the whole operation; each attempt is bounded by the transport
			Client:  c.Entries,
		}), nil
	case 2:
		return sign.NewRekor(&sign.RekorOptions{
			BaseURL:  s.URL,
			Version:  2,
			ClientV2: &rekorV2Client{base: s.URL, client: hc},
		}), nil
	default:
		return nil, fmt.Errorf("unsupported rekor api version %d", s.Version)
	}
}

// rekorV2Client is rekor-tiles' write client (pkg/client/write) with an injectable HTTP client.
type rekorV2Client struct {
	base   string
	client *http.Client
}

func (c *rekorV2Client) Add(ctx context.Context, entry any) (*protorekor.TransparencyLogEntry, error) {
	h, ok := entry.(*rekortilespb.HashedRekordRequestV002)
	if !ok {
		return nil, fmt.Errorf("unsupported rekor v2 entry type %T", entry)
	}
	body, err := protojson.Marshal(&rekortilespb.CreateEntryRequest{
		Spec: &rekortilespb.CreateEntryRequest_HashedRekordRequestV002{HashedRekordRequestV002: h},
	})
	if err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	u, err := url.Parse(c.base)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	u.Path = path.Join(u.Path, "/api/v2/log/entries")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, &statusError{code: resp.StatusCode, msg: fmt.Sprintf("rekor v2 returned %d: %s", resp.StatusCode, excerpt(rb))}
	}
	var tle protorekor.TransparencyLogEntry
	if err := protojson.Unmarshal(rb, &tle); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return &tle, nil
}

// statusError is an HTTP answer other than the one expected; IsCode matches go-openapi's errors, which
// the Rekor v1 client returns.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string        { return e.msg }
func (e *statusError) IsCode(code int) bool { return e.code == code }

// rekorVersionHint names what is misconfigured when a log answers 404 to the entry upload: the URL
// serves the other Rekor API (rekor-tiles is v2 only, and has no /api/v1/log/entries; a Rekor v1
// server has no /api/v2/log/entries). Empty when err is something else.
func rekorVersionHint(err error, l keyless.Log) string {
	var coded interface{ IsCode(int) bool }
	if !errors.As(err, &coded) || !coded.IsCode(http.StatusNotFound) {
		return ""
	}
	other := 2
	if l.Version == 2 {
		other = 1
	}
	hint := fmt.Sprintf("%s has no Rekor v%d API (404): if it is a Rekor v%d log, pass --rekor-version %d", l.URL, l.Version, other, other)
	if other == 2 {
		hint += " (v2 logs give no integrated time: add --tsa-url)"
	}
	return hint + ", or give a --signing-config that names the log with its version"
}
