package operations

import (
	"strconv"
	"unicode/utf8"

	"github.com/typedapi/typedapi/models"
)

// decodeItemFields is Huma's second decode of a create or replace body, the
// one into the input struct, without reflection. Huma decodes every body
// twice (into an `any` to validate it, then into the struct); by reflection
// the second one was as costly as the rest of a create.
//
// It decodes the bodies clients send, an object whose members are spelled
// exactly as the fields' json names, each once, with a string, integer or
// array of strings as the field's type calls for, and sets *f exactly as
// encoding/json.Unmarshal would. It reports false and leaves f alone on
// anything else (another spelling, which encoding/json matches without
// regard to case; null; a number that is not an integer; a duplicate
// member; malformed JSON; f not zero), and the caller hands the body to
// checkJSON and encoding/json as before. What it accepts, checkJSON accepts
// too. FuzzDecodeItemFields holds it to encoding/json.
func decodeItemFields(data []byte, f *models.ItemFields) bool {
	if f.Name != "" || f.Description != "" || f.Price != 0 || f.Currency != "" || f.Tags != nil {
		return false // encoding/json would merge into what is there
	}
	if !utf8.Valid(data) {
		return false
	}
	d := anyDecoder{data: data}
	var out models.ItemFields
	var seen uint8
	d.ws()
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return false
	}
	ok := d.members(func(name string) bool {
		var bit uint8
		ok := false
		switch name {
		case "name":
			bit, ok = 1, d.text(&out.Name)
		case "description":
			bit, ok = 2, d.text(&out.Description)
		case "price":
			bit, ok = 4, d.integer(&out.Price)
		case "currency":
			bit, ok = 8, d.text(&out.Currency)
		case "tags":
			bit, ok = 16, d.texts(&out.Tags)
		}
		if !ok || seen&bit != 0 {
			return false // another name, type or spelling, or a duplicate
		}
		seen |= bit
		return true
	})
	d.ws()
	if !ok || d.i != len(d.data) {
		return false
	}
	*f = out
	return true
}

// text reads a string value into s.
func (d *anyDecoder) text(s *string) bool {
	if d.i >= len(d.data) || d.data[d.i] != '"' {
		return false
	}
	v, ok := d.str()
	*s = v
	return ok
}

// integer reads an integer into n as encoding/json does for an int64: the
// literal must parse with strconv.ParseInt (so 1.0 and 1e3 are refused).
func (d *anyDecoder) integer(n *int64) bool {
	if d.i >= len(d.data) || d.data[d.i] != '-' && (d.data[d.i] < '0' || d.data[d.i] > '9') {
		return false
	}
	lit, ok := d.numberLiteral()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(lit), 10, 64)
	*n = v
	return err == nil
}

// texts reads an array of strings into a new slice ([] makes an empty one,
// as encoding/json does).
func (d *anyDecoder) texts(list *[]string) bool {
	if d.i >= len(d.data) || d.data[d.i] != '[' {
		return false
	}
	out := []string{}
	ok := d.elements(func() bool {
		var s string
		ok := d.text(&s)
		out = append(out, s)
		return ok
	})
	if ok {
		*list = out
	}
	return ok
}
