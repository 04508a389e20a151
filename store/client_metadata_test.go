package store_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// metadataClient has every metadata field set.
func metadataClient() *store.Client {
	return &store.Client{
		PostLogoutRedirectURIs:      []string{"https://app.example/bye", "com.example.app:/bye"},
		IDTokenSignedResponseAlg:    "EdDSA",
		JWKS:                        []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`),
		JWKSURI:                     "https://app.example/jwks.json",
		TokenEndpointAuthSigningAlg: "ES256",
		DPoPBoundAccessTokens:       true,
		StrictAuthMethod:            true,
		RegistrationTokenHash:       store.HashSecret("registration token"),
		ClientURI:                   "https://app.example/",
		LogoURI:                     "https://app.example/logo.png",
		Contacts:                    []string{"ops@app.example", "Ünïcode <u@app.example>"},
		SoftwareID:                  "4NRB1-0XZABZI9E6-5SM3R",
		SoftwareVersion:             "2.1",
	}
}

// TestMetadataCoversEveryField sets, one at a time, every Client field after
// CreatedAt and checks that it round-trips through MarshalMetadata and
// UnmarshalMetadata: a field added to Client later fails here until the
// metadata carries it, so that no backend needs a migration for it.
func TestMetadataCoversEveryField(t *testing.T) {
	full := reflect.ValueOf(metadataClient()).Elem()
	typ := full.Type()
	created, _ := typ.FieldByName("CreatedAt")
	for i := created.Index[0] + 1; i < typ.NumField(); i++ {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			if full.Field(i).IsZero() {
				t.Fatalf("metadataClient leaves %s zero: give it a value", f.Name)
			}
			var one store.Client
			reflect.ValueOf(&one).Elem().Field(i).Set(full.Field(i))
			b, err := one.MarshalMetadata()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(b, []byte("{}")) {
				t.Fatalf("MarshalMetadata leaves %s out", f.Name)
			}
			var back store.Client
			if err := back.UnmarshalMetadata(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, one) {
				t.Errorf("%s: round trip through %s gave %+v, want %+v", f.Name, b, back, one)
			}
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	c := metadataClient()
	b, err := c.MarshalMetadata()
	if err != nil {
		t.Fatal(err)
	}
	// RFC 7591 names, the hash in hex and never the token.
	for _, want := range []string{`"post_logout_redirect_uris":`, `"jwks":{"keys":`, `"jwks_uri":`, `"dpop_bound_access_tokens":true`,
		`"registration_token_hash":"` + c.RegistrationTokenHash.String() + `"`, `"software_id":`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metadata %s lacks %s", b, want)
		}
	}
	// Unmarshalling overwrites every metadata field, and leaves the others.
	back := &store.Client{ID: "kept", Name: "kept", SoftwareVersion: "stale", Contacts: []string{"stale"}}
	if err := back.UnmarshalMetadata(b); err != nil {
		t.Fatal(err)
	}
	want := metadataClient()
	want.ID, want.Name = "kept", "kept"
	if !reflect.DeepEqual(back, want) {
		t.Errorf("round trip = %+v\nwant         %+v", back, want)
	}
	if err := back.UnmarshalMetadata([]byte(`{"software_id":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if back.SoftwareID != "x" || back.SoftwareVersion != "" || back.JWKS != nil || back.DPoPBoundAccessTokens ||
		!back.RegistrationTokenHash.IsZero() || back.Contacts != nil || back.ID != "kept" {
		t.Errorf("fields absent from the metadata were not reset: %+v", back)
	}
}

func TestMetadataEmpty(t *testing.T) {
	b, err := (&store.Client{ID: "x", Name: "n", Scopes: []string{"a"}}).MarshalMetadata()
	if err != nil || string(b) != "{}" {
		t.Errorf("MarshalMetadata of a client without metadata = %s, %v; want {}", b, err)
	}
	for _, data := range []string{"", " ", "null", "{}", `{"jwks":null}`} {
		c := metadataClient()
		if err := c.UnmarshalMetadata([]byte(data)); err != nil {
			t.Errorf("UnmarshalMetadata(%q) = %v", data, err)
		}
		if !reflect.DeepEqual(c, &store.Client{}) {
			t.Errorf("UnmarshalMetadata(%q) left %+v", data, c)
		}
	}
	if err := new(store.Client).UnmarshalMetadata(nil); err != nil {
		t.Errorf("UnmarshalMetadata(nil) = %v", err)
	}
}

// TestMetadataJWKSCompacted: JWKS comes back as the same JSON value.
func TestMetadataJWKSCompacted(t *testing.T) {
	c := &store.Client{JWKS: []byte("{\n  \"keys\": [ {\"kty\": \"OKP\"} ]\n}")}
	b, err := c.MarshalMetadata()
	if err != nil {
		t.Fatal(err)
	}
	var back store.Client
	if err := back.UnmarshalMetadata(b); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	_ = json.Compact(&want, c.JWKS)
	if !bytes.Equal(back.JWKS, want.Bytes()) {
		t.Errorf("JWKS = %s, want %s", back.JWKS, want.Bytes())
	}
	if _, err := (&store.Client{JWKS: []byte(`{"keys":`)}).MarshalMetadata(); err == nil {
		t.Error("MarshalMetadata accepted a JWKS that is not JSON")
	}
}

func TestMetadataUnknownAndMalformed(t *testing.T) {
	var c store.Client
	if err := c.UnmarshalMetadata([]byte(`{"software_id":"x","from_a_newer_version":{"a":[1]},"tos_uri":"https://a.example/tos"}`)); err != nil || c.SoftwareID != "x" {
		t.Errorf("unknown keys: %v, %+v", err, c)
	}
	for _, data := range []string{`[]`, `{`, `"x"`, `{"contacts":"ops@app.example"}`, `{"dpop_bound_access_tokens":"yes"}`,
		`{"registration_token_hash":"abcd"}`, `{"registration_token_hash":"` + strings.Repeat("z", 64) + `"}`} {
		if err := new(store.Client).UnmarshalMetadata([]byte(data)); err == nil || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("UnmarshalMetadata(%s) = %v, want a store: error", data, err)
		}
	}
}
