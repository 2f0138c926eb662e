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

// replaceRows writes a changed resource's rows at newKeys (the first is its
// own row, written only while it is at prevVersion) and deletes those of
// oldKeys it no longer has, in one transaction. The old keys come from a
// read just before; the version condition guarantees that read is still
// current when the write applies. A failed condition is ErrNotFound when
// the row is gone, ErrVersionConflict otherwise.
func (s *Store) replaceRows(ctx context.Context, op string, oldKeys, newKeys []key, attrs map[string]types.AttributeValue, prevVersion int64) error {
	tx := make([]types.TransactWriteItem, 0, len(newKeys)+len(oldKeys))
	for i, k := range newKeys {
		put := &types.Put{TableName: &s.table, Item: rowAttrs(k, attrs)}
		if i == 0 {
			put.ConditionExpression = aws.String("version = :prev")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(prevVersion)}
			put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		}
		tx = append(tx, types.TransactWriteItem{Put: put})
	}
	for _, k := range oldKeys {
		if !containsKey(newKeys, k) {
			tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: k.attrs()}})
		}
	}
	failed, err := s.transact(ctx, op, tx)
	if err != nil {
		return err
	}
	if failed != nil {
		return s.whyVersionFailed(ctx, op, newKeys[0], failed[0])
	}
	return nil
}
