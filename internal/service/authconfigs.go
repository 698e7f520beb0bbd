package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/secrets"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
)

// AuthConfig is an auth config as the API shows it: Google's
// GoogleCloudIntegrationsV1alphaAuthConfig. DecryptedCredential is
// write-only: what the API returns is its Redacted form, without secrets;
// EncryptedCredential is never returned.
type AuthConfig struct {
	Name                       string                 `json:"name,omitempty"`
	DisplayName                string                 `json:"displayName,omitempty"`
	Description                string                 `json:"description,omitempty"`
	CredentialType             string                 `json:"credentialType,omitempty"`
	DecryptedCredential        *credential.Credential `json:"decryptedCredential,omitempty"`
	EncryptedCredential        string                 `json:"encryptedCredential,omitempty"`
	State                      string                 `json:"state,omitempty"`
	Reason                     string                 `json:"reason,omitempty"`
	ValidTime                  string                 `json:"validTime,omitempty"`
	OverrideValidTime          string                 `json:"overrideValidTime,omitempty"`
	ExpiryNotificationDuration []string               `json:"expiryNotificationDuration,omitempty"`
	Visibility                 string                 `json:"visibility,omitempty"`
	CertificateID              string                 `json:"certificateId,omitempty"`
	CreatorEmail               string                 `json:"creatorEmail,omitempty"`
	LastModifierEmail          string                 `json:"lastModifierEmail,omitempty"`
	CreateTime                 string                 `json:"createTime,omitempty"`
	UpdateTime                 string                 `json:"updateTime,omitempty"`
}

// Auth config states (AuthConfig.state) that integrationd reports.
const (
	AuthConfigValid   = "VALID"
	AuthConfigInvalid = "INVALID"
	AuthConfigExpired = "EXPIRED"
)

// authConfigOutputOnly are the fields the service owns: ignored in a
// create or patch body, refused in an update mask.
var authConfigOutputOnly = []string{"name", "state", "reason", "encryptedCredential", "createTime", "updateTime", "creatorEmail", "lastModifierEmail"}

// authConfigMutable are the fields an update mask may name ("*" names them
// all), in lowerCamelCase; clientCertificate stands for the
// clientCertificate.* query parameters.
var authConfigMutable = []string{"displayName", "description", "credentialType", "decryptedCredential", "validTime",
	"overrideValidTime", "expiryNotificationDuration", "visibility", "certificateId", "clientCertificate"}

// sealed is the secret part of an auth config, sealed into the store's
// Credential column.
type sealed struct {
	Credential        *credential.Credential        `json:"credential,omitempty"`
	ClientCertificate *credential.ClientCertificate `json:"clientCertificate,omitempty"`
}

// NoSecretsKeyMessage explains how to give integrationd a secrets key.
const NoSecretsKeyMessage = "integrationd has no secrets key to encrypt credentials at rest: start it with --secrets-key-file FILE " +
	"or the environment variable " + secrets.EnvKey + " (32 random bytes, base64 or hex, e.g. from `openssl rand -base64 32`), " +
	"or with --insecure-dev-secrets for development only"

// AuthConfigs manages auth configs: the API's create, get, list, patch and
// delete, and Resolve for the tasks that authenticate with them. It is
// safe for concurrent use.
type AuthConfigs struct {
	st   store.Store
	keys *secrets.Keyring
	now  func() time.Time

	mu       sync.Mutex
	appliers map[store.AuthConfigKey]cachedApplier
}

// cachedApplier is the Applier compiled from one sealed credential.
type cachedApplier struct {
	sealed []byte
	a      credential.Applier
}

// NewAuthConfigs returns the auth configs of st. keys seals credentials;
// nil means no key, and an auth config with a credential is refused. now
// is the clock (nil: time.Now).
func NewAuthConfigs(st store.Store, keys *secrets.Keyring, now func() time.Time) *AuthConfigs {
	if now == nil {
		now = time.Now
	}
	return &AuthConfigs{st: st, keys: keys, now: now, appliers: make(map[store.AuthConfigKey]cachedApplier)}
}

// AuthConfigName is the resource name of an auth config.
func AuthConfigName(k store.AuthConfigKey) string {
	return "projects/" + k.Project + "/locations/" + k.Location + "/authConfigs/" + k.ID
}

func aad(k store.AuthConfigKey) []byte { return []byte(AuthConfigName(k)) }

// decodeAuthConfig reads a request body (proto3 JSON, camelCase or
// snake_case) into an AuthConfig.
func decodeAuthConfig(body []byte) (*AuthConfig, error) {
	var ac AuthConfig
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := spec.Unmarshal(body, &ac); err != nil {
			return nil, rpc.InvalidArgument("auth_config", "%v", describeDecodeError(err))
		}
	}
	return &ac, nil
}

