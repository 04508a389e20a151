package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// position names the byte offset off of data as a line and a column, both
// counted from 1 (the column in characters).
func position(data []byte, off int) string {
	off = min(off, len(data))
	line := 1 + strings.Count(string(data[:off]), "\n")
	lineStart := strings.LastIndexByte(string(data[:off]), '\n') + 1
	return fmt.Sprintf("line %d, column %d", line, 1+utf8.RuneCount(data[lineStart:off]))
}

// firstValue returns the offset of the first byte of data that is not JSON
// white space.
func firstValue(data []byte) int {
	for i, b := range data {
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			return i
		}
	}
	return len(data)
}

// jsonError says in plain words, and where, what is wrong with the JSON of
// data: a syntax error at the character at fault, any other error at
// offset at, where the value being read starts.
func jsonError(data []byte, err error, at int) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// A Decoder's offsets count from where it was reading; Unmarshal's
		// from the start of data.
		var v any
		if err := json.Unmarshal(data, &v); errors.As(err, &syn) {
			return fmt.Errorf("%s: %s (not valid JSON)", position(data, max(int(syn.Offset)-1, 0)), syn.Error())
		}
		return fmt.Errorf("%s: %s (not valid JSON)", position(data, at), syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Errorf("%s: a client registration must be a JSON object, not %s", position(data, at), article(typ.Value))
		}
		return fmt.Errorf("%s: %q must be %s, not %s", position(data, at), field, kindOfType(typ.Type), article(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the file ends before the JSON array does (a closing ] or } is missing)", position(data, len(data)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("%s: %s (the fields are %s)", position(data, at), strings.TrimPrefix(err.Error(), "json: "), fieldNames())
	}
	return fmt.Errorf("%s: %v", position(data, at), err)
}

// kindOf names the JSON value that tok starts.
func kindOf(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// kindOfType names the JSON value that Go type t decodes.
func kindOfType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(kindOfType(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.Kind().String()
}

// article puts "a" or "an" before the JSON kind name of an
// UnmarshalTypeError's Value.
func article(kind string) string {
	switch {
	case kind == "":
		return "that"
	case strings.ContainsRune("aeiou", rune(kind[0])):
		return "an " + kind
	}
	return "a " + kind
}

// fieldNames lists the JSON names of a registration's fields.
func fieldNames() string {
	t := reflect.TypeFor[registration]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return strings.Join(names, ", ")
}
