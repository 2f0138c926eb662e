package stacks

import (
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The app's auth modes (TYPEDAPI_AUTH_MODE) a front door sets.
const (
	// AuthModeGateway: an API Gateway JWT authorizer has verified the token,
	// and the app takes the caller from the claims in the event. Set only
	// on a function that nothing but such an API invokes.
	AuthModeGateway = "gateway"
	// AuthModeJWT: the app verifies the bearer token itself, behind front
	// doors that do not (REST API without an authorizer, ALB, Function URL,
	// the container).
	AuthModeJWT = "jwt"
)

// Auth names the issuer of the bearer tokens the API accepts. Every stack
// needs one: there is no open deployment.
type Auth struct {
	// Issuer is the tokens' iss, an https URL (its JWKS are found by OIDC
	// discovery under it).
	Issuer string
	// Audience is the tokens' aud. API Gateway also accepts it as a
	// client_id claim, which is all Cognito access tokens carry.
	Audience string
	// ScopePrefix is put before each of the spec's scopes where the gateway
	// checks them: Cognito writes a resource server's scopes as
	// "<identifier>/<scope>". Empty for issuers that write them as is.
	ScopePrefix string
}

// Check refuses an Auth that would leave a front door open.
func (a Auth) Check() error {
	if a.Issuer == "" || a.Audience == "" {
		return errors.New("no token issuer: set -c authIssuer=https://issuer.example.com/ -c authAudience=<aud> " +
			"(the issuer every front door trusts), or -c cognito=true for a Cognito user pool of the app's own")
	}
	if !*awscdk.Token_IsUnresolved(jsii.String(a.Issuer)) && !strings.HasPrefix(a.Issuer, "https://") {
		return errors.New("authIssuer must be an https URL: API Gateway fetches the issuer's keys over https")
	}
	return nil
}

func (a Auth) must() Auth {
	if err := a.Check(); err != nil {
		panic(err)
	}
	return a
}

// environment is the app's auth configuration behind a front door that
// verifies tokens (mode gateway) or does not (mode jwt). The issuer and
// audience go to both: the app names them in /docs, and in gateway mode
// they say whose claims the event carries.
func (a Auth) environment(mode string) map[string]string {
	return map[string]string{
		"TYPEDAPI_AUTH_MODE":     mode,
		"TYPEDAPI_AUTH_ISSUER":   a.Issuer,
		"TYPEDAPI_AUTH_AUDIENCE": a.Audience,
	}
}

// scopes is how the issuer writes the spec's scopes in its tokens.
func (a Auth) scopes(spec []string) []string {
	out := make([]string, len(spec))
	for i, s := range spec {
		out[i] = a.ScopePrefix + s
	}
	return out
}

// newJwtAuthorizer is the HTTP API JWT authorizer of a: API Gateway checks
// the signature (the issuer's JWKS), iss, aud or client_id, exp and nbf,
// and each route's scopes, before Lambda is invoked. Its name says whose
// it is on an API shared with other teams' routes (the prefix, if mounted).
func newJwtAuthorizer(a Auth, prefix string) awsapigatewayv2authorizers.HttpJwtAuthorizer {
	return awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("Jwt"), jsii.String(a.Issuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			AuthorizerName: jsii.String("typedapi" + strings.ReplaceAll(prefix, "/", "-")),
			JwtAudience:    jsii.Strings(a.Audience),
		})
}

// UserPoolProps configure the optional Cognito issuer.
type UserPoolProps struct {
	// Scopes the resource server defines: every scope the API names
	// (Spec.Scopes and the app's own list).
	Scopes []string
	// Identifier of the resource server, written before each scope in the
	// tokens ("typedapi/items:write"). Default "typedapi".
	Identifier string
	// CallbackUrls where the app client's authorization-code (PKCE) flow
	// may return. Default: the local /docs page.
	CallbackUrls []string
	// DomainPrefix, when set, gives the pool a Cognito domain
	// (<prefix>.auth.<region>.amazoncognito.com) serving the OAuth endpoints.
	DomainPrefix string
}

// UserPool is a Cognito user pool as the API's token issuer.
type UserPool struct {
	Pool           awscognito.UserPool
	ResourceServer awscognito.UserPoolResourceServer
	Client         awscognito.UserPoolClient
	// Auth is the pool as every front door's issuer: its URL, the client
	// as audience, the resource server's prefix on scopes.
	Auth Auth
}

