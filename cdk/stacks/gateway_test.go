package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// testAuth is an issuer of the tests' own: nothing is fetched at synth.
var testAuth = Auth{Issuer: "https://issuer.example.com/", Audience: "typedapi-test"}

func readSpec(t *testing.T, path string) Spec {
	t.Helper()
	spec, err := ReadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// wantRoute is what the spec asks of an operation's route.
type wantRoute struct {
	protected bool
	scopes    []string // nil: any valid token (when protected)
}

// wantRoutes reads the OpenAPI document on its own (not with ParseSpec,
// which the stacks use): route key -> what that operation declares. An
// operation is protected unless it has no security requirement or an
// empty one; the gateway asks for any of the scopes its requirements name,
// or for none if one requirement names none.
func wantRoutes(t *testing.T, specPath, prefix string, a Auth) map[string]wantRoute {
	t.Helper()
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Security []map[string][]string                            `json:"security"`
		Paths    map[string]map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]wantRoute{}
	for path, item := range doc.Paths {
		for method, op := range item {
			if !slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch"}, method) {
				continue
			}
			security := doc.Security
			if raw, ok := op["security"]; ok {
				security = nil
				if err := json.Unmarshal(raw, &security); err != nil {
					t.Fatal(err)
				}
			}
			w := wantRoute{protected: len(security) > 0}
			var scopes []string
			anyToken := false
			for _, req := range security {
				if len(req) == 0 {
					w.protected = false
				}
				if s, ok := req["bearer"]; ok && len(s) == 0 {
					anyToken = true
				}
				for _, s := range req["bearer"] {
					if !slices.Contains(scopes, a.ScopePrefix+s) {
						scopes = append(scopes, a.ScopePrefix+s)
					}
				}
			}
			if w.protected && !anyToken {
				slices.Sort(scopes)
				w.scopes = scopes
			}
			p := prefix + path
			if prefix != "" && path == "/" {
				p = prefix
			}
			want[strings.ToUpper(method)+" "+p] = w
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s declares no operation", specPath)
	}
	return want
}

// templateJSON is the synthesized template as plain JSON.
func templateJSON(tmpl assertions.Template) map[string]any {
	return *tmpl.ToJSON()
}

