package service

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
)

// Patch updates the fields of an auth config named by mask (AIP-134 paths
// in lowerCamelCase; empty: every field set in body; "*": every mutable
// field). Paths may reach inside decryptedCredential
// ("decryptedCredential.usernameAndPassword.password"); the path
// "clientCertificate" replaces the client certificate with cert (nil
// removes it), and a non-empty cert replaces it whatever the mask. Changing
// the secret part needs the secrets key that sealed it.
func (a *AuthConfigs) Patch(ctx context.Context, k store.AuthConfigKey, body []byte, mask []string, cert *credential.ClientCertificate, principal string) (*AuthConfig, error) {
	name := AuthConfigName(k)
	cur, err := a.st.GetAuthConfig(ctx, k)
	if err != nil {
		return nil, storeErr(err, "auth config "+name)
	}
	patch, err := decodeAuthConfig(body)
	if err != nil {
		return nil, err
	}
	var next AuthConfig
	if err := json.Unmarshal(cur.Doc, &next); err != nil {
		return nil, err
	}
	clearOutputOnly(&next)
	var doc AuthConfig // for the fields the patch does not set
	_ = json.Unmarshal(cur.Doc, &doc)
	next.CreatorEmail = doc.CreatorEmail
	next.LastModifierEmail = doc.LastModifierEmail
	if email := principalEmail(principal); email != "" {
		next.LastModifierEmail = email
	}

	var credPaths []string // under decryptedCredential; "" is the whole credential
	typeSet, certSet := false, !cert.IsZero()
	for _, p := range patchPaths(patch, mask) {
		top, rest, _ := strings.Cut(p, ".")
		switch {
		case slices.Contains(authConfigOutputOnly, top):
			return nil, rpc.InvalidArgument("update_mask", "field %q is output only", p)
		case !slices.Contains(authConfigMutable, top):
			return nil, rpc.InvalidArgument("update_mask", "unknown field %q", p)
		case rest != "" && top != "decryptedCredential":
			return nil, rpc.InvalidArgument("update_mask", "field %q has no sub-fields to update", top)
		}
		switch top {
		case "displayName":
			next.DisplayName = patch.DisplayName
		case "description":
			next.Description = patch.Description
		case "credentialType":
			next.CredentialType, typeSet = patch.CredentialType, true
		case "decryptedCredential":
			if rest != "" && !credentialPath(rest) {
				return nil, rpc.InvalidArgument("update_mask", "unknown field %q", p)
			}
			credPaths = append(credPaths, rest)
		case "validTime":
			next.ValidTime = patch.ValidTime
		case "overrideValidTime":
			next.OverrideValidTime = patch.OverrideValidTime
		case "expiryNotificationDuration":
			next.ExpiryNotificationDuration = patch.ExpiryNotificationDuration
		case "visibility":
			next.Visibility = patch.Visibility
		case "certificateId":
			next.CertificateID = patch.CertificateID
		case "clientCertificate":
			certSet = true
		}
	}

	var rec *store.AuthConfig
	if len(credPaths) > 0 || certSet || (typeSet && next.CredentialType != cur.CredentialType) {
		cs, err := a.open(cur)
		if err != nil {
			return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "auth config %s: %v; its credential cannot be updated (delete and recreate the auth config)", name, err)
		}
		cred := cs.Credential
		for _, p := range credPaths {
			if p == "" {
				cred = patch.DecryptedCredential
				continue
			}
			if cred, err = patchCredential(cred, patch.DecryptedCredential, p); err != nil {
				return nil, err
			}
		}
		switch {
		case typeSet && len(credPaths) == 0 && cred != nil:
			cred.CredentialType = next.CredentialType
		case !typeSet && cred != nil && cred.CredentialType != "":
			next.CredentialType = cred.CredentialType
		}
		newCert := cs.ClientCertificate
		if certSet {
			newCert = cert
		}
		if rec, err = a.record(k, &next, cred, newCert); err != nil {
			return nil, err
		}
	} else {
		if err := validateAuthConfigFields(&next); err != nil {
			return nil, err
		}
		next.DecryptedCredential = doc.DecryptedCredential
		rec = &store.AuthConfig{Key: k, DisplayName: next.DisplayName, CredentialType: next.CredentialType, Credential: cur.Credential}
		if rec.Doc, err = json.Marshal(&next); err != nil {
			return nil, err
		}
	}
	rec.UpdateTime = a.now().UTC()
	if err := a.st.UpdateAuthConfig(ctx, rec); err != nil {
		return nil, storeErr(err, "auth config "+name)
	}
	a.forget(k)
	return a.view(rec)
}

// patchPaths returns the fields a patch updates.
func patchPaths(patch *AuthConfig, mask []string) []string {
	switch {
	case len(mask) == 1 && mask[0] == "*":
		return authConfigMutable
	case len(mask) > 0:
		return mask
	}
	var set map[string]json.RawMessage
	b, _ := json.Marshal(patch)
	_ = json.Unmarshal(b, &set)
	var paths []string
	for _, f := range authConfigMutable {
		if _, ok := set[f]; ok {
			paths = append(paths, f)
		}
	}
	return paths
}

var credentialType = reflect.TypeOf(credential.Credential{})

// credentialPath reports whether the dotted lowerCamelCase path names a
// field of a Credential.
func credentialPath(path string) bool {
	t := credentialType
	for seg := range strings.SplitSeq(path, ".") {
		name, ft, ok := spec.ResolveKey(t, seg)
		if !ok || name != seg {
			return false
		}
		t = ft
	}
	return true
}

// patchCredential copies the field at path from patch into a copy of cur
// (removing it when patch does not set it).
func patchCredential(cur, patch *credential.Credential, path string) (*credential.Credential, error) {
	root, src := toMap(cur), toMap(patch)
	dst := root
	segs := strings.Split(path, ".")
	for _, s := range segs[:len(segs)-1] {
		src, _ = src[s].(map[string]any) // nil when patch lacks it
		d, ok := dst[s].(map[string]any)
		if !ok {
			d = map[string]any{}
			dst[s] = d
		}
		dst = d
	}
	last := segs[len(segs)-1]
	if v, ok := src[last]; ok {
		dst[last] = v
	} else {
		delete(dst, last)
	}
	return fromMap(root)
}

// The helpers below round-trip a Credential through a JSON map.

func toMap(c *credential.Credential) map[string]any {
	m := map[string]any{}
	if c != nil {
		b, _ := json.Marshal(c)
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func fromMap(m map[string]any) (*credential.Credential, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var c credential.Credential
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, rpc.InvalidArgument("auth_config.decrypted_credential", "%v", describeDecodeError(err))
	}
	return &c, nil
}
