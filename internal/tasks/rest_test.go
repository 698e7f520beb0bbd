package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// restServer echoes what it receives and serves a few fixed routes.
func restServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		fmt.Fprintf(w, "%s %s?%s auth=%s ct=%s ua=%s body=%s", r.Method, r.URL.Path, r.URL.RawQuery,
			r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), b)
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		w.WriteHeader(code)
		fmt.Fprint(w, strings.Repeat("x", 300))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("y", 1000))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo", http.StatusFound)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func restParams(kv map[string]string) string {
	var b strings.Builder
	b.WriteString("{")
	first := true
	for k, v := range kv {
		if !first {
			b.WriteString(",")
		}
		first = false
		fmt.Fprintf(&b, `%q:{"key":%q,"value":%s}`, k, k, v)
	}
	b.WriteString("}")
	return b.String()
}

func sv(s string) string { return fmt.Sprintf(`{"stringValue":%q}`, s) }

func pmap(pairs ...string) string {
	var es []string
	for i := 0; i+1 < len(pairs); i += 2 {
		val := fmt.Sprintf(`{"literalValue":{"stringValue":%q}}`, pairs[i+1])
		if strings.HasPrefix(pairs[i+1], "ref:") {
			val = fmt.Sprintf(`{"referenceKey":%q}`, strings.TrimPrefix(pairs[i+1], "ref:"))
		}
		es = append(es, fmt.Sprintf(`{"key":{"literalValue":{"stringValue":%q}},"value":%s}`, pairs[i], val))
	}
	j := `{"@type":"type.googleapis.com/enterprise.crm.eventbus.proto.ParameterMap","entries":[` + strings.Join(es, ",") + `]}`
	return fmt.Sprintf(`{"jsonValue":%q}`, j)
}

func outs() map[string]string {
	return map[string]string{
		"responseBody":   `{"stringArray":{"stringValues":["$` + "`Task_1_responseBody`" + `$"]}}`,
		"responseHeader": `{"stringArray":{"stringValues":["$` + "`Task_1_responseHeader`" + `$"]}}`,
		"responseStatus": `{"stringArray":{"stringValues":["$` + "`Task_1_responseStatus`" + `$"]}}`,
	}
}

