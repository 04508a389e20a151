package store_test

import (
	"errors"
	"fmt"

	"github.com/oauthkit/oauthkit/store"
)

// A registration endpoint answers a refused registration with the RFC 7591
// error code and description that Validate gives.
func ExampleClient_Validate() {
	c := &store.Client{
		ID:           "native-app",
		AuthMethod:   store.AuthNone,
		GrantTypes:   []string{store.GrantAuthorizationCode},
		RedirectURIs: []string{"http://localhost:8080/cb"},
	}
	err := c.Validate()
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Code, ve.Field)
		fmt.Println(ve.Description)
	}
	fmt.Println(errors.Is(err, store.ErrInvalidClient))

	c.RedirectURIs = []string{"http://127.0.0.1:8080/cb", "com.example.app:/cb"}
	fmt.Println(c.Validate())
	// Output:
	// invalid_redirect_uri redirect_uris
	// redirect_uri "http://localhost:8080/cb" uses http, which is allowed only on a loopback IP literal (127.0.0.1, [::1]; not localhost)
	// true
	// <nil>
}
