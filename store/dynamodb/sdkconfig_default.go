//go:build !lambda.norpc

package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// loadConfig uses the SDK's default chain (environment, shared config
// and credentials files with profiles and SSO, web identity, container and
// instance roles), so the server runs with whatever a developer, a
// container or an EC2 host has configured.
func loadConfig(ctx context.Context, o Options, s sdkSettings) (aws.Config, error) {
	loadOpts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(s.httpClient),
		awsconfig.WithLogger(s.logger),
		awsconfig.WithRetryer(s.retryer),
	}
	if o.Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(o.Region))
	}
	if o.Endpoint != "" && !credentialsInEnv(o.Getenv) {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(localCredentials))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("dynamodb: load AWS configuration: %w", err)
	}
	return cfg, nil
}
