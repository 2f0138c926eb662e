// Package requestinfo is the one accessor an operation uses to learn where
// a request came from: on Lambda, the event source, the caller's IP, the
// gateway and Lambda request ids, the authorizer's claims and, behind VPC
// Lattice, the caller's identity; on the plain HTTP server, the caller's IP
// and OnLambda false.
package requestinfo

import (
	"context"
	"time"
)

// Info describes the request as the runtime received it.
type Info struct {
	OnLambda         bool
	Source           string         // rest | http | alb | url | lattice on Lambda; "" otherwise
	Stage            string         // API Gateway stage, if any
	SourceIP         string         // the client's address: the event's, the connection's peer, or what a trusted proxy forwarded (middleware.Forwarding)
	GatewayRequestID string         // API Gateway's request id (ALB, VPC Lattice: the X-Amzn-Trace-Id header, if any)
	LambdaRequestID  string         // the invocation's AWS request id
	Claims           map[string]any // JWT claims or Lambda-authorizer context; nil when none
	Scopes           []string       // scopes an HTTP API JWT authorizer reported; nil when none
	Lattice          *Lattice       // VPC Lattice's request context (v2 events); nil otherwise
}

// Lattice is what a VPC Lattice v2 event says about a request: the
// service it was sent to and who sent it. Its v1 events carry none of it.
type Lattice struct {
	ServiceNetworkARN string
	ServiceARN        string
	TargetGroupARN    string
	Region            string
	Time              time.Time // when Lattice received the request; zero if the event has no time
	Identity          LatticeIdentity
}

// LatticeIdentity is the caller as VPC Lattice authenticated it. Type is
// "AWS_IAM" when the service's auth policy signed the request (Principal,
// PrincipalOrgID and SessionName are then set) and "NONE" otherwise; the
// X509 fields describe a client certificate, when there is one.
type LatticeIdentity struct {
	SourceVPCARN   string
	Type           string
	Principal      string
	PrincipalOrgID string
	SessionName    string
	X509SubjectCN  string
	X509IssuerOU   string
	X509SANDNS     string
	X509SANURI     string
	X509SANNameCN  string
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