func resourcesOf(tmpl assertions.Template, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range templateJSON(tmpl)["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// checkRoutes checks the HTTP API routes of tmpl against the spec: every
// operation has exactly one route, with its method and path under prefix;
// a protected one carries the JWT authorizer of a and exactly its scopes;
// a public one, and each catch-all, no authorizer. Nothing else is routed,
// and only public routes and catch-alls have cdk-nag's authorizer finding
// suppressed.
func checkRoutes(t *testing.T, tmpl assertions.Template, specPath, prefix string, a Auth) {
	t.Helper()
	want := wantRoutes(t, specPath, prefix, a)
	catchAll := []string{"$default"}
	if prefix != "" {
		catchAll = []string{"ANY " + prefix, "ANY " + prefix + "/{proxy+}"}
	}

	authorizers := resourcesOf(tmpl, "AWS::ApiGatewayV2::Authorizer")
	var authorizerID string
	anyProtected := false
	for _, w := range want {
		anyProtected = anyProtected || w.protected
	}
	if anyProtected {
		if len(authorizers) != 1 {
			t.Fatalf("want one JWT authorizer, found %d", len(authorizers))
		}
		for id := range authorizers {
			authorizerID = id
		}
		check(t, "the JWT authorizer: the issuer and audience, from the Authorization header", func() {
			tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Authorizer"), map[string]any{
				"AuthorizerType": "JWT",
				"Name":           "typedapi" + strings.ReplaceAll(prefix, "/", "-"),
				"IdentitySource": []any{"$request.header.Authorization"},
				"JwtConfiguration": exact(map[string]any{
					"Issuer": jsonValue(a.Issuer), "Audience": []any{jsonValue(a.Audience)},
				}),
			})
		})
	} else if len(authorizers) != 0 {
		t.Errorf("no operation is protected, yet %d authorizers", len(authorizers))
	}

	seen := map[string]bool{}
	for id, r := range resourcesOf(tmpl, "AWS::ApiGatewayV2::Route") {
		props := r["Properties"].(map[string]any)
		key := props["RouteKey"].(string)
		if seen[key] {
			t.Errorf("route %s twice", key)
		}
		seen[key] = true
		w, isOp := want[key]
		switch {
		case slices.Contains(catchAll, key):
		case !isOp:
			if prefix == "" || strings.HasPrefix(strings.SplitN(key, " ", 2)[1], prefix) {
				t.Errorf("route %s: no operation of the spec", key)
			}
			continue // a route of the API the app is mounted on
		}
		if w.protected {
			if props["AuthorizationType"] != "JWT" || !reflect.DeepEqual(props["AuthorizerId"], map[string]any{"Ref": authorizerID}) {
				t.Errorf("protected route %s: authorization %v %v, want JWT by %s", key, props["AuthorizationType"], props["AuthorizerId"], authorizerID)
			}
			var got []string
			if s, ok := props["AuthorizationScopes"].([]any); ok {
				for _, v := range s {
					got = append(got, v.(string))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, w.scopes) {
				t.Errorf("protected route %s: scopes %q, want exactly %q", key, got, w.scopes)
			}
			if suppressed(r, "AwsSolutions-APIG4") {
				t.Errorf("protected route %s (%s) has the authorizer finding suppressed", key, id)
			}
		} else {
			if at, ok := props["AuthorizationType"]; ok && at != "NONE" {
				t.Errorf("public route %s: authorization %v, want none", key, at)
			}
			if _, ok := props["AuthorizerId"]; ok {
				t.Errorf("public route %s has an authorizer", key)
			}
			if _, ok := props["AuthorizationScopes"]; ok {
				t.Errorf("public route %s has scopes", key)
			}
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("operation %s has no route", key)
		}
	}
	for _, key := range catchAll {
		if !seen[key] {
			t.Errorf("no catch-all route %s", key)
		}
	}
	checkNoBlanketSuppression(t, tmpl)
}

// checkNoBlanketSuppression: cdk-nag's authorizer finding (APIG4) is
// suppressed on nothing but single routes that let anonymous callers in
// by design; never on an API, a stage, or a protected route (checked by
// checkRoutes), which would hide a route that lost its authorizer.
func checkNoBlanketSuppression(t *testing.T, tmpl assertions.Template) {
	t.Helper()
	for id, r := range templateJSON(tmpl)["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if !suppressed(res, "AwsSolutions-APIG4") {
			continue
		}
		switch res["Type"] {
		case "AWS::ApiGatewayV2::Route":
			if at := res["Properties"].(map[string]any)["AuthorizationType"]; at == "JWT" {
				t.Errorf("%s: a JWT-protected route with APIG4 suppressed", id)
			}
		case "AWS::ApiGateway::Method":
			if at := res["Properties"].(map[string]any)["AuthorizationType"]; at != "NONE" {
				t.Errorf("%s: a method behind an authorizer (%v) with APIG4 suppressed", id, at)
			}
		default:
			t.Errorf("%s (%v): APIG4 suppressed on more than a route", id, res["Type"])
		}
	}
}

// suppressed reports whether cdk-nag's rule id is suppressed on the
// template resource res.
func suppressed(res map[string]any, id string) bool {
	md, _ := res["Metadata"].(map[string]any)
	nag, _ := md["cdk_nag"].(map[string]any)
	rules, _ := nag["rules_to_suppress"].([]any)
	for _, r := range rules {
		if r.(map[string]any)["id"] == id {
			return true
		}
	}
	return false
}

// jsonValue is how a string, or a token standing for a value of another
// stack, appears in the template.
func jsonValue(s string) any {
	if *awscdk.Token_IsUnresolved(jsii.String(s)) {
		return assertions.Match_AnyValue()
	}
	return s
}

