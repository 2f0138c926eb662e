package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/typedapi/typedapi/models"
)

// Row keys. Every row of an item has sk = the item's id, so each partition
// below reads in id order. See docs/DYNAMODB.md.
const (
	pkItems   = "ITEM"  // the item itself: the unfiltered listing
	pkTag     = "TAG#"  // + tag: a copy of each item carrying the tag
	pkName    = "NAME#" // + first 1 or 2 runes of the folded name: a copy
	pkIdem    = "IDEM#" // + sha256(key): the idempotency record
	skIdem    = "IDEM"
	nameRunes = 2 // name prefixes indexed; longer prefixes filter within NAME#<2 runes>
)

const (
	// conflictAttempts bounds our own retries of a transaction that DynamoDB
	// cancelled because another transaction held one of its rows; the SDK
	// does not retry those.
	conflictAttempts = 8
	// maxQueryReads bounds the Query round trips of one List call. Each
	// reads up to 1 MB, so this is only reached by a filter over a huge
	// partition, and then the call fails instead of returning a short page.
	maxQueryReads = 200
)

type key struct{ pk, sk string }

// rowKeys are the keys of every row that stores item: the item row, one per
// tag and one per indexed name prefix. All are written and removed together.
func rowKeys(item models.Item) []key {
	keys := []key{{pkItems, item.ID}}
	for _, tag := range item.Tags {
		// A repeated tag would make a transaction touch one row twice,
		// which DynamoDB rejects; the API forbids repeats, this keeps the
		// store safe without them.
		if k := (key{pkTag + string(tag), item.ID}); !containsKey(keys, k) {
			keys = append(keys, k)
		}
	}
	folded := []rune(models.FoldName(item.Name))
	for n := 1; n <= nameRunes && n <= len(folded); n++ {
		keys = append(keys, key{pkName + string(folded[:n]), item.ID})
	}
	return keys
}

func (k key) attrs() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(k.pk), "sk": str(k.sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// itemAttrs is the stored form of an item: the attributes of every row of
// the item (besides its key) and of an idempotency record's snapshot.
func itemAttrs(it models.Item) map[string]types.AttributeValue {
	tags := make([]types.AttributeValue, len(it.Tags))
	for i, t := range it.Tags {
		tags[i] = str(string(t))
	}
	return map[string]types.AttributeValue{
		"id":          str(it.ID),
		"name":        str(it.Name),
		"name_folded": str(models.FoldName(it.Name)),
		"description": str(it.Description),
		"price":       num(it.Price),
		"currency":    str(it.Currency),
		"tags":        &types.AttributeValueMemberL{Value: tags},
		"created_at":  str(it.CreatedAt.UTC().Format(time.RFC3339Nano)),
		"updated_at":  str(it.UpdatedAt.UTC().Format(time.RFC3339Nano)),
		"version":     num(it.Version),
	}
}

func rowAttrs(k key, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	row := k.attrs()
	for name, v := range item {
		row[name] = v
	}
	return row
}

// decodeItem reads itemAttrs back; a row that does not have that shape is
// an error (someone else wrote to the table), never a zero item.
func decodeItem(m map[string]types.AttributeValue) (models.Item, error) {
	r := &attrReader{m: m}
	it := models.Item{ID: r.s("id")}
	it.Name, it.Description, it.Currency = r.s("name"), r.s("description"), r.s("currency")
	it.Price, it.Version = r.n("price"), r.n("version")
	it.CreatedAt, it.UpdatedAt = r.t("created_at"), r.t("updated_at")
	errs := r.errs
	it.Tags = []models.Tag{}
	tags, ok := m["tags"].(*types.AttributeValueMemberL)
	if !ok {
		errs = append(errs, errors.New("attribute tags is not a list"))
	} else {
		for _, v := range tags.Value {
			tag, ok := v.(*types.AttributeValueMemberS)
			if !ok {
				errs = append(errs, errors.New("a tag is not a string"))
				continue
			}
			it.Tags = append(it.Tags, models.Tag(tag.Value))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return models.Item{}, fmt.Errorf("dynamodb: malformed item row: %w", err)
	}
	return it, nil
}

func normalize(it models.Item) models.Item {
	if it.Tags == nil {
		it.Tags = []models.Tag{}
	}
	return it
}

// isID reports whether s is a ULID in canonical form (26 upper-case
// Crockford base32 characters). Items are stored only under such ids, and
// list positions are such ids, so anything else is refused before it
// reaches DynamoDB as a key.
func isID(s string) bool {
	if len(s) != 26 || s[0] > '7' { // a ULID's first character encodes 3 bits
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", rune(s[i])) {
			return false
		}
	}
	return true
}

// idemKey is where the idempotency record of idem's key lives for the
// create whose scope is given (itemScope, orderScope), so one key sent to
// two operations makes two records; and one key sent by two owners too.
// The owner's length comes first, so no owner and key pair hashes as
// another. (Records made before keys had owners hashed the key alone: none
// of them replays to anyone now, as none can tell whose it was.)
func idemKey(scope string, idem *models.Idempotency) key {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(idem.Owner)) + ":" + idem.Owner + idem.Key))
	return key{pkIdem + scope + hex.EncodeToString(sum[:]), skIdem}
}

