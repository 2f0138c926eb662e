package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/typedapi/typedapi/models"
)

// partitionQuery reads the partition pk in id order, strongly consistent,
// after the position after ("" for the start).
func (s *Store) partitionQuery(pk, after string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("pk = :pk AND sk > :after")
		in.ExpressionAttributeValues[":after"] = str(after)
	}
	return in
}

// queryPage reads one page of limit rows with the query in, which reads one
// partition in id order (items or orders). It reads one row past the page
// to know whether another page follows. When filtered, many rows read may
// not match: reading goes on, more rows per trip, until the page is full or
// the partition ends, so a page is never short while more matches exist.
func queryPage[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, limit int, filtered bool,
	decode func(map[string]types.AttributeValue) (T, error), id func(T) string) (models.Page[T], error) {
	want := limit + 1
	rows := make([]T, 0, want)
	for reads := 0; len(rows) < want; reads++ {
		if reads == maxQueryReads {
			return models.Page[T]{}, fmt.Errorf("dynamodb list: no full page after %d reads", reads)
		}
		// Without a filter every row read is a match: read exactly what is
		// missing. With one, read more per trip.
		n := want - len(rows)
		if filtered {
			n = min(n*4, 1000)
		}
		in.Limit = aws.Int32(int32(n))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return models.Page[T]{}, classify(ctx, "list", err)
		}
		for _, row := range out.Items {
			if len(rows) == want {
				break
			}
			v, err := decode(row)
			if err != nil {
				return models.Page[T]{}, err
			}
			rows = append(rows, v)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	page := models.Page[T]{Items: rows}
	if len(rows) > limit {
		page.Items = rows[:limit]
		page.Next = id(page.Items[limit-1])
	}
	return page, nil
}
