package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/typedapi/typedapi/e2e/client"
	"github.com/typedapi/typedapi/store/storetest"
)

// TestOrderThroughClient makes an item, orders it, pays and ships the
// order through the generated client, against the real binary on DynamoDB
// Local (or the server TYPEDAPI_E2E_SERVER names), every exchange validated
// against the committed spec.
func TestOrderThroughClient(t *testing.T) {
	server := externalServer()
	if server == "" {
		endpoint, ok := storetest.DynamoDBLocal(t)
		if !ok {
			t.Skip("no DynamoDB Local")
		}
		env := []string{
			"TYPEDAPI_STORE=dynamodb",
			"TYPEDAPI_DYNAMODB_ENDPOINT=" + endpoint,
			"TYPEDAPI_DYNAMODB_TABLE=" + fmt.Sprintf("e2e-orders-%d", time.Now().UnixNano()),
			"TYPEDAPI_DYNAMODB_REGION=us-east-1",
		}
		table := exec.Command(apiBinary, "table", "create")
		table.Env = append(os.Environ(), env...)
		if out, err := table.CombinedOutput(); err != nil {
			t.Fatalf("api table create: %v\n%s", err, out)
		}
		server = startAPI(t, "", env...)
	}
	c := newClient(t, server)
	ctx := context.Background()

	item, err := c.CreateItemWithResponse(ctx, nil, client.ItemFields{Name: "Espresso cup", Price: 1250, Currency: "EUR"})
	must(t, err)
	wantStatus(t, "create item", item.StatusCode(), http.StatusCreated, item.Body)
	itemID := *item.JSON201.Id

	key := "e2e-order"
	created, err := c.CreateOrderWithResponse(ctx, &client.CreateOrderParams{IdempotencyKey: &key}, client.NewOrder{ItemId: itemID, Quantity: 3})
	must(t, err)
	wantStatus(t, "create order", created.StatusCode(), http.StatusCreated, created.Body)
	order := created.JSON201
	if order.Status != client.OrderStatusPending || *order.UnitPrice != 1250 || *order.Total != 3750 || *order.Currency != "EUR" {
		t.Fatalf("new order: %s", created.Body)
	}
	id := *order.Id
	if loc := created.HTTPResponse.Header.Get("Location"); loc != "/v1/orders/"+id {
		t.Errorf("Location %q", loc)
	}

	etag := created.HTTPResponse.Header.Get("ETag")
	got, err := c.GetOrderWithResponse(ctx, id, &client.GetOrderParams{IfNoneMatch: &etag})
	must(t, err)
	wantStatus(t, "get with its ETag", got.StatusCode(), http.StatusNotModified, got.Body)

	for _, step := range []client.OrderPatchStatus{client.OrderPatchStatusPaid, client.OrderPatchStatusShipped} {
		patched, err := c.PatchOrderWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, id, &client.PatchOrderParams{IfMatch: &etag}, client.OrderPatch{Status: step})
		must(t, err)
		wantStatus(t, "patch to "+string(step), patched.StatusCode(), http.StatusOK, patched.Body)
		etag = patched.HTTPResponse.Header.Get("ETag")
	}
	stale := `"` + id + `.1"`
	refused, err := c.PatchOrderWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, id, &client.PatchOrderParams{IfMatch: &stale}, client.OrderPatch{Status: client.OrderPatchStatusCancelled})
	must(t, err)
	wantStatus(t, "patch from a stale ETag", refused.StatusCode(), http.StatusPreconditionFailed, refused.Body)

	status := client.ListOrdersParamsStatusShipped
	list, err := c.ListOrdersWithResponse(ctx, &client.ListOrdersParams{ItemId: &itemID, Status: &status})
	must(t, err)
	wantStatus(t, "list shipped orders of the item", list.StatusCode(), http.StatusOK, list.Body)
	if len(list.JSON200.Orders) != 1 || *list.JSON200.Orders[0].Id != id {
		t.Fatalf("shipped orders of the item: %s", list.Body)
	}
	final := list.JSON200.Orders[0]
	if final.Status != client.OrderStatusShipped || len(*final.StatusHistory) != 3 || *final.Version != 3 {
		t.Errorf("shipped order: %+v", final)
	}
}
