package exporttest

import (
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/server/demo"
)

// ExpectedCustomerIDs are the customer_id values of the demo customers table at version v,
// sorted.
func ExpectedCustomerIDs(t testing.TB, v int64) []int64 {
	t.Helper()
	rows, err := demo.ExpectedCustomers(v)
	require.NoError(t, err)
	var out []int64
	for _, r := range rows {
		out = append(out, r[demo.CustomerID].(int64))
	}
	return out
}

// CustomerIDs are the customer_id values of exported rows (decoded JSON), sorted.
func CustomerIDs(rows []map[string]any) []int64 {
	var out []int64
	for _, m := range rows {
		out = append(out, int64(m["customer_id"].(float64)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// changeKey is one change of a customer: id, change type, commit version, email and tier.
func changeKey(id int64, typ string, v int64, email, tier string) string {
	return fmt.Sprintf("%d|%s|%d|%s|%s", id, typ, v, email, tier)
}

// ExpectedCustomerChangeKeys are the keys of the demo customers' changes of versions from to
// to (inclusive), sorted: what ChangeKeysOf must return for their change data.
func ExpectedCustomerChangeKeys(from, to int64) []string {
	var out []string
	for _, c := range demo.ExpectedCustomerChanges() {
		if c.Version >= from && c.Version <= to {
			out = append(out, changeKey(c.Row[demo.CustomerID].(int64), string(c.Type), c.Version,
				c.Row[demo.CustomerEmail].(string), c.Row[demo.CustomerTier].(string)))
		}
	}
	sort.Strings(out)
	return out
}

// ChangeKeysOf are the keys of exported change rows (decoded JSON, with _change_type and
// _commit_version), sorted.
func ChangeKeysOf(rows []map[string]any) []string {
	var out []string
	for _, m := range rows {
		out = append(out, changeKey(int64(m["customer_id"].(float64)), m["_change_type"].(string),
			int64(m["_commit_version"].(float64)), m["email"].(string), m["tier"].(string)))
	}
	sort.Strings(out)
	return out
}
