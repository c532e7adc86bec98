package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"
)

// TableSpec describes one generated demo table and where our server shares it.
type TableSpec struct {
	Share, Schema, Name string
	// Path is the table's directory under the Generate directory, slash-separated.
	Path        string
	Description string
	// ChangeDataFeed reports whether the table records change data (delta.enableChangeDataFeed).
	ChangeDataFeed bool
	// LatestVersion is the table's last version.
	LatestVersion int64
}

// Tables lists the tables Generate writes.
var Tables = []TableSpec{
	{Share: "demo", Schema: "sales", Name: "orders", Path: "sales/orders", LatestVersion: 2,
		Description: "3000 orders partitioned by region (one partition is null); v0 load, v1 append, v2 delete"},
	{Share: "demo", Schema: "sales", Name: "customers", Path: "sales/customers", ChangeDataFeed: true, LatestVersion: 4,
		Description: "customers partitioned by country with change data feed: insert, update, delete, append, merge"},
}

// Commit times of the demo tables: version v of orders is OrdersBaseTime + v hours, of
// customers CustomersBaseTime + v hours.
var (
	OrdersBaseTime    = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	CustomersBaseTime = time.Date(2025, 1, 7, 9, 0, 0, 0, time.UTC)
)

// Generate writes the demo tables (see Tables) and a README.md under dir. dir must not hold
// them already.
func Generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := generateOrders(filepath.Join(dir, "sales", "orders")); err != nil {
		return err
	}
	if err := generateCustomers(filepath.Join(dir, "sales", "customers")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// mix is a splitmix64 hash of its inputs: the demo rows are pure functions of their ids, so
// they are stable across Go releases (math/rand makes no such promise).
func mix(xs ...uint64) uint64 {
	h := uint64(0x9E3779B97F4A7C15)
	for _, x := range xs {
		h ^= x
		h += 0x9E3779B97F4A7C15
		h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9
		h = (h ^ (h >> 27)) * 0x94D049BB133111EB
		h ^= h >> 31
	}
	return h
}

// ---- orders ----

const ordersSchemaJSON = `{"type":"struct","fields":[
{"name":"order_id","type":"long","nullable":false,"metadata":{}},
{"name":"customer","type":"string","nullable":true,"metadata":{}},
{"name":"amount","type":"decimal(12,2)","nullable":true,"metadata":{}},
{"name":"quantity","type":"integer","nullable":true,"metadata":{}},
{"name":"discount","type":"double","nullable":true,"metadata":{}},
{"name":"is_member","type":"boolean","nullable":true,"metadata":{}},
{"name":"order_date","type":"date","nullable":true,"metadata":{}},
{"name":"created_at","type":"timestamp","nullable":true,"metadata":{}},
{"name":"updated_at","type":"timestamp_ntz","nullable":true,"metadata":{}},
{"name":"region","type":"string","nullable":true,"metadata":{}}]}`

// Column positions in an orders Row.
const (
	OrderID = iota
	OrderCustomer
	OrderAmount
	OrderQuantity
	OrderDiscount
	OrderIsMember
	OrderDate
	OrderCreatedAt
	OrderUpdatedAt
	OrderRegion
)

// OrderRegions are the partition values of orders.region, in file order; nil is the null
// partition (region=__HIVE_DEFAULT_PARTITION__). "Asia/Pacific" exercises escaping: its
// directory is region=Asia%2FPacific and its log path region=Asia%252FPacific/...
var OrderRegions = []any{"Americas", "Europe", "Asia/Pacific", nil}

var customerNames = []string{
	"Acme Corp", "Globex, Inc.", `Umbrella "Health" Ltd`, "Müller GmbH", "Société Générale",
	"José Álvarez", "Zoë O'Brien", "北京贸易有限公司", "山田太郎", "Ørsted A/S", "Café ☕ Lumière",
	"Smith, Jones & Co.", "Łukasz Wróbel", "Ελληνικά Α.Ε.", "Stark Industries", "Wayne Enterprises",
	"O'Reilly Media", "Ñandú S.A.", "Initech", "Århus Æbler", "Δέλτα; Sharing", "naïve <b>bold</b>",
}

var discounts = []float64{0.05, 0.1, 0.15, 0.2, 0.25}

// OrdersSchema returns the schema of sales.orders.
func OrdersSchema() *delta.StructType {
	st, err := delta.ParseSchema(ordersSchemaJSON)
	if err != nil {
		panic(err)
	}
	return st
}

// orderRow computes order id's row.
func orderRow(id int64) Row {
	h := func(field uint64) uint64 { return mix(1, uint64(id), field) }
	var customer any = customerNames[h(1)%uint64(len(customerNames))]
	if h(1)%97 == 0 {
		customer = nil
	}
	var discount any
	if h(4)%4 != 0 {
		discount = discounts[h(5)%uint64(len(discounts))]
	}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(id-1)/10)
	created := day.Add(time.Duration(h(6)%86400) * time.Second)
	if id%3 == 0 {
		created = created.Add(time.Duration(h(7)%1_000_000) * time.Microsecond)
	}
	updated := created.Add(time.Duration(h(8)%72) * time.Hour)
	var region any
	switch r := h(9) % 10; {
	case r < 3:
		region = OrderRegions[0]
	case r < 6:
		region = OrderRegions[1]
	case r < 9:
		region = OrderRegions[2]
	default:
		region = nil
	}
	return Row{
		id,
		customer,
		int64(100 + h(2)%500_000), // 1.00 .. 5000.99
		int32(1 + h(3)%20),
		discount,
		h(10)%3 == 0,
		day,
		created,
		updated, // timestamp_ntz: the wall clock, no zone
		region,
	}
}