// itemScope is the idempotency scope of item creates: empty, as item
// records predate scopes.
const itemScope = ""

// epochCeil is t in whole seconds, rounded up so that a record is never
// forgotten before the time the caller asked for.
func epochCeil(t time.Time) int64 {
	secs := t.Unix()
	if t.Nanosecond() > 0 {
		secs++
	}
	return secs
}

// Create writes the item rows and, with idem, the idempotency record in one
// transaction: both or neither exist. The item row never overwrites; the
// record only replaces an expired one.
func (s *Store) Create(ctx context.Context, item models.Item, idem *models.Idempotency) (models.Item, bool, error) {
	if !isID(item.ID) {
		return models.Item{}, false, fmt.Errorf("dynamodb create: item id %q is not a ULID", item.ID)
	}
	item = normalize(item)
	replay, failed, err := createRows(ctx, s, newRows[models.Item]{
		op: "create", keys: rowKeys(item), attrs: itemAttrs(item), scope: itemScope, name: "item", decode: decodeItem,
	}, idem)
	switch {
	case err != nil:
		return models.Item{}, false, err
	case replay != nil:
		return *replay, true, nil
	case failed == nil:
		return item, false, nil
	}
	if conditionFailed(failed[0]) { // the item row; its copies follow it in or out
		return models.Item{}, false, models.ErrAlreadyExists
	}
	// Only the record's condition failed, yet no live record is there: it
	// expired between the write and the read. The caller may retry.
	return models.Item{}, false, fmt.Errorf("%w: idempotency record changed during create", models.ErrUnavailable)
}

