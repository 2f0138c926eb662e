package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Datum is one metric value CloudWatch extracts from a log line.
type Datum struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string
	Value      float64
	Time       time.Time
}

// units CloudWatch accepts (MetricDatum.Unit).
var units = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None"}

// Extract reads a log line as CloudWatch Logs reads embedded metric format
// (its published specification): the line is one JSON object; _aws holds a
// Timestamp in epoch milliseconds and CloudWatchMetrics directives; each
// directive's Namespace is a string, its dimension sets name at most 30
// top-level string members, its metrics (at most 100) name top-level
// numbers (or arrays of at most 100 numbers) with a valid Unit. Every
// dimension set yields one datum per metric. A line without _aws yields
// nothing and no error; a line CloudWatch would reject yields an error.
// Tests use it to check what the service writes.
func Extract(line []byte) ([]Datum, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, fmt.Errorf("emf: not one JSON object: %w", err)
	}
	raw, ok := root["_aws"]
	if !ok {
		return nil, nil
	}
	var meta struct {
		Timestamp         *json.Number       `json:"Timestamp"`
		CloudWatchMetrics *[]json.RawMessage `json:"CloudWatchMetrics"`
	}
	if err := strictDecode(raw, &meta); err != nil {
		return nil, fmt.Errorf("emf: _aws: %w", err)
	}
	if meta.Timestamp == nil || meta.CloudWatchMetrics == nil {
		return nil, errors.New("emf: _aws needs Timestamp and CloudWatchMetrics")
	}
	ms, err := meta.Timestamp.Int64()
	if err != nil {
		return nil, fmt.Errorf("emf: Timestamp %s is not whole epoch milliseconds", *meta.Timestamp)
	}
	ts := time.UnixMilli(ms)
	if d := time.Since(ts); d > 14*24*time.Hour || d < -2*time.Hour {
		return nil, fmt.Errorf("emf: Timestamp %s is outside what CloudWatch accepts (2 weeks back, 2 hours ahead)", ts)
	}
	var out []Datum
	for i, rd := range *meta.CloudWatchMetrics {
		var d struct {
			Namespace  *string     `json:"Namespace"`
			Dimensions *[][]string `json:"Dimensions"`
			Metrics    *[]struct {
				Name              string `json:"Name"`
				Unit              string `json:"Unit"`
				StorageResolution int    `json:"StorageResolution"`
			} `json:"Metrics"`
		}
		if err := strictDecode(rd, &d); err != nil {
			return nil, fmt.Errorf("emf: directive %d: %w", i, err)
		}
		if d.Namespace == nil || len(*d.Namespace) == 0 || len(*d.Namespace) > 255 || d.Dimensions == nil || d.Metrics == nil {
			return nil, fmt.Errorf("emf: directive %d needs a Namespace (1–255 characters), Dimensions and Metrics", i)
		}
		if len(*d.Metrics) > 100 {
			return nil, fmt.Errorf("emf: directive %d has %d metrics (at most 100)", i, len(*d.Metrics))
		}
		sets := make([]map[string]string, 0, len(*d.Dimensions))
		for _, set := range *d.Dimensions {
			if len(set) > 30 {
				return nil, fmt.Errorf("emf: directive %d: a dimension set of %d keys (at most 30)", i, len(set))
			}
			dims := map[string]string{}
			for _, k := range set {
				var v string
				if err := json.Unmarshal(root[k], &v); err != nil || v == "" {
					return nil, fmt.Errorf("emf: directive %d: dimension %q is not a top-level non-empty string", i, k)
				}
				dims[k] = v
			}
			sets = append(sets, dims)
		}
		for _, m := range *d.Metrics {
			if m.Unit != "" && !slices.Contains(units, m.Unit) {
				return nil, fmt.Errorf("emf: metric %q: unit %q is not a CloudWatch unit", m.Name, m.Unit)
			}
			if m.StorageResolution != 0 && m.StorageResolution != 1 && m.StorageResolution != 60 {
				return nil, fmt.Errorf("emf: metric %q: StorageResolution %d (1 or 60)", m.Name, m.StorageResolution)
			}
			values, err := numbers(root[m.Name])
			if err != nil {
				return nil, fmt.Errorf("emf: metric %q: %w", m.Name, err)
			}
			unit := m.Unit
			if unit == "" {
				unit = "None"
			}
			for _, dims := range sets {
				for _, v := range values {
					out = append(out, Datum{Namespace: *d.Namespace, Name: m.Name, Unit: unit, Dimensions: maps.Clone(dims), Value: v, Time: ts})
				}
			}
		}
	}
	return out, nil
}

// numbers is a metric member's value: a number or an array of at most 100.
func numbers(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, errors.New("no top-level member of that name")
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 || len(many) > 100 {
		return nil, errors.New("the member is not a number or an array of 1 to 100 numbers")
	}
	return many, nil
}

// strictDecode rejects members the specification does not define: "objects
// defined by this specification MUST NOT contain any additional members".
func strictDecode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	return dec.Decode(v)
}
