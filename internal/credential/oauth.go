package credential

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/integrationd/integrationd/internal/value"
)

const (
	// maxExpiryMargin is how long before its expiry a cached token is
	// replaced; a token living less than twice this is replaced at half
	// its life.
	maxExpiryMargin = 30 * time.Second
	// noExpiryLifetime is how long a token whose endpoint gave no
	// expires_in is used.
	noExpiryLifetime = time.Hour
)

// fetchFunc obtains a new token; cur is the cached one (possibly expired,
// nil at first), whose refresh token it may use.
type fetchFunc func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error)

// tokenCache holds one auth config's current access token. A one-slot
// channel serializes fetches, so concurrent requests that find the token
// expired wait for one fetch rather than each making their own, and a
// waiting request still honours its context.
type tokenCache struct {
	now  func() time.Time
	lock chan struct{}
	tok  *oauth2.Token
	exp  time.Time     // on now's clock
	life time.Duration // exp minus the time the token was stored
}

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, lock: make(chan struct{}, 1)}
}

// seed stores a token obtained earlier (the auth config's accessToken),
// valid until exp.
func (c *tokenCache) seed(t *oauth2.Token, exp time.Time) {
	c.tok, c.exp, c.life = t, exp, exp.Sub(c.now())
}

func (c *tokenCache) fresh() bool {
	if c.tok == nil || c.tok.AccessToken == "" {
		return false
	}
	margin := min(maxExpiryMargin, c.life/2)
	return c.now().Add(margin).Before(c.exp)
}

func (c *tokenCache) token(ctx context.Context, fetch fetchFunc) (*oauth2.Token, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.lock }()
	if c.fresh() {
		return c.tok, nil
	}
	t, err := fetch(ctx, c.tok)
	if err != nil {
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, errors.New("the token endpoint returned no access_token")
	}
	now := c.now()
	life := noExpiryLifetime
	if !t.Expiry.IsZero() {
		// x/oauth2 set Expiry from expires_in on the real clock.
		life = time.Until(t.Expiry)
	}
	c.tok, c.exp, c.life = t, now.Add(life), life
	return t, nil
}

// oauthAuth sends an access token from its cache, fetching one when needed.
type oauthAuth struct {
	cache    *tokenCache
	fetch    fetchFunc
	endpoint string // for error messages, without its query
	params   url.Values
	inQuery  bool
}

func (o *oauthAuth) apply(ctx context.Context, req *http.Request, client *http.Client) error {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.httpClient(client))
	t, err := o.cache.token(ctx, o.fetch)
	if err != nil {
		return fmt.Errorf("fetching an OAuth 2.0 access token from %s: %w", o.endpoint, tokenError(err))
	}
	req.Header.Set("Authorization", t.Type()+" "+t.AccessToken)
	return nil
}

// httpClient returns the client token requests go through: client's
// transport (its destination checks), the default redirect policy, and the
// form rewriting of tokenParams and QUERY_PARAMETERS.
func (o *oauthAuth) httpClient(client *http.Client) *http.Client {
	var rt http.RoundTripper = http.DefaultTransport
	if client != nil && client.Transport != nil {
		rt = client.Transport
	}
	if len(o.params) > 0 || o.inQuery {
		rt = &formRewriter{base: rt, params: o.params, inQuery: o.inQuery}
	}
	return &http.Client{Transport: rt}
}

// tokenError keeps what helps an operator and drops what may hold a
// secret: url.Error quotes the request URL, which carries the client
// secret with QUERY_PARAMETERS, and a token endpoint's error body is cut.
func tokenError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		body := strings.ToValidUTF8(string(re.Body), "")
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		status := ""
		if re.Response != nil {
			status = re.Response.Status
		}
		if re.ErrorCode != "" {
			return fmt.Errorf("the token endpoint answered %s: %s %s", status, re.ErrorCode, re.ErrorDescription)
		}
		return fmt.Errorf("the token endpoint answered %s: %s", status, body)
	}
	return err
}

// formRewriter adds the tokenParams to a token request's form and, for
// QUERY_PARAMETERS, moves the whole form into the URL's query.
type formRewriter struct {
	base    http.RoundTripper
	params  url.Values
	inQuery bool
}

