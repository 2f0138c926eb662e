// Package requestinfo is the one accessor an operation uses to learn where
// a request came from: on Lambda, the event source, the caller's IP, the
// gateway and Lambda request ids and the authorizer's claims; on the plain
// HTTP server, the caller's IP and OnLambda false.
package requestinfo

import "context"

// Info describes the request as the runtime received it.
type Info struct {
	OnLambda         bool
	Source           string         // rest | http | alb | url on Lambda; "" otherwise
	Stage            string         // API Gateway stage, if any
	SourceIP         string         // the client's address: the event's, the connection's peer, or what a trusted proxy forwarded (middleware.Forwarding)
	GatewayRequestID string         // API Gateway's request id (ALB: its trace id)
	LambdaRequestID  string         // the invocation's AWS request id
	Claims           map[string]any // JWT claims or Lambda-authorizer context; nil when none
	Scopes           []string       // scopes an HTTP API JWT authorizer reported; nil when none
}

type key struct{}

// With returns ctx carrying info (the Lambda glue sets it).
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// FromContext returns what is known about the request ctx belongs to.
func FromContext(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}
