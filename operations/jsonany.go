package operations

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeAny decodes a JSON document into what encoding/json.Unmarshal
// makes of it for an `any`: map[string]any, []any, string, float64, bool
// and nil. Huma decodes every request body twice, once into an `any` to
// validate it against the schema and once into the input struct; the
// first decode by reflection was a quarter of a create. It reports false
// on anything it does not read exactly as encoding/json does (malformed
// input, a number out of float64's range) and on anything checkJSON
// refuses (a member name twice in an object, more than maxJSONDepth
// levels), and the caller then hands the body to checkJSON and
// encoding/json, whose error messages stay the ones clients see; so what
// it decodes needs no checkJSON pass. FuzzDecodeAny holds it to both.
func decodeAny(data []byte) (any, bool) {
	if !utf8.Valid(data) {
		return nil, false // encoding/json turns bad bytes into U+FFFD; not done here
	}
	d := anyDecoder{data: data}
	d.ws()
	v, ok := d.value(0)
	if !ok {
		return nil, false
	}
	d.ws()
	return v, d.i == len(d.data)
}

type anyDecoder struct {
	data []byte
	i    int
}

func (d *anyDecoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

// value reads one value at depth containers deep: a container at
// maxJSONDepth would be one level more than checkJSON allows.
func (d *anyDecoder) value(depth int) (any, bool) {
	if d.i >= len(d.data) {
		return nil, false
	}
	switch c := d.data[d.i]; {
	case (c == '{' || c == '[') && depth >= maxJSONDepth:
		return nil, false
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		if s, ok := d.str(); ok {
			return s, true
		}
		return nil, false
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	default:
		for _, lit := range [...]struct {
			text string
			v    any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if len(d.data)-d.i >= len(lit.text) && string(d.data[d.i:d.i+len(lit.text)]) == lit.text {
				d.i += len(lit.text)
				return lit.v, true
			}
		}
		return nil, false
	}
}

func (d *anyDecoder) object(depth int) (any, bool) {
	m := map[string]any{}
	ok := d.members(func(k string) bool {
		if _, dup := m[k]; dup {
			return false // checkJSON's 400
		}
		v, ok := d.value(depth + 1)
		m[k] = v
		return ok
	})
	if !ok {
		return nil, false
	}
	return m, true
}

func (d *anyDecoder) array(depth int) (any, bool) {
	a := []any{}
	ok := d.elements(func() bool {
		v, ok := d.value(depth + 1)
		a = append(a, v)
		return ok
	})
	if !ok {
		return nil, false
	}
	return a, true
}

// members reads an object from its '{': for each member it reads the name
// and the colon, and member reads the value (false stops the walk). It
// reports whether the object was read whole.
func (d *anyDecoder) members(member func(name string) bool) bool {
	d.i++ // {
	d.ws()
	if d.next('}') {
		return true
	}
	for {
		d.ws()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return false
		}
		name, ok := d.str()
		if !ok {
			return false
		}
		d.ws()
		if !d.next(':') {
			return false
		}
		d.ws()
		if !member(name) {
			return false
		}
		if more, ok := d.after('}'); !ok || !more {
			return ok
		}
	}
}

// elements reads an array from its '[', element reading each element.
func (d *anyDecoder) elements(element func() bool) bool {
	d.i++ // [
	d.ws()
	if d.next(']') {
		return true
	}
	for {
		d.ws()
		if !element() {
			return false
		}
		if more, ok := d.after(']'); !ok || !more {
			return ok
		}
	}
}

// next steps over c if it comes next.
func (d *anyDecoder) next(c byte) bool {
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

// after reads what follows a member or an element: a comma (more follow)
// or the closing bracket.
func (d *anyDecoder) after(closing byte) (more, ok bool) {
	d.ws()
	if d.i >= len(d.data) {
		return false, false
	}
	switch d.data[d.i] {
	case ',':
		d.i++
		return true, true
	case closing:
		d.i++
		return false, true
	}
	return false, false
}

// str reads a string; only plain text and the simple escapes are read
// here (the callers have checked that the body is valid UTF-8), anything
// else goes back to encoding/json.
func (d *anyDecoder) str() (string, bool) {
	d.i++ // "
	start := d.i
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case c == '"':
			s := string(d.data[start:d.i])
			d.i++
			return s, true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		default:
			d.i++
		}
	}
	return "", false
}

// escaped finishes a string that holds escapes, from its first backslash.
func (d *anyDecoder) escaped(start int) (string, bool) {
	buf := append([]byte(nil), d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.data) {
			return "", false
		}
		e := d.data[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// A pair makes one rune. A lone surrogate is no character
				// (encoding/json would make it U+FFFD): refused, as
				// checkJSON refuses it.
				if d.i+1 >= len(d.data) || d.data[d.i] != '\\' || d.data[d.i+1] != 'u' {
					return "", false
				}
				d.i += 2
				lo, ok := d.hex4()
				if !ok || utf16.DecodeRune(r, lo) == utf8.RuneError {
					return "", false
				}
				r = utf16.DecodeRune(r, lo)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (d *anyDecoder) hex4() (rune, bool) {
	r, ok := hex4(d.data, d.i)
	if ok {
		d.i += 4
	}
	return r, ok
}

// number reads a number in JSON's grammar and converts it as encoding/json
// does (strconv.ParseFloat); one out of range goes back to encoding/json.
func (d *anyDecoder) number() (any, bool) {
	lit, ok := d.numberLiteral()
	if !ok {
		return nil, false
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return nil, false
	}
	return f, true
}

// numberLiteral steps over a number in JSON's grammar and returns its bytes.
func (d *anyDecoder) numberLiteral() ([]byte, bool) {
	start := d.i
	if d.data[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.data) && d.data[d.i] == '0':
		d.i++
	case d.i < len(d.data) && d.data[d.i] >= '1' && d.data[d.i] <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, false
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, false
		}
	}
	return d.data[start:d.i], true
}

// digits steps over one or more digits.
func (d *anyDecoder) digits() bool {
	start := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}
