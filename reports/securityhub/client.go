package securityhub

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awssh "github.com/aws/aws-sdk-go-v2/service/securityhub"
)

// ClientOptions configures NewClient.
type ClientOptions struct {
	// Region is the Security Hub region; empty means the environment's (AWS_REGION, profile).
	Region string
	// Endpoint overrides the service endpoint (a local test server, a VPC endpoint).
	Endpoint string
	// Credentials override the default chain (environment, profile, instance role).
	Credentials aws.CredentialsProvider
}

// NewClient makes a Security Hub client from the default AWS configuration. The SDK's own retries are off:
// Import retries whole batches with backoff and counts the retries.
func NewClient(ctx context.Context, o ClientOptions) (*awssh.Client, error) {
	var load []func(*config.LoadOptions) error
	if o.Region != "" {
		load = append(load, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region for Security Hub: pass --region or set AWS_REGION")
	}
	return awssh.NewFromConfig(cfg, func(so *awssh.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.Retryer = aws.NopRetryer{}
	}), nil
}