func compileREST(t *testing.T, r *Registry, kv map[string]string) (engine.Task, error) {
	t.Helper()
	v, err := spec.DecodeVersion([]byte(`{"taskConfigs":[{"task":"GenericRestV2Task","taskId":"1","parameters":` + restParams(kv) + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return r.CompileTask(&v.TaskConfigs[0])
}

func restVars() *value.Vars {
	vars := value.NewVars(map[string]value.Kind{
		"id": value.String, "token": value.String, "payload": value.JSON,
		"`Task_1_responseBody`": value.String, "`Task_1_responseHeader`": value.String, "`Task_1_responseStatus`": value.String,
	})
	_ = vars.Set("id", value.Str("o 17"))
	_ = vars.Set("token", value.Str("Bearer s3cret"))
	j, _ := value.ParseJSON(`{"a":1}`)
	_ = vars.Set("payload", value.FromJSON(j))
	return vars
}

func TestREST(t *testing.T) {
	t.Parallel()
	s := restServer(t)
	small := newRESTRuntime(Options{})
	small.maxBody = 100
	r := NewRegistry()
	registerREST(r, Options{})
	rSmall := NewRegistry()
	registerRESTWith(rSmall, small)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + closed.Addr().String() + "/"
	closed.Close()

	cases := []struct {
		name    string
		reg     *Registry
		params  map[string]string
		ctx     func() (context.Context, context.CancelFunc)
		status  string // want responseStatus ("" = not written)
		bodySub string
		header  string // substring of responseHeader
		code    int    // want TaskError.Code; -1 = success
		errSub  string
	}{
		{name: "GET templated url and query", params: map[string]string{
			"url": sv(s.URL + "/echo?x=$id$"), "urlQueryStrings": pmap("q", "$id$", "r", "ref:$token$"),
		}, status: "200 OK", bodySub: "GET /echo?q=o+17&r=Bearer+s3cret&x=o+17", header: `"X-Multi":"a, b"`, code: -1},
		{name: "POST templated body and headers", params: map[string]string{
			"url": sv(s.URL + "/echo"), "httpMethod": sv("POST"), "requestBody": sv(`{"id":"$id$","p":$payload$}`),
			"httpParams": pmap("content-type", "application/json"), "additionalHeaders": pmap("Authorization", "ref:$token$"),
			"userAgent": sv("integrationd-test"), "jsonAdditionalHeaders": `{"jsonValue":"null"}`,
		}, status: "200 OK", bodySub: `POST /echo? auth=Bearer s3cret ct=application/json ua=integrationd-test body={"id":"o 17","p":{"a":1}}`, header: `"Content-Type":"text/plain"`, code: -1},
		{name: "null parameter maps and an auth config param naming none", params: map[string]string{
			"url": sv(s.URL + "/echo"), "additionalHeaders": `{"jsonValue":"null"}`, "urlQueryStrings": `{"jsonValue":"null"}`,
			"authConfig":     `{"jsonValue":"{\"@type\":\"type.googleapis.com/enterprise.crm.eventbus.authconfig.AuthConfigTaskParam\"}"}`,
			"authConfigName": sv(""), "urlFetchingService": sv("HARPOON"), "requestorId": sv(""),
		}, status: "200 OK", bodySub: "GET /echo? auth= ", code: -1},
		{name: "auth config without a resolver", params: map[string]string{
			"url": sv(s.URL + "/echo"), "authConfigName": sv("my-profile"),
		}, code: 0, errSub: `auth config "my-profile": this server resolves no auth configs`},
		{name: "404 throwError default", params: map[string]string{"url": sv(s.URL + "/status/404")},
			status: "404 Not Found", bodySub: "xxx", code: 404, errSub: "HTTP 404 Not Found from " + s.URL + "/status/404: " + strings.Repeat("x", 200)},
		{name: "503 throwError true", params: map[string]string{"url": sv(s.URL + "/status/503"), "throwError": `{"booleanValue":true}`},
			status: "503 Service Unavailable", code: 503, errSub: "HTTP 503 Service Unavailable"},
		{name: "404 throwError false", params: map[string]string{"url": sv(s.URL + "/status/404"), "throwError": `{"booleanValue":false}`},
			status: "404 Not Found", code: -1},
		{name: "503 throwError false", params: map[string]string{"url": sv(s.URL + "/status/503"), "throwError": `{"booleanValue":false}`},
			status: "503 Service Unavailable", code: -1},
		{name: "timeout", params: map[string]string{"url": sv(s.URL + "/slow"), "timeout": `{"intValue":"1"}`},
			code: 0, errSub: "timed out after 1s"},
		{name: "connection refused", params: map[string]string{"url": sv(refused)}, code: 0, errSub: "refused"},
		{name: "oversized response", reg: rSmall, params: map[string]string{"url": sv(s.URL + "/big")},
			code: 0, errSub: "exceeds the 100-byte limit"},
		{name: "redirect followed", params: map[string]string{"url": sv(s.URL + "/redirect")},
			status: "200 OK", bodySub: "GET /echo", code: -1},
		{name: "redirect not followed", params: map[string]string{"url": sv(s.URL + "/redirect"), "followRedirects": `{"booleanValue":false}`},
			status: "302 Found", header: `"Location":"/echo"`, code: -1},
		{name: "metadata address denied", params: map[string]string{"url": sv("http://169.254.169.254/computeMetadata/v1/")},
			code: 0, errSub: "destination address not allowed"},
		{name: "ipv6 link-local denied", params: map[string]string{"url": sv("http://[fe80::1]:80/")},
			code: 0, errSub: "destination address not allowed"},
		{name: "execution cancelled", params: map[string]string{"url": sv(s.URL + "/slow")},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			}, code: 0, errSub: "context deadline exceeded"},
		{name: "bad scheme", params: map[string]string{"url": sv("ftp://example.com/")}, code: 0, errSub: "scheme must be http or https"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			reg := c.reg
			if reg == nil {
				reg = r
			}
			p := outs()
			for k, v := range c.params {
				p[k] = v
			}
			task, err := compileREST(t, reg, p)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if c.ctx != nil {
				ctx, cancel = c.ctx()
			}
			defer cancel()
			vars := restVars()
			start := time.Now()
			err = task.Execute(ctx, &engine.TaskContext{Vars: vars, TaskID: "1", Task: restTask, Now: time.Now})
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if c.code == -1 {
				if err != nil {
					t.Fatalf("Execute = %v, want success", err)
				}
			} else {
				var te *engine.TaskError
				if !errors.As(err, &te) || te.Code != c.code || !strings.Contains(te.Message, c.errSub) {
					t.Fatalf("Execute = %#v, want TaskError code %d containing %q", err, c.code, c.errSub)
				}
			}
			st, _ := vars.Lookup("`Task_1_responseStatus`")
			if st.Str() != c.status {
				t.Errorf("responseStatus = %q, want %q", st.Str(), c.status)
			}
			body, _ := vars.Lookup("`Task_1_responseBody`")
			if !strings.Contains(body.Str(), c.bodySub) {
				t.Errorf("responseBody = %q, want it to contain %q", body.Str(), c.bodySub)
			}
			hdr, _ := vars.Lookup("`Task_1_responseHeader`")
			if c.status != "" {
				if _, err := value.ParseJSON(hdr.Str()); err != nil {
					t.Errorf("responseHeader %q is not JSON: %v", hdr.Str(), err)
				}
			}
			if !strings.Contains(hdr.Str(), c.header) {
				t.Errorf("responseHeader = %q, want it to contain %q", hdr.Str(), c.header)
			}
		})
	}
}

