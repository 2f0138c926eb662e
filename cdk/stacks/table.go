package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StoreActions are exactly the DynamoDB actions the app's store calls on its
// table. They mirror IAMActions in the root module's store/dynamodb package:
// this module cannot import that one (the app must never compile the CDK, and
// the CDK should not compile the app), so the list is duplicated here and the
// tests pin the policy to it. Change both together; docs/DEPLOY.md says so.
var StoreActions = []string{
	"dynamodb:DescribeTable",      // /readyz
	"dynamodb:GetItem",            // get, and the read before every write
	"dynamodb:Query",              // list (items and orders; no index: copy rows, see docs/DYNAMODB.md)
	"dynamodb:PutItem",            // create/update (inside TransactWriteItems)
	"dynamodb:DeleteItem",         // update/delete (inside TransactWriteItems)
	"dynamodb:ConditionCheckItem", // create order: the item is still at the version read
}

// Table key schema, as docs/DYNAMODB.md describes it: a generic partition
// and sort key of strings, and a TTL attribute holding epoch seconds.
const (
	PartitionKey = "pk"
	SortKey      = "sk"
	TTLAttribute = "expires_at"
)

// ItemsTableProps configure NewItemsTable. The zero value is production:
// deletion protection on and the table retained when the stack goes.
type ItemsTableProps struct {
	// DeletionProtection blocks DeleteTable, also from CloudFormation.
	// Default true; set false (with Disposable) for throw-away stacks.
	DeletionProtection *bool
	// Disposable deletes the table with the stack instead of retaining it.
	Disposable bool
}

// NewItemsTable makes the app's table: on-demand (no cost at rest but
// storage), point-in-time recovery, TTL on expires_at.
func NewItemsTable(scope constructs.Construct, id string, props *ItemsTableProps) awsdynamodb.Table {
	if props == nil {
		props = &ItemsTableProps{}
	}
	protect := props.DeletionProtection
	if protect == nil {
		protect = jsii.Bool(true)
	}
	removal := awscdk.RemovalPolicy_RETAIN
	if props.Disposable {
		removal = awscdk.RemovalPolicy_DESTROY
	}
	return awsdynamodb.NewTable(scope, jsii.String(id), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(SortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(TTLAttribute),
		DeletionProtection:  protect,
		RemovalPolicy:       removal,
	})
}