const (
	ordersV0  = 2400 // ids 1..2400 at version 0
	ordersAll = 3000 // ids 2401..3000 appended at version 1
)

// ordersDeleteBefore is the predicate of version 2: DELETE WHERE order_date < 2024-01-11
// (order ids 1..100).
var ordersDeleteBefore = time.Date(2024, 1, 11, 0, 0, 0, 0, time.UTC)

// ExpectedOrders returns the rows of sales.orders at version v (0, 1 or 2), by order_id.
func ExpectedOrders(v int64) ([]Row, error) {
	var lo, hi int64
	switch v {
	case 0:
		lo, hi = 1, ordersV0
	case 1:
		lo, hi = 1, ordersAll
	case 2:
		lo, hi = 101, ordersAll
	default:
		return nil, fmt.Errorf("demo: sales.orders has versions 0 to 2, not %d", v)
	}
	rows := make([]Row, 0, hi-lo+1)
	for id := lo; id <= hi; id++ {
		rows = append(rows, orderRow(id))
	}
	return rows, nil
}

func sameRegion(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.(string) == b.(string)
}

func generateOrders(dir string) error {
	tbl, err := CreateTable(dir, TableOptions{
		Name: "orders", Description: "Demo orders", Seed: "deltashare-demo/sales/orders",
		Schema: OrdersSchema(), PartitionColumns: []string{"region"},
		BaseTime: OrdersBaseTime, InCommitTimestamps: true,
	})
	if err != nil {
		return err
	}
	// Rows written to each live file, to rewrite files on delete.
	content := map[string][]Row{}
	writeFile := func(tx *Txn, region any, rows []Row) error {
		if len(rows) == 0 {
			return nil
		}
		fw, err := tx.NewFile(map[string]any{"region": region})
		if err != nil {
			return err
		}
		if err := fw.Write(rows...); err != nil {
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
		content[fw.Path()] = rows
		return nil
	}
	rowsIn := func(lo, hi int64, region any) []Row {
		var out []Row
		for id := lo; id <= hi; id++ {
			if r := orderRow(id); sameRegion(r[OrderRegion], region) {
				out = append(out, r)
			}
		}
		return out
	}

	// v0: initial load, two files per region.
	tx, err := tbl.Begin("WRITE", map[string]any{"mode": "ErrorIfExists", "partitionBy": `["region"]`})
	if err != nil {
		return err
	}
	for _, region := range OrderRegions {
		if err := writeFile(tx, region, rowsIn(1, ordersV0/2, region)); err != nil {
			return err
		}
		if err := writeFile(tx, region, rowsIn(ordersV0/2+1, ordersV0, region)); err != nil {
			return err
		}
	}
	if _, err := tx.Commit(); err != nil {
		return err
	}

	// v1: append, one file per region.
	if tx, err = tbl.Begin("WRITE", map[string]any{"mode": "Append", "partitionBy": `["region"]`}); err != nil {
		return err
	}
	for _, region := range OrderRegions {
		if err := writeFile(tx, region, rowsIn(ordersV0+1, ordersAll, region)); err != nil {
			return err
		}
	}
	if _, err := tx.Commit(); err != nil {
		return err
	}

	// v2: DELETE WHERE order_date < 2024-01-11: rewrite the files holding such rows.
	if tx, err = tbl.Begin("DELETE", map[string]any{"predicate": `["(order_date < DATE'2024-01-11')"]`}); err != nil {
		return err
	}
	for _, f := range tbl.Files() {
		rows := content[f.Path]
		var keep []Row
		for _, r := range rows {
			if !r[OrderDate].(time.Time).Before(ordersDeleteBefore) {
				keep = append(keep, r)
			}
		}
		if len(keep) == len(rows) {
			continue
		}
		if err := tx.Remove(f.Path); err != nil {
			return err
		}
		var region any
		if len(rows) > 0 {
			region = rows[0][OrderRegion]
		}
		if err := writeFile(tx, region, keep); err != nil {
			return err
		}
	}
	_, err = tx.Commit()
	return err
}

// ---- customers (change data feed) ----

const customersSchemaJSON = `{"type":"struct","fields":[
{"name":"customer_id","type":"long","nullable":false,"metadata":{}},
{"name":"name","type":"string","nullable":true,"metadata":{}},
{"name":"email","type":"string","nullable":true,"metadata":{}},
{"name":"tier","type":"string","nullable":true,"metadata":{}},
{"name":"lifetime_value","type":"decimal(10,2)","nullable":true,"metadata":{}},
{"name":"signup_date","type":"date","nullable":true,"metadata":{}},
{"name":"updated_at","type":"timestamp","nullable":true,"metadata":{}},
{"name":"country","type":"string","nullable":true,"metadata":{}}]}`

// Column positions in a customers Row.
const (
	CustomerID = iota
	CustomerName
	CustomerEmail
	CustomerTier
	CustomerLifetimeValue
	CustomerSignupDate
	CustomerUpdatedAt
	CustomerCountry
)

// CustomersSchema returns the schema of sales.customers.
func CustomersSchema() *delta.StructType {
	st, err := delta.ParseSchema(customersSchemaJSON)
	if err != nil {
		panic(err)
	}
	return st
}

var (
	customerCountries = []string{"DE", "FR", "US"}
	customerFirst     = []string{"Anna", "Bruno", "Chloé", "Dmitri", "Eva", "François", "Grace", "Hiro",
		"Ingrid", "Jamal", "Kenji", "Léa", "Mia", "Noah", "Olga"}
)

// customerRow is customer id's row as first inserted.
func customerRow(id int64) Row {
	first := customerFirst[(id-1)%int64(len(customerFirst))]
	tiers := []string{"bronze", "silver", "gold"}
	return Row{
		id,
		fmt.Sprintf("%s %c.", first, 'A'+rune(mix(2, uint64(id))%26)),
		fmt.Sprintf("%s.%d@example.com", strings.ToLower(asciiFold(first)), id),
		tiers[mix(3, uint64(id))%2], // bronze or silver at first
		int64(mix(4, uint64(id)) % 1_000_000),
		time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(id)*17),
		CustomersBaseTime,
		customerCountries[(id-1)%3],
	}
}