// principalEmail turns an IAM member ("user:alice@example.com") into the
// e-mail Google shows as creatorEmail; "" for anonymous callers.
func principalEmail(principal string) string {
	if _, email, ok := strings.Cut(principal, ":"); ok {
		return email
	}
	if strings.Contains(principal, "@") {
		return principal
	}
	return ""
}

// Create stores a new auth config from a request body, with the client
// certificate of the clientCertificate.* query parameters (nil when none),
// on behalf of principal. The server assigns the ID, a UUID.
func (a *AuthConfigs) Create(ctx context.Context, project, location string, body []byte, cert *credential.ClientCertificate, principal string) (*AuthConfig, error) {
	in, err := decodeAuthConfig(body)
	if err != nil {
		return nil, err
	}
	if in.EncryptedCredential != "" && in.DecryptedCredential == nil {
		return nil, rpc.InvalidArgument("auth_config.encrypted_credential", "integrationd cannot decrypt Google's Cloud KMS ciphertext: send the credential in decrypted_credential")
	}
	k := store.AuthConfigKey{Project: project, Location: location, ID: uuid.NewString()}
	cred := in.DecryptedCredential
	clearOutputOnly(in)
	email := principalEmail(principal)
	in.CreatorEmail, in.LastModifierEmail = email, email
	rec, err := a.record(k, in, cred, cert)
	if err != nil {
		return nil, err
	}
	now := a.now().UTC()
	rec.CreateTime, rec.UpdateTime = now, now
	if err := a.st.CreateAuthConfig(ctx, rec); err != nil {
		return nil, storeErr(err, "auth config "+AuthConfigName(k))
	}
	return a.view(rec)
}

func clearOutputOnly(ac *AuthConfig) {
	ac.Name, ac.State, ac.Reason, ac.EncryptedCredential = "", "", "", ""
	ac.CreateTime, ac.UpdateTime, ac.CreatorEmail, ac.LastModifierEmail = "", "", "", ""
	ac.DecryptedCredential = nil
}

// record validates an auth config and its secret part and builds the
// store record: the non-secret fields with the redacted credential in Doc,
// and the credential and certificate sealed in Credential. ac must have
// its output-only fields cleared; cred is the credential to store (nil:
// none), whose redacted form replaces ac.DecryptedCredential in Doc.
func (a *AuthConfigs) record(k store.AuthConfigKey, ac *AuthConfig, cred *credential.Credential, cert *credential.ClientCertificate) (*store.AuthConfig, error) {
	if err := validateAuthConfigFields(ac); err != nil {
		return nil, err
	}
	if cred != nil {
		switch {
		case cred.CredentialType == "":
			cred.CredentialType = ac.CredentialType
		case ac.CredentialType == "" || ac.CredentialType == credential.TypeUnspecified:
			ac.CredentialType = cred.CredentialType
		case ac.CredentialType != cred.CredentialType:
			return nil, rpc.InvalidArgument("auth_config.credential_type", "%s does not match decrypted_credential.credential_type %s", ac.CredentialType, cred.CredentialType)
		}
	} else if ac.CredentialType != "" && ac.CredentialType != credential.TypeUnspecified {
		cred = &credential.Credential{CredentialType: ac.CredentialType}
	}
	if cert.IsZero() {
		cert = nil
	}
	if cred == nil && cert != nil {
		ac.CredentialType = credential.TypeClientCertificateOnly
		cred = &credential.Credential{CredentialType: ac.CredentialType}
	}
	rec := &store.AuthConfig{Key: k, DisplayName: ac.DisplayName, CredentialType: ac.CredentialType}
	if cred != nil || cert != nil {
		if _, err := credential.New(cred, cert, credential.Options{Now: a.now}); err != nil {
			var fe *credential.FieldError
			if errors.As(err, &fe) {
				field := "auth_config.decrypted_credential." + fe.Path
				if strings.HasPrefix(fe.Path, "client_certificate") {
					field = fe.Path
				}
				return nil, rpc.InvalidArgument(field, "%s", fe.Msg)
			}
			return nil, rpc.InvalidArgument("auth_config.decrypted_credential", "%v", err)
		}
		if a.keys == nil {
			return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "%s", NoSecretsKeyMessage)
		}
		plain, err := json.Marshal(sealed{Credential: cred, ClientCertificate: cert})
		if err != nil {
			return nil, err
		}
		if rec.Credential, err = a.keys.Seal(plain, aad(k)); err != nil {
			return nil, fmt.Errorf("sealing the credential of %s: %w", AuthConfigName(k), err)
		}
	}
	doc := *ac
	doc.DecryptedCredential = cred.Redacted()
	var err error
	if rec.Doc, err = json.Marshal(&doc); err != nil {
		return nil, err
	}
	return rec, nil
}

