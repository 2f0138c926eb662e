package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/typedapi/typedapi/models"
)

var errUnavailable = models.ErrUnavailable

// unavailableCodes are DynamoDB error codes that mean "not now": the caller
// may retry later, so they become 503 rather than 500. The SDK has already
// retried them within its bounded budget.
var unavailableCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"LimitExceededException":                 true,
	"TransactionInProgressException":         true,
	// Reasons inside a TransactionCanceledException.
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
	"TransactionConflict":           true,
}

// classify wraps err from a DynamoDB call so that callers can tell, with
// errors.Is, their own deadline (context.DeadlineExceeded, kept in the
// chain) from a transient outage (models.ErrUnavailable) from anything else
// (returned wrapped, for the HTTP layer to log as a 500). Only the caller's
// ctx decides "deadline": an HTTP attempt timeout also satisfies
// errors.Is(err, context.DeadlineExceeded), but it means DynamoDB did not
// answer, an outage.
func classify(ctx context.Context, op string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("dynamodb %s: %w", op, errors.Join(ctx.Err(), err))
	case isUnavailable(err):
		return fmt.Errorf("%w: dynamodb %s: %w", models.ErrUnavailable, op, err)
	default:
		return fmt.Errorf("dynamodb %s: %w", op, err)
	}
}

func isUnavailable(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && unavailableCodes[apiErr.ErrorCode()] {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if r.Code != nil && unavailableCodes[*r.Code] {
				return true
			}
		}
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) {
		return true // the retry budget is spent: DynamoDB has been failing
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return true // a 5xx without a known code, e.g. from a proxy
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true // the server went away mid-request
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true // timeouts, DNS failures, dropped connections
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}
