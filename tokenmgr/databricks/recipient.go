package databricks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/sharing"

	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// Recipient is a Delta Sharing recipient as the provider sees it. Activation links are
// secrets (whoever opens one first gets the credential): they are held as [secret.Sensitive] and
// left out of String(); JSON shows them as "[redacted]".
type Recipient struct {
	Name               string    `json:"name"`
	Comment            string    `json:"comment,omitempty"`
	Owner              string    `json:"owner,omitempty"`
	ID                 string    `json:"id,omitempty"`
	AuthenticationType string    `json:"authentication_type"`
	Activated          bool      `json:"activated"`
	Created            time.Time `json:"created,omitzero"`
	CreatedBy          string    `json:"created_by,omitempty"`
	Updated            time.Time `json:"updated,omitzero"`
	UpdatedBy          string    `json:"updated_by,omitempty"`
	MetastoreID        string    `json:"metastore_id,omitempty"`
	Cloud              string    `json:"cloud,omitempty"`
	Region             string    `json:"region,omitempty"`
	// ActivationLink is the link the recipient has not used yet (empty once activated).
	ActivationLink secret.Sensitive `json:"activation_link,omitempty"`
	// Tokens are the recipient's live tokens, oldest first.
	Tokens []RecipientToken `json:"tokens,omitempty"`
}

// RecipientToken is one of a recipient's tokens.
type RecipientToken struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created,omitzero"`
	CreatedBy string    `json:"created_by,omitempty"`
	// Expiry is when the token stops working; zero means it never expires.
	Expiry time.Time `json:"expiry,omitzero"`
	// ActivationLink is set while the token's credential has not been downloaded.
	ActivationLink secret.Sensitive `json:"activation_link,omitempty"`
}

// PendingActivation reports whether an activation link is waiting to be used.
func (r Recipient) PendingActivation() bool { return !r.ActivationLink.IsZero() }

// String describes the recipient without activation links.
func (r Recipient) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recipient %s (%s", r.Name, r.AuthenticationType)
	switch {
	case r.PendingActivation():
		b.WriteString(", activation link not used yet")
	case r.Activated:
		b.WriteString(", activated")
	}
	b.WriteString(")")
	for _, t := range r.Tokens {
		b.WriteString("; ")
		b.WriteString(t.String())
	}
	return b.String()
}

// GoString keeps %#v from printing activation links.
func (r Recipient) GoString() string { return "databricks.Recipient{" + r.String() + "}" }

// String describes the token without its activation link.
func (t RecipientToken) String() string {
	s := "token " + t.ID
	if t.Expiry.IsZero() {
		s += " never expires"
	} else {
		s += " expires " + t.Expiry.UTC().Format(time.RFC3339)
	}
	if !t.ActivationLink.IsZero() {
		s += " (activation link not used yet)"
	}
	return s
}

// GoString keeps %#v from printing the activation link.
func (t RecipientToken) GoString() string { return "databricks.RecipientToken{" + t.String() + "}" }

func fromRecipientInfo(in *sharing.RecipientInfo) *Recipient {
	r := &Recipient{
		Name:               in.Name,
		Comment:            in.Comment,
		Owner:              in.Owner,
		ID:                 in.Id,
		AuthenticationType: string(in.AuthenticationType),
		Activated:          in.Activated,
		Created:            msTime(in.CreatedAt),
		CreatedBy:          in.CreatedBy,
		Updated:            msTime(in.UpdatedAt),
		UpdatedBy:          in.UpdatedBy,
		MetastoreID:        in.MetastoreId,
		Cloud:              in.Cloud,
		Region:             in.Region,
	}
	for _, t := range in.Tokens {
		r.Tokens = append(r.Tokens, RecipientToken{
			ID:             t.Id,
			Created:        msTime(t.CreatedAt),
			CreatedBy:      t.CreatedBy,
			Expiry:         msTime(t.ExpirationTime),
			ActivationLink: secret.Sensitive(t.ActivationUrl),
		})
	}
	switch {
	case in.ActivationUrl != "" && !in.Activated:
		r.ActivationLink = secret.Sensitive(in.ActivationUrl)
	default:
		for i := len(r.Tokens) - 1; i >= 0; i-- {
			if !r.Tokens[i].ActivationLink.IsZero() {
				r.ActivationLink = r.Tokens[i].ActivationLink
				break
			}
		}
	}
	return r
}

// recipientSecrets lists the activation links in an SDK answer, for scrubbing errors.
func recipientSecrets(in *sharing.RecipientInfo) []string {
	if in == nil {
		return nil
	}
	out := []string{in.ActivationUrl}
	for _, t := range in.Tokens {
		out = append(out, t.ActivationUrl)
	}
	return out
}