// NewUserPool makes a user pool whose resource server defines the API's
// scopes, and a public app client (authorization code with PKCE, no
// secret: /docs runs in a browser) allowed all of them. Sign-up is by an
// administrator only; sign-in needs a strong password and a TOTP code, and
// the Plus plan's threat protection blocks risky sign-ins.
func NewUserPool(scope constructs.Construct, id string, props UserPoolProps) UserPool {
	if len(props.Scopes) == 0 {
		panic("NewUserPool: no scopes to define")
	}
	identifier := props.Identifier
	if identifier == "" {
		identifier = "typedapi"
	}
	callbacks := props.CallbackUrls
	if len(callbacks) == 0 {
		callbacks = []string{"http://localhost:8080/docs"}
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	pool := awscognito.NewUserPool(c, jsii.String("Pool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true), RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
		},
		Mfa:                          awscognito.Mfa_REQUIRED,
		MfaSecondFactor:              &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		FeaturePlan:                  awscognito.FeaturePlan_PLUS,
		StandardThreatProtectionMode: awscognito.StandardThreatProtectionMode_FULL_FUNCTION,
		DeletionProtection:           jsii.Bool(true),
	})
	var scopes []awscognito.ResourceServerScope
	for _, s := range props.Scopes {
		scopes = append(scopes, awscognito.NewResourceServerScope(&awscognito.ResourceServerScopeProps{
			ScopeName: jsii.String(s), ScopeDescription: jsii.String("typedapi scope " + s),
		}))
	}
	server := pool.AddResourceServer(jsii.String("Api"), &awscognito.UserPoolResourceServerOptions{
		Identifier: jsii.String(identifier),
		Scopes:     &scopes,
	})
	// Written out, as the tokens carry them; the dependency below orders
	// what OAuthScope_ResourceServer would have.
	oauthScopes := []awscognito.OAuthScope{awscognito.OAuthScope_OPENID()}
	for _, s := range props.Scopes {
		oauthScopes = append(oauthScopes, awscognito.OAuthScope_Custom(jsii.String(identifier+"/"+s)))
	}
	client := pool.AddClient(jsii.String("Docs"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Minutes(jsii.Number(60)),
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &oauthScopes,
			CallbackUrls: jsii.Strings(callbacks...),
		},
	})
	client.Node().AddDependency(server)
	if props.DomainPrefix != "" {
		pool.AddDomain(jsii.String("Domain"), &awscognito.UserPoolDomainOptions{
			CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: jsii.String(props.DomainPrefix)},
		})
	}
	return UserPool{
		Pool: pool, ResourceServer: server, Client: client,
		Auth: Auth{Issuer: *pool.UserPoolProviderUrl(), Audience: *client.UserPoolClientId(), ScopePrefix: identifier + "/"},
	}
}

// AuthStackProps configure the stack of the optional Cognito issuer.
type AuthStackProps struct {
	awscdk.StackProps
	UserPool UserPoolProps
}

// AuthStack holds the user pool on its own, so the API stacks can be
// replaced or destroyed while the users stay.
type AuthStack struct {
	awscdk.Stack
	UserPool UserPool
}

// NewAuthStack makes the Cognito issuer the other stacks trust with
// -c cognito=true.
func NewAuthStack(scope constructs.Construct, id string, props *AuthStackProps) AuthStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	pool := NewUserPool(stack, "Users", props.UserPool)
	awscdk.NewCfnOutput(stack, jsii.String("Issuer"), &awscdk.CfnOutputProps{
		Description: jsii.String("Token issuer (iss)"), Value: pool.Pool.UserPoolProviderUrl(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("ClientId"), &awscdk.CfnOutputProps{
		Description: jsii.String("App client id: the audience API Gateway checks"), Value: pool.Client.UserPoolClientId(),
	})
	return AuthStack{Stack: stack, UserPool: pool}
}

// AppScopes duplicates operations.Scopes (this module cannot import the
// app's): every scope the app checks, including those only its handlers
// check (orders:fulfil), which the spec's routes need not name. An issuer
// must define them all. TestAppScopesMatchOperations keeps the two equal.
var AppScopes = []string{"items:write", "orders:fulfil"}

// IssuerScopes is every scope an issuer must define for the API: those the
// spec names and those the app checks, sorted.
func IssuerScopes(spec Spec) []string {
	all := append(slices.Clone(spec.Scopes), AppScopes...)
	slices.Sort(all)
	return slices.Compact(all)
}
