package tokenmgr

import "github.com/deltashare/deltashare/tokenmgr/secret"

// Sensitive is [secret.Sensitive] (a secret that prints as "[redacted]"), named here so that
// callers of [Activate] need not import package secret.
type Sensitive = secret.Sensitive