// idemPut is the transaction's action that writes the idempotency record of
// idem in scope, holding the created resource's attributes under name. It
// replaces only an expired record.
func (s *Store) idemPut(scope string, idem *models.Idempotency, name string, attrs map[string]types.AttributeValue) types.TransactWriteItem {
	rec := idemKey(scope, idem).attrs()
	rec["request_hash"] = str(idem.RequestHash)
	rec[name] = &types.AttributeValueMemberM{Value: attrs}
	rec[ttlAttribute] = num(epochCeil(idem.ExpiresAt))
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                           &s.table,
		Item:                                rec,
		ConditionExpression:                 aws.String("attribute_not_exists(pk) OR expires_at <= :now"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": num(s.now().Unix())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// firstResult looks, after a keyed create's transaction failed a condition,
// for a live record of the key: it returns the first result's attributes
// (stored under name) to replay, models.ErrIdempotencyMismatch when the
// request differs, or nil and no error when no live record decides.
// Whichever condition failed, a live record decides: the key is checked
// before anything else, as in every store. The record is the transaction's
// last action.
func (s *Store) firstResult(ctx context.Context, scope string, idem *models.Idempotency, name string, failed []types.CancellationReason) (map[string]types.AttributeValue, error) {
	old := failed[len(failed)-1].Item
	if old == nil {
		var err error
		if old, err = s.getRow(ctx, "create", idemKey(scope, idem)); err != nil {
			return nil, err
		}
	}
	if old == nil || s.expired(old) {
		return nil, nil
	}
	if h, _ := old["request_hash"].(*types.AttributeValueMemberS); h == nil || h.Value != idem.RequestHash {
		return nil, models.ErrIdempotencyMismatch
	}
	snap, ok := old[name].(*types.AttributeValueMemberM)
	if !ok {
		return nil, errors.New("dynamodb create: idempotency record without its " + name)
	}
	return snap.Value, nil
}

// expired judges an idempotency record by its expires_at, not by whether
// DynamoDB's TTL has deleted it yet: TTL deletion lags by hours.
func (s *Store) expired(rec map[string]types.AttributeValue) bool {
	v, ok := rec[ttlAttribute].(*types.AttributeValueMemberN)
	if !ok {
		return true
	}
	exp, err := strconv.ParseInt(v.Value, 10, 64)
	return err != nil || exp <= s.now().Unix()
}

// transact runs one TransactWriteItems. When a condition failed it returns
// the cancellation reasons (one per action, with the old row where asked)
// and no error. Cancellation by a concurrent transaction is retried a
// bounded number of times with jittered backoff.
func (s *Store) transact(ctx context.Context, op string, tx []types.TransactWriteItem) ([]types.CancellationReason, error) {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: tx}
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, in)
		if err == nil {
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return nil, classify(ctx, op, err)
		}
		if hasReason(tce, "ConditionalCheckFailed") {
			return tce.CancellationReasons, nil
		}
		if !hasReason(tce, "TransactionConflict") || attempt == conflictAttempts {
			return nil, classify(ctx, op, err)
		}
		// A fresh client token each time: the cancelled attempt applied
		// nothing, so this is a new transaction, not a repeat.
		in.ClientRequestToken = nil
		wait := backoff/2 + rand.N(backoff)
		backoff = min(2*backoff, 500*time.Millisecond)
		select {
		case <-ctx.Done():
			return nil, classify(ctx, op, err)
		case <-time.After(wait):
		}
	}
}

func hasReason(tce *types.TransactionCanceledException, code string) bool {
	for _, r := range tce.CancellationReasons {
		if r.Code != nil && *r.Code == code {
			return true
		}
	}
	return false
}

// getRow reads one row with a strongly consistent read; nil when absent.
func (s *Store) getRow(ctx context.Context, op string, k key) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            k.attrs(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	return out.Item, nil
}

// Get returns the item with a strongly consistent read, so a client sees
// its own writes.
func (s *Store) Get(ctx context.Context, id string) (models.Item, error) {
	return s.get(ctx, "get", id)
}

func (s *Store) get(ctx context.Context, op, id string) (models.Item, error) {
	if !isID(id) {
		return models.Item{}, models.ErrNotFound
	}
	row, err := s.getRow(ctx, op, key{pkItems, id})
	if err != nil {
		return models.Item{}, err
	}
	if row == nil {
		return models.Item{}, models.ErrNotFound
	}
	return decodeItem(row)
}

// Update replaces the item if its stored version is still prevVersion, and
// moves its tag and name rows in the same transaction. The read before the
// write tells which index rows to remove; the version condition on the
// item row guarantees that read is still current when the write applies.
func (s *Store) Update(ctx context.Context, item models.Item, prevVersion int64) (models.Item, error) {
	item = normalize(item)
	cur, err := s.get(ctx, "update", item.ID)
	if err != nil {
		return models.Item{}, err
	}
	if cur.Version != prevVersion {
		return models.Item{}, models.ErrVersionConflict
	}
	if err := s.replaceRows(ctx, "update", rowKeys(cur), rowKeys(item), itemAttrs(item), prevVersion); err != nil {
		return models.Item{}, err
	}
	return item, nil
}