func asciiFold(s string) string {
	r := strings.NewReplacer("é", "e", "ç", "c")
	return r.Replace(s)
}

// CustomerChange is one row of the customers change data feed.
type CustomerChange struct {
	Version   int64
	Timestamp time.Time // the commit timestamp (_commit_timestamp)
	Type      ChangeType
	Row       Row
}

// customerStep is one version of the customers table: the operation, its parameters, and
// what it does to the rows.
type customerStep struct {
	op     string
	params map[string]any
	// apply mutates the live rows (by id) and returns the change rows; cdc says whether they go
	// to change data files (updates, deletes, merges) or are plain appends (read as inserts).
	apply func(live map[int64]Row, ts time.Time) (changes []Change, cdc bool)
}

func cloneRow(r Row) Row { return append(Row{}, r...) }

var customerSteps = []customerStep{
	{"WRITE", map[string]any{"mode": "ErrorIfExists", "partitionBy": `["country"]`},
		func(live map[int64]Row, ts time.Time) ([]Change, bool) {
			var ch []Change
			for id := int64(1); id <= 12; id++ {
				live[id] = customerRow(id)
				ch = append(ch, Change{Insert, live[id]})
			}
			return ch, false
		}},
	{"UPDATE", map[string]any{"predicate": `["customer_id IN (2,6)"]`},
		func(live map[int64]Row, ts time.Time) ([]Change, bool) {
			var ch []Change
			for _, id := range []int64{2, 6} {
				pre := live[id]
				post := cloneRow(pre)
				post[CustomerTier] = "gold"
				post[CustomerLifetimeValue] = pre[CustomerLifetimeValue].(int64) + 10000
				post[CustomerUpdatedAt] = ts
				live[id] = post
				ch = append(ch, Change{UpdatePreimage, pre}, Change{UpdatePostimage, post})
			}
			return ch, true
		}},
	{"DELETE", map[string]any{"predicate": `["(customer_id = 4)"]`},
		func(live map[int64]Row, ts time.Time) ([]Change, bool) {
			pre := live[4]
			delete(live, 4)
			return []Change{{Delete, pre}}, true
		}},
	{"WRITE", map[string]any{"mode": "Append", "partitionBy": `["country"]`},
		func(live map[int64]Row, ts time.Time) ([]Change, bool) {
			var ch []Change
			for id := int64(13); id <= 14; id++ {
				r := customerRow(id)
				r[CustomerUpdatedAt] = ts
				live[id] = r
				ch = append(ch, Change{Insert, r})
			}
			return ch, false
		}},
	{"MERGE", map[string]any{"predicate": `["(t.customer_id = s.customer_id)"]`},
		func(live map[int64]Row, ts time.Time) ([]Change, bool) {
			pre := live[3]
			post := cloneRow(pre)
			post[CustomerEmail] = "new.address+3@example.org"
			post[CustomerUpdatedAt] = ts
			live[3] = post
			ins := customerRow(15)
			ins[CustomerUpdatedAt] = ts
			live[15] = ins
			return []Change{{UpdatePreimage, pre}, {UpdatePostimage, post}, {Insert, ins}}, true
		}},
}