func (f *formRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	var form url.Values
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if form, err = url.ParseQuery(string(b)); err != nil {
			return nil, fmt.Errorf("token request form: %w", err)
		}
	}
	if form == nil {
		form = url.Values{}
	}
	for k, vs := range f.params {
		if _, set := form[k]; !set {
			form[k] = vs
		}
	}
	r := req.Clone(req.Context())
	if f.inQuery {
		u := *req.URL
		q := u.Query()
		for k, vs := range form {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		r.URL = &u
		r.Body, r.ContentLength, r.GetBody = http.NoBody, 0, nil
	} else {
		enc := form.Encode()
		r.Body = io.NopCloser(strings.NewReader(enc))
		r.ContentLength = int64(len(enc))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(enc))), nil }
	}
	return f.base.RoundTrip(r)
}

// tokenRequest is what the three OAuth 2.0 credential messages share.
type tokenRequest struct {
	path                          string // of the message, for errors
	clientID, clientSecret, scope string
	tokenEndpoint, requestType    string
	tokenParams                   *ParameterMap
	accessToken                   *AccessToken
	// seedWithoutExpiry uses a stored access token without an expiry
	// time (for one noExpiryLifetime) rather than fetching a new one.
	seedWithoutExpiry bool
}

// compile validates the shared fields and returns the oauth2 config with
// the rest of an oauthAuth (cache seeded with the stored access token).
func (r tokenRequest) compile(opts Options) (*oauth2.Config, *oauthAuth, error) {
	if r.tokenEndpoint == "" {
		return nil, nil, fieldErr(r.path+".token_endpoint", "is required")
	}
	u, err := url.Parse(r.tokenEndpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fieldErr(r.path+".token_endpoint", "%q is not an http or https URL", r.tokenEndpoint)
	}
	conf := &oauth2.Config{
		ClientID: r.clientID, ClientSecret: r.clientSecret, Scopes: strings.Fields(r.scope),
		Endpoint: oauth2.Endpoint{TokenURL: r.tokenEndpoint},
	}
	o := &oauthAuth{cache: newTokenCache(opts.Now), endpoint: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()}
	switch r.requestType {
	case "", RequestTypeUnspecified:
		conf.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect
	case RequestTypeEncodedHeader:
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	case RequestTypeRequestBody:
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	case RequestTypeQueryParameters:
		conf.Endpoint.AuthStyle, o.inQuery = oauth2.AuthStyleInParams, true
	default:
		return nil, nil, fieldErr(r.path+".request_type", "unknown request type %q (REQUEST_BODY, QUERY_PARAMETERS or ENCODED_HEADER)", r.requestType)
	}
	if o.params, err = paramValues(r.tokenParams, r.path+".token_params"); err != nil {
		return nil, nil, err
	}
	if at := r.accessToken; at != nil && at.AccessToken != "" {
		exp, err := parseTime(at.AccessTokenExpireTime, r.path+".access_token.access_token_expire_time")
		if err != nil {
			return nil, nil, err
		}
		t := &oauth2.Token{AccessToken: at.AccessToken, TokenType: at.TokenType, RefreshToken: at.RefreshToken}
		switch {
		case !exp.IsZero() && exp.After(opts.Now()):
			o.cache.seed(t, exp)
		case exp.IsZero() && r.seedWithoutExpiry:
			o.cache.seed(t, opts.Now().Add(noExpiryLifetime))
		}
	}
	return conf, o, nil
}

// paramValues turns a ParameterMap of literals into form values.
func paramValues(pm *ParameterMap, path string) (url.Values, error) {
	if pm == nil || len(pm.Entries) == 0 {
		return nil, nil
	}
	vs := url.Values{}
	for i, e := range pm.Entries {
		if e.Key.LiteralValue == nil || e.Value.ReferenceKey != "" {
			return nil, fieldErr(fmt.Sprintf("%s.entries[%d]", path, i), "keys and values must be literal values (a credential cannot reference variables)")
		}
		k, err := value.FromSpec(e.Key.LiteralValue)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("%s.entries[%d].key", path, i), "%v", err)
		}
		v, err := value.FromSpec(e.Value.LiteralValue)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("%s.entries[%d].value", path, i), "%v", err)
		}
		if k.Text() == "" {
			return nil, fieldErr(fmt.Sprintf("%s.entries[%d].key", path, i), "is empty")
		}
		vs.Add(k.Text(), v.Text())
	}
	return vs, nil
}

func newClientCredentials(c *OAuth2ClientCredentials, opts Options) (authenticator, error) {
	const path = "oauth2_client_credentials"
	if c == nil {
		return nil, fieldErr(path, "is required for credential type %s", TypeOAuth2ClientCredentials)
	}
	if c.ClientID == "" {
		return nil, fieldErr(path+".client_id", "is required")
	}
	conf, o, err := tokenRequest{path: path, clientID: c.ClientID, clientSecret: c.ClientSecret, scope: c.Scope,
		tokenEndpoint: c.TokenEndpoint, requestType: c.RequestType, tokenParams: c.TokenParams, accessToken: c.AccessToken}.compile(opts)
	if err != nil {
		return nil, err
	}
	cc := &clientcredentials.Config{ClientID: conf.ClientID, ClientSecret: conf.ClientSecret,
		TokenURL: conf.Endpoint.TokenURL, Scopes: conf.Scopes, AuthStyle: conf.Endpoint.AuthStyle}
	o.fetch = func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) { return cc.Token(ctx) }
	return o, nil
}

