package secrettest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// AssertNoSecret checks that none of the secrets appear in any rendering of v. Every secret
// must be non-empty.
func AssertNoSecret(t testing.TB, v any, secrets ...string) {
	t.Helper()
	var renders []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		renders = append(renders, fmt.Sprintf(verb, v))
	}
	if b, err := json.Marshal(v); err == nil {
		renders = append(renders, string(b))
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "v", v)
	renders = append(renders, logged.String())
	if err, ok := v.(error); ok {
		renders = append(renders, err.Error())
	}
	for _, r := range renders {
		for _, s := range secrets {
			require.NotEmpty(t, s)
			assert.NotContains(t, r, s)
			assert.NotContains(t, strings.ToLower(r), strings.ToLower(fmt.Sprintf("%x", s)), "hex-encoded secret")
		}
	}
}