// replayCustomers runs the steps, calling each with the live rows before and after.
func replayCustomers(step func(v int64, ts time.Time, before, after map[int64]Row, ch []Change, cdc bool) error) error {
	live := map[int64]Row{}
	for v, s := range customerSteps {
		ts := CustomersBaseTime.Add(time.Duration(v) * time.Hour)
		before := map[int64]Row{}
		for k, r := range live {
			before[k] = r
		}
		ch, cdc := s.apply(live, ts)
		if err := step(int64(v), ts, before, live, ch, cdc); err != nil {
			return err
		}
	}
	return nil
}

// ExpectedCustomers returns the rows of sales.customers at version v (0 to 4), by customer_id.
func ExpectedCustomers(v int64) ([]Row, error) {
	if v < 0 || v >= int64(len(customerSteps)) {
		return nil, fmt.Errorf("demo: sales.customers has versions 0 to %d, not %d", len(customerSteps)-1, v)
	}
	var out []Row
	_ = replayCustomers(func(ver int64, _ time.Time, _, after map[int64]Row, _ []Change, _ bool) error {
		if ver == v {
			out = sortedRows(after)
		}
		return nil
	})
	return out, nil
}

// ExpectedCustomerChanges returns the whole change data feed of sales.customers (versions 0 to
// 4), ordered by version, customer_id, then change type (preimage before postimage). Versions 0
// and 3 are plain appends (no change data files: readers report their added rows as inserts);
// versions 1, 2 and 4 have change data files.
func ExpectedCustomerChanges() []CustomerChange {
	var out []CustomerChange
	_ = replayCustomers(func(v int64, ts time.Time, _, _ map[int64]Row, ch []Change, _ bool) error {
		for _, c := range ch {
			out = append(out, CustomerChange{Version: v, Timestamp: ts, Type: c.Type, Row: c.Row})
		}
		return nil
	})
	order := map[ChangeType]int{Delete: 0, UpdatePreimage: 1, UpdatePostimage: 2, Insert: 3}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if ai, bi := a.Row[CustomerID].(int64), b.Row[CustomerID].(int64); ai != bi {
			return ai < bi
		}
		return order[a.Type] < order[b.Type]
	})
	return out
}

