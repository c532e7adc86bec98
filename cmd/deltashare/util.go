package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/predicate"
	"github.com/urfave/cli/v2"
)

// nonNil returns s, or an empty slice for nil, so JSON prints [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func featureList(fs []string) string {
	if len(fs) == 0 {
		return ""
	}
	return "; features " + strings.Join(fs, ", ")
}

// partitionText renders partition values as k=v pairs in key order.
func partitionText(pv map[string]string) string {
	if len(pv) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(pv))
	for k := range pv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := pv[k]
		if v == "" {
			v = "null"
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, ",")
}

// whereHints parses a --where expression against the table's schema and returns the
// jsonPredicateHints to send ("" when nothing of it can be expressed as a hint).
func whereHints(c *cli.Context, cl *sharing.Client, t protocol.Table, where string, version *int64, ts string) (string, error) {
	md, err := cl.Metadata(c.Context, t, protocol.MetadataOptions{Version: version, Timestamp: ts})
	if err != nil {
		return "", err
	}
	schema, err := md.Metadata.Schema()
	if err != nil {
		return "", fmt.Errorf("table %s: %w", t, err)
	}
	e, err := predicate.Parse(where)
	if err != nil {
		return "", usageError(fmt.Errorf("--where: %w", err))
	}
	bound, err := predicate.Bind(e, schema)
	if err != nil {
		return "", usageError(fmt.Errorf("--where: %w", err))
	}
	h := predicate.Hints(bound)
	if h == nil {
		return "", nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
