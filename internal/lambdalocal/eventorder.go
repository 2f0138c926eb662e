package lambdalocal

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
)

// inTemplateOrder marshals ev (indented) with every object's keys in the
// order the template has them, which is the order AWS sends them in:
// "version" and "rawPath" first in a v2 event, "resource" first in a REST
// one. Keys the template lacks follow, sorted. Code that reads an event by
// its first keys (as the Lambda glue's sniff does) meets it as on Lambda.
func inTemplateOrder(ev map[string]any, name string, template []byte) ([]byte, error) {
	order, err := templateOrder(name, template)
	if err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := writeOrdered(&compact, ev, "", order); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// orders holds keyOrder per template name: the templates are embedded, so
// their order never changes, and `api gateway` builds an event per request.
var orders sync.Map // name → map[string][]string, read-only once stored

func templateOrder(name string, template []byte) (map[string][]string, error) {
	if o, ok := orders.Load(name); ok {
		return o.(map[string][]string), nil
	}
	o, err := keyOrder(template)
	if err != nil {
		return nil, err
	}
	orders.Store(name, o)
	return o, nil
}

// keyOrder maps the path of each object in doc ("" for the outermost,
// ".requestContext.http", ".multiValueHeaders.accept[]" inside arrays) to its
// keys in document order.
func keyOrder(doc []byte) (map[string][]string, error) {
	order := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(doc))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				order[path] = append(order[path], key)
				if err := walk(path + "." + key); err != nil {
					return err
				}
			}
		case json.Delim('['):
			for dec.More() {
				if err := walk(path + "[]"); err != nil {
					return err
				}
			}
		default:
			return nil
		}
		_, err = dec.Token() // the closing bracket
		return err
	}
	return order, walk("")
}

// writeOrdered appends v as compact JSON, the objects Build made in key order.
func writeOrdered(buf *bytes.Buffer, v any, path string, order map[string][]string) error {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for _, k := range order[path] {
			if _, ok := v[k]; ok && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		var extra []string
		for k := range v {
			if !slices.Contains(keys, k) {
				extra = append(extra, k)
			}
		}
		slices.Sort(extra)
		buf.WriteByte('{')
		for i, k := range append(keys, extra...) {
			if i > 0 {
				buf.WriteByte(',')
			}
			name, _ := json.Marshal(k)
			buf.Write(name)
			buf.WriteByte(':')
			if err := writeOrdered(buf, v[k], path+"."+k, order); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeOrdered(buf, e, path+"[]", order); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}
