package credential

// Redacted returns a copy of c with every secret removed: passwords,
// client secrets, tokens, JWT secrets, authorization codes, token
// parameters and service account keys (a key is replaced by its
// client_email). What remains is what the API shows of a credential. A nil
// c gives nil.
func (c *Credential) Redacted() *Credential {
	if c == nil {
		return nil
	}
	r := &Credential{CredentialType: c.CredentialType}
	if x := c.UsernameAndPassword; x != nil {
		r.UsernameAndPassword = &UsernameAndPassword{Username: x.Username}
	}
	if x := c.AuthToken; x != nil {
		r.AuthToken = &AuthToken{Type: x.Type}
	}
	if x := c.OAuth2ClientCredentials; x != nil {
		r.OAuth2ClientCredentials = &OAuth2ClientCredentials{ClientID: x.ClientID, TokenEndpoint: x.TokenEndpoint,
			Scope: x.Scope, RequestType: x.RequestType}
	}
	if x := c.OAuth2ResourceOwnerCredentials; x != nil {
		r.OAuth2ResourceOwnerCredentials = &OAuth2ResourceOwnerCredentials{ClientID: x.ClientID, TokenEndpoint: x.TokenEndpoint,
			Scope: x.Scope, RequestType: x.RequestType, Username: x.Username}
	}
	if x := c.OAuth2AuthorizationCode; x != nil {
		r.OAuth2AuthorizationCode = &OAuth2AuthorizationCode{ClientID: x.ClientID, AuthEndpoint: x.AuthEndpoint,
			TokenEndpoint: x.TokenEndpoint, Scope: x.Scope, RequestType: x.RequestType, ApplyReauthPolicy: x.ApplyReauthPolicy}
	}
	if x := c.JWT; x != nil {
		r.JWT = &JWT{JWTHeader: x.JWTHeader, JWTPayload: x.JWTPayload}
	}
	if x := c.OIDCToken; x != nil {
		r.OIDCToken = &OIDCToken{Audience: x.Audience, ServiceAccountEmail: x.ServiceAccountEmail, TokenExpireTime: x.TokenExpireTime}
	}
	if x := c.ServiceAccountCredentials; x != nil {
		r.ServiceAccountCredentials = &ServiceAccountCredentials{ServiceAccount: serviceAccountEmail(x.ServiceAccount), Scope: x.Scope}
	}
	return r
}