// The fixture has protected and public operations; the committed spec
// gets its security from another change, and the same checks hold for it
// (TestServerlessStackDefaults).
func TestServerlessStackRoutesFromFixture(t *testing.T) {
	app := newApp(t)
	s := NewServerlessStack(app, "Typedapi", &ServerlessStackProps{
		CodeDir: codeDir, Spec: readSpec(t, fixtureSpec), Auth: testAuth,
	})
	tmpl := synth(t, s.Stack)
	checkRoutes(t, tmpl, fixtureSpec, "", testAuth)
	check(t, "scoped, any-token and public routes as the fixture declares them", func() {
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Route"), map[string]any{
			"RouteKey": "POST /v1/items", "AuthorizationType": "JWT", "AuthorizationScopes": []any{"items:write"},
		})
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Route"), map[string]any{
			"RouteKey": "GET /v1/orders", "AuthorizationType": "JWT", "AuthorizationScopes": absent(),
		})
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Route"), map[string]any{
			"RouteKey": "HEAD /v1/items/{id}", "AuthorizationType": "NONE", "AuthorizerId": absent(),
		})
	})
	check(t, "CORS preflights reach the app: API Gateway answers none itself, and $default takes OPTIONS", func() {
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Api"), map[string]any{"CorsConfiguration": absent()})
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Route"), map[string]any{
			"RouteKey": "$default", "AuthorizationType": "NONE", "AuthorizerId": absent(),
		})
		tmpl.ResourcePropertiesCountIs(typ("AWS::ApiGatewayV2::Route"), map[string]any{
			"RouteKey": like("^(OPTIONS|ANY) "),
		}, count(0))
	})
	if got := len(s.Routes); got != len(readSpec(t, fixtureSpec).Operations) {
		t.Errorf("%d routes returned, want one per operation", got)
	}
}

// A stack without an issuer is refused at synth: no open deployment.
func TestStacksRequireAnIssuer(t *testing.T) {
	spec := readSpec(t, fixtureSpec)
	for name, build := range map[string]func(app awscdk.App){
		"serverless": func(app awscdk.App) {
			NewServerlessStack(app, "S", &ServerlessStackProps{CodeDir: codeDir, Spec: spec})
		},
		"container": func(app awscdk.App) {
			NewContainerStack(app, "C", &ContainerStackProps{RepoRoot: repoRoot})
		},
		"migration": func(app awscdk.App) {
			NewMigrationExampleStack(app, "M", &MigrationExampleProps{CodeDir: codeDir, Spec: spec})
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "authIssuer") {
					t.Errorf("want a panic naming authIssuer, got %v", r)
				}
			}()
			build(awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())}))
		})
	}
}

// With -c cognito=true the user pool is the issuer: its resource server
// defines every scope, the app client may ask for them, and the routes
// ask for them as Cognito writes them ("typedapi/items:write").
func TestCognitoIssuer(t *testing.T) {
	app := newApp(t)
	spec := readSpec(t, fixtureSpec)
	scopes := IssuerScopes(spec)
	authStack := NewAuthStack(app, "Auth", &AuthStackProps{UserPool: UserPoolProps{Scopes: scopes}})
	pool := authStack.UserPool
	s := NewServerlessStack(app, "Typedapi", &ServerlessStackProps{CodeDir: codeDir, Spec: spec, Auth: pool.Auth})
	authTmpl := synth(t, authStack.Stack)
	tmpl := synth(t, s.Stack)

	if w := []string{"items:write", "orders:cancel", "orders:fulfil"}; !slices.Equal(scopes, w) {
		t.Errorf("IssuerScopes = %q, want the spec's and the app's: %q", scopes, w)
	}
	var serverScopes, clientScopes []any
	for _, sc := range scopes {
		serverScopes = append(serverScopes, map[string]any{"ScopeName": sc, "ScopeDescription": "typedapi scope " + sc})
		clientScopes = append(clientScopes, "typedapi/"+sc)
	}
	check(t, "the resource server defines exactly the API's scopes", func() {
		authTmpl.ResourceCountIs(typ("AWS::Cognito::UserPoolResourceServer"), count(1))
		authTmpl.HasResourceProperties(typ("AWS::Cognito::UserPoolResourceServer"), map[string]any{
			"Identifier": "typedapi", "Scopes": serverScopes,
		})
	})
	check(t, "the app client: authorization code (PKCE, no secret), openid and every scope", func() {
		authTmpl.HasResourceProperties(typ("AWS::Cognito::UserPoolClient"), map[string]any{
			"AllowedOAuthFlows":  []any{"code"},
			"AllowedOAuthScopes": assertions.Match_ArrayWith(&[]any{"openid"}),
			"GenerateSecret":     false,
		})
		authTmpl.HasResourceProperties(typ("AWS::Cognito::UserPoolClient"), map[string]any{
			"AllowedOAuthScopes": assertions.Match_ArrayWith(&clientScopes),
		})
	})
	check(t, "the pool: no self sign-up, MFA required, strong passwords, threat protection", func() {
		authTmpl.HasResourceProperties(typ("AWS::Cognito::UserPool"), map[string]any{
			"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
			"MfaConfiguration":      "ON",
			"UserPoolTier":          "PLUS",
			"Policies": map[string]any{"PasswordPolicy": map[string]any{
				"MinimumLength": 12, "RequireLowercase": true, "RequireUppercase": true, "RequireNumbers": true, "RequireSymbols": true,
			}},
		})
	})
	checkRoutes(t, tmpl, fixtureSpec, "", pool.Auth)
	check(t, "the authorizer trusts the pool, imported from its stack", func() {
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Authorizer"), map[string]any{
			"JwtConfiguration": map[string]any{
				"Issuer":   map[string]any{"Fn::ImportValue": assertions.Match_AnyValue()},
				"Audience": []any{map[string]any{"Fn::ImportValue": assertions.Match_AnyValue()}},
			},
		})
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Route"), map[string]any{
			"RouteKey": "POST /v1/items", "AuthorizationScopes": []any{"typedapi/items:write"},
		})
	})
	check(t, "the app takes the resource server's prefix off the scopes it reads", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				"TYPEDAPI_AUTH_MODE": "gateway", "TYPEDAPI_AUTH_SCOPE_PREFIX": "typedapi/",
			})},
		})
	})
}

