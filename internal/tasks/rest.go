package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The Call REST Endpoint task:
// https://cloud.google.com/application-integration/docs/configure-call-rest-endpoint-task
const (
	restTask = "GenericRestV2Task"

	pURL                  = "url"
	pHTTPMethod           = "httpMethod"
	pRequestBody          = "requestBody"
	pURLQueryStrings      = "urlQueryStrings"
	pAdditionalHeaders    = "additionalHeaders"
	pHTTPParams           = "httpParams"
	pThrowError           = "throwError"
	pFollowRedirects      = "followRedirects"
	pTimeout              = "timeout"
	pDisableSSLValidation = "disableSSLValidation"
	pUseSSL               = "useSSL"
	pUserAgent            = "userAgent"
	pAuthConfig           = "authConfig"
	pAuthConfigName       = "authConfigName"
	pURLFetchingService   = "urlFetchingService"
	pRequestorID          = "requestorId"
	pJSONAdditionalHdrs   = "jsonAdditionalHeaders"
	pResponseBody         = "responseBody"
	pResponseHeader       = "responseHeader"
	pResponseStatus       = "responseStatus"

	// restDefaultTimeout bounds a call whose timeout parameter is 0.
	restDefaultTimeout = 2 * time.Minute
	// restMaxBody is the default cap of a response body
	// (Options.RESTMaxResponseBytes); a larger one fails the task.
	restMaxBody = 25 << 20
	// restMaxRedirects is how many redirects a call follows.
	restMaxRedirects = 10
	// restErrorSnippet is how much of an error response's body the task
	// error message quotes.
	restErrorSnippet = 200
)

func registerREST(r *Registry, opts Options) {
	registerRESTWith(r, newRESTRuntime(opts))
}

func registerRESTWith(r *Registry, rt *restRuntime) {
	pm := "ParameterMap jsonValue: entries of {key:{literalValue:{stringValue}}, value:{literalValue|referenceKey}}; \"null\" is empty."
	r.Register(restTask, Spec{
		Summary: "Call REST Endpoint: sends one HTTP request and writes the response body, headers (JSON text) and status (\"200 OK\") into variables. " +
			"With throwError a 4xx or 5xx response fails the task (after writing the outputs) with `ErrorInfo`.code = the HTTP status.",
		DocURL: "https://cloud.google.com/application-integration/docs/configure-call-rest-endpoint-task",
		Params: []Param{
			{Key: pURL, Type: value.String, Required: true, Doc: "Endpoint URL (http or https); $var$ references are rendered when the task runs."},
			{Key: pHTTPMethod, Type: value.String, Doc: "GET (default), POST, PUT, PATCH, DELETE or HEAD."},
			{Key: pRequestBody, Type: value.String, Doc: "Request body; $var$ references are rendered when the task runs."},
			{Key: pURLQueryStrings, Type: value.JSON, Doc: "Query parameters added to the URL. " + pm},
			{Key: pAdditionalHeaders, Type: value.JSON, Doc: "Request headers. " + pm},
			{Key: pHTTPParams, Type: value.JSON, Doc: "Request headers (such as content-type), applied before additionalHeaders. " + pm},
			{Key: pThrowError, Type: value.Bool, Doc: "Fail the task on a 4xx or 5xx response. Default true."},
			{Key: pFollowRedirects, Type: value.Bool, Doc: "Follow redirects (up to 10). Default true."},
			{Key: pTimeout, Type: value.Int, Doc: "Seconds one call may take; 0 means 2 minutes. Always bounded by the execution."},
			{Key: pDisableSSLValidation, Type: value.Bool, Doc: "Do not verify the server's TLS certificate."},
			{Key: pUseSSL, Type: value.Bool, Doc: "Accepted; the URL scheme decides."},
			{Key: pUserAgent, Type: value.String, Doc: "User-Agent header; $var$ references are rendered."},
			{Key: pAuthConfig, Doc: "AuthConfigTaskParam (jsonValue or protoValue) whose authConfigId names the auth config that authenticates the request; $var$ references are rendered."},
			{Key: pAuthConfigName, Doc: "The auth config's display name (or ID), used when authConfig has no authConfigId; $var$ references are rendered."},
			{Key: pURLFetchingService, Doc: "Accepted and ignored."},
			{Key: pRequestorID, Doc: "Accepted and ignored."},
			{Key: pJSONAdditionalHdrs, Doc: "Accepted and ignored."},
			{Key: pResponseBody, Type: value.StringArray, Doc: "One reference, the variable receiving the body (STRING). Default $`Task_<id>_responseBody`$."},
			{Key: pResponseHeader, Type: value.StringArray, Doc: "One reference, the variable receiving the headers as JSON text of an object. Default $`Task_<id>_responseHeader`$."},
			{Key: pResponseStatus, Type: value.StringArray, Doc: "One reference, the variable receiving the status, \"200 OK\" style. Default $`Task_<id>_responseStatus`$."},
		},
	}, func(cfg *spec.TaskConfig) (engine.Task, error) { return newREST(cfg, rt) })
}

