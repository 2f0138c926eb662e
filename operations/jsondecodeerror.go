package operations

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The words clients see for a body the strict reading refuses (they are
// kept as they were when encoding/json and a scanner of ours did this).
const (
	invalidUTF8Text   = "the body is not valid UTF-8"
	loneSurrogateText = `the body escapes a lone UTF-16 surrogate (such as \ud800), which is no Unicode character`
	unexpectedEndText = "unexpected end of JSON input"
)

// plainDecodeError words a JSON v2 decode error for a client, without Go
// type names or package prefixes: what is wrong with the text
// (syntaxError), or which value does not fit the field it is for
// (typeError). into is the value that was decoded into.
func plainDecodeError(err error, into any) error {
	if err == nil {
		return nil
	}
	if syn, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		return syntaxError(syn)
	}
	if sem, ok := errors.AsType[*json.SemanticError](err); ok {
		return typeError(sem, into)
	}
	return err
}

// syntaxError: a body that is no JSON, or JSON read two ways by parsers.
// JSON v2 exports no sentinel for invalid UTF-8 and lone surrogates, so
// those two are told by its words (TestStrictRules fails if they change).
func syntaxError(e *jsontext.SyntacticError) error {
	msg := e.Err.Error()
	switch {
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		return errors.New(unexpectedEndText)
	case errors.Is(e.Err, jsontext.ErrDuplicateName):
		return fmt.Errorf("duplicate member %q in a JSON object", truncateText(e.JSONPointer.LastToken()))
	case msg == "invalid UTF-8":
		return errors.New(invalidUTF8Text)
	case strings.HasPrefix(msg, "invalid surrogate pair"):
		return errors.New(loneSurrogateText)
	}
	return errors.New(msg) // such as "invalid character 'h' at start of value"
}

// typeError: well-formed JSON with a value the Go field cannot hold. The
// place is named for a typed target only: a decode into an untyped value
// is Huma's decode for validation, which reports the whole body.
func typeError(e *json.SemanticError, into any) error {
	where := ""
	if _, untyped := into.(*any); !untyped && e.JSONPointer != "" {
		where = " at " + strings.Join(slices.Collect(e.JSONPointer.Tokens()), ".")
	}
	var goKind reflect.Kind
	if e.GoType != nil {
		goKind = e.GoType.Kind()
	}
	integer := goKind >= reflect.Int && goKind <= reflect.Uint64
	float := goKind == reflect.Float32 || goKind == reflect.Float64
	// The number is the client's own text, of any length: a problem
	// repeats at most maxEchoedValue bytes of it.
	switch number := truncateText(string(e.JSONValue)); {
	case e.JSONKind == '0' && integer && strings.ContainsAny(number, ".eE"):
		// JSON Schema calls 1.0 an integer; a Go integer field does not.
		return fmt.Errorf("number %s%s: write an integer without a fraction or exponent", number, where)
	case e.JSONKind == '0' && (integer || float):
		return fmt.Errorf("number %s%s is out of range", number, where)
	}
	msg := "unexpected " + jsonKindName(e.JSONKind) + where
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return errors.New(msg)
}

// jsonKindName is what a JSON value is called in an error.
func jsonKindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}
