package exporttest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// NewPeople writes a table people into a temporary directory of the test, with change data
// feed on, whose version 0 holds two rows of columns id (long), name (string) and age
// (integer). Serve its Dir; ChangePeopleSchema commits version 1.
func NewPeople(t testing.TB) *demo.Table {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "people")
	schema := &delta.StructType{Fields: []*delta.StructField{
		{Name: "id", Type: &delta.PrimitiveType{Name: "long"}, Nullable: false},
		{Name: "name", Type: &delta.PrimitiveType{Name: "string"}, Nullable: true},
		{Name: "age", Type: &delta.PrimitiveType{Name: "integer"}, Nullable: true},
	}}
	tbl, err := demo.CreateTable(dir, demo.TableOptions{Name: "people", Schema: schema,
		Configuration: map[string]string{"delta.enableChangeDataFeed": "true"}})
	require.NoError(t, err)
	tx, err := tbl.Begin("WRITE", nil)
	require.NoError(t, err)
	_, err = tx.Append([]demo.Row{{int64(1), "Ada", int32(36)}, {int64(2), "Linus", int32(28)}})
	require.NoError(t, err)
	_, err = tx.Commit()
	require.NoError(t, err)
	return tbl
}

// ChangePeopleSchema commits version 1 of a NewPeople table: a new metaData action that adds
// a column note (string) and widens age from integer to long. It returns the new schema.
func ChangePeopleSchema(t testing.TB, tbl *demo.Table) *delta.StructType {
	t.Helper()
	md := tbl.Metadata()
	newSchema := &delta.StructType{Fields: []*delta.StructField{
		{Name: "id", Type: &delta.PrimitiveType{Name: "long"}, Nullable: false},
		{Name: "name", Type: &delta.PrimitiveType{Name: "string"}, Nullable: true},
		{Name: "age", Type: &delta.PrimitiveType{Name: "long"}, Nullable: true},
		{Name: "note", Type: &delta.PrimitiveType{Name: "string"}, Nullable: true},
	}}
	var err error
	md.SchemaString, err = delta.MarshalSchema(newSchema)
	require.NoError(t, err)
	ts := tbl.CommitTime(1).UnixMilli()
	commit, err := json.Marshal(map[string]any{"commitInfo": map[string]any{"timestamp": ts, "operation": "ADD COLUMNS"}})
	require.NoError(t, err)
	mdLine, err := json.Marshal(delta.Action{MetaData: &md})
	require.NoError(t, err)
	p := filepath.Join(tbl.Dir(), "_delta_log", fmt.Sprintf("%020d.json", 1))
	require.NoError(t, os.WriteFile(p, []byte(string(commit)+"\n"+string(mdLine)+"\n"), 0o644))
	require.NoError(t, os.Chtimes(p, tbl.CommitTime(1), tbl.CommitTime(1)))
	return newSchema
}
