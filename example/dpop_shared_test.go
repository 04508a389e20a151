package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestSharedDPoPPostgres and TestSharedDPoPRedis: two instances on one
// store (PostgreSQL, Redis) behind one issuer: a DPoP proof used at one is
// a replay at the other, at the token endpoint and at /api/data, because
// both record proofs in the store's replay cache.
func TestSharedDPoPPostgres(t *testing.T) { testSharedDPoP(t, postgresSpec(t)) }

func TestSharedDPoPRedis(t *testing.T) { testSharedDPoP(t, redisSpec(t)) }

func TestSharedDPoPRedisCluster(t *testing.T) { testSharedDPoP(t, redisClusterSpec(t)) }

func testSharedDPoP(t *testing.T, spec string) {
	a := startInstance(t, spec)
	b := startInstance(t, spec)
	secret := a.app.secrets["demo-service"]
	const public = "http://127.0.0.1:5000" // the instances' issuer: the URL proofs name
	c := newGoClient(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	proof := c.proof(t, "POST", public+"/oauth/token", "", nil)
	status, _, tok := send(t, "POST", a.url+"/oauth/token", basic("demo-service", secret), proof, form)
	at, _ := tok["access_token"].(string)
	if status != 200 || tok["token_type"] != "DPoP" {
		t.Fatalf("token at a: %d %v", status, tok)
	}
	if status, _, body := send(t, "POST", b.url+"/oauth/token", basic("demo-service", secret), proof, form); status != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("the proof replayed at b's token endpoint: %d %v", status, body)
	}
	api := c.proof(t, "GET", public+"/api/data", at, nil)
	if status, _, _ := send(t, "GET", a.url+"/api/data", "DPoP "+at, api, nil); status != 200 {
		t.Fatalf("/api/data at a: %d", status)
	}
	status, hdr, _ := send(t, "GET", b.url+"/api/data", "DPoP "+at, api, nil)
	if status != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_dpop_proof"`) {
		t.Fatalf("the proof replayed at b's /api/data: %d %q", status, hdr.Get("WWW-Authenticate"))
	}
	if status, _, _ := send(t, "GET", b.url+"/api/data", "DPoP "+at, c.proof(t, "GET", public+"/api/data", at, nil), nil); status != 200 {
		t.Fatalf("a fresh proof at b: %d", status)
	}
}
