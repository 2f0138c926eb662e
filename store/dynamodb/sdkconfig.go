package dynamodb

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// sdkSettings are the parts of the SDK configuration New decides itself,
// whichever way the rest is loaded.
type sdkSettings struct {
	httpClient aws.HTTPClient
	logger     logging.Logger
	retryer    func() aws.Retryer
}

// configFromEnv builds the SDK configuration from the environment alone:
// the region and the credentials Lambda gives every function
// (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
// they stay valid for the life of the execution environment). Container
// credential endpoints, with their token rotation and host rules, are left
// to the SDK's chain in the default build, which the Dockerfile uses.
//
// A Lambda build uses it (sdkconfig_lambda.go): aws-sdk-go-v2/config's
// default chain brings shared config files, SSO, STS and IMDS, whose
// clients' package initialisers alone cost about a millisecond of every
// cold start, for credential sources a function never has.
func configFromEnv(o Options, s sdkSettings) (aws.Config, error) {
	cfg := aws.Config{
		Region:     firstNonEmpty(o.Region, o.Getenv("AWS_REGION"), o.Getenv("AWS_DEFAULT_REGION")),
		HTTPClient: s.httpClient,
		Logger:     s.logger,
		Retryer:    s.retryer,
	}
	switch {
	case o.Getenv("AWS_ACCESS_KEY_ID") != "":
		if o.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
			return aws.Config{}, fmt.Errorf("dynamodb: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(
			o.Getenv("AWS_ACCESS_KEY_ID"), o.Getenv("AWS_SECRET_ACCESS_KEY"), o.Getenv("AWS_SESSION_TOKEN"))
	case o.Endpoint != "":
		cfg.Credentials = localCredentials
	default:
		return aws.Config{}, fmt.Errorf("dynamodb: no AWS credentials in the environment " +
			"(a Lambda build, -tags lambda.norpc, reads only AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; " +
			"build without the tag for profiles, SSO, web identity, container and instance roles)")
	}
	return cfg, nil
}

// localCredentials sign requests to an explicit endpoint when no others
// are configured: DynamoDB Local accepts any signature, and real AWS never
// sees these because they are used only with an endpoint override.
var localCredentials = credentials.NewStaticCredentialsProvider("local", "local", "")

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// credentialsInEnv reports whether the environment names credentials the
// SDK would use (keys, a profile, or a web identity / container role).
func credentialsInEnv(getenv func(string) string) bool {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if getenv(k) != "" {
			return true
		}
	}
	return false
}
