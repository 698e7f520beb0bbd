// Package api is integrationd's HTTP surface: the REST paths of
// integrations.googleapis.com/v1 (AIP-style resource names, custom verbs
// after ':' or '/:'), proto3 JSON in and out, google.rpc.Status errors, and
// the IAM permission check of every method.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/auth"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

// Config of the HTTP surface.
type Config struct {
	// Authorizer checks every call. Default: auth.AllowAll().
	Authorizer auth.Authorizer
	// MaxBodyBytes bounds request bodies. Default: 32 MiB (the 30 MB data
	// limit plus room for the envelope).
	MaxBodyBytes int64
	Logger       *slog.Logger
}

// Server routes API requests to the service.
type Server struct {
	svc  *service.Service
	cfg  Config
	log  *slog.Logger
	mux  *http.ServeMux
	verb map[string]map[string]verbHandler // collection -> verb -> handler
}

type verbHandler func(w http.ResponseWriter, r *http.Request, name string)

// New returns the API server.
func New(svc *service.Service, cfg Config) *Server {
	if cfg.Authorizer == nil {
		cfg.Authorizer = auth.AllowAll()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.routes()
	return s
}

const loc = "/v1/projects/{project}/locations/{location}"

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET "+loc+"/integrations", s.listIntegrations)
	m.HandleFunc("DELETE "+loc+"/integrations/{integration}", s.deleteIntegration)
	m.HandleFunc("POST "+loc+"/integrations/{target}", s.integrationVerb)
	m.HandleFunc("POST "+loc+"/integrations/{integration}/{target}", s.integrationSubVerb)
	m.HandleFunc("POST "+loc+"/integrations/{integration}/versions", s.createVersion)
	m.HandleFunc("GET "+loc+"/integrations/{integration}/versions", s.listVersions)
	m.HandleFunc("GET "+loc+"/integrations/{integration}/versions/{target}", s.getVersion)
	m.HandleFunc("PATCH "+loc+"/integrations/{integration}/versions/{version}", s.patchVersion)
	m.HandleFunc("DELETE "+loc+"/integrations/{integration}/versions/{version}", s.deleteVersion)
	m.HandleFunc("POST "+loc+"/integrations/{integration}/versions/{target}", s.versionVerb)
	m.HandleFunc("POST "+loc+"/integrations/{integration}/versions/{version}/{target}", s.versionSlashVerb)
	m.HandleFunc("GET "+loc+"/integrations/{integration}/executions", s.listExecutions)
	m.HandleFunc("GET "+loc+"/integrations/{integration}/executions/{target}", s.getExecution)
	m.HandleFunc("POST "+loc+"/integrations/{integration}/executions/{target}", s.executionVerb)
	m.HandleFunc("GET "+loc+"/integrations/{integration}/executions/{execution}/suspensions", s.listSuspensions)
	m.HandleFunc("POST "+loc+"/integrations/{integration}/executions/{execution}/suspensions/{target}", s.suspensionVerb)
	s.authConfigRoutes()
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "no method matches %s %s", r.Method, r.URL.Path))
	})
}

// ServeHTTP implements http.Handler. It accepts Google's path variants:
// /v1alpha/ for /v1/, and the Apigee-product form
// .../locations/L/products/P/integrations/... for .../locations/L/integrations/...
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	p := r.URL.Path
	if strings.HasPrefix(p, "/v1alpha/") {
		p = "/v1/" + p[len("/v1alpha/"):]
	}
	if i := strings.Index(p, "/products/"); i > 0 && strings.HasPrefix(p, "/v1/projects/") {
		rest := p[i+len("/products/"):]
		if j := strings.IndexByte(rest, '/'); j > 0 {
			p = p[:i] + rest[j:]
		}
	}
	if p != r.URL.Path {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = p, ""
		r = r2
	}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
			rpc.WriteError(w, rpc.Errorf(rpc.CodeInternal, "internal error"))
		}
	}()
	s.mux.ServeHTTP(w, r)
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "duration", time.Since(start))
	}
}

func key(r *http.Request, integration string) store.IntegrationKey {
	return store.IntegrationKey{Project: r.PathValue("project"), Location: r.PathValue("location"), Name: integration}
}

func parent(r *http.Request) string {
	return "projects/" + r.PathValue("project") + "/locations/" + r.PathValue("location")
}

// allow checks permission on resource and writes the error if denied.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, permission, resource string) bool {
	_, ok := s.allowAs(w, r, permission, resource)
	return ok
}

// decode reads a proto3 JSON body into v; an empty body is {}.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			rpc.WriteError(w, rpc.InvalidArgument("body", "the request body exceeds %d bytes", s.cfg.MaxBodyBytes))
			return false
		}
		rpc.WriteError(w, rpc.InvalidArgument("body", "reading the request body: %v", err))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := spec.Unmarshal(body, v); err != nil {
		rpc.WriteError(w, rpc.InvalidArgument(jsonField(err), "malformed JSON body: %v", describe(err)))
		return false
	}
	return true
}

func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	return "body"
}

func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + ": cannot use a JSON " + te.Value + " as " + te.Type.String()
	}
	return err.Error()
}

// readBody reads the raw body (for version documents).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		rpc.WriteError(w, rpc.InvalidArgument("body", "reading the request body: %v", err))
		return nil, false
	}
	return body, true
}

func writeDoc(w http.ResponseWriter, doc *value.Object) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(value.AppendJSON(nil, doc))
}

// splitVerb splits "name:verb" at the last colon.
func splitVerb(target string) (name, verb string) {
	i := strings.LastIndexByte(target, ':')
	if i < 0 {
		return target, ""
	}
	return target[:i], target[i+1:]
}

func writeEmpty(w http.ResponseWriter) { rpc.WriteJSON(w, http.StatusOK, struct{}{}) }
