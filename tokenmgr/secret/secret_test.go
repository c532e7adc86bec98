package secret

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deltashare/deltashare/internal/secrettest"
)

func TestSensitive(t *testing.T) {
	s := Sensitive("dapi-very-secret")
	assert.Equal(t, "dapi-very-secret", s.Reveal())
	assert.False(t, s.IsZero())
	assert.Equal(t, "[redacted]", s.String())
	secrettest.AssertNoSecret(t, s, "dapi-very-secret")
	secrettest.AssertNoSecret(t, struct{ S Sensitive }{s}, "dapi-very-secret")
	secrettest.AssertNoSecret(t, &struct{ S Sensitive }{s}, "dapi-very-secret")
	assert.Equal(t, "", Sensitive("").String())
	assert.True(t, Sensitive("").IsZero())
}

func TestRedact(t *testing.T) {
	tests := []struct{ msg, secret, want string }{
		{"token abcdef in text", "abcdef", "token [redacted] in text"},
		{"GET /x/a%2Fb%3D", "a/b=", "GET /x/[redacted]"},
		{"short ab stays", "ab", "short ab stays"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Redact(tc.msg, tc.secret))
	}
}