func TestRESTCancel(t *testing.T) {
	t.Parallel()
	s := restServer(t)
	r := NewRegistry()
	registerREST(r, Options{})
	p := outs()
	p["url"] = sv(s.URL + "/slow")
	task, err := compileREST(t, r, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = task.Execute(ctx, &engine.TaskContext{Vars: restVars(), TaskID: "1", Now: time.Now})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute = %v, want context.Canceled", err)
	}
}

func TestRESTCompile(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	registerREST(r, Options{})
	cases := []struct {
		name   string
		params map[string]string
		errSub string
	}{
		{"no url", map[string]string{}, "url is required"},
		{"bad method", map[string]string{"url": sv("http://x/"), "httpMethod": sv("BREW")}, "unsupported method"},
		{"bad parameter map", map[string]string{"url": sv("http://x/"), "additionalHeaders": `{"jsonValue":"[1]"}`}, "not a ParameterMap"},
		{"bad output reference", map[string]string{"url": sv("http://x/"), "responseBody": `{"stringArray":{"stringValues":["$` + "`x" + `$"]}}`}, "responseBody"},
		{"timeout is an int", map[string]string{"url": sv("http://x/"), "timeout": sv("5")}, "timeout must be"},
		{"sample config compiles", map[string]string{"url": sv("https://mocktarget.apigee.net/json"), "httpParams": `{}`, "additionalHeaders": `{}`,
			"authConfig": `{"jsonValue":"{\"@type\":\"type.googleapis.com/enterprise.crm.eventbus.authconfig.AuthConfigTaskParam\",\"authConfigId\":\"abc\"}"}`}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := compileREST(t, r, c.params)
			if c.errSub == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.errSub) {
				t.Fatalf("compile err = %v, want %q", err, c.errSub)
			}
		})
	}
}

// TestRESTDefaultOutputs checks the default output variables when the
// output parameters are absent.
func TestRESTDefaultOutputs(t *testing.T) {
	t.Parallel()
	s := restServer(t)
	r := NewRegistry()
	registerREST(r, Options{})
	task, err := compileREST(t, r, map[string]string{"url": sv(s.URL + "/echo")})
	if err != nil {
		t.Fatal(err)
	}
	vars := value.NewVars(nil)
	if err := task.Execute(context.Background(), &engine.TaskContext{Vars: vars, TaskID: "1", Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	if v, _ := vars.Lookup("`Task_1_responseStatus`"); v.Str() != "200 OK" {
		t.Errorf("status = %q", v.Str())
	}
}
