package tokenmgr

import (
	"errors"

	"github.com/deltashare/deltashare/internal/operr"
)

// Activation sentinels (test with errors.Is). The store's are in store.go.
var (
	// ErrActivationUsed: the activation link was already used.
	ErrActivationUsed = errors.New("this activation link was already used; ask the data provider to issue a new link")
	// ErrActivationExpired: the activation link has expired before it was used.
	ErrActivationExpired = errors.New("this activation link has expired; ask the data provider to issue a new link")
	// ErrActivationLinkUnknown: the activation service does not know the link's code: the link
	// is incomplete (cut short when copied) or mistyped.
	ErrActivationLinkUnknown = errors.New("the activation service does not know this activation link")
	// ErrNotActivationEndpoint: the link's host does not answer like a Delta Sharing activation
	// service (wrong host, or a page that is not an activation link).
	ErrNotActivationEndpoint = errors.New("the link's host is not a Delta Sharing activation service")
	// ErrInvalidActivationLink: the activation link or code is malformed.
	ErrInvalidActivationLink = errors.New("invalid activation link")
)

// StoreError is the error of the credential store and of [Activate]'s local steps (names,
// destination files, recovery). Its message says what failed and what to do next; it never
// contains a secret. It unwraps to a sentinel (Kind: [ErrCredentialExists],
// [ErrCredentialNotFound], [ErrCredentialPending], [ErrInvalidCredentialName],
// [ErrInsecurePermissions], [ErrCredentialNotSaved], sharing.ErrInvalidProfile, or nil) and to
// its cause (an *fs.PathError, ...). Advice that names options or operations (options named
// {LikeThis}) is carried by an error in the chain with a Hint() string method. Op (what was
// being done, e.g. "store the credential") and Kind (the sentinel it matches, may be nil) are
// fields of the embedded base.
type StoreError struct {
	operr.Base
}

// newStoreError builds a StoreError with a fixed message.
func newStoreError(op string, kind error, msg string, cause error) *StoreError {
	return &StoreError{operr.New(op, kind, msg, cause)}
}

// newHintedStoreError builds a StoreError whose message is msg followed by advice (see
// hint.WithAdvice).
func newHintedStoreError(op string, kind error, msg, advice string, cause error) *StoreError {
	return &StoreError{operr.WithAdvice(op, kind, msg, advice, cause)}
}

// ActivationError is the error of reading an activation link and downloading its credential
// ([ParseActivationLink], [FetchActivation], and [Activate] when the download fails). Its
// message never contains the link, the code or the token. It unwraps to a sentinel (Kind:
// [ErrInvalidActivationLink], [ErrActivationUsed], [ErrActivationExpired],
// [ErrActivationLinkUnknown], [ErrNotActivationEndpoint], context.Canceled,
// context.DeadlineExceeded, or nil); the SDK's error is deliberately not chained, since its
// text may carry the request URL, which holds the activation code. Op (what was being done,
// e.g. "fetch the Delta Sharing credential") and Kind are fields of the embedded base.
type ActivationError struct {
	operr.Base
	// StatusCode is the HTTP status the activation service answered with (0 if none).
	StatusCode int
	// ErrorCode is the service's error code, e.g. RESOURCE_DOES_NOT_EXIST ("" if none).
	ErrorCode string
}

// newActivationError builds an ActivationError with a fixed message.
func newActivationError(op string, kind error, msg string, cause error) *ActivationError {
	return &ActivationError{Base: operr.New(op, kind, msg, cause)}
}