// restKV is one compiled ParameterMap entry.
type restKV struct {
	key string
	val *value.Template // a literal (templated)
	ref *value.Ref      // a referenceKey
}

func (kv restKV) render(g value.Getter) string {
	if kv.ref != nil {
		v, ok := kv.ref.Resolve(g)
		if !ok {
			return ""
		}
		return v.Text()
	}
	return kv.val.Render(g)
}

type restTaskImpl struct {
	rt         *restRuntime
	client     *http.Client
	url        *value.Template
	method     string
	body       *value.Template
	userAgent  *value.Template
	query      []restKV
	headers    []restKV // httpParams then additionalHeaders
	throwError bool
	timeout    time.Duration
	insecure   bool
	auth       authRef
	outBody    value.Ref
	outHeader  value.Ref
	outStatus  value.Ref
}

func boolParam(cfg *spec.TaskConfig, key string, def bool) (bool, error) {
	v, err := param(cfg, key)
	if err != nil || v.IsNull() {
		return def, err
	}
	return v.Bool(), nil
}

func newREST(cfg *spec.TaskConfig, rt *restRuntime) (engine.Task, error) {
	t := &restTaskImpl{rt: rt}
	u, err := param(cfg, pURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(u.Str()) == "" {
		return nil, fmt.Errorf("parameter %s is required", pURL)
	}
	t.url = value.CompileTemplate(strings.TrimSpace(u.Str()))

	m, err := param(cfg, pHTTPMethod)
	if err != nil {
		return nil, err
	}
	t.method = strings.ToUpper(strings.TrimSpace(m.Str()))
	switch t.method {
	case "":
		t.method = http.MethodGet
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
	default:
		return nil, fmt.Errorf("parameter %s: unsupported method %q (GET, POST, PUT, PATCH, DELETE or HEAD)", pHTTPMethod, m.Str())
	}

	if t.body, err = templateParam(cfg, pRequestBody); err != nil {
		return nil, err
	}
	if t.userAgent, err = templateParam(cfg, pUserAgent); err != nil {
		return nil, err
	}

	if t.query, err = parameterMap(cfg, pURLQueryStrings); err != nil {
		return nil, err
	}
	hp, err := parameterMap(cfg, pHTTPParams)
	if err != nil {
		return nil, err
	}
	ah, err := parameterMap(cfg, pAdditionalHeaders)
	if err != nil {
		return nil, err
	}
	t.headers = append(hp, ah...)

	if t.throwError, err = boolParam(cfg, pThrowError, true); err != nil {
		return nil, err
	}
	follow, err := boolParam(cfg, pFollowRedirects, true)
	if err != nil {
		return nil, err
	}
	insecure, err := boolParam(cfg, pDisableSSLValidation, false)
	if err != nil {
		return nil, err
	}
	to, err := param(cfg, pTimeout)
	if err != nil {
		return nil, err
	}
	if to.Int() < 0 {
		return nil, fmt.Errorf("parameter %s: %d is negative", pTimeout, to.Int())
	}
	t.timeout = time.Duration(to.Int()) * time.Second
	if t.timeout == 0 {
		t.timeout = rt.defTime
	}

	if t.auth, err = compileAuthRef(cfg); err != nil {
		return nil, err
	}
	t.insecure = insecure

	id := string(cfg.TaskID)
	if t.outBody, err = outputRef(cfg, pResponseBody, id); err != nil {
		return nil, err
	}
	if t.outHeader, err = outputRef(cfg, pResponseHeader, id); err != nil {
		return nil, err
	}
	if t.outStatus, err = outputRef(cfg, pResponseStatus, id); err != nil {
		return nil, err
	}

	// Clients are cheap; the transport (and its connection pool) is shared.
	t.client = &http.Client{Transport: rt.baseTransport(insecure), CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !follow {
			return http.ErrUseLastResponse
		}
		if len(via) >= restMaxRedirects {
			return fmt.Errorf("stopped after %d redirects", restMaxRedirects)
		}
		return nil
	}}
	return t, nil
}

