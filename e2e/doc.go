// Package e2e tests the real program as its users meet it: the built api
// binary on 127.0.0.1, driven through the client generated from the
// committed OpenAPI document (every request and response checked against
// it) and through /docs in headless Chromium.
package e2e