func checkRecipientName(op, name string) error {
	if strings.TrimSpace(name) == "" {
		return newError(op, nil, op+": a recipient name is required", nil)
	}
	return nil
}

// CreateRecipient creates a recipient that authenticates with a bearer token (authentication
// type TOKEN, open sharing). The result holds the activation link to send to the recipient.
func (w *Workspace) CreateRecipient(ctx context.Context, name, comment string) (*Recipient, error) {
	return w.CreateRecipientWith(ctx, RecipientSpec{Name: name, Comment: comment})
}

// RecipientSpec describes a recipient to create.
type RecipientSpec struct {
	Name    string
	Comment string
	// Expiry is when the recipient's token stops working; zero leaves it to the metastore's
	// recipient token lifetime.
	Expiry time.Time
}

// CreateRecipientWith creates a TOKEN recipient. Recipient names are unique case-insensitively
// (as Unity Catalog treats them): a name that differs from an existing one only in case is
// refused with an error matching ErrWorkspaceConflict, before anything is sent.
func (w *Workspace) CreateRecipientWith(ctx context.Context, spec RecipientSpec) (*Recipient, error) {
	name := spec.Name
	op := "create recipient " + name
	if err := checkRecipientName(op, name); err != nil {
		return nil, err
	}
	existing, err := w.ListRecipients(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range existing {
		if strings.EqualFold(r.Name, name) {
			return nil, newError(op, ErrWorkspaceConflict, fmt.Sprintf(
				"%s: recipient %s already exists (recipient names are case-insensitive): choose another name, or rotate its token instead", op, r.Name), nil)
		}
	}
	req := sharing.CreateRecipient{
		Name:               name,
		Comment:            spec.Comment,
		AuthenticationType: sharing.AuthenticationTypeToken,
	}
	if !spec.Expiry.IsZero() {
		req.ExpirationTime = spec.Expiry.UnixMilli()
	}
	info, err := w.client.Recipients.Create(ctx, req)
	if err != nil {
		return nil, w.err(op, err, recipientSecrets(info)...)
	}
	return fromRecipientInfo(info), nil
}

// ShowRecipient returns a recipient with its tokens and, while it is not activated, its
// activation link.
func (w *Workspace) ShowRecipient(ctx context.Context, name string) (*Recipient, error) {
	op := "show recipient " + name
	if err := checkRecipientName(op, name); err != nil {
		return nil, err
	}
	info, err := w.client.Recipients.Get(ctx, sharing.GetRecipientRequest{Name: name})
	if err != nil {
		return nil, w.err(op, err, recipientSecrets(info)...)
	}
	return fromRecipientInfo(info), nil
}

// ListRecipients lists the recipients the caller can see.
func (w *Workspace) ListRecipients(ctx context.Context) ([]Recipient, error) {
	infos, err := w.client.Recipients.ListAll(ctx, sharing.ListRecipientsRequest{})
	if err != nil {
		return nil, w.err("list recipients", err)
	}
	out := make([]Recipient, 0, len(infos))
	for i := range infos {
		out = append(out, *fromRecipientInfo(&infos[i]))
	}
	return out, nil
}

// DeleteRecipient deletes a recipient; its tokens stop working at once.
func (w *Workspace) DeleteRecipient(ctx context.Context, name string) error {
	op := "delete recipient " + name
	if err := checkRecipientName(op, name); err != nil {
		return err
	}
	if err := w.client.Recipients.Delete(ctx, sharing.DeleteRecipientRequest{Name: name}); err != nil {
		return w.err(op, err)
	}
	return nil
}

// RotateRecipientToken issues a new token (and activation link) for the recipient. The
// existing tokens keep working for keepOldFor (whole seconds; 0 revokes them at once).
func (w *Workspace) RotateRecipientToken(ctx context.Context, name string, keepOldFor time.Duration) (*Recipient, error) {
	op := "rotate the token of recipient " + name
	if err := checkRecipientName(op, name); err != nil {
		return nil, err
	}
	if keepOldFor < 0 {
		return nil, newError(op, nil, fmt.Sprintf("%s: the time to keep the old token must not be negative (got %s)", op, keepOldFor), nil)
	}
	info, err := w.client.Recipients.RotateToken(ctx, sharing.RotateRecipientToken{
		Name:                         name,
		ExistingTokenExpireInSeconds: int64(keepOldFor / time.Second),
	})
	if err != nil {
		return nil, w.err(op, err, recipientSecrets(info)...)
	}
	return fromRecipientInfo(info), nil
}
