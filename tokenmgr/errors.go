package tokenmgr

import (
	"errors"

	"github.com/deltashare/deltashare/internal/hint"
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
// {LikeThis}) is carried by an error in the chain with a Hint() string method.
type StoreError struct {
	// Op is what was being done, e.g. "store the credential".
	Op string
	// Kind is the sentinel this error matches (may be nil).
	Kind error

	msg   string
	cause error
}

// Error returns the actionable message.
func (e *StoreError) Error() string { return e.msg }

// Unwrap exposes Kind and the cause to errors.Is / errors.As.
func (e *StoreError) Unwrap() []error { return unwrapBoth(e.Kind, e.cause) }

// newStoreError builds a StoreError with a fixed message.
func newStoreError(op string, kind error, msg string, cause error) *StoreError {
	return &StoreError{Op: op, Kind: kind, msg: msg, cause: cause}
}

// newHintedStoreError builds a StoreError whose message is msg followed by advice (see
// hint.WithAdvice).
func newHintedStoreError(op string, kind error, msg, advice string, cause error) *StoreError {
	text, chain := hint.WithAdvice(msg, advice, cause)
	return &StoreError{Op: op, Kind: kind, msg: text, cause: chain}
}

// ActivationError is the error of reading an activation link and downloading its credential
// ([ParseActivationLink], [FetchActivation], and [Activate] when the download fails). Its
// message never contains the link, the code or the token. It unwraps to a sentinel (Kind:
// [ErrInvalidActivationLink], [ErrActivationUsed], [ErrActivationExpired],
// [ErrActivationLinkUnknown], [ErrNotActivationEndpoint], context.Canceled,
// context.DeadlineExceeded, or nil); the SDK's error is deliberately not chained, since its
// text may carry the request URL, which holds the activation code.
type ActivationError struct {
	// Op is what was being done, e.g. "fetch the Delta Sharing credential".
	Op string
	// Kind is the sentinel this error matches (may be nil).
	Kind error
	// StatusCode is the HTTP status the activation service answered with (0 if none).
	StatusCode int
	// ErrorCode is the service's error code, e.g. RESOURCE_DOES_NOT_EXIST ("" if none).
	ErrorCode string

	msg   string
	cause error
}

// Error returns the redacted, actionable message.
func (e *ActivationError) Error() string { return e.msg }

// Unwrap exposes Kind and the cause to errors.Is / errors.As.
func (e *ActivationError) Unwrap() []error { return unwrapBoth(e.Kind, e.cause) }

// newActivationError builds an ActivationError with a fixed message.
func newActivationError(op string, kind error, msg string, cause error) *ActivationError {
	return &ActivationError{Op: op, Kind: kind, msg: msg, cause: cause}
}

func unwrapBoth(kind, cause error) []error {
	var out []error
	if kind != nil {
		out = append(out, kind)
	}
	if cause != nil {
		out = append(out, cause)
	}
	return out
}
