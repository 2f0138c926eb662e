//go:build lambda.norpc

package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// loadConfig, in a Lambda build (-tags lambda.norpc, as for the
// provided.al2023 runtime), reads the configuration from the environment
// Lambda sets and does not link aws-sdk-go-v2/config: see configFromEnv.
func loadConfig(_ context.Context, o Options, s sdkSettings) (aws.Config, error) {
	return configFromEnv(o, s)
}