func sortedRows(m map[int64]Row) []Row {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Row, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out
}

func generateCustomers(dir string) error {
	tbl, err := CreateTable(dir, TableOptions{
		Name: "customers", Description: "Demo customers with change data feed", Seed: "deltashare-demo/sales/customers",
		Schema: CustomersSchema(), PartitionColumns: []string{"country"},
		Configuration: map[string]string{"delta.enableChangeDataFeed": "true"},
		BaseTime:      CustomersBaseTime, InCommitTimestamps: true,
	})
	if err != nil {
		return err
	}
	fileOf := map[int64]string{} // live customer id -> data file path
	return replayCustomers(func(v int64, ts time.Time, before, after map[int64]Row, ch []Change, cdc bool) error {
		s := customerSteps[v]
		tx, err := tbl.Begin(s.op, s.params)
		if err != nil {
			return err
		}
		// Copy-on-write: rewrite every file holding a changed or deleted row, with the rows
		// that remain; new rows go to new files.
		touched := map[string]bool{}
		var fresh []Row
		for _, c := range ch {
			id := c.Row[CustomerID].(int64)
			if p, ok := fileOf[id]; ok {
				touched[p] = true
			} else if c.Type == Insert {
				fresh = append(fresh, c.Row)
			}
		}
		var rewrite []Row
		for _, f := range tbl.Files() {
			if !touched[f.Path] {
				continue
			}
			if err := tx.Remove(f.Path); err != nil {
				return err
			}
			for _, id := range sortedIDs(fileOf, f.Path) {
				delete(fileOf, id)
				if r, ok := after[id]; ok {
					rewrite = append(rewrite, r)
				}
			}
		}
		rows := append(rewrite, fresh...)
		sort.SliceStable(rows, func(i, j int) bool {
			return rows[i][CustomerCountry].(string) < rows[j][CustomerCountry].(string)
		})
		adds, err := tx.Append(rows)
		if err != nil {
			return err
		}
		for _, r := range rows {
			for _, a := range adds {
				if a.PartitionValues["country"] == r[CustomerCountry].(string) {
					fileOf[r[CustomerID].(int64)] = a.Path
				}
			}
		}
		if cdc {
			sorted := append([]Change{}, ch...)
			sort.SliceStable(sorted, func(i, j int) bool {
				return sorted[i].Row[CustomerCountry].(string) < sorted[j].Row[CustomerCountry].(string)
			})
			if _, err := tx.AppendChanges(sorted); err != nil {
				return err
			}
		}
		_, err = tx.Commit()
		return err
	})
}

