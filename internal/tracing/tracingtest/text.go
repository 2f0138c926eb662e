package tracingtest

import (
	"fmt"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// text is an attribute value as text: strings as they are, others printed.
func text(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	default:
		return v.String()
	}
}

func spanKind(k int32) tracepb.Span_SpanKind { return tracepb.Span_SpanKind(k) }