// whyVersionFailed tells a vanished row (item or order) from a changed one
// after a version condition on the row at k failed.
func (s *Store) whyVersionFailed(ctx context.Context, op string, k key, r types.CancellationReason) error {
	if r.Item != nil {
		return models.ErrVersionConflict
	}
	// The old row may be absent because it is gone, or because the server
	// did not return it: read to be sure.
	row, err := s.getRow(ctx, op, k)
	if err != nil {
		return err
	}
	if row == nil {
		return models.ErrNotFound
	}
	return models.ErrVersionConflict
}

func containsKey(keys []key, k key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// Delete removes the item and its index rows. With prevVersion > 0 only at
// that version; with 0 at whatever version it has, re-reading (a bounded
// number of times) if it changes under us, because the rows to remove
// depend on the version.
func (s *Store) Delete(ctx context.Context, id string, prevVersion int64) error {
	for attempt := 1; attempt <= conflictAttempts; attempt++ {
		cur, err := s.get(ctx, "delete", id)
		if err != nil {
			return err
		}
		if prevVersion > 0 && cur.Version != prevVersion {
			return models.ErrVersionConflict
		}
		keys := rowKeys(cur)
		tx := make([]types.TransactWriteItem, len(keys))
		for i, k := range keys {
			del := &types.Delete{TableName: &s.table, Key: k.attrs()}
			if i == 0 {
				del.ConditionExpression = aws.String("version = :v")
				del.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(cur.Version)}
				del.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
			}
			tx[i] = types.TransactWriteItem{Delete: del}
		}
		failed, err := s.transact(ctx, "delete", tx)
		if err != nil {
			return err
		}
		if failed == nil {
			return nil
		}
		why := s.whyVersionFailed(ctx, "delete", key{pkItems, id}, failed[0])
		if prevVersion > 0 || !errors.Is(why, models.ErrVersionConflict) {
			return why
		}
	}
	return fmt.Errorf("%w: dynamodb delete: item %s kept changing", models.ErrUnavailable, id)
}

// List reads one page with a strongly consistent Query on the partition
// that holds exactly the matching items (all, one tag, or a short name
// prefix), so filtered pages are as full as unfiltered ones. Only a name
// prefix longer than the indexed one adds a filter; then reading goes on
// until the page is full or the partition ends, so a page is never short
// while more matches exist. It reads one item past the page to know
// whether another page follows.
func (s *Store) List(ctx context.Context, q models.ListQuery) (models.ListPage, error) {
	if q.After != "" && !isID(q.After) {
		return models.ListPage{}, models.ErrInvalidPosition
	}
	if q.Limit < 1 {
		return models.ListPage{}, fmt.Errorf("dynamodb list: limit %d is below 1", q.Limit)
	}
	pk, prefix := partition(q)
	in := s.partitionQuery(pk, q.After)
	if prefix != "" {
		in.FilterExpression = aws.String("begins_with(name_folded, :prefix)")
		in.ExpressionAttributeValues[":prefix"] = str(prefix)
	}
	return queryPage(ctx, s, in, q.Limit, prefix != "", decodeItem, func(it models.Item) string { return it.ID })
}

// partition picks the rows a listing reads and the folded name prefix still
// to filter by ("" when the partition matches exactly).
func partition(q models.ListQuery) (pk, filter string) {
	prefix := []rune(models.FoldName(q.NamePrefix))
	switch {
	case q.Tag != "":
		return pkTag + string(q.Tag), string(prefix)
	case len(prefix) == 0:
		return pkItems, ""
	case len(prefix) <= nameRunes:
		return pkName + string(prefix), ""
	default:
		return pkName + string(prefix[:nameRunes]), string(prefix)
	}
}
