// Package openapi holds the API contract as committed files and the tests
// that keep it honest:
//
//   - openapi.json (OpenAPI 3.1, what /openapi.json serves) and
//     openapi-3.0.json (the 3.0 downgrade, what /openapi-3.0.json serves and
//     what the client in ./client is generated from) must equal what the code
//     produces. After an intended change refresh them with
//
//     go test ./openapi -run TestSnapshot -update
//
//   - every operation, parameter, schema property and error response carries
//     a description and an example (TestDocumented);
//
//   - no breaking change against the spec committed on main, unless it sits
//     under a new version prefix such as /v2 (TestNoBreakingChanges);
//
//   - the spec passes Redocly's linter with no error and no warning
//     (TestLint, rules in redocly.yaml).
package openapi