// outputRef parses the one reference of an output parameter, or the
// default `Task_<id>_<key>` when the parameter is absent.
func outputRef(cfg *spec.TaskConfig, key, taskID string) (value.Ref, error) {
	v, err := param(cfg, key)
	if err != nil {
		return value.Ref{}, err
	}
	text := "$`Task_" + taskID + "_" + key + "`$"
	if ss := v.Strings(); len(ss) > 0 && strings.TrimSpace(ss[0]) != "" {
		text = ss[0]
	}
	r, err := value.ParseRef(text)
	if err != nil {
		return value.Ref{}, fmt.Errorf("parameter %s: %w", key, err)
	}
	return r, nil
}

type pmValue struct {
	LiteralValue *spec.ValueType `json:"literalValue"`
	ReferenceKey string          `json:"referenceKey"`
}

type pmEntry struct {
	Key   pmValue `json:"key"`
	Value pmValue `json:"value"`
}

// decodeParameterMap decodes a ParameterMap jsonValue (or its text in a
// string). Absent, empty and "null" are an empty map.
func decodeParameterMap(cfg *spec.TaskConfig, key string) ([]pmEntry, error) {
	ep, ok := cfg.Parameters[key]
	if !ok || ep.Value == nil {
		return nil, nil
	}
	var text string
	switch {
	case ep.Value.JSONValue != nil:
		text = *ep.Value.JSONValue
	case ep.Value.StringValue != nil:
		text = *ep.Value.StringValue
	default:
		return nil, nil
	}
	text = strings.TrimSpace(text)
	if text == "" || text == "null" {
		return nil, nil
	}
	var pm struct {
		Entries []pmEntry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(text), &pm); err != nil {
		// Console exports also hold Gson-lenient text (single quotes).
		j, lerr := value.ParseLenientJSON(text)
		if lerr != nil {
			return nil, fmt.Errorf("parameter %s: not a ParameterMap: %w", key, err)
		}
		if err := json.Unmarshal(value.AppendJSON(nil, j), &pm); err != nil {
			return nil, fmt.Errorf("parameter %s: not a ParameterMap: %w", key, err)
		}
	}
	return pm.Entries, nil
}

// parameterMap compiles a ParameterMap of templated values (headers,
// query strings).
func parameterMap(cfg *spec.TaskConfig, key string) ([]restKV, error) {
	entries, err := decodeParameterMap(cfg, key)
	if err != nil {
		return nil, err
	}
	kvs := make([]restKV, 0, len(entries))
	for i, e := range entries {
		var k string
		switch {
		case e.Key.LiteralValue != nil:
			kv, err := value.FromSpec(e.Key.LiteralValue)
			if err != nil {
				return nil, fmt.Errorf("parameter %s entry %d key: %w", key, i, err)
			}
			k = strings.TrimSpace(kv.Text())
		case e.Key.ReferenceKey != "":
			return nil, fmt.Errorf("parameter %s entry %d: a key must be a literal", key, i)
		}
		if k == "" {
			return nil, fmt.Errorf("parameter %s entry %d: empty key", key, i)
		}
		kv := restKV{key: k}
		switch {
		case e.Value.ReferenceKey != "":
			r, err := value.ParseRef(e.Value.ReferenceKey)
			if err != nil {
				return nil, fmt.Errorf("parameter %s entry %s: %w", key, k, err)
			}
			kv.ref = &r
		case e.Value.LiteralValue != nil:
			v, err := value.FromSpec(e.Value.LiteralValue)
			if err != nil {
				return nil, fmt.Errorf("parameter %s entry %s: %w", key, k, err)
			}
			kv.val = value.CompileTemplate(v.Text())
		default:
			kv.val = value.CompileTemplate("")
		}
		kvs = append(kvs, kv)
	}
	return kvs, nil
}

