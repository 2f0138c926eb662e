package operations

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// service implements the operations about the service itself.
type service struct {
	title, version string
	health         HealthChecker
	// collections are the resources served, name → path, for the links.
	collections map[string]string
}

// HealthChecker is what readiness needs from persistence.
type HealthChecker interface {
	// Ping checks that the store can serve requests.
	Ping(ctx context.Context) error
}

// ServiceInfo is what GET / answers: where to start.
type ServiceInfo struct {
	Name    string            `json:"name" doc:"Name of the service." example:"typedapi"`
	Version string            `json:"version" doc:"Version of the running build." example:"v1.4.0"`
	Links   map[string]string `json:"links" doc:"Where to go next: the interactive docs, the OpenAPI document and the collections." example:"{\"docs\":\"/docs\",\"openapi\":\"/openapi.json\",\"items\":\"/v1/items\",\"orders\":\"/v1/orders\"}"`
}

type ServiceInfoOutput struct {
	Body ServiceInfo
}

func (s *service) info(ctx context.Context, _ *struct{}) (*ServiceInfoOutput, error) {
	out := &ServiceInfoOutput{Body: ServiceInfo{
		Name:    s.title,
		Version: s.version,
		Links: map[string]string{
			"docs":         publicPath(ctx, "/docs"),
			"openapi":      publicPath(ctx, "/openapi.json"),
			"openapi_yaml": publicPath(ctx, "/openapi.yaml"),
			"openapi_3_0":  publicPath(ctx, "/openapi-3.0.json"),
		},
	}}
	for name, path := range s.collections {
		out.Body.Links[name] = publicPath(ctx, path)
	}
	return out, nil
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status" enum:"ok,unavailable" doc:"ok when the check passed." example:"ok"`
}

type HealthOutput struct {
	Body Health
}

// healthz is liveness: the process answers. It touches no dependency, so a
// slow database never gets healthy instances restarted.
func (s *service) healthz(context.Context, *struct{}) (*HealthOutput, error) {
	return &HealthOutput{Body: Health{Status: "ok"}}, nil
}

// readyTimeout bounds the store check so a hung store fails readiness
// quickly instead of hanging the probe.
const readyTimeout = 2 * time.Second

// notReadyDetail says why readiness fails: the store failed, or timedOut.
func notReadyDetail(timedOut bool) string {
	if timedOut {
		return "The data store did not answer within " + readyTimeout.String() + "."
	}
	return "The data store is not reachable."
}

// readyz is readiness: the store answers.
func (s *service) readyz(ctx context.Context, _ *struct{}) (*HealthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if s.health == nil {
		return &HealthOutput{Body: Health{Status: "ok"}}, nil
	}
	if err := s.health.Ping(ctx); err != nil {
		msg := notReadyDetail(errors.Is(err, context.DeadlineExceeded))
		logCause(ctx, http.StatusServiceUnavailable, msg, err)
		return nil, huma.Error503ServiceUnavailable(msg)
	}
	return &HealthOutput{Body: Health{Status: "ok"}}, nil
}
