package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/typedapi/typedapi/models"
)

// newRows describes a create for createRows: the checks that come first in
// its transaction, the rows of the new resource (the first is its own row,
// which never overwrites; the others are its copies) with their attributes,
// and its idempotency scope and the name its snapshot has in a record.
type newRows[T any] struct {
	op     string
	checks []types.TransactWriteItem
	keys   []key
	attrs  map[string]types.AttributeValue
	scope  string
	name   string
	decode func(map[string]types.AttributeValue) (T, error)
}

// createRows writes the rows of c and, with idem, its idempotency record in
// one transaction: all or nothing. When a condition fails and a live record
// of the key decides, it returns that record's first result to replay (or
// models.ErrIdempotencyMismatch); otherwise the cancellation reasons, one
// per action, checks first, for the caller to say which condition failed.
// Both nil: the rows are written.
func createRows[T any](ctx context.Context, s *Store, c newRows[T], idem *models.Idempotency) (replay *T, failed []types.CancellationReason, err error) {
	tx := c.checks
	for i, k := range c.keys {
		put := &types.Put{TableName: &s.table, Item: rowAttrs(k, c.attrs)}
		if i == 0 {
			put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		}
		tx = append(tx, types.TransactWriteItem{Put: put})
	}
	if idem != nil {
		tx = append(tx, s.idemPut(c.scope, idem, c.name, c.attrs))
	}
	failed, err = s.transact(ctx, c.op, tx)
	if err != nil || failed == nil || idem == nil {
		return nil, failed, err
	}
	snap, err := s.firstResult(ctx, c.scope, idem, c.name, failed)
	if err != nil || snap == nil {
		return nil, failed, err
	}
	first, err := c.decode(snap)
	if err != nil {
		return nil, nil, err
	}
	return &first, nil, nil
}
