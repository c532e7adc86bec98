package main

import (
	"maps"
	"slices"
	"strings"
)

// nonNil returns s, or an empty slice for nil, so JSON prints [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
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
	keys := slices.Sorted(maps.Keys(pv))
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