func validateAuthConfigFields(ac *AuthConfig) error {
	for _, f := range []struct{ field, v string }{{"valid_time", ac.ValidTime}, {"override_valid_time", ac.OverrideValidTime}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, f.v); err != nil {
			return rpc.InvalidArgument("auth_config."+f.field, "%q is not an RFC 3339 time", f.v)
		}
	}
	switch ac.Visibility {
	case "", "AUTH_CONFIG_VISIBILITY_UNSPECIFIED", "PRIVATE", "CLIENT_VISIBLE":
	default:
		return rpc.InvalidArgument("auth_config.visibility", "unknown visibility %q (PRIVATE or CLIENT_VISIBLE)", ac.Visibility)
	}
	for i, d := range ac.ExpiryNotificationDuration {
		secs, ok := strings.CutSuffix(d, "s")
		n, err := strconv.ParseFloat(secs, 64)
		if !ok || err != nil || n < 0 || n > 30*24*3600 {
			return rpc.InvalidArgument(fmt.Sprintf("auth_config.expiry_notification_duration[%d]", i), "%q is not a duration of up to 30 days such as \"86400s\"", d)
		}
	}
	return nil
}

// expiry returns when an auth config stops being valid: overrideValidTime
// if set, else validTime; zero when never.
func (ac *AuthConfig) expiry() time.Time {
	s := ac.OverrideValidTime
	if s == "" {
		s = ac.ValidTime
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// view turns a record into what the API returns.
func (a *AuthConfigs) view(r *store.AuthConfig) (*AuthConfig, error) {
	var ac AuthConfig
	if err := json.Unmarshal(r.Doc, &ac); err != nil {
		return nil, fmt.Errorf("stored auth config %s: %w", r.Key.ID, err)
	}
	ac.Name = AuthConfigName(r.Key)
	ac.CreateTime = r.CreateTime.UTC().Format(time.RFC3339Nano)
	ac.UpdateTime = r.UpdateTime.UTC().Format(time.RFC3339Nano)
	switch exp := ac.expiry(); {
	case r.Credential == nil:
		ac.State, ac.Reason = AuthConfigInvalid, "the auth config has no credential"
	case !exp.IsZero() && !a.now().Before(exp):
		ac.State, ac.Reason = AuthConfigExpired, "valid until "+exp.UTC().Format(time.RFC3339)
	default:
		ac.State = AuthConfigValid
	}
	return &ac, nil
}

// Get returns one auth config.
func (a *AuthConfigs) Get(ctx context.Context, k store.AuthConfigKey) (*AuthConfig, error) {
	r, err := a.st.GetAuthConfig(ctx, k)
	if err != nil {
		return nil, storeErr(err, "auth config "+AuthConfigName(k))
	}
	return a.view(r)
}

// List returns a page of auth configs ordered by ID and whether more
// follow (q.Limit of them are returned at most; q.Limit must be > 0).
func (a *AuthConfigs) List(ctx context.Context, q store.AuthConfigQuery) (page []*AuthConfig, more bool, err error) {
	limit := q.Limit
	q.Limit++
	rs, err := a.st.ListAuthConfigs(ctx, q)
	if err != nil {
		return nil, false, storeErr(err, "auth configs")
	}
	if len(rs) > limit {
		rs, more = rs[:limit], true
	}
	page = make([]*AuthConfig, 0, len(rs))
	for _, r := range rs {
		v, err := a.view(r)
		if err != nil {
			return nil, false, err
		}
		page = append(page, v)
	}
	return page, more, nil
}

// Delete deletes an auth config.
func (a *AuthConfigs) Delete(ctx context.Context, k store.AuthConfigKey) error {
	if err := a.st.DeleteAuthConfig(ctx, k); err != nil {
		return storeErr(err, "auth config "+AuthConfigName(k))
	}
	a.forget(k)
	return nil
}

func (a *AuthConfigs) forget(k store.AuthConfigKey) {
	a.mu.Lock()
	delete(a.appliers, k)
	a.mu.Unlock()
}

// open decrypts the secret part of a record (empty when it has none).
func (a *AuthConfigs) open(r *store.AuthConfig) (*sealed, error) {
	var s sealed
	if r.Credential == nil {
		return &s, nil
	}
	if a.keys == nil {
		return nil, errors.New("its credential is encrypted and integrationd runs without a secrets key (--secrets-key-file or " + secrets.EnvKey + ")")
	}
	plain, err := a.keys.Open(r.Credential, aad(r.Key))
	switch {
	case errors.Is(err, secrets.ErrNoKey):
		return nil, fmt.Errorf("its credential was encrypted with another secrets key: %w", err)
	case err != nil:
		return nil, fmt.Errorf("its credential does not decrypt: %w", err)
	}
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, fmt.Errorf("its decrypted credential does not decode: %w", err)
	}
	return &s, nil
}