// refresh uses a refresh token once.
func refresh(ctx context.Context, conf *oauth2.Config, rt string) (*oauth2.Token, error) {
	return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
}

func newResourceOwner(c *OAuth2ResourceOwnerCredentials, opts Options) (authenticator, error) {
	const path = "oauth2_resource_owner_credentials"
	if c == nil {
		return nil, fieldErr(path, "is required for credential type %s", TypeOAuth2ResourceOwnerCredentials)
	}
	if c.Username == "" {
		return nil, fieldErr(path+".username", "is required")
	}
	conf, o, err := tokenRequest{path: path, clientID: c.ClientID, clientSecret: c.ClientSecret, scope: c.Scope,
		tokenEndpoint: c.TokenEndpoint, requestType: c.RequestType, tokenParams: c.TokenParams, accessToken: c.AccessToken}.compile(opts)
	if err != nil {
		return nil, err
	}
	user, pass := c.Username, c.Password
	o.fetch = func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		if cur != nil && cur.RefreshToken != "" {
			if t, err := refresh(ctx, conf, cur.RefreshToken); err == nil {
				return t, nil
			}
			// A refused refresh token: fall back to the password.
		}
		return conf.PasswordCredentialsToken(ctx, user, pass)
	}
	return o, nil
}

func newAuthorizationCode(c *OAuth2AuthorizationCode, opts Options) (authenticator, error) {
	const path = "oauth2_authorization_code"
	if c == nil {
		return nil, fieldErr(path, "is required for credential type %s", TypeOAuth2AuthorizationCode)
	}
	var stored *AccessToken
	if c.AccessToken != nil {
		stored = c.AccessToken
	}
	if c.TokenEndpoint == "" {
		// Without a token endpoint only a stored access token can work.
		if stored == nil || stored.AccessToken == "" {
			return nil, fieldErr(path+".token_endpoint", "is required unless an access token is stored")
		}
		exp, err := parseTime(stored.AccessTokenExpireTime, path+".access_token.access_token_expire_time")
		if err != nil {
			return nil, err
		}
		return expiringBearer{token: stored.AccessToken, expire: exp, now: opts.Now}, nil
	}
	conf, o, err := tokenRequest{path: path, clientID: c.ClientID, clientSecret: c.ClientSecret, scope: c.Scope,
		tokenEndpoint: c.TokenEndpoint, requestType: c.RequestType, tokenParams: c.TokenParams, accessToken: stored,
		seedWithoutExpiry: true}.compile(opts)
	if err != nil {
		return nil, err
	}
	var storedRefresh string
	var refreshExp time.Time
	if stored != nil {
		storedRefresh = stored.RefreshToken
		if refreshExp, err = parseTime(stored.RefreshTokenExpireTime, path+".access_token.refresh_token_expire_time"); err != nil {
			return nil, err
		}
	}
	now := opts.Now
	o.fetch = func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		rt := storedRefresh
		if cur != nil && cur.RefreshToken != "" {
			rt = cur.RefreshToken
		}
		if rt == "" {
			return nil, errors.New("OAUTH2_AUTHORIZATION_CODE: no current access token and no refresh token is stored; integrationd does not run the browser half of the authorization code flow: store access_token.refresh_token")
		}
		if rt == storedRefresh && !refreshExp.IsZero() && !now().Before(refreshExp) {
			return nil, fmt.Errorf("OAUTH2_AUTHORIZATION_CODE: the stored refresh token expired at %s: store a new one", refreshExp.UTC().Format(time.RFC3339))
		}
		return refresh(ctx, conf, rt)
	}
	return o, nil
}

// expiringBearer sends a stored access token until it expires.
type expiringBearer struct {
	token  string
	expire time.Time
	now    func() time.Time
}

func (b expiringBearer) apply(_ context.Context, req *http.Request, _ *http.Client) error {
	if !b.expire.IsZero() && !b.now().Before(b.expire) {
		return fmt.Errorf("the stored access token expired at %s and no token endpoint is set to refresh it", b.expire.UTC().Format(time.RFC3339))
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	return nil
}