func sortedIDs(fileOf map[int64]string, path string) []int64 {
	var ids []int64
	for id, p := range fileOf {
		if p == path {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

const readme = `# Demo Delta tables

Generated by ` + "`go run ./sharing/server/demo/gen -o testdata/demo`" + ` (package
sharing/server/demo); do not edit by hand. ` + "`TestGeneratedTablesUpToDate`" + ` fails when the
generator changes and these files were not regenerated. The rows are pure functions of their ids;
` + "`demo.ExpectedOrders`, `demo.ExpectedCustomers` and `demo.ExpectedCustomerChanges`" + ` return
what a correct reader must see.

Commit timestamps are in the log (commitInfo.timestamp, and inCommitTimestamp: both tables use
the inCommitTimestamp writer feature), because git does not keep the commit files' mtimes.

## demo.sales.orders (sales/orders)

Partitioned by ` + "`region`" + `: Americas, Europe, Asia/Pacific (directory
` + "`region=Asia%2FPacific`" + `, log path ` + "`region=Asia%252FPacific/...`" + `) and null
(` + "`region=__HIVE_DEFAULT_PARTITION__`" + `, partitionValues ` + "`{\"region\":null}`" + `).
Protocol (3,7) with the timestampNtz reader/writer feature and the inCommitTimestamp writer
feature.

| column | type | notes |
|---|---|---|
| order_id | long, not null | 1..3000 |
| customer | string | unicode, commas, quotes, a few nulls |
| amount | decimal(12,2) | 1.00..5000.99 |
| quantity | integer | 1..20 |
| discount | double | about a quarter null |
| is_member | boolean | |
| order_date | date | 2024-01-01 + (order_id-1)/10 days |
| created_at | timestamp | UTC, some with microseconds |
| updated_at | timestamp_ntz | |
| region | string | partition column |

| version | time (UTC) | operation | rows after |
|---|---|---|---|
| 0 | 2025-01-06 09:00 | WRITE: orders 1..2400, two files per region | 2400 |
| 1 | 2025-01-06 10:00 | WRITE (append): orders 2401..3000, one file per region | 3000 |
| 2 | 2025-01-06 11:00 | DELETE WHERE order_date < 2024-01-11 (orders 1..100): files rewritten | 2900 |

## demo.sales.customers (sales/customers)

Partitioned by ` + "`country`" + ` (DE, FR, US), ` + "`delta.enableChangeDataFeed=true`" + `,
protocol (1,7) with the changeDataFeed and inCommitTimestamp writer features. Columns:
customer_id long not null, name string, email string, tier string, lifetime_value decimal(10,2),
signup_date date, updated_at timestamp, country string (partition).

| version | time (UTC) | operation | change data |
|---|---|---|---|
| 0 | 2025-01-07 09:00 | WRITE customers 1..12, a file per country | none: the added rows are inserts |
| 1 | 2025-01-07 10:00 | UPDATE tier='gold', lifetime_value+100 WHERE customer_id IN (2,6) | update_preimage/update_postimage for 2 (FR) and 6 (US) |
| 2 | 2025-01-07 11:00 | DELETE WHERE customer_id = 4 | delete of 4 (DE) |
| 3 | 2025-01-07 12:00 | WRITE (append) customers 13 (DE), 14 (FR) | none: the added rows are inserts |
| 4 | 2025-01-07 13:00 | MERGE: new email for 3, insert 15 (both US) | update_preimage/update_postimage for 3, insert of 15 |

Updates and deletes rewrite whole files (copy-on-write): remove actions for the old files, add
actions for the rewritten ones, and cdc actions for ` + "`_change_data/country=XX/cdc-*.parquet`" + `
files, which hold the data columns plus ` + "`_change_type`" + ` (partition columns are not stored).
`