func (t *restTaskImpl) Execute(ctx context.Context, tc *engine.TaskContext) error {
	rawURL := t.url.Render(tc.Vars)
	u, err := url.Parse(rawURL)
	if err != nil {
		return &engine.TaskError{Message: fmt.Sprintf("invalid url %q: %v", rawURL, err), Err: err}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &engine.TaskError{Message: fmt.Sprintf("invalid url %q: the scheme must be http or https", rawURL)}
	}
	if u.Host == "" {
		return &engine.TaskError{Message: fmt.Sprintf("invalid url %q: no host", rawURL)}
	}
	if len(t.query) > 0 {
		q := u.Query()
		for _, kv := range t.query {
			q.Add(kv.key, kv.render(tc.Vars))
		}
		u.RawQuery = q.Encode()
	}
	target := u.String()

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()

	var body io.Reader
	if bs := t.body.Render(tc.Vars); bs != "" {
		body = strings.NewReader(bs)
	}
	req, err := http.NewRequestWithContext(ctx, t.method, target, body)
	if err != nil {
		return &engine.TaskError{Message: fmt.Sprintf("building request to %s: %v", target, err), Err: err}
	}
	for _, kv := range t.headers {
		req.Header.Set(kv.key, kv.render(tc.Vars))
	}
	if ua := t.userAgent.Render(tc.Vars); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	client, err := t.authenticate(ctx, tc, req)
	if err != nil {
		return err
	}

	resp, err := client.Do(req)
	if err != nil {
		return t.callError(parent, ctx, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, t.rt.maxBody+1))
	if err != nil {
		return t.callError(parent, ctx, target, err)
	}
	if int64(len(data)) > t.rt.maxBody {
		return &engine.TaskError{Message: fmt.Sprintf("response from %s exceeds the %d-byte limit on response bodies", target, t.rt.maxBody)}
	}

	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if http.StatusText(resp.StatusCode) == "" {
		status = strings.TrimSpace(resp.Status)
	}
	for _, o := range []struct {
		ref value.Ref
		v   value.Value
	}{
		{t.outBody, value.Str(string(data))},
		{t.outHeader, value.Str(headersJSON(resp.Header))},
		{t.outStatus, value.Str(status)},
	} {
		if err := setRef(tc.Vars, o.ref, o.v); err != nil {
			return &engine.TaskError{Message: "writing output " + o.ref.String() + ": " + err.Error(), Err: err}
		}
	}

	if t.throwError && resp.StatusCode >= 400 {
		snippet := data
		if len(snippet) > restErrorSnippet {
			snippet = snippet[:restErrorSnippet]
		}
		return &engine.TaskError{Code: resp.StatusCode, Message: fmt.Sprintf("HTTP %s from %s: %s", status, target, strings.ToValidUTF8(string(snippet), ""))}
	}
	return nil
}

// callError turns a failed call into a task error with code 0. The end of
// the execution (parent) is reported as such, with its context error
// wrapped; the task's own timeout as a timeout.
func (t *restTaskImpl) callError(parent, ctx context.Context, target string, err error) error {
	if perr := parent.Err(); perr != nil {
		return &engine.TaskError{Message: fmt.Sprintf("calling %s: %v", target, perr), Err: perr}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &engine.TaskError{Message: fmt.Sprintf("calling %s: timed out after %s", target, t.timeout), Err: err}
	}
	return &engine.TaskError{Message: fmt.Sprintf("calling %s: %v", target, unwrapURLError(err)), Err: err}
}

// unwrapURLError drops url.Error's "Get \"<url>\": " prefix, the message
// names the url already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// headersJSON renders response headers as JSON text of an object, keys in
// Go's canonical form, sorted; repeated headers joined with ", ".
func headersJSON(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	o := value.NewObject(len(keys))
	for _, k := range keys {
		o.Set(k, strings.Join(h[k], ", "))
	}
	return value.EncodeJSON(o)
}

func setRef(vs *value.Vars, r value.Ref, v value.Value) error {
	if len(r.Path) > 0 {
		return vs.SetPath(r.Name, r.Path, v)
	}
	return vs.Set(r.Name, v)
}