// restPaths maps each AWS::ApiGateway::Resource of the template to its full
// path, following ParentId up to a resource the template does not make.
func restPaths(tmpl assertions.Template) map[string]string {
	resources := resourcesOf(tmpl, "AWS::ApiGateway::Resource")
	paths := map[string]string{}
	var pathOf func(id string) string
	pathOf = func(id string) string {
		if p, ok := paths[id]; ok {
			return p
		}
		r, ok := resources[id]
		if !ok {
			return "" // the API's root
		}
		props := r["Properties"].(map[string]any)
		parent := ""
		if ref, ok := props["ParentId"].(map[string]any); ok {
			if id, ok := ref["Ref"].(string); ok {
				parent = pathOf(id)
			}
		}
		paths[id] = parent + "/" + props["PathPart"].(string)
		return paths[id]
	}
	for id := range resources {
		pathOf(id)
	}
	return paths
}

// checkRestMethods: on a REST API mounted at prefix, each operation of the
// spec has its method, protected ones behind the one TOKEN authorizer with
// no authorizer finding suppressed, public ones with none; every other
// method is a catch-all ANY.
func checkRestMethods(t *testing.T, tmpl assertions.Template, specPath, prefix string, a Auth) {
	t.Helper()
	want := wantRoutes(t, specPath, prefix, a)
	authorizerID := onlyID(t, tmpl, "AWS::ApiGateway::Authorizer")
	paths := restPaths(tmpl)
	seen := map[string]bool{}
	anys := 0
	for id, r := range resourcesOf(tmpl, "AWS::ApiGateway::Method") {
		props := r["Properties"].(map[string]any)
		path := prefix
		if ref, ok := props["ResourceId"].(map[string]any)["Ref"].(string); ok {
			path = paths[ref]
		}
		key := props["HttpMethod"].(string) + " " + path
		w, isOp := want[key]
		if props["HttpMethod"] == "ANY" {
			anys++
			if props["AuthorizationType"] != "NONE" {
				t.Errorf("catch-all %s: authorization %v", key, props["AuthorizationType"])
			}
			continue
		}
		if !isOp {
			t.Errorf("method %s: no operation of the spec", key)
			continue
		}
		seen[key] = true
		if w.protected {
			if props["AuthorizationType"] != "CUSTOM" || !reflect.DeepEqual(props["AuthorizerId"], map[string]any{"Ref": authorizerID}) {
				t.Errorf("protected method %s: authorization %v %v, want CUSTOM by %s", key, props["AuthorizationType"], props["AuthorizerId"], authorizerID)
			}
			if suppressed(r, "AwsSolutions-APIG4") {
				t.Errorf("protected method %s (%s) has the authorizer finding suppressed", key, id)
			}
		} else if props["AuthorizationType"] != "NONE" {
			t.Errorf("public method %s: authorization %v, want NONE", key, props["AuthorizationType"])
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("operation %s has no method", key)
		}
	}
	if anys == 0 {
		t.Error("no catch-all ANY method")
	}
	checkNoBlanketSuppression(t, tmpl)
}
